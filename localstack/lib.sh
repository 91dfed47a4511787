# Shared steps of up.sh and test.sh: install the pinned tools into the project, build the
# functions, start the local cloud, deploy. Sourced, not run.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
STATE="$ROOT/.cafe"
export PATH="$VENV/bin:$PATH"
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-test}"
export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-test}"
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}"
export SAM_CLI_TELEMETRY=0

# Each step says when it starts, in seconds since the script did.
step() { printf '\n==> %s (at %d s)\n' "$*" "$SECONDS"; }

# The pinned MiniStack, SAM translator, cargo-lambda (with Zig) and boto3, in .venv.
ensure_tools() {
  local stamp="$VENV/.requirements"
  if [ -f "$stamp" ] && cmp -s "$stamp" "$ROOT/localstack/requirements.txt"; then
    echo "tools already installed in .venv"
    return
  fi
  command -v python3 >/dev/null || { echo "python3 is needed" >&2; exit 1; }
  command -v cargo >/dev/null || { echo "cargo (Rust) is needed" >&2; exit 1; }
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  echo "installing MiniStack, the SAM translator, cargo-lambda (with Zig) and boto3 into .venv (about 30 s)"
  "$VENV/bin/pip" install --disable-pip-version-check -q --progress-bar off -r "$ROOT/localstack/requirements.txt"
  cp "$ROOT/localstack/requirements.txt" "$stamp"
  echo "installed: $(ministack --version 2>/dev/null || echo ministack) $(cargo lambda --version)"
}

# The dependency graph (deny.toml): licences, bans, one version of each crate, known sources, no
# unused dependency (cargo-shear), and no RustSec advisory when its database can be fetched (it
# lives on GitHub; without it the rest is still checked, and the tests say what was left out).
check_dependencies() {
  (cd "$ROOT" && cargo shear)
  if (cd "$ROOT" && timeout 120 cargo deny fetch db >/dev/null 2>&1); then
    (cd "$ROOT" && cargo deny check)
  else
    echo "NOT CHECKED: RustSec advisories (their database on GitHub could not be fetched)"
    (cd "$ROOT" && cargo deny check bans licenses sources)
  fi
}

# The SAM CLI, for `sam validate --lint`, `sam build` and `sam deploy` (its own venv: see
# requirements-sam.txt).
ensure_sam() {
  local venv="$ROOT/.venv-sam" stamp="$ROOT/.venv-sam/.requirements"
  if [ -f "$stamp" ] && cmp -s "$stamp" "$ROOT/localstack/requirements-sam.txt"; then
    echo "SAM CLI already installed in .venv-sam"
    return
  fi
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  echo "installing the SAM CLI into .venv-sam"
  "$venv/bin/pip" install --disable-pip-version-check -q --progress-bar off -r "$ROOT/localstack/requirements-sam.txt"
  cp "$ROOT/localstack/requirements-sam.txt" "$stamp"
  echo "installed: $(SAM_CLI_TELEMETRY=0 "$venv/bin/sam" --version)"
}

# Debian's Chromium, and playwright-core with a QR decoder (jsqr, pngjs), for the pages' browser test.
ensure_browser() {
  local chromium="${CHROMIUM:-/usr/bin/chromium}"
  if [ ! -x "$chromium" ]; then
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -q && $sudo apt-get install -y -q --no-install-recommends chromium
  fi
  if [ ! -d "$ROOT/tests/browser/node_modules/playwright-core" ] || [ ! -d "$ROOT/tests/browser/node_modules/jsqr" ] || [ ! -d "$ROOT/tests/browser/node_modules/pngjs" ]; then
    (cd "$ROOT/tests/browser" && npm ci --no-audit --no-fund)
  fi
  echo "browser: $("$chromium" --version 2>/dev/null || echo "$chromium"), playwright-core $(node -p 'require("'"$ROOT"'/tests/browser/node_modules/playwright-core/package.json").version')"
}

# Every function's bootstrap.zip under target/lambda/<binary>/.
build_functions() {
  # The e2e tests and the simulation are no functions: leave them out of the release build (the
  # simulation would also turn on the functions' in-memory fakes).
  (cd "$ROOT" && cargo lambda build --release --output-format zip --workspace --exclude cafe-e2e --exclude cafe-simulation)
  ls "$ROOT"/target/lambda/*/bootstrap.zip | sed "s|$ROOT/||"
}

healthy() { curl -fsS -o /dev/null --max-time 2 "$1/_localstack/health" 2>/dev/null; }

# Runs the command `$2...` every half second until it succeeds, at most $1 times.
within() {
  local tries="$1"
  shift
  for _ in $(seq 1 "$tries"); do
    "$@" && return 0
    sleep 0.5
  done
  return 1
}

# Starts MiniStack on 127.0.0.1:$1 in the background unless it already answers there.
start_ministack() {
  local port="$1" endpoint="http://127.0.0.1:$1"
  if healthy "$endpoint"; then
    echo "local cloud already running at $endpoint"
    return
  fi
  mkdir -p "$STATE"
  # Functions inherit MiniStack's environment: AWS_ENDPOINT_URL is how they find it.
  BIND_HOST=127.0.0.1 GATEWAY_PORT="$port" AWS_ENDPOINT_URL="$endpoint" \
    nohup ministack >"$STATE/ministack-$port.log" 2>&1 &
  echo $! >"$STATE/ministack-$port.pid"
  if within 120 healthy "$endpoint"; then
    echo "MiniStack up at $endpoint (log: .cafe/ministack-$port.log)"
    return
  fi
  echo "MiniStack did not come up; see $STATE/ministack-$port.log" >&2
  exit 1
}

# Starts the payment provider's local stand-in (localstripe, by localstack/payments.py) on
# 127.0.0.1:$1 in the background unless it already answers there.
start_payment_provider() {
  local port="$1" url="http://127.0.0.1:$1"
  answers() { [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url/v1/payment_intents")" = 401 ]; }
  if answers; then
    echo "payment provider already running at $url"
    return
  fi
  mkdir -p "$STATE"
  nohup python "$ROOT/localstack/payments.py" --port "$port" >"$STATE/payments-$port.log" 2>&1 &
  echo $! >"$STATE/payments-$port.pid"
  if within 60 answers; then
    echo "payment provider (localstripe) up at $url (log: .cafe/payments-$port.log)"
    return
  fi
  echo "the payment provider did not come up; see $STATE/payments-$port.log" >&2
  exit 1
}

deploy_stack() {
  python "$ROOT/localstack/deploy.py" --endpoint "$1" --outputs "$STATE/outputs.json" "${@:2}"
}
