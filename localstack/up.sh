#!/usr/bin/env bash
# Brings the whole cafe up locally: tools, build, local cloud, deploy; prints the URLs.
#   CAFE_PORT=4566           port of the local MiniStack
#   CAFE_PAYMENTS_PORT=8420  port of the local payment provider (localstripe)
#   CAFE_ENDPOINT=http://... use an already running local cloud (e.g. LocalStack) instead (give
#                            the payment provider's URL its functions reach:
#                            make up ARGS="--parameter PaymentProviderUrl=...")
#   FN=order                 rebuild that function crate alone (functions/order: order-api,
#                            order-events, order-outbox) and update the stack make up deployed
source "$(dirname "$0")/lib.sh"

if [ -n "${FN:-}" ]; then
  started=$SECONDS
  [ -d "$ROOT/functions/$FN" ] || { echo "no function crate functions/$FN; one of: $(ls "$ROOT/functions" | xargs)" >&2; exit 2; }
  [ -f "$STATE/outputs.json" ] || { echo "nothing deployed yet: run make up first" >&2; exit 1; }
  endpoint=$(python -c 'import json,sys; print(json.load(open(sys.argv[1]))["Endpoint"])' "$STATE/outputs.json")
  healthy "$endpoint" || { echo "no local cloud answers at $endpoint: run make up first" >&2; exit 1; }
  step "1/2 build cafe-$FN alone (cargo lambda, release)"
  (cd "$ROOT" && cargo lambda build --release --output-format zip -p "cafe-$FN")
  step "2/2 update the stack (only functions whose zip changed get a new version)"
  deploy_stack "$endpoint" --parameter "PaymentProviderUrl=$(cat "$STATE/payment-provider-url")"
  echo "cafe-$FN is live on $endpoint, $((SECONDS - started)) s after make up FN=$FN started"
  exit 0
fi

step "1/4 tools (pinned, into .venv)"
ensure_tools
step "2/4 build the functions (cargo lambda, release)"
build_functions
step "3/4 local cloud"
if [ -n "${CAFE_ENDPOINT:-}" ]; then
  endpoint="$CAFE_ENDPOINT"
  healthy "$endpoint" || { echo "nothing answers at $endpoint/_localstack/health" >&2; exit 1; }
  echo "using the local cloud at $endpoint"
else
  port="${CAFE_PORT:-4566}"
  endpoint="http://127.0.0.1:$port"
  start_ministack "$port"
  payments_port="${CAFE_PAYMENTS_PORT:-8420}"
  start_payment_provider "$payments_port"
  echo "http://127.0.0.1:$payments_port" >"$STATE/payment-provider-url"
fi
step "4/4 deploy template.yaml (CloudFormation)"
payment_provider=()
[ -f "$STATE/payment-provider-url" ] && payment_provider=(--parameter "PaymentProviderUrl=$(cat "$STATE/payment-provider-url")")
deploy_stack "$endpoint" "${payment_provider[@]}" "$@"

api=$(python -c 'import json,sys; print(json.load(open(sys.argv[1]))["LocalApiUrl"])' "$STATE/outputs.json")
# The operator token is the value of a secret the stack generated; it is printed here, for the
# operator at this terminal, and stored nowhere else on disk.
token=$(python - "$STATE/outputs.json" "$endpoint" <<'PY'
import json, sys, boto3
outputs = json.load(open(sys.argv[1]))
secrets = boto3.client("secretsmanager", endpoint_url=sys.argv[2])
print(secrets.get_secret_value(SecretId=outputs["OperatorTokenSecretArn"])["SecretString"])
PY
)
# This machine's screen as a kiosk (the one `make up` registered before is revoked).
kiosk_link=$(python "$ROOT/localstack/kiosk.py" --endpoint "$endpoint" register "this machine (make up)" --replace --link)
cat <<MSG

The cafe is open.
  API:    $api      (try: curl ${api}menu)
  Kiosk:  $kiosk_link
          (open it in a browser: it registers that screen as a kiosk; more: make kiosk NAME=...)
  Operator page: ${api}operator
  Pickup screen: ${api}display   (orders being made and ready, live, for a screen in the cafe)
  Operator token: $token
          (the operator page asks for it; curl -H "Authorization: Bearer \$TOKEN" ${api}inventories)
  Stop:   localstack/down.sh
MSG
