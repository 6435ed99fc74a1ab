# The two commands of the README, and a few more for development.
#   make run    install what is missing, build, start `meridian serve` with a demo model
#               (scripts/run-platform; ARGS="--port 9000" to add flags)
#   make test   install what is missing, build, run every test (optimised and sanitizer builds)

.PHONY: setup build run test bench clean
ARGS ?=

setup:
	scripts/setup

build: setup
	cmake --preset release >/dev/null
	cmake --build --preset release

run: build
	scripts/run-platform $(ARGS)

test: setup
	scripts/run-tests

bench: build
	bench/http/run.sh

clean:
	rm -rf build
