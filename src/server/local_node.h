#pragma once

// This machine as the scheduler sees it: one node with the CPUs and memory of the cgroup limits,
// its GPUs, and the well-known Kubernetes node labels (kubernetes.io/hostname, os, arch), so that
// deployments' placement rules mean the same here as on a cluster.

#include "control/scheduler/cluster.h"

namespace meridian::server {

struct LocalNodeOptions {
  int gpus = -1;              // < 0: count the /dev/nvidiaN devices
  double cpus = 0;            // 0: the cgroup CPU limit
  uint64_t memory_bytes = 0;  // 0: the cgroup memory limit
};

scheduler::NodeSpec DescribeLocalNode(const LocalNodeOptions& options);

}  // namespace meridian::server
