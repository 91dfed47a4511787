# The README's two commands (up, test), and the developer's loop around them. `make` alone lists
# the targets.
.DEFAULT_GOAL := help
.PHONY: help up check test sim mutants bench down invoke api logs kiosk kiosks revoke-kiosk
NAME ?= kiosk
# The pinned SAM CLI in .venv-sam, installed on first use (what it says goes to stderr: stdout is
# the function's answer).
SAM_CLI = bash -c 'source localstack/lib.sh && ensure_sam' >&2

help: ## this list
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z-]+):.*## /  make \1\t/' | expand -t 24
up: ## install, build, start the local cloud, deploy, print the URLs; FN=order rebuilds and updates that function only
	FN="$(FN)" ./localstack/up.sh
check: ## the loop while editing: formatting, lints, unit and in-process tests, the simulation, the docs' links; no local cloud, no installs
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --quiet -- -D warnings
	cargo test --workspace --exclude cafe-e2e --quiet -- --skip dynamodb::
	python3 localstack/check_links.py
test: ## every test (unit, end to end on fresh local clouds, browser, sam local)
	./localstack/test.sh
sim: ## the saga's seeded simulation, no cloud: SEEDS=n seeds from FROM=s (1000 from 0), or SEED=s replayed step by step; MUTANT=name runs a broken variant
	cargo run -q -p cafe-simulation -- $(if $(SEED),--seed $(SEED),--seeds $(or $(SEEDS),1000) --from $(or $(FROM),0)) $(if $(MUTANT),--mutant $(MUTANT))
mutants: ## weaken each store's guarding conditions in turn: each must fail its crate's contract tests (CONDITION=... one)
	python3 tests/store_mutants.py $(CONDITION)
bench: ## benchmark the stack `make up` started (ARGS=... for bench.py)
	.venv/bin/python localstack/bench.py $(ARGS)
down: ## stop the local cloud (and a dockerd that make invoke/api started)
	./localstack/down.sh
invoke: ## sam local invoke FN=<function or binary> EVENT=events/<file>, in Docker, on the local cloud
	@test -n "$(FN)" -a -n "$(EVENT)" || { echo "usage: make invoke FN=OrderApiFunction EVENT=events/api-post-order.json" >&2; exit 2; }
	@$(SAM_CLI)
	@.venv/bin/python localstack/sam_local.py invoke "$(FN)" "$(EVENT)"
api: ## sam local start-api on http://127.0.0.1:3000 (PORT=...), in Docker, on the local cloud
	@$(SAM_CLI)
	@.venv/bin/python localstack/sam_local.py api --port "$(or $(PORT),3000)"
logs: ## follow every function's logs on the local cloud; ORDER=<orderId> shows that order's only
	.venv/bin/python localstack/logs.py $(if $(ORDER),--order "$(ORDER)")
kiosk: ## register a kiosk NAME=... and print its link
	.venv/bin/python localstack/kiosk.py register "$(NAME)"
kiosks: ## the registered kiosks
	.venv/bin/python localstack/kiosk.py list
revoke-kiosk: ## revoke KIOSK=<kioskId>
	.venv/bin/python localstack/kiosk.py revoke "$(KIOSK)"
