#pragma once

// Maps (method, path) to a Route. Patterns are split into segments; a literal segment wins over
// a {param} segment at the same position, so "/v2/models/ready" can coexist with
// "/v2/models/{name}". Immutable after construction, so lookups need no lock.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "http/route.h"

namespace meridian::http {

struct RouteMatch {
  enum class Kind { kFound, kNotFound, kMethodNotAllowed };
  Kind kind = Kind::kNotFound;
  const Route* route = nullptr;
  std::vector<std::pair<std::string, std::string>> params;  // raw (still percent-encoded)
  std::string allow;  // for kMethodNotAllowed: e.g. "GET, POST"
};

class Router {
 public:
  Router();
  ~Router();
  Router(Router&&) noexcept;
  Router& operator=(Router&&) noexcept;

  // Fails on a malformed pattern, a missing resource/verb or handler, or a duplicate
  // (method, pattern), including ones that differ only in parameter names.
  absl::Status Add(Route route);

  RouteMatch Match(HttpMethod method, absl::string_view path) const;

  const std::vector<std::unique_ptr<Route>>& routes() const { return routes_; }

 public:
  struct Node;  // a path segment of the routing trie (defined in router.cc)

 private:
  std::unique_ptr<Node> root_;
  std::vector<std::unique_ptr<Route>> routes_;
};

}  // namespace meridian::http
