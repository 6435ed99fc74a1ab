#!/usr/bin/env bash
# bench/serving/ceiling.sh [SECONDS=4] [ROUNDS=3]: 64 clients, binary OIP, alternating in rounds
# between two servers that answer the same request with a canned response and no inference
# (bench/http/lean_asio_server.cc: plain Asio, Beast's parser fed by hand, the transport's own
# cost; bench/http/bare_beast_server.cc: Beast's composed read/write on a timed tcp_stream) and
# Meridian serving the TorchScript MLP with batching and the ONNX MLP without. The in-process
# batch-1 loop (backend_bench) runs in the same go. Prints one JSON line per run;
# docs/benchmarks.md quotes the medians.
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/common.sh  # reads [SECONDS=4] [ROUNDS=3]
HTTP=$(free_port)
BARE=$(free_port)
LEAN=$(free_port)
$BIN/bench/bare_beast_server "$BARE" 2 > /dev/null 2>&1 &
$BIN/bench/lean_asio_server "$LEAN" 2 > /dev/null 2>&1 &
serve_meridian "$HTTP"
push_model "$HTTP" mlp-batched mlp-torchscript model.pt torchscript \
  "{$MLP_SIGNATURE,\"batching\":{\"instances\":2,\"maxBatchSize\":32,\"maxQueueDelay\":\"500us\"}}"
push_model "$HTTP" mlp-onnx mlp-onnx model.onnx onnx '{"batching":{"instances":2}}'
run() {  # run LABEL PORT MODEL FIXTURE
  $LOADGEN --protocol binary --target "127.0.0.1:$2" --model "$3" --fixture "$4" --concurrency 64 \
    --seconds "$SECONDS_PER_RUN" | python3 -c "import json,sys; d=json.load(sys.stdin); d['system']='$1'; print(json.dumps(d))"
}
# Warm-up, not recorded: TorchScript's profiling executor specialises the model for the batch
# sizes it sees during its first runs, which made the first round the slowest.
run warm-up "$HTTP" mlp-batched mlp-torchscript > /dev/null
run warm-up "$HTTP" mlp-onnx mlp-onnx > /dev/null
for round in $(seq 1 "$ROUNDS"); do
  $BIN/bench/backend_bench --benchmark_min_time=1 --benchmark_format=json --benchmark_filter='mlp_.*/1/' 2>/dev/null |
    python3 -c "
import json, sys
for b in json.load(sys.stdin)['benchmarks']:
    print(json.dumps({'system': 'in-process batch 1 ' + b['name'].split('/')[1], 'rps': 1e9 / b['real_time']}))"
  run lean-asio "$LEAN" mlp mlp-torchscript
  run bare-beast "$BARE" mlp mlp-torchscript
  run meridian-torchscript-batching "$HTTP" mlp-batched mlp-torchscript
  run meridian-onnx "$HTTP" mlp-onnx mlp-onnx
done
