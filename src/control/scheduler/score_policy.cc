#include "control/scheduler/score_policy.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "control/scheduler/fgd_lookahead_policy.h"
#include "control/scheduler/reference_policies.h"

namespace meridian::scheduler {

std::vector<std::string> PolicyNames() {
  return {"random", "dot-product", "gpu-clustering", "gpu-packing", "best-fit", "fgd", "fgd-pack", "fgd-lookahead"};
}

absl::StatusOr<std::unique_ptr<ScorePolicy>> MakeScorePolicy(std::string_view name, const PolicyContext& context) {
  if (name == "random") return MakeRandomPolicy();
  if (name == "dot-product") return MakeDotProductPolicy();
  if (name == "gpu-clustering") return MakeGpuClusteringPolicy();
  if (name == "gpu-packing") return MakeGpuPackingPolicy();
  if (name == "best-fit") return MakeBestFitPolicy();
  if (name == "fgd") return MakeFgdPolicy(TypicalPods(context.workload));
  if (name == "fgd-lookahead") return MakeFgdLookaheadPolicy(TypicalPods(context.workload));
  if (name == "fgd-pack") return MakeFgdPackPolicy(TypicalPods(context.workload));
  return absl::InvalidArgumentError(
      absl::StrCat("unknown scheduling policy \"", std::string(name), "\"; known: ", absl::StrJoin(PolicyNames(), ", ")));
}

}  // namespace meridian::scheduler
