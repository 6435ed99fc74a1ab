#pragma once

// Authentication and authorization for the whole platform: API tokens (checked against their
// stored hashes), roles and bindings (built-in roles plus those stored), and the lock-out of
// addresses that keep presenting bad tokens. Decisions read an immutable in-memory snapshot, so a
// request costs one hash and a few lookups and never waits on the database; every change made
// here is stored first and then published in a new snapshot, and a background refresh picks up
// changes made by other replicas sharing the database.
//
// Thread-safe.

#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "auth/failed_auth_limiter.h"
#include "auth/jwt_verifier.h"
#include "auth/principal.h"
#include "auth/rbac.h"
#include "common/clock.h"
#include "store/security_store.h"

namespace meridian::auth {

struct AccessControlOptions {
  store::SecurityStore* store = nullptr;  // not owned
  Clock* clock = Clock::Real();
  FailedAuthLimiterOptions limiter;
  // How often the snapshot is reloaded to see other replicas' changes; zero: never.
  absl::Duration refresh_interval = absl::Seconds(5);
  // When set, bearer tokens that are JWTs are verified by it and name a user; not owned.
  const JwtVerifier* jwt = nullptr;
};

// The outcome of checking a bearer token.
struct Authentication {
  absl::Status status;  // kUnauthenticated, or kResourceExhausted while the address is locked out
  Principal principal;
  absl::Duration retry_after;  // for kResourceExhausted
};

struct TokenRequest {
  Subject subject;
  std::string description;
  absl::Duration lifetime = absl::InfiniteDuration();  // InfiniteDuration: never expires
};

struct CreatedToken {
  store::TokenRecord record;  // what is stored (the secret only as its hash)
  std::string token;          // the bearer value: shown once
};

// The bootstrap administrator: user "admin", bound cluster-wide to the admin role.
inline constexpr const char* kAdminUser = "admin";
inline constexpr const char* kAdminBinding = "bootstrap-admin";

class AccessControl {
 public:
  static absl::StatusOr<std::unique_ptr<AccessControl>> Create(const AccessControlOptions& options);
  ~AccessControl();

  // `authorization` is the Authorization header ("Bearer mrd_...") or the gRPC metadata value.
  Authentication Authenticate(absl::string_view authorization, absl::string_view client);
  AccessDecision Authorize(const Principal& principal, absl::string_view namespace_name, absl::string_view resource,
                           absl::string_view verb) const;

  // First start: when no token was ever created, makes the administrator's token and returns it
  // (the caller shows it once). With `admin_token` (MERIDIAN_ADMIN_TOKEN), that token is stored
  // instead, on any start, unless its id exists already. nullopt: nothing new to show.
  absl::StatusOr<std::optional<std::string>> Bootstrap(absl::string_view admin_token);

  absl::StatusOr<CreatedToken> CreateToken(const TokenRequest& request, const Principal& creator);
  absl::StatusOr<std::vector<store::TokenRecord>> ListTokens();
  // Takes effect at once on this replica (and within the refresh interval on others).
  absl::Status RevokeToken(absl::string_view id);

  // Built-in roles first, then stored ones.
  std::vector<Role> Roles() const;
  static bool IsBuiltInRole(absl::string_view name);
  absl::Status PutRole(const Role& role);
  absl::Status DeleteRole(absl::string_view name);
  std::vector<RoleBinding> Bindings() const;
  absl::Status PutBinding(const RoleBinding& binding);
  absl::Status DeleteBinding(absl::string_view namespace_name, absl::string_view name);
  // Kubernetes' escalation rule: `caller` may bind `role` in `namespace_name` ("" for every
  // namespace) only if it holds every permission the role grants there itself. kPermissionDenied
  // naming the first permission it lacks; kInvalidArgument for an unknown role.
  absl::Status CheckCanGrant(const Principal& caller, absl::string_view namespace_name,
                             absl::string_view role) const;

  // Rebuilds the snapshot from the store.
  absl::Status Reload();

 private:
  struct Snapshot;
  explicit AccessControl(const AccessControlOptions& options);
  std::shared_ptr<const Snapshot> Current() const;
  Authentication AuthenticateJwt(absl::string_view bearer, absl::string_view client, absl::Time now);
  void RefreshLoop();

  const AccessControlOptions options_;
  FailedAuthLimiter limiter_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const Snapshot> snapshot_ ABSL_GUARDED_BY(mu_);
  absl::Mutex reload_mu_;  // one reload at a time, so an older snapshot never replaces a newer one
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread refresher_;
};

// Names of roles, bindings and namespaces: lowercase letters, digits and '-', at most 63.
absl::Status ValidateObjectName(absl::string_view what, absl::string_view name);
// Users and service accounts: letters, digits and . _ @ - | : +, at most 128 (an identity
// provider's subjects such as "auth0|5f1c" fit).
absl::Status ValidateSubjectName(absl::string_view name);

}  // namespace meridian::auth
