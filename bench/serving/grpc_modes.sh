#!/usr/bin/env bash
# bench/serving/grpc_modes.sh [SECONDS=4] [ROUNDS=3]: the TorchScript MLP over binary REST, unary
# gRPC with a connection per client, unary gRPC with one shared connection, and gRPC streaming
# (ModelStreamInfer, a stream per client, on a connection each or all on one), alternating in
# rounds on one server: 1 client without batching, 64 clients with batching. Prints one JSON line
# per run; docs/benchmarks.md quotes them.
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/common.sh  # reads [SECONDS=4] [ROUNDS=3]
HTTP=$(free_port)
GRPC=$(free_port)
serve_meridian "$HTTP" "$GRPC"
push_mlp() { push_model "$HTTP" "$1" mlp-torchscript model.pt torchscript "{$MLP_SIGNATURE,\"batching\":$2}"; }
push_mlp mlp '{"instances":2}'
push_mlp mlp-batched '{"instances":2,"maxBatchSize":32,"maxQueueDelay":"500us"}'
run() {  # run LABEL PROTOCOL PORT MODEL CONCURRENCY [LOADGEN FLAGS...]
  local label=$1 protocol=$2 port=$3 model=$4 concurrency=$5
  shift 5
  $LOADGEN --protocol "$protocol" --target "127.0.0.1:$port" --model "$model" --fixture mlp-torchscript \
    --concurrency "$concurrency" --seconds "$SECONDS_PER_RUN" "$@" |
    python3 -c "import json,sys; d=json.load(sys.stdin); d['system']='$label'; d['model']='$model'; print(json.dumps(d))"
}
all() {  # all MODEL CONCURRENCY
  run binary binary "$HTTP" "$1" "$2"
  run grpc-connection-per-client grpc "$GRPC" "$1" "$2"
  run grpc-one-connection grpc "$GRPC" "$1" "$2" --grpc-connections 1
  run grpc-stream grpc-stream "$GRPC" "$1" "$2"
  run grpc-stream-one-connection grpc-stream "$GRPC" "$1" "$2" --grpc-connections 1
}
# Warm-up, not recorded (TorchScript specialises the model for the batch sizes it first sees).
all mlp-batched 64 > /dev/null
for round in $(seq 1 "$ROUNDS"); do
  all mlp 1
  all mlp-batched 64
done
