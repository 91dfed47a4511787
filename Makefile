# The two commands of the README, plus stopping the local cloud.
.PHONY: up test down
up:
	./localstack/up.sh
test:
	./localstack/test.sh
down:
	./localstack/down.sh
