#include <dlfcn.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "backends/torchscript/torchscript_backend.h"

namespace meridian::backends {
namespace {

// Where the module is: $MERIDIAN_TORCHSCRIPT_BACKEND alone when set, else where the build put it,
// else beside the executable (a copied binary with its module next to it).
std::vector<std::string> ModuleCandidates() {
  if (const char* path = std::getenv("MERIDIAN_TORCHSCRIPT_BACKEND"); path && *path) return {path};
  std::vector<std::string> candidates{MERIDIAN_TORCHSCRIPT_MODULE};
  char self[PATH_MAX];
  if (const ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1); n > 0) {
    self[n] = '\0';
    candidates.push_back((std::filesystem::path(self).parent_path() /
                          std::filesystem::path(MERIDIAN_TORCHSCRIPT_MODULE).filename())
                             .string());
  }
  return candidates;
}

// Stands in for the TorchScript backend until a model needs it: libtorch takes 0.7 s to load and
// initialise (its operator registry), which every command of the one binary would otherwise pay
// at start, `meridian model list` as much as `meridian serve`.
class LazyTorchScriptBackend final : public serving::Backend {
 public:
  std::string name() const override { return "torchscript"; }
  std::string framework_version() const override { return MERIDIAN_TORCH_VERSION; }

  bool requires_declared_signature() const override { return true; }

  absl::Status Prepare() override {
    std::call_once(opened_, [this] { Open(); });
    return backend_ ? backend_->Prepare() : open_error_;
  }

  absl::StatusOr<std::unique_ptr<serving::LoadedModel>> Load(const serving::ModelLoadOptions& options) override {
    if (absl::Status ready = Prepare(); !ready.ok()) return ready;
    return backend_->Load(options);
  }

 private:
  void Open() {
    std::string tried;
    for (const std::string& path : ModuleCandidates()) {
      // RTLD_GLOBAL: the backend finds OpenBLAS (libtorch's dependency) by name to size its
      // thread pool. Never closed: libtorch does not support unloading.
      void* module = dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL);
      if (module == nullptr) {
        absl::StrAppend(&tried, tried.empty() ? "" : "; ", dlerror());
        continue;
      }
      using Create = serving::Backend* (*)();
      auto create = reinterpret_cast<Create>(dlsym(module, "meridian_torchscript_backend_create"));
      if (create == nullptr) {
        absl::StrAppend(&tried, tried.empty() ? "" : "; ", path, ": no meridian_torchscript_backend_create");
        continue;
      }
      backend_.reset(create());
      return;
    }
    open_error_ = absl::UnavailableError(absl::StrCat(
        "the TorchScript backend is not available (set MERIDIAN_TORCHSCRIPT_BACKEND to the path of "
        "libmeridian_backend_torchscript.so): ",
        tried));
  }

  std::once_flag opened_;
  std::unique_ptr<serving::Backend> backend_;
  absl::Status open_error_;
};

}  // namespace

std::unique_ptr<serving::Backend> MakeTorchScriptBackend() { return std::make_unique<LazyTorchScriptBackend>(); }

}  // namespace meridian::backends
