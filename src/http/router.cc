#include "http/router.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace meridian::http {

struct Router::Node {
  std::map<std::string, std::unique_ptr<Node>, std::less<>> literals;
  std::unique_ptr<Node> param;  // the {name} child
  std::string param_name;
  std::map<HttpMethod, const Route*> routes;
};

namespace {

std::vector<absl::string_view> Segments(absl::string_view path) {
  // "/a/b/" and "/a/b" are different resources; keep the empty trailing segment.
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  if (path.empty()) return {};
  return absl::StrSplit(path, '/');
}

bool IsParam(absl::string_view segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

}  // namespace

Router::Router() : root_(std::make_unique<Node>()) {}
Router::~Router() = default;
Router::Router(Router&&) noexcept = default;
Router& Router::operator=(Router&&) noexcept = default;

absl::Status Router::Add(Route route) {
  if (route.pattern.empty() || route.pattern.front() != '/') {
    return absl::InvalidArgumentError(absl::StrCat("route pattern must start with '/': ", route.pattern));
  }
  if (route.resource.empty() || route.verb.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("route ", route.pattern, " must declare a resource and a verb"));
  }
  if (!route.handler) {
    return absl::InvalidArgumentError(absl::StrCat("route ", route.pattern, " has no handler"));
  }
  Node* node = root_.get();
  for (absl::string_view segment : Segments(route.pattern)) {
    if (IsParam(segment)) {
      std::string name(segment.substr(1, segment.size() - 2));
      if (!node->param) {
        node->param = std::make_unique<Node>();
        node->param_name = name;
      } else if (node->param_name != name) {
        return absl::InvalidArgumentError(absl::StrCat("route ", route.pattern, ": parameter {", name,
                                                       "} conflicts with {", node->param_name,
                                                       "} at the same position"));
      }
      node = node->param.get();
    } else {
      if (segment.find_first_of("{}") != absl::string_view::npos) {
        return absl::InvalidArgumentError(absl::StrCat("route ", route.pattern,
                                                       ": malformed segment ", segment));
      }
      auto it = node->literals.find(segment);
      if (it == node->literals.end()) {
        it = node->literals.emplace(std::string(segment), std::make_unique<Node>()).first;
      }
      node = it->second.get();
    }
  }
  if (node->routes.contains(route.method)) {
    return absl::AlreadyExistsError(
        absl::StrCat("duplicate route ", MethodName(route.method), " ", route.pattern));
  }
  routes_.push_back(std::make_unique<Route>(std::move(route)));
  node->routes[routes_.back()->method] = routes_.back().get();
  return absl::OkStatus();
}

namespace {

// Depth-first: a literal child first, then the parameter child, so that a literal that leads
// nowhere falls back to the parameter route.
const Router::Node* Descend(const Router::Node* node, const std::vector<absl::string_view>& segments,
                            size_t index, std::vector<std::pair<std::string, std::string>>& params) {
  if (index == segments.size()) return node->routes.empty() ? nullptr : node;
  absl::string_view segment = segments[index];
  if (auto it = node->literals.find(segment); it != node->literals.end()) {
    if (const Router::Node* found = Descend(it->second.get(), segments, index + 1, params)) {
      return found;
    }
  }
  if (node->param && !segment.empty()) {
    params.emplace_back(node->param_name, std::string(segment));
    if (const Router::Node* found = Descend(node->param.get(), segments, index + 1, params)) {
      return found;
    }
    params.pop_back();
  }
  return nullptr;
}

}  // namespace

RouteMatch Router::Match(HttpMethod method, absl::string_view path) const {
  RouteMatch match;
  const Node* node = Descend(root_.get(), Segments(path), 0, match.params);
  if (node == nullptr) return RouteMatch{};
  if (auto it = node->routes.find(method); it != node->routes.end()) {
    match.kind = RouteMatch::Kind::kFound;
    match.route = it->second;
    return match;
  }
  std::vector<absl::string_view> allowed;
  for (const auto& [m, route] : node->routes) allowed.push_back(MethodName(m));
  match.kind = RouteMatch::Kind::kMethodNotAllowed;
  match.allow = absl::StrJoin(allowed, ", ");
  match.params.clear();
  return match;
}

}  // namespace meridian::http
