#pragma once

// Where replicas run. The deployment controller decides how many replicas of which version each
// deployment has and how traffic splits between them; a Runtime makes it so. LocalRuntime runs
// replicas inside this server process; a Kubernetes runtime implements the same interface with
// pods. Implementations are thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "serving/traffic_stats.h"

namespace meridian::deploy {

using ReplicaId = uint64_t;

struct ReplicaTemplate {
  std::string deployment;  // the name requests use
  std::string model;
  std::string version;  // canonical SemVer
  std::string batching_json;
  std::string response_cache_json;
};

// A replica's load, for the autoscaler.
struct ReplicaLoad {
  size_t outstanding = 0;     // requests queued or running
  absl::Duration busy_time;     // execution time so far, summed over its instances
  absl::Duration request_time;  // time answered requests spent in it, summed (concurrency x time)
  uint64_t memory_bytes = 0;  // measured at load
};

struct TrafficTrack {
  std::string version;
  std::vector<ReplicaId> replicas;
};

// How one deployment's requests are served.
struct TrafficPlan {
  std::string deployment;
  TrafficTrack stable;
  std::optional<TrafficTrack> canary;
  int canary_percent = 0;
  std::optional<TrafficTrack> shadow;
  double shadow_percent = 0;
};

class Runtime {
 public:
  virtual ~Runtime() = default;
  // Starts a replica and returns once it is ready (loaded, checked, warmed up) or has failed.
  virtual absl::StatusOr<ReplicaId> StartReplica(const ReplicaTemplate& replica) = 0;
  // Takes a replica out of service; requests it already holds still finish. Route traffic away
  // first (SetTraffic) so that it receives no new ones.
  virtual void StopReplica(ReplicaId id) = 0;
  // Replaces the routing of every deployment at once; deployments not named stop receiving.
  virtual void SetTraffic(const std::vector<TrafficPlan>& plans) = 0;
  virtual std::optional<ReplicaLoad> Load(ReplicaId id) = 0;
  // Everything a deployment's requests to one version did so far (cumulative).
  virtual serving::TrafficStats::Snapshot Outcomes(const std::string& deployment, const std::string& version) = 0;
};

}  // namespace meridian::deploy
