# The two commands of the README, plus benchmarking the stack `make up` deployed, and stopping it.
.PHONY: up test bench down
up:
	./localstack/up.sh
test:
	./localstack/test.sh
bench:
	.venv/bin/python localstack/bench.py $(ARGS)
down:
	./localstack/down.sh
