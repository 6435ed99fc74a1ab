#!/usr/bin/env bash
# bench/serving: Meridian's data plane against the physical limit and a Python peer, one run.
#   1. the in-process backend loop (bench/serving/backend_bench.cc), batch 1 and 32, and the
#      transport alone: servers answering the same binary request without inference
#      (bench/http/lean_asio_server.cc, bench/http/bare_beast_server.cc);
#   2. Meridian over OIP v2 JSON, binary, gRPC and gRPC streaming (ModelStreamInfer) at concurrency
#      1, 8 and 64, batching off and on (TorchScript MLP on 784 inputs): for streaming, a stream per
#      client (gRPC's C++ client, "grpc-stream") and one stream with that many requests in flight
#      (bench/grpc/pipelined_stream_client, "grpc-stream-pipelined"); the CNN without and with
#      batching, and an overload run;
#   3. FastAPI + uvicorn around python3-torch on the same model (bench/serving/python_peer.py);
#   4. the ONNX MLP on Meridian and on Node.js + onnxruntime-node (bench/serving/node_peer, npm).
# Writes JSON lines to $OUT/results.jsonl (default bench/serving/results) and plots with
# bench/serving/plot.py into docs/img/. Usage: bench/serving/run.sh [SECONDS=4]
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/common.sh  # reads [SECONDS=4]
OUT=${OUT:-bench/serving/results}
mkdir -p "$OUT"
RESULTS="$OUT/results.jsonl"
: > "$RESULTS"
HTTP=$(free_port)
GRPC=$(free_port)
PEER=$(free_port)

echo "== 1. in-process backend loop"
$BIN/bench/backend_bench --benchmark_min_time=1 --benchmark_format=json --benchmark_filter='^Run/.*torchscript' \
  > "$OUT/backend_bench.json" 2>/dev/null
python3 - "$OUT/backend_bench.json" >> "$RESULTS" <<'PY'
import json, sys
for b in json.load(open(sys.argv[1]))["benchmarks"]:
    name = b["name"]  # Run/mlp_torchscript/32/real_time
    _, model, batch, _ = name.split("/")
    us = b["real_time"] / 1000.0
    print(json.dumps({"system": "in-process", "model": model.replace("_torchscript", ""), "protocol": "none",
                      "concurrency": 1, "rows": int(batch), "rps": 1e6 / us, "p50_us": us, "p95_us": us, "p99_us": us,
                      "errors": 0, "rejected": 0}))
PY
cat "$RESULTS"

echo "== 1b. the transport alone: two servers answering the same request with a canned response, no inference"
# lean: plain Asio, Beast's parser fed by hand (what Meridian's server does); bare: Beast's composed
# read/write on a timed tcp_stream.
for server in lean_asio_server bare_beast_server; do
  PORT_T=$(free_port)
  $BIN/bench/$server "$PORT_T" 2 > /dev/null 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 100); do (echo > "/dev/tcp/127.0.0.1/$PORT_T") 2>/dev/null && break; sleep 0.05; done
  for c in 1 8 64; do
    $LOADGEN --protocol binary --target "127.0.0.1:$PORT_T" --model mlp --fixture mlp-torchscript --concurrency "$c" \
      --seconds "$SECONDS_PER_RUN" | python3 -c "import json,sys; d=json.loads(sys.stdin.read()); d.update(system='${server%_server}', model='mlp'); print(json.dumps(d))" \
      | tee -a "$RESULTS"
  done
  kill "$SERVER_PID"
done

echo "== 2. meridian"
serve_meridian "$HTTP" "$GRPC"
push() { push_model "$HTTP" "$1" "$2" "$3" torchscript "$4"; }  # push NAME FIXTURE FILE METADATA_JSON
SIG=$MLP_SIGNATURE
push mlp mlp-torchscript model.pt "{$SIG,\"batching\":{\"instances\":2}}"
push mlp-batched mlp-torchscript model.pt "{$SIG,\"batching\":{\"instances\":2,\"maxBatchSize\":32,\"maxQueueDelay\":\"500us\"}}"
push mlp-small-queue mlp-torchscript model.pt "{$SIG,\"batching\":{\"instances\":2,\"maxBatchSize\":32,\"maxQueueDelay\":\"500us\",\"maxQueueSize\":64}}"
with_batching() {  # with_batching BATCHING_JSON VARIABLE_BATCH(0/1) < metadata.json
  python3 -c "
import json, sys
d = json.load(sys.stdin)
if $2:  # the fixture declares a batch of 1; the traced model takes any batch
    for t in d['inputs'] + d['outputs']: t['shape'][0] = -1
d['batching'] = json.loads(sys.argv[1])
print(json.dumps(d))" "$1"
}
CNN_META=tests/fixtures/models/cnn-torchscript/metadata.json
push cnn cnn-torchscript model.pt "$(with_batching '{"instances":2}' 0 < $CNN_META)"
push cnn-batched cnn-torchscript model.pt \
  "$(with_batching '{"instances":2,"maxBatchSize":32,"maxQueueDelay":"500us"}' 1 < $CNN_META)"

