# Sourced by the bench scripts: the build under test, a scratch folder removed (with every
# server the script started) on exit, free_port, and starting Meridian and loading models on it.
# The scripts' arguments, when they take them: [SECONDS=4] [ROUNDS=3] (seconds per run, rounds
# alternating between the systems compared).
SECONDS_PER_RUN=${1:-4}
ROUNDS=${2:-3}
BIN=build/release
M=$BIN/src/meridian
LOADGEN=$BIN/bench/serving_loadgen
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# The TorchScript MLP fixture's signature (its file does not carry one).
MLP_SIGNATURE='"inputs":[{"name":"input__0","datatype":"FP32","shape":[-1,784]}],"outputs":[{"name":"output__0","datatype":"FP32","shape":[-1,10]}]'

# serve_meridian HTTP_PORT [GRPC_PORT=0]: Meridian on its embedded defaults in $WORK, without
# authentication or access log, in the background; returns once it is live (fails with its log).
serve_meridian() {
  $M serve --port "$1" --grpc-port "${2:-0}" --data-dir "$WORK/data" --auth false --access-log false \
    --log-level warn --isolate-model-checks false > "$WORK/server.log" 2>&1 &
  for _ in $(seq 1 200); do curl -sf "http://127.0.0.1:$1/health/live" > /dev/null && return 0; sleep 0.05; done
  echo "meridian did not start; its log:" >&2
  cat "$WORK/server.log" >&2
  return 1
}

# push_model HTTP_PORT NAME FIXTURE FILE FRAMEWORK METADATA_JSON: registers version 1.0.0 of the
# fixture's model file as NAME and loads it.
push_model() {
  echo "$6" > "$WORK/$2.json"
  $M model push "tests/fixtures/models/$3/$4" --name "$2" --version 1.0.0 --framework "$5" \
    --metadata-file "$WORK/$2.json" --server "http://127.0.0.1:$1" -o json > /dev/null
  curl -sf -X POST "http://127.0.0.1:$1/v2/repository/models/$2/load" > /dev/null
}
