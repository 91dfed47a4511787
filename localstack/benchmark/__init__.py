"""The benchmark behind `make bench` (`localstack/bench.py`), one module per part."""
