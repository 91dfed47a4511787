# The two commands of the README, plus benchmarking the stack `make up` deployed, its kiosks, and
# stopping it.
.PHONY: up test bench down kiosk kiosks revoke-kiosk
NAME ?= kiosk
up:
	./localstack/up.sh
test:
	./localstack/test.sh
bench:
	.venv/bin/python localstack/bench.py $(ARGS)
down:
	./localstack/down.sh
kiosk:
	.venv/bin/python localstack/kiosk.py register "$(NAME)"
kiosks:
	.venv/bin/python localstack/kiosk.py list
revoke-kiosk:
	.venv/bin/python localstack/kiosk.py revoke "$(KIOSK)"
