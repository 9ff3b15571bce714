# The two commands: `make demo` (set up and run) and `make test` (set up and test). See README.md.
.PHONY: setup demo test lint typecheck unit bench-quick clean

setup:
	@bash tools/setup.sh

demo: setup
	.venv/bin/vigil demo

lint: setup
	.venv/bin/ruff check src tests bench tools
	.venv/bin/ruff format --check src tests bench tools

typecheck: setup
	.venv/bin/mypy

test: lint typecheck
	.venv/bin/pytest -q

unit: setup
	.venv/bin/pytest -q tests/unit tests/contract

bench-quick: setup
	.venv/bin/python bench/recording.py --quick
	.venv/bin/python bench/recorder_cost.py --quick
	.venv/bin/python bench/motion.py --quick
	.venv/bin/python bench/faults.py --quick
	.venv/bin/python bench/people.py --quick
	.venv/bin/python bench/analysis_cost.py --quick
	.venv/bin/python bench/rules.py --quick
	.venv/bin/python bench/rule_latency.py --quick
	.venv/bin/python bench/notify_latency.py --quick
	.venv/bin/python bench/redaction.py --quick
	.venv/bin/python bench/alarm_latency.py --quick
	.venv/bin/python bench/maintenance.py --quick
	.venv/bin/python bench/degradation.py --quick

clean:
	rm -rf vigil-demo .vigil-cache .pytest_cache .mypy_cache .ruff_cache
