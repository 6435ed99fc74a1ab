#include "auth/audit_log.h"

#include "gtest/gtest.h"
#include "store/sqlite/sqlite_store.h"

namespace meridian::auth {
namespace {

TEST(AuditLogTest, RecordsReachTheStoreInOrderByFlushAndByDestruction) {
  auto store = *store::SqliteStore::Open({.path = ":memory:"});
  {
    AuditLog audit({.store = store.get()});
    for (int i = 0; i < 600; ++i) {  // more than one batch
      audit.Record({.time = absl::FromUnixSeconds(i), .request_id = std::to_string(i), .subject = "user:a",
                    .verb = "create", .status = 201, .result = "allowed"});
    }
    audit.Flush();
    auto stored = store->QueryAudit({.limit = 1000});
    ASSERT_TRUE(stored.ok());
    ASSERT_EQ(stored->size(), 600u);
    EXPECT_EQ((*stored)[599].request_id, "599");
    audit.Record({.request_id = "last"});
  }
  auto stored = store->QueryAudit({.limit = 1000});
  ASSERT_TRUE(stored.ok());
  ASSERT_EQ(stored->size(), 601u);
  EXPECT_EQ(stored->back().request_id, "last");
}

// A store that always fails, to show that a full queue drops (and counts) instead of growing.
class BrokenStore final : public store::SecurityStore {
 public:
  absl::Status CreateToken(const store::TokenRecord&) override { return Down(); }
  absl::StatusOr<std::vector<store::TokenRecord>> ListTokens() override { return Down(); }
  absl::Status RevokeToken(absl::string_view, absl::Time) override { return Down(); }
  absl::Status PutRole(const store::RoleRecord&) override { return Down(); }
  absl::Status DeleteRole(absl::string_view) override { return Down(); }
  absl::StatusOr<std::vector<store::RoleRecord>> ListRoles() override { return Down(); }
  absl::Status PutRoleBinding(const store::RoleBindingRecord&) override { return Down(); }
  absl::Status DeleteRoleBinding(absl::string_view, absl::string_view) override { return Down(); }
  absl::StatusOr<std::vector<store::RoleBindingRecord>> ListRoleBindings() override { return Down(); }
  absl::Status AppendAudit(const std::vector<store::AuditRecord>&) override { return Down(); }
  absl::StatusOr<std::vector<store::AuditRecord>> QueryAudit(const store::AuditQuery&) override { return Down(); }

 private:
  static absl::Status Down() { return absl::UnavailableError("down"); }
};

TEST(AuditLogTest, AStoreThatIsDownCostsDroppedRecordsNotMemoryOrAHang) {
  BrokenStore broken;
  AuditLog audit({.store = &broken, .max_pending = 4});
  for (int i = 0; i < 10; ++i) audit.Record({.request_id = std::to_string(i)});
  audit.Flush();
  EXPECT_EQ(audit.dropped(), 10u);
}

}  // namespace
}  // namespace meridian::auth
