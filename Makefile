# Two commands on a fresh machine with only Python 3.11 and make:
#   make run   - the whole loop on the embedded synthetic utility (dvc repro)
#   make test  - the test suite
SHELL := /bin/bash
export MLFLOW_DISABLE_TELEMETRY := true
# bytecode compiled once at install (--compile-bytecode): a shell that sets PYTHONDONTWRITEBYTECODE
# otherwise recompiles MLflow, LightGBM and scikit-learn in every stage and kernel (13 s vs 6 s each)
# uv if it is on PATH, else the one pip installs as a module
UV := $(shell command -v uv 2>/dev/null || echo python3 -m uv)

.PHONY: run test test-fast setup lint ui lab compare

setup:
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || \
		{ echo "installing uv with pip"; python3 -m pip install --quiet --disable-pip-version-check uv; }
	@$(UV) sync --frozen --quiet --compile-bytecode

run: setup
	@start=$$(date +%s); \
	$(UV) run dvc repro && \
	echo "" && \
	echo "done in $$(( $$(date +%s) - start )) s" && \
	echo "report:    $$(ls -1 reports/*/strategy_report.html | tail -n 1)  (index: reports/index.html)" && \
	echo "metrics:   $(UV) run dvc metrics show" && \
	echo "MLflow UI: $(UV) run powerlens ui   then open http://127.0.0.1:5000"

test: setup
	$(UV) run pytest -q -n 2 --dist loadgroup --durations=15

# the quick loop while editing: everything not marked slow (no dvc repro, papermill, browser, real data)
test-fast: setup
	$(UV) run pytest -q -n 2 -m "not slow"

# DVC experiments side by side: the params that differ from the baseline, each task's headline metrics
compare: setup
	@$(UV) run powerlens compare --experiments

lint: setup
	$(UV) run ruff check src tests pipelines

ui: setup
	$(UV) run powerlens ui

lab: setup
	$(UV) run powerlens lab
