#include "common/blas_kernels.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace meridian {
namespace {

constexpr char kCoreTypeVariable[] = "OPENBLAS_CORETYPE";

}  // namespace

CpuVectorFeatures DetectCpuVectorFeatures() {
  CpuVectorFeatures features;
#if defined(__x86_64__)
  __builtin_cpu_init();
  features.avx2_fma = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  features.avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd") &&
                    __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
                    __builtin_cpu_supports("avx512vl");
#endif
  return features;
}

std::string BlasCoreName() {
  // Looked up rather than linked: this module does not depend on OpenBLAS.
  using CoreName = char* (*)();
  auto core_name = reinterpret_cast<CoreName>(dlsym(RTLD_DEFAULT, "openblas_get_corename"));
  if (core_name == nullptr) return "";
  const char* name = core_name();
  return name == nullptr ? "" : name;
}

std::optional<std::string> BetterBlasCoreType(absl::string_view chosen, const CpuVectorFeatures& cpu) {
  if (!absl::EqualsIgnoreCase(chosen, "prescott")) return std::nullopt;
  // SkylakeX measured faster than Cooperlake's and Haswell's kernels on an AVX-512 CPU (batch 1:
  // 10.3 us against 12.0 and 21.9).
  if (cpu.avx512) return "SkylakeX";
  if (cpu.avx2_fma) return "Haswell";
  return std::nullopt;
}

void RestartWithBetterBlasKernels(char** argv) {
  if (std::getenv(kCoreTypeVariable) != nullptr) return;  // chosen by the user, or already restarted
  const std::string chosen = BlasCoreName();
  std::optional<std::string> better = BetterBlasCoreType(chosen, DetectCpuVectorFeatures());
  if (!better) return;
  setenv(kCoreTypeVariable, better->c_str(), 1);
  execv("/proc/self/exe", argv);
  // The restart failed: go on as loaded, without the variable (a child would get other kernels).
  unsetenv(kCoreTypeVariable);
}

std::string ServingBlasCoreName() {
  const std::string chosen = BlasCoreName();
  if (std::getenv(kCoreTypeVariable) != nullptr) return chosen;
  return BetterBlasCoreType(chosen, DetectCpuVectorFeatures()).value_or(chosen);
}

std::string BlasKernelsDescription() {
  std::string core = BlasCoreName();
  if (core.empty()) return "none loaded";
  if (const char* forced = std::getenv(kCoreTypeVariable); forced != nullptr) {
    absl::StrAppend(&core, " (OPENBLAS_CORETYPE=", forced, ")");
  }
  return core;
}

}  // namespace meridian
