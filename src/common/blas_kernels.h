#pragma once

// OpenBLAS, the BLAS under libtorch (and OpenCV), picks its kernels for the CPU once, as it loads.
// The version Debian 12 ships (0.3.21) does not recognise CPUs newer than itself (Intel's Emerald
// Rapids, family 6 model 207, for one) and falls back to its generic SSE3 kernels ("Prescott"):
// on such a CPU the TorchScript MLP fixture ran 2.5x slower at batch 1 and 3.8x slower at batch 32
// than with OpenBLAS's AVX-512 kernels (docs/benchmarks.md, "OpenBLAS kernels"). The environment
// variable OPENBLAS_CORETYPE overrides the choice but is read only at load, before main; so a
// process that serves models restarts itself with it set, once, when OpenBLAS fell back although
// the CPU has AVX2 or AVX-512.

#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace meridian {

struct CpuVectorFeatures {
  bool avx2_fma = false;
  bool avx512 = false;  // AVX-512 F, CD, BW, DQ and VL: what OpenBLAS's SkylakeX kernels use
};

// This CPU's, from CPUID.
CpuVectorFeatures DetectCpuVectorFeatures();

// The kernels OpenBLAS chose ("Prescott", "SkylakeX", ...); empty when OpenBLAS is not loaded.
std::string BlasCoreName();

// The OPENBLAS_CORETYPE to restart with: when OpenBLAS chose its generic fallback (`chosen`,
// case-insensitive "Prescott") on a CPU with `cpu`'s features, the best kernels those features
// run; nullopt otherwise (a CPU OpenBLAS recognised keeps its choice).
std::optional<std::string> BetterBlasCoreType(absl::string_view chosen, const CpuVectorFeatures& cpu);

// When OPENBLAS_CORETYPE is unset and BetterBlasCoreType names kernels for this CPU: sets it and
// executes this program again with the same arguments, keeping the process id. Returns when there
// is nothing to do, or when the restart failed (the process then goes on with OpenBLAS's choice).
void RestartWithBetterBlasKernels(char** argv);

// The kernels `meridian serve` runs with on this machine: OpenBLAS's choice, or what the server
// restarts with (for `meridian version`, and a peer benchmarked against the server).
std::string ServingBlasCoreName();

// For the startup log: the kernels in use ("SkylakeX (OPENBLAS_CORETYPE=SkylakeX)"; "none loaded").
std::string BlasKernelsDescription();

}  // namespace meridian
