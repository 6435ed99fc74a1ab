#include "common/blas_kernels.h"

#include "gtest/gtest.h"

namespace meridian {
namespace {

TEST(BlasKernelsTest, TheGenericFallbackIsReplacedByTheBestKernelsTheCpuRuns) {
  EXPECT_EQ(BetterBlasCoreType("Prescott", {.avx2_fma = true, .avx512 = true}), "SkylakeX");
  EXPECT_EQ(BetterBlasCoreType("prescott", {.avx2_fma = true, .avx512 = false}), "Haswell");
}

TEST(BlasKernelsTest, AFallbackOnACpuWithoutAvx2IsKept) {
  EXPECT_EQ(BetterBlasCoreType("Prescott", {}), std::nullopt);
}

TEST(BlasKernelsTest, KernelsChosenForARecognisedCpuAreKept) {
  for (const char* chosen : {"SkylakeX", "Haswell", "Zen", "Cooperlake", "Sandybridge", ""}) {
    EXPECT_EQ(BetterBlasCoreType(chosen, {.avx2_fma = true, .avx512 = true}), std::nullopt) << chosen;
  }
}

}  // namespace
}  // namespace meridian
