# soakwatch — the two set-up commands are `make demo` and `make test`; both work on a fresh machine.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint typecheck unit soak screenshots report-screenshot snapshot-update bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)  ## a full stage against the built-in demo engine (TUI on a terminal, headless otherwise)
	$(BIN)/soakwatch demo

test: lint typecheck unit  ## ruff, mypy --strict and the test suite

lint: $(STAMP)  ## ruff, and the layer contracts of pyproject.toml [tool.importlinter]
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

typecheck: $(STAMP)  ## mypy --strict; the package also as Windows sees it (no POSIX-only name outside a platform guard)
	$(BIN)/mypy
	$(BIN)/mypy --platform win32 --cache-dir .mypy_cache/win32 soakwatch

unit: $(STAMP)
	TZ=UTC $(BIN)/pytest -q -n 2

soak: $(STAMP)  ## the long soak tests left out of `make test` (a 2-minute three-node topology with chaos)
	TZ=UTC $(BIN)/pytest -q -m soak

screenshots: $(STAMP) report-screenshot  ## regenerate the screenshots shown in the README (real runs)
	TZ=UTC $(BIN)/python -m soakwatch.tui.screenshots_live screenshots

report-screenshot: $(STAMP)  ## screenshots/report.png: report.html of a demo run in headless Chromium (~1 min)
	TZ=UTC $(BIN)/python -m soakwatch.views.html.screenshot screenshots/report.png

snapshot-update: $(STAMP)  ## accept changed TUI snapshots
	TZ=UTC $(BIN)/pytest -q tests/tui --snapshot-update

bench: $(STAMP)  ## benchmarks: print ratios measured in one run
	$(BIN)/python -m pip install --quiet locust
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
