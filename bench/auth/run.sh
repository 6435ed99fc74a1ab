#!/usr/bin/env bash
# bench/auth: what authentication costs per inference, side by side in one run. Two servers on the
# same machine serve the same ONNX MLP, one with tokens and RBAC (the default), one with
# `--auth false`; the load generator alternates between them, ROUNDS times, over binary REST and
# gRPC at 1 and 8 clients. Then the request gate alone (auth_bench, Google Benchmark).
# Usage: bench/auth/run.sh [SECONDS=4] [ROUNDS=3]
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_PER_RUN=${1:-4}
ROUNDS=${2:-3}
. bench/common.sh

TOKEN=$($M token generate)
start() {  # start NAME AUTH -> sets PORT_NAME GRPC_NAME
  local http grpc
  http=$(free_port); grpc=$(free_port)
  MERIDIAN_ADMIN_TOKEN=$TOKEN $M serve --port "$http" --grpc-port "$grpc" --data-dir "$WORK/$1" --auth "$2" \
    --access-log false --log-level warn --isolate-model-checks false > "$WORK/$1.log" 2>&1 &
  for _ in $(seq 1 200); do curl -sf "http://127.0.0.1:$http/health/live" >/dev/null && break; sleep 0.05; done
  MERIDIAN_TOKEN=$TOKEN $M model push tests/fixtures/models/mlp-onnx/model.onnx --name mlp --version 1.0.0 \
    --framework onnx --server "http://127.0.0.1:$http" -o json > /dev/null
  curl -sf -H "Authorization: Bearer $TOKEN" -X POST "http://127.0.0.1:$http/v2/repository/models/mlp/load" > /dev/null
  eval "PORT_$1=$http; GRPC_$1=$grpc"
}
start on true
start off false

printf '%-4s %-7s %-7s %12s %9s %9s\n' auth proto clients "inferences/s" p50_us p99_us
for round in $(seq 1 "$ROUNDS"); do
  for proto in binary grpc; do
    for clients in 1 8; do
      for mode in on off; do
        if [ "$proto" = grpc ]; then eval "port=\$GRPC_$mode"; else eval "port=\$PORT_$mode"; fi
        line=$($LOADGEN --protocol "$proto" --target "127.0.0.1:$port" --model mlp --fixture mlp-onnx \
          --concurrency "$clients" --seconds "$SECONDS_PER_RUN" --token "$TOKEN")
        python3 -c 'import json,sys; r=json.loads(sys.argv[1]); print("%-4s %-7s %-7s %12.0f %9.0f %9.0f  errors=%d" % (sys.argv[2], sys.argv[3], sys.argv[4], r["rps"], r["p50_us"], r["p99_us"], r["errors"]))' \
          "$line" "$mode" "$proto" "$clients"
      done
    done
  done
done
echo "== the request gate alone"
$BIN/bench/auth_bench --benchmark_min_time=1 2>/dev/null | grep BM_
