#!/usr/bin/env bash
# bench/http: wrk against GET /health/live on 127.0.0.1 with 64 connections, side by side:
#   bare      a bare Boost.Beast server (bench/http/bare_beast_server.cc), the baseline
#   meridian  the full platform stack (router, metrics, access log to a file)
#   no-log    the platform with the access log off
# Rounds alternate between the servers so that machine noise hits them alike; the medians and
# the ratio to the baseline are printed at the end as a Markdown table.
#
# Usage: bench/http/run.sh [ROUNDS=3] [DURATION=10s] [THREADS=2]
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${1:-3}
DURATION=${2:-10s}
THREADS=${3:-2}
BIN=build/release
OUT=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$OUT"' EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null \
  || echo $((20000 + RANDOM % 20000)); }

wait_ready() {
  for _ in $(seq 1 200); do
    curl -sf "http://127.0.0.1:$1/health/live" >/dev/null && return 0
    sleep 0.05
  done
  echo "server on port $1 did not start" >&2
  return 1
}

# run_wrk NAME PORT -> appends "rps p99_ms" to $OUT/NAME
run_wrk() {
  local result rps p99
  result=$(wrk -t2 -c64 -d"$DURATION" --latency "http://127.0.0.1:$2/health/live")
  rps=$(echo "$result" | awk '/Requests\/sec/ {print $2}')
  p99=$(echo "$result" | awk '$1=="99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v=v*1000}; print v}')
  echo "$rps $p99" >>"$OUT/$1"
  echo "  $1: $rps req/s, p99 ${p99} ms"
}

start_servers() {
  BARE_PORT=$(free_port)
  "$BIN/bench/bare_beast_server" "$BARE_PORT" "$THREADS" &
  MERIDIAN_PORT=$(free_port)
  # --grpc-port 0: the two servers would otherwise both want the default gRPC port
  "$BIN/src/meridian" serve --port "$MERIDIAN_PORT" --grpc-port 0 --io-threads "$THREADS" --auth false \
    --data-dir "$OUT/data1" --log-file "$OUT/meridian.log" &
  NOLOG_PORT=$(free_port)
  "$BIN/src/meridian" serve --port "$NOLOG_PORT" --grpc-port 0 --io-threads "$THREADS" --auth false \
    --data-dir "$OUT/data2" --log-file "$OUT/meridian-nolog.log" --access-log false &
  wait_ready "$BARE_PORT"
  wait_ready "$MERIDIAN_PORT"
  wait_ready "$NOLOG_PORT"
}

start_servers
echo "wrk -t2 -c64 -d$DURATION, server I/O threads: $THREADS, rounds: $ROUNDS"
for round in $(seq 1 "$ROUNDS"); do
  echo "round $round"
  run_wrk bare "$BARE_PORT"
  run_wrk meridian "$MERIDIAN_PORT"
  run_wrk no-log "$NOLOG_PORT"
done

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
BARE_RPS=$(awk '{print $1}' "$OUT/bare" | median)
echo
echo "| server | requests/s (median) | p99 ms (median) | vs bare Beast |"
echo "|---|---|---|---|"
for name in bare meridian no-log; do
  rps=$(awk '{print $1}' "$OUT/$name" | median)
  p99=$(awk '{print $2}' "$OUT/$name" | median)
  ratio=$(awk -v a="$rps" -v b="$BARE_RPS" 'BEGIN {printf "%.0f %%", 100*a/b}')
  echo "| $name | $rps | $p99 | $ratio |"
done
