#!/usr/bin/env bash
# Runs every test: unit tests, and end-to-end tests that start their own MiniStack on a free
# port, deploy template.yaml to it and drive the saga through the real API.
#   CAFE_ENDPOINT=http://... deploy the end-to-end tests' stacks to that running local cloud
#                            (e.g. LocalStack) instead, each under a stack and bus of its own
source "$(dirname "$0")/lib.sh"

step "1/4 tools (pinned, into .venv and .venv-sam)"
ensure_tools
ensure_sam
step "2/4 browser for the kiosk page test (Debian chromium, playwright-core)"
ensure_browser
step "3/4 the dependency graph (cargo-deny, cargo-shear) and the docs' links"
check_dependencies
python3 "$ROOT/localstack/check_links.py"
step "4/4 build once (the test binaries and the functions, dev profile), then every test"
cd "$ROOT"
# The end-to-end binaries run two at a time, each on its own local cloud, with the functions this
# build packed. They print their figures (orders, duplicates, time to recover).
# CAFE_TEST_LANES=1: one at a time.
python3 "$ROOT/localstack/run_tests.py" "$@"
printf '\n==> every test passed: %d s in all\n' "$SECONDS"
