#!/usr/bin/env bash
# bench/grpc/multiplexed.sh [SECONDS=4] [ROUNDS=3]: unary gRPC with many calls on few connections,
# as gRPC clients make them (a channel multiplexes its calls on one HTTP/2 connection), driven by
# h2load (nghttp2's HTTP/2 load generator, a lean client: one thread, no gRPC library). Alternating
# in rounds: the in-process batch-1 loop (backend_bench); the canned nghttp2 server (no inference,
# the transport's floor) at 64 calls and at 1; Meridian serving the TorchScript MLP over gRPC with
# batching (2 instances, maxBatchSize 32, maxQueueDelay 500us) at 64 calls in flight on 1, 2 and
# 64 connections, and without batching at 1 call; for comparison, serving_loadgen with gRPC's own
# C++ client at 1 call (against the canned server too: the clients' own share of a lone call) and
# binary REST at 64 clients; and the streaming extension ModelStreamInfer with 64 requests in
# flight on one stream (pipelined_stream_client: the lean client h2load is, for a stream, which
# h2load cannot drive). h2load checks HTTP statuses, not grpc-status, so each Meridian run is
# checked against the server's inference_requests_total: no failed outcome, and at least as many
# successes as h2load counted (requests cancelled when h2load hangs up at the end are neither).
# Meridian's rows also give the server's CPU time per answer (user + system, from /proc), which
# the load generator sharing the cores does not distort, and the batching rows their throughput
# over the in-process loop of the same round (vs_in_process_loop). The loop runs just before, between
# and just after the unary 1 x 64 row and the stream's row, each compared with the mean of the two
# loop runs around it: the machine's speed drifts within seconds here, and one loop measured well
# before a row compared it with another moment.
# Prints one JSON line per run.
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/common.sh  # reads [SECONDS=4] [ROUNDS=3]
command -v h2load > /dev/null || { echo "h2load not found: ./scripts/setup installs nghttp2-client" >&2; exit 1; }
HTTP=$(free_port)
GRPC=$(free_port)
CANNED_H2=$(free_port)
$BIN/bench/canned_h2_grpc_server "$CANNED_H2" 2 > /dev/null 2>&1 &
serve_meridian "$HTTP" "$GRPC"
SERVER_PID=$!
push_model "$HTTP" mlp mlp-torchscript model.pt torchscript "{$MLP_SIGNATURE,\"batching\":{\"instances\":2}}"
push_model "$HTTP" mlp-batched mlp-torchscript model.pt torchscript \
  "{$MLP_SIGNATURE,\"batching\":{\"instances\":2,\"maxBatchSize\":32,\"maxQueueDelay\":\"500us\"}}"
for model in mlp mlp-batched; do
  $LOADGEN --write-grpc-body "$WORK/$model.body" --model "$model" --fixture mlp-torchscript
done

# inference_requests_total summed over models: successes and failures. Requests dropped because
# their client left (outcome "cancelled": h2load hangs up on the calls in flight when its time is
# up) are neither.
outcomes() {
  curl -sf "http://127.0.0.1:$HTTP/metrics" | python3 -c "
import sys
ok = failed = 0.0
for line in sys.stdin:
    if line.startswith('inference_requests_total{') and 'outcome=\"cancelled\"' not in line:
        value = float(line.rsplit(' ', 1)[1])
        if 'outcome=\"success\"' in line: ok += value
        else: failed += value
print(int(ok), int(failed))"
}

# with_loop_ratio(row), Python: the row with its throughput over the mean of the loop runs in
# LOOP_RPS (space-separated rates; unset: the row as it is).
export WITH_LOOP_RATIO='
import os
def with_loop_ratio(row):
    loops = [float(rate) for rate in os.environ.get("LOOP_RPS", "").split()]
    if loops:
        row["in_process_loop_rps"] = loops
        row["vs_in_process_loop"] = round(row["rps"] / (sum(loops) / len(loops)), 2)
    return row
'

server_cpu_ticks() { awk '{print $14 + $15}' "/proc/$SERVER_PID/stat"; }

