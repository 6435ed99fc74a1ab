#pragma once

// The six policies of the FGD paper's evaluation, each as its simulator scores it:
//   random          a uniformly random feasible node
//   dot-product     Tetris: the smallest dot product of free and requested (cpu, gpu), normalized
//                   by the largest node spec (128 CPUs, 8 GPUs)
//   gpu-clustering  GPU pods of one kind (shared, 1-GPU, 2-GPU, ...) together, fuller nodes first
//   gpu-packing     partly used GPUs first, then free GPUs on used nodes, then idle nodes
//   best-fit        the least (cpu, gpu) left after placement, weighted equally
//   fgd             the smallest growth of GPU fragmentation (see fragmentation.h)
// Every one picks devices by best fit except random (a random fitting device) and fgd (the device
// that fragments least).

#include <memory>
#include <vector>

#include "control/scheduler/fragmentation.h"
#include "control/scheduler/score_policy.h"

namespace meridian::scheduler {

// The largest node the normalizations assume (the trace's largest): 128 CPUs, 8 GPUs.
inline constexpr double kMaxSpecCpuMilli = 128000;
inline constexpr double kMaxSpecGpuMilli = 8000;

std::unique_ptr<ScorePolicy> MakeRandomPolicy();
std::unique_ptr<ScorePolicy> MakeDotProductPolicy();
std::unique_ptr<ScorePolicy> MakeGpuClusteringPolicy();
std::unique_ptr<ScorePolicy> MakeGpuPackingPolicy();
std::unique_ptr<ScorePolicy> MakeBestFitPolicy();
std::unique_ptr<ScorePolicy> MakeFgdPolicy(std::vector<TypicalPod> typical);
// Ours (not in the paper): FGD with ties broken toward nodes already in use.
std::unique_ptr<ScorePolicy> MakeFgdPackPolicy(std::vector<TypicalPod> typical);

}  // namespace meridian::scheduler
