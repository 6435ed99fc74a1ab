#include "serving/inference.h"

namespace meridian::serving {

std::optional<bool> BoolParameter(const Parameters& parameters, absl::string_view key) {
  auto it = parameters.find(std::string(key));
  if (it == parameters.end()) return std::nullopt;
  if (const bool* value = std::get_if<bool>(&it->second)) return *value;
  return std::nullopt;
}

std::optional<int64_t> IntParameter(const Parameters& parameters, absl::string_view key) {
  auto it = parameters.find(std::string(key));
  if (it == parameters.end()) return std::nullopt;
  if (const int64_t* value = std::get_if<int64_t>(&it->second)) return *value;
  return std::nullopt;
}

}  // namespace meridian::serving