# h2 LABEL PORT MODEL CONNECTIONS STREAMS_EACH [check]
h2() {
  local before after cpu_before cpu_after
  [ "${6:-}" = check ] && before=$(outcomes) && cpu_before=$(server_cpu_ticks)
  rm -f "$WORK/h2.log"
  h2load -D "$SECONDS_PER_RUN" -c "$4" -m "$5" -t 1 -d "$WORK/$3.body" \
    -H 'content-type: application/grpc' -H 'te: trailers' --log-file "$WORK/h2.log" \
    "http://127.0.0.1:$2/inference.GRPCInferenceService/ModelInfer" > "$WORK/h2.out"
  [ "${6:-}" = check ] && cpu_after=$(server_cpu_ticks) && after=$(outcomes)
  python3 - "$1" "$4" "$5" "$SECONDS_PER_RUN" "$WORK/h2.out" "$WORK/h2.log" "${before:-}" "${after:-}" \
    "$(( ${cpu_after:-0} - ${cpu_before:-0} ))" "$(getconf CLK_TCK)" <<'PY'
import json, os, re, sys
exec(os.environ['WITH_LOOP_RATIO'])
label, connections, streams, seconds, out, log, before, after, cpu_ticks, ticks_per_second = sys.argv[1:]
text = open(out).read()
counts = re.search(r'requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored', text)
if not counts:
    sys.exit(f'{label}: h2load printed no request counts; its output ends:\n{text[-800:]}')
succeeded, failed = int(counts.group(4)), int(counts.group(5)) + int(counts.group(6))
latencies = sorted(int(line.split('\t')[2]) for line in open(log) if line.split('\t')[1] == '200')
pct = lambda p: latencies[min(len(latencies) - 1, int(p * len(latencies)))] if latencies else 0
row = {'system': label, 'client': 'h2load', 'connections': int(connections), 'concurrency': int(connections) * int(streams),
       'requests': succeeded, 'errors': failed, 'rps': round(succeeded / float(seconds), 1),
       'p50_us': pct(0.50), 'p95_us': pct(0.95), 'p99_us': pct(0.99)}
if before:
    ok0, bad0 = map(int, before.split()); ok1, bad1 = map(int, after.split())
    row['server_failures'] = bad1 - bad0
    row['server_cpu_us_per_answer'] = round(int(cpu_ticks) / int(ticks_per_second) * 1e6 / max(1, ok1 - ok0), 1)
    if bad1 - bad0 != 0 or ok1 - ok0 < succeeded:
        sys.exit(f'{label}: the server counted {ok1 - ok0} successes and {bad1 - bad0} failures for {succeeded} answers')
print(json.dumps(with_loop_ratio(row) if 'batching' in label else row))
PY
}
# pipelined_stream LABEL PORT MODEL IN_FLIGHT: one ModelStreamInfer stream with IN_FLIGHT requests
# in flight, checked against the server's counts as h2's rows are.
pipelined_stream() {
  local before after cpu_before cpu_after
  before=$(outcomes)
  cpu_before=$(server_cpu_ticks)
  $BIN/bench/pipelined_stream_client --target "127.0.0.1:$2" --body "$WORK/$3.body" --in-flight "$4" \
    --seconds "$SECONDS_PER_RUN" > "$WORK/stream.out"
  cpu_after=$(server_cpu_ticks)
  after=$(outcomes)
  python3 - "$1" "$WORK/stream.out" "$before" "$after" "$(( cpu_after - cpu_before ))" "$(getconf CLK_TCK)" <<'PY'
import json, os, sys
exec(os.environ['WITH_LOOP_RATIO'])
label, out, before, after, cpu_ticks, ticks_per_second = sys.argv[1:]
client = json.load(open(out))
row = {'system': label, 'client': 'pipelined_stream_client', 'connections': 1, 'concurrency': client['in_flight'],
       'requests': client['requests'], 'errors': client['errors'], 'rps': client['rps'],
       'p50_us': client['p50_us'], 'p95_us': client['p95_us'], 'p99_us': client['p99_us']}
ok0, bad0 = map(int, before.split()); ok1, bad1 = map(int, after.split())
row['server_failures'] = bad1 - bad0
# The server's CPU over the whole run, the client's warm-up second included, per answer it gave.
row['server_cpu_us_per_answer'] = round(int(cpu_ticks) / int(ticks_per_second) * 1e6 / max(1, ok1 - ok0), 1)
if bad1 - bad0 != 0 or client['errors'] != 0 or ok1 - ok0 < client['requests']:
    sys.exit(f'{label}: the server counted {ok1 - ok0} successes and {bad1 - bad0} failures, '
             f'the client {client["requests"]} answers and {client["errors"]} errors')
print(json.dumps(with_loop_ratio(row)))
PY
}
loadgen() {  # loadgen LABEL PROTOCOL PORT MODEL CONCURRENCY
  $LOADGEN --protocol "$2" --target "127.0.0.1:$3" --model "$4" --fixture mlp-torchscript --concurrency "$5" \
    --seconds "$SECONDS_PER_RUN" | python3 -c "import json,sys; d=json.load(sys.stdin); d['system']='$1'; print(json.dumps(d))"
}
# in_process_loop: one JSON row, the in-process batch-1 loop (backend_bench, 1 s).
in_process_loop() {
  $BIN/bench/backend_bench --benchmark_min_time=1 --benchmark_format=json --benchmark_filter='Run/mlp_torchscript/1/' 2>/dev/null |
    python3 -c "
import json, sys
for b in json.load(sys.stdin)['benchmarks']:
    print(json.dumps({'system': 'in-process batch 1', 'rps': round(1e9 / b['real_time'], 1), 'p50_us': round(b['real_time'] / 1e3, 1)}))"
}
rps_of() { python3 -c "import json, sys; print(json.loads(sys.argv[1])['rps'])" "$1"; }
# with_loops ROW LOOP_RATES: the JSON row with its throughput over the mean of those loop rates.
with_loops() {
  LOOP_RPS="$2" python3 -c "$WITH_LOOP_RATIO
import json, sys
print(json.dumps(with_loop_ratio(json.loads(sys.argv[1]))))" "$1"
}
h2 warm-up "$GRPC" mlp-batched 1 64 check > /dev/null  # TorchScript specialises on its first runs
for round in $(seq 1 "$ROUNDS"); do
  # #5's goal: at 64 calls with batching, at least the loop's throughput. LOOP_RPS: the loop rates
  # the next batching rows are compared with (with two, their mean).
  loop_before=$(in_process_loop)
  echo "$loop_before"
  unset LOOP_RPS
  row_1x64=$(h2 meridian-grpc-batching "$GRPC" mlp-batched 1 64 check)
  loop_between=$(in_process_loop)
  row_stream=$(pipelined_stream meridian-grpc-stream-batching "$GRPC" mlp-batched 64)
  loop_after=$(in_process_loop)
  with_loops "$row_1x64" "$(rps_of "$loop_before") $(rps_of "$loop_between")"
  echo "$loop_between"
  with_loops "$row_stream" "$(rps_of "$loop_between") $(rps_of "$loop_after")"
  echo "$loop_after"
  export LOOP_RPS="$(rps_of "$loop_after")"
  h2 meridian-grpc-batching "$GRPC" mlp-batched 2 32 check
  h2 meridian-grpc-batching "$GRPC" mlp-batched 64 1 check
  h2 canned-nghttp2 "$CANNED_H2" mlp 1 64
  h2 canned-nghttp2 "$CANNED_H2" mlp 1 1
  loadgen canned-nghttp2-library-client grpc "$CANNED_H2" mlp 1
  h2 meridian-grpc "$GRPC" mlp 1 1 check
  loadgen meridian-grpc-library-client grpc "$GRPC" mlp 1
  loadgen meridian-binary-batching binary "$HTTP" mlp-batched 64
done
