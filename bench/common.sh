# Sourced by the bench scripts: the build under test, a scratch folder removed (with every
# server the script started) on exit, and free_port.
BIN=build/release
M=$BIN/src/meridian
LOADGEN=$BIN/bench/serving_loadgen
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
