#!/usr/bin/env bash
# Runs every test: unit tests, and end-to-end tests that start their own MiniStack on a free
# port, deploy template.yaml to it and drive the saga through the real API.
#   CAFE_ENDPOINT=http://... deploy the end-to-end tests' stacks to that running local cloud
#                            (e.g. LocalStack) instead, each under a stack and bus of its own
source "$(dirname "$0")/lib.sh"

# The tools install while the build compiles (the build needs none of them); the tests need both.
step "1/3 set-up, beside the build (its output follows the build's)"
echo "tools (pinned, into .venv and .venv-sam), the browser for the pages' tests (Debian chromium,"
echo "playwright-core), the dependency graph (cargo-deny, cargo-shear), the docs' links"
mkdir -p "$STATE"
setup_log="$STATE/test-setup.log"
(
  ensure_tools
  ensure_sam
  ensure_browser
  check_dependencies
  python3 "$ROOT/localstack/check_links.py"
  echo "set-up done (at $SECONDS s)"
) >"$setup_log" 2>&1 &
setup=$!
step "2/3 build once: the test binaries and the functions (dev profile)"
cd "$ROOT"
if ! python3 "$ROOT/localstack/run_tests.py" --build-only; then
  wait "$setup" || true
  exit 1
fi
setup_failed=0
wait "$setup" || setup_failed=1
cat "$setup_log"
[ "$setup_failed" = 0 ] || { echo "the set-up beside the build failed (above)" >&2; exit 1; }
step "3/3 every test"
# The end-to-end binaries run three at a time, each on its own local cloud, with the functions the
# build packed. They print their figures (orders, duplicates, time to recover).
# CAFE_TEST_LANES=1: one at a time.
python3 "$ROOT/localstack/run_tests.py" "$@"
printf '\n==> every test passed: %d s in all\n' "$SECONDS"