run() {  # run SYSTEM MODEL FIXTURE PROTOCOL CONCURRENCY [PORT]
  local port=${6:-$HTTP}
  case "$4" in grpc | grpc-stream) port=$GRPC ;; esac
  local line
  line=$($LOADGEN --protocol "$4" --target "127.0.0.1:$port" --model "$2" --fixture "$3" --concurrency "$5" \
    --seconds "$SECONDS_PER_RUN")
  echo "$line" | python3 -c "import json,sys; d=json.loads(sys.stdin.read()); d.update(system='$1', model='$2'); print(json.dumps(d))" \
    | tee -a "$RESULTS"
}
pipelined() {  # pipelined SYSTEM MODEL FIXTURE IN_FLIGHT: one ModelStreamInfer stream
  [ -f "$WORK/$2.body" ] || $LOADGEN --write-grpc-body "$WORK/$2.body" --model "$2" --fixture "$3"
  $BIN/bench/pipelined_stream_client --target "127.0.0.1:$GRPC" --body "$WORK/$2.body" --in-flight "$4" \
    --seconds "$SECONDS_PER_RUN" | python3 -c "
import json, sys
d = json.loads(sys.stdin.read())
d.update(system='$1', model='$2', concurrency=d.pop('in_flight'), rows=1, rejected=0)
print(json.dumps(d))" | tee -a "$RESULTS"
}
for c in 1 8 64; do
  for p in json binary grpc grpc-stream; do
    run meridian mlp mlp-torchscript "$p" "$c"
    run meridian-batching mlp-batched mlp-torchscript "$p" "$c"
  done
  pipelined meridian mlp mlp-torchscript "$c"
  pipelined meridian-batching mlp-batched mlp-torchscript "$c"
done
for c in 1 64; do
  run meridian cnn cnn-torchscript binary "$c"
  run meridian cnn cnn-torchscript grpc "$c"
  run meridian-batching cnn-batched cnn-torchscript binary "$c"
  run meridian-batching cnn-batched cnn-torchscript grpc "$c"
done
echo "-- overload: 512 clients, queue bounded at 64"
run meridian-overload mlp-small-queue mlp-torchscript binary 512

echo "== 3. python peer (FastAPI + uvicorn + torch)"
# The peer's torch runs the OpenBLAS kernels Meridian's server runs (docs/serving.md, OpenBLAS kernels).
OPENBLAS_CORETYPE=$($M version | sed -n 's/^blas: *OpenBLAS, \(.*\) kernels$/\1/p') \
  /usr/bin/python3 bench/serving/python_peer.py "$PEER" tests/fixtures/models/mlp-torchscript/model.pt > "$WORK/peer.log" 2>&1 &
for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$PEER/health" >/dev/null && break; sleep 0.1; done
for c in 1 8 64; do run python-fastapi mlp mlp-torchscript json "$c" "$PEER"; done

echo "== 4. ONNX: meridian vs Node.js + onnxruntime-node"
push_model "$HTTP" mlp-onnx mlp-onnx model.onnx onnx '{"batching":{"instances":2}}'
for c in 1 8 64; do
  run meridian mlp-onnx mlp-onnx json "$c"
  run meridian mlp-onnx mlp-onnx binary "$c"
done
if command -v node > /dev/null; then
  NODE_PEER=$(free_port)
  (cd bench/serving/node_peer && npm ci --no-audit --no-fund > /dev/null 2>&1)
  node bench/serving/node_peer/server.js "$NODE_PEER" tests/fixtures/models/mlp-onnx/model.onnx > "$WORK/node.log" 2>&1 &
  for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$NODE_PEER/" >/dev/null && break; sleep 0.1; done
  for c in 1 8 64; do run node-onnxruntime mlp-onnx mlp-onnx json "$c" "$NODE_PEER"; done
else
  echo "node not found: skipping the Node.js peer"
fi

/usr/bin/python3 bench/serving/plot.py "$RESULTS" docs/img
