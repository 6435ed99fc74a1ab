#!/usr/bin/env bash
# bench/serving/response_cache.sh [SECONDS=4] [ROUNDS=3]: what the response cache buys when every
# request repeats (all hits after the first): the TorchScript MLP without a cache, with the
# in-process cache and with Redis (a redis-server of its own on a free port), binary OIP, 1 and
# 64 clients, alternating in rounds. Prints one JSON line per run; docs/benchmarks.md quotes them.
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/common.sh  # reads [SECONDS=4] [ROUNDS=3]
REDIS=$(free_port)
redis-server --port "$REDIS" --bind 127.0.0.1 --save '' --appendonly no > "$WORK/redis.log" 2>&1 &
for _ in $(seq 1 100); do redis-cli -p "$REDIS" ping > /dev/null 2>&1 && break; sleep 0.05; done
LOCAL=$(free_port)
serve_meridian "$LOCAL"
REMOTE=$(free_port)
$M serve --port "$REMOTE" --grpc-port 0 --data-dir "$WORK/data-redis" --auth false --access-log false \
  --log-level warn --isolate-model-checks false --cache-redis-url "redis://127.0.0.1:$REDIS" > "$WORK/server-redis.log" 2>&1 &
for _ in $(seq 1 200); do curl -sf "http://127.0.0.1:$REMOTE/health/live" > /dev/null && break; sleep 0.05; done
for port in "$LOCAL" "$REMOTE"; do
  push_model "$port" mlp mlp-torchscript model.pt torchscript "{$MLP_SIGNATURE,\"batching\":{\"instances\":2}}"
  push_model "$port" mlp-cached mlp-torchscript model.pt torchscript \
    "{$MLP_SIGNATURE,\"batching\":{\"instances\":2},\"responseCache\":{\"enabled\":true,\"ttl\":\"10m\"}}"
done
run() {  # run LABEL PORT MODEL CLIENTS
  $LOADGEN --protocol binary --target "127.0.0.1:$2" --model "$3" --fixture mlp-torchscript --concurrency "$4" \
    --seconds "$SECONDS_PER_RUN" | python3 -c "import json,sys; d=json.load(sys.stdin); d['system']='$1'; print(json.dumps(d))"
}
for clients in 1 64; do
  run warm-up "$LOCAL" mlp "$clients" > /dev/null
  for round in $(seq 1 "$ROUNDS"); do
    run no-cache "$LOCAL" mlp "$clients"
    run local-cache "$LOCAL" mlp-cached "$clients"
    run redis-cache "$REMOTE" mlp-cached "$clients"
  done
done
