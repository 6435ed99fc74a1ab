#!/usr/bin/env bash
# bench/grpc/transport.sh [SECONDS=4] [ROUNDS=3]: where unary gRPC's time goes. Alternating in
# rounds, 1 and 64 clients, the same load generator and MLP request against: gRPC 1.51's callback
# server answering a canned response at once (canned_grpc_server.cc: the library's own floor);
# nghttp2 on plain Asio answering the same canned gRPC response (canned_h2_grpc_server.cc: a lean
# HTTP/2 transport's floor); the lean Asio server over binary REST (the REST floor); and Meridian
# serving the TorchScript MLP (2 instances, no batching) over gRPC and binary REST. Prints one
# JSON line per run; docs/benchmarks.md quotes them.
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/common.sh  # reads [SECONDS=4] [ROUNDS=3]
HTTP=$(free_port)
GRPC=$(free_port)
CANNED_GRPC=$(free_port)
CANNED_H2=$(free_port)
LEAN=$(free_port)
$BIN/bench/canned_grpc_server "$CANNED_GRPC" > /dev/null 2>&1 &
$BIN/bench/canned_h2_grpc_server "$CANNED_H2" 2 > /dev/null 2>&1 &
$BIN/bench/lean_asio_server "$LEAN" 2 > /dev/null 2>&1 &
serve_meridian "$HTTP" "$GRPC"
push_model "$HTTP" mlp mlp-torchscript model.pt torchscript "{$MLP_SIGNATURE,\"batching\":{\"instances\":2}}"
run() {  # run LABEL PROTOCOL PORT CONCURRENCY
  $LOADGEN --protocol "$2" --target "127.0.0.1:$3" --model mlp --fixture mlp-torchscript --concurrency "$4" \
    --seconds "$SECONDS_PER_RUN" | python3 -c "import json,sys; d=json.load(sys.stdin); d['system']='$1'; print(json.dumps(d))"
}
all() {  # all CONCURRENCY
  run canned-grpc-library grpc "$CANNED_GRPC" "$1"
  run canned-nghttp2 grpc "$CANNED_H2" "$1"
  run meridian-grpc grpc "$GRPC" "$1"
  run lean-asio-rest binary "$LEAN" "$1"
  run meridian-rest binary "$HTTP" "$1"
}
all 64 > /dev/null  # warm-up, not recorded
for round in $(seq 1 "$ROUNDS"); do
  all 1
  all 64
done
