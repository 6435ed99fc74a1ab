#pragma once

// Ours: FGD with a one-step look-ahead. FGD scores each node by how much the pod fragments it;
// on Kubernetes' 0..100 scale many nodes tie, and the scheduler's fixed node order decides. This
// policy decides among the tied nodes by the pod that comes next instead: for each typical pod
// (the target workload, weighted by frequency), the least fragmentation growth it would find
// anywhere in the cluster once this pod is placed; the node that leaves the next pod the best
// expected place wins. It keeps the slots that only one node offers (placing here would take
// them) and prefers placements that open a better slot than the cluster has.
//
// Ranks within one milli-GPU of expected fragmentation count as equal, so that the fixed node
// order still decides between nearly equal nodes: that order is what packs nodes. Among equal
// ranks a node already in use goes before an idle one (as in fgd-pack), then the fixed order.
//
// A pod without GPUs goes, among the tied nodes, to the one with the least free GPU: its CPU would
// otherwise be missing later to the pods those GPUs could take, a harm FGD's measure sees only
// once a typical pod no longer fits, so it ties those nodes with nodes whose GPUs are all taken.
// docs/benchmarks.md measures this policy against FGD on the Alibaba trace.
//
// Stateful: it keeps every typical pod's growth on every node between decisions (in a tree per
// typical pod, so a decision updates only the nodes that changed), so one instance serves one
// scheduler.

#include <memory>
#include <vector>

#include "control/scheduler/fragmentation.h"
#include "control/scheduler/score_policy.h"

namespace meridian::scheduler {

std::unique_ptr<ScorePolicy> MakeFgdLookaheadPolicy(std::vector<TypicalPod> typical);

}  // namespace meridian::scheduler
