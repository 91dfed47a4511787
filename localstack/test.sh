#!/usr/bin/env bash
# Runs every test: unit tests, and end-to-end tests that start their own MiniStack on a free
# port, deploy template.yaml to it and drive the saga through the real API.
#   CAFE_ENDPOINT=http://... deploy the end-to-end tests' stacks to that running local cloud
#                            (e.g. LocalStack) instead, each under a stack and bus of its own
source "$(dirname "$0")/lib.sh"

step "1/5 tools (pinned, into .venv and .venv-sam)"
ensure_tools
ensure_sam
step "2/5 browser for the kiosk page test (Debian chromium, playwright-core)"
ensure_browser
step "3/5 the dependency graph (cargo-deny, cargo-shear)"
check_dependencies
step "4/5 build the functions (cargo lambda, release)"
build_functions
step "5/5 tests"
cd "$ROOT"
# Every test binary once built; the end-to-end ones two at a time, each on its own local cloud.
# They print their figures (orders, duplicates, time to recover). CAFE_TEST_LANES=1: one at a time.
python3 "$ROOT/localstack/run_tests.py" "$@"
printf '\n==> every test passed: %d s in all\n' "$SECONDS"
