#!/usr/bin/env bash
# bench/registry: upload and download of one large artifact over loopback, side by side with
#   cp      of the same file on the same disk (the ceiling), and
#   curl    against a static file server (python3 -m http.server) for downloads,
# plus the server's peak resident-memory growth during the transfers (streaming must keep it
# bounded). Prints a Markdown table.
#
# Usage: bench/registry/artifacts.sh [SIZE_MIB=1024]
set -euo pipefail
cd "$(dirname "$0")/../.."
SIZE_MIB=${1:-1024}
BIN=build/release/src/meridian
WORK=$(mktemp -d /var/tmp/meridian-artifact-bench.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now() { date +%s.%N; }
rate() { awk -v mib="$SIZE_MIB" -v s="$1" -v e="$2" 'BEGIN {printf "%.0f", mib*1.048576/(e-s)}'; }  # MB/s
kib() { awk -v k="$1" 'BEGIN {printf "%.1f", k/1024}'; }

echo "creating a ${SIZE_MIB} MiB file..." >&2
head -c "$((SIZE_MIB * 1024 * 1024))" /dev/urandom >"$WORK/model.bin"
DIGEST="sha256:$(sha256sum "$WORK/model.bin" | cut -d' ' -f1)"

start=$(now); cp "$WORK/model.bin" "$WORK/copy.bin"; sync "$WORK/copy.bin"; end=$(now)
CP=$(rate "$start" "$end"); rm -f "$WORK/copy.bin"

PORT=$(free_port)
"$BIN" serve --port "$PORT" --data-dir "$WORK/data" --auth false --access-log false --log-file "$WORK/server.log" &
SERVER=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/health/ready" >/dev/null && break; sleep 0.05; done
RSS_BEFORE=$(awk '/VmRSS/ {print $2}' "/proc/$SERVER/status")

start=$(now)
curl -sf -o /dev/null -X POST -T "$WORK/model.bin" -H "Content-Type: application/octet-stream" \
  -H "X-Content-Digest: $DIGEST" "http://127.0.0.1:$PORT/api/v1/artifacts"
end=$(now); UPLOAD=$(rate "$start" "$end")

start=$(now)
curl -sf -o "$WORK/down.bin" "http://127.0.0.1:$PORT/api/v1/artifacts/$DIGEST"
end=$(now); DOWNLOAD=$(rate "$start" "$end"); rm -f "$WORK/down.bin"
HWM=$(awk '/VmHWM/ {print $2}' "/proc/$SERVER/status")

export MERIDIAN_SERVER="http://127.0.0.1:$PORT"
start=$(now)
"$BIN" model push "$WORK/model.bin" --name bench --version 1.0.0 --framework onnx >/dev/null
end=$(now); PUSH=$(rate "$start" "$end")
start=$(now)
"$BIN" model pull bench 1.0.0 --dest "$WORK/pulled.bin" >/dev/null
end=$(now); PULL=$(rate "$start" "$end"); rm -f "$WORK/pulled.bin"

STATIC_PORT=$(free_port)
(cd "$WORK" && python3 -m http.server "$STATIC_PORT" --bind 127.0.0.1 >/dev/null 2>&1) &
for _ in $(seq 1 100); do curl -sf -o /dev/null "http://127.0.0.1:$STATIC_PORT/" && break; sleep 0.05; done
start=$(now)
curl -sf -o "$WORK/static.bin" "http://127.0.0.1:$STATIC_PORT/model.bin"
end=$(now); STATIC=$(rate "$start" "$end")

echo "| transfer (${SIZE_MIB} MiB) | MB/s | vs cp |"
echo "|---|---|---|"
for row in "cp (same disk)|$CP" "upload: curl -> meridian|$UPLOAD" "upload: meridian model push (hash + upload)|$PUSH" \
           "download: curl <- meridian|$DOWNLOAD" "download: meridian model pull (download + verify)|$PULL" \
           "download: curl <- python3 http.server|$STATIC"; do
  name=${row%%|*}; value=${row##*|}
  echo "| $name | $value | $(awk -v a="$value" -v b="$CP" 'BEGIN {printf "%.0f %%", 100*a/b}') |"
done
echo
echo "server resident memory: $(kib "$RSS_BEFORE") MiB before, peak $(kib "$HWM") MiB during upload and download (growth $(kib $((HWM - RSS_BEFORE))) MiB)"
