#!/usr/bin/env bash
# Runs every test: unit tests, and end-to-end tests that start their own MiniStack on a free
# port, deploy template.yaml to it and drive the saga through the real API.
source "$(dirname "$0")/lib.sh"

step "1/4 tools (pinned, into .venv)"
ensure_tools
step "2/4 browser for the kiosk page test (Debian chromium, playwright-core)"
ensure_browser
step "3/4 build the functions (cargo lambda, release)"
build_functions
step "4/4 tests"
cd "$ROOT"
# --nocapture: the end-to-end tests print their figures (orders, duplicates, time to recover).
cargo test --workspace -- --nocapture "$@"
