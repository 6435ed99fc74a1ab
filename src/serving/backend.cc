#include "serving/backend.h"

#include "absl/strings/str_cat.h"

namespace meridian::serving {

void BackendRegistry::Register(std::unique_ptr<Backend> backend) {
  std::string name = backend->name();
  backends_[name] = std::move(backend);
}

absl::StatusOr<Backend*> BackendRegistry::Find(absl::string_view framework) const {
  auto it = backends_.find(framework);
  if (it != backends_.end()) return it->second.get();
  std::string known;
  for (const auto& [name, backend] : backends_) absl::StrAppend(&known, known.empty() ? "" : ", ", name);
  return absl::InvalidArgumentError(absl::StrCat("no backend for framework '", framework,
                                                 "'; this build serves: ", known.empty() ? "none" : known));
}

std::vector<const Backend*> BackendRegistry::backends() const {
  std::vector<const Backend*> list;
  for (const auto& [name, backend] : backends_) list.push_back(backend.get());
  return list;
}

std::vector<Tensor> SelectOutputs(std::vector<Tensor> all, const std::vector<std::string>& names) {
  if (names.empty()) return all;
  std::vector<Tensor> selected;
  for (const std::string& name : names) {
    for (Tensor& tensor : all) {
      if (tensor.name() == name) selected.push_back(tensor);
    }
  }
  return selected;
}

}  // namespace meridian::serving
