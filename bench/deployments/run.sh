#!/usr/bin/env bash
# bench/deployments: what routing through a deployment costs per inference, side by side in one
# run. One server serves the ONNX MLP twice: loaded directly in the model repository ("mlp") and
# as a one-replica deployment ("mlp-deployed": traffic router, per-track outcome statistics and
# deployment metrics on every request). The load generator alternates between the two, ROUNDS
# times, over binary REST and gRPC at 1 and 8 clients.
# Usage: bench/deployments/run.sh [SECONDS=4] [ROUNDS=3]
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_PER_RUN=${1:-4}
ROUNDS=${2:-3}
. bench/common.sh

HTTP=$(free_port); GRPC=$(free_port)
serve_meridian "$HTTP" "$GRPC"
export MERIDIAN_SERVER="http://127.0.0.1:$HTTP"
$M model push tests/fixtures/models/mlp-onnx/model.onnx --name mlp --version 1.0.0 --framework onnx -o json > /dev/null
curl -sf -X POST "$MERIDIAN_SERVER/v2/repository/models/mlp/load" > /dev/null
cat > "$WORK/deployment.yaml" <<EOT
apiVersion: meridian.ai/v1
kind: ModelDeployment
metadata: {name: mlp-deployed}
spec: {model: mlp, version: 1.0.0, replicas: 1}
EOT
$M apply -f "$WORK/deployment.yaml" > /dev/null
$M rollout status mlp-deployed --timeout 60s > /dev/null

printf '%-13s %-7s %-7s %12s %9s %9s\n' model proto clients "inferences/s" p50_us p99_us
for round in $(seq 1 "$ROUNDS"); do
  for proto in binary grpc; do
    for clients in 1 8; do
      for model in mlp mlp-deployed; do
        if [ "$proto" = grpc ]; then port=$GRPC; else port=$HTTP; fi
        line=$($LOADGEN --protocol "$proto" --target "127.0.0.1:$port" --model "$model" --fixture mlp-onnx \
          --concurrency "$clients" --seconds "$SECONDS_PER_RUN")
        python3 -c 'import json,sys; r=json.loads(sys.argv[1]); print("%-13s %-7s %-7s %12.0f %9.0f %9.0f  errors=%d" % (sys.argv[2], sys.argv[3], sys.argv[4], r["rps"], r["p50_us"], r["p99_us"], r["errors"]))' \
          "$line" "$model" "$proto" "$clients"
      done
    done
  done
done
