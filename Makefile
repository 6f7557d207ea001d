# The README's commands. Each bootstraps its own tools: a fresh machine needs only
# Python 3.11, make and git.
SHELL := /bin/bash
.DEFAULT_GOAL := help
TOOLS := .tools
UV := $(TOOLS)/bin/uv
UV_VERSION := 0.13.9
RUN := $(UV) run --frozen
# The tests mostly wait on servers: two workers, each with its own servers, keep two cores busy.
# A module's tests stay on one worker (they share its fixtures).
TEST_WORKERS ?= 2

.PHONY: help install up test lint typecheck schemas bench deploy-check clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(UV):
	python3 -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

install: $(UV)  ## install every package of the workspace from uv.lock
	$(UV) sync --frozen --all-packages

up: install  ## run the whole system on this machine with demo data (Ctrl-C stops it)
	$(RUN) aptt up

test: install  ## lint, type-check, then run every test against real servers
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) mypy
	$(RUN) pytest -n $(TEST_WORKERS) --dist loadfile

lint: install  ## ruff and mypy only
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) mypy

schemas: install  ## regenerate the committed JSON Schemas and AsyncAPI document
	$(RUN) python -m aptt_contracts.generate

bench: install  ## run the benchmarks (they print figures)
	$(RUN) python -m bench

deploy-check: install  ## render, validate and scan the Kubernetes manifests and alert rules
	bash deploy/check.sh

clean:  ## remove the tool and virtual environments
	rm -rf $(TOOLS) .venv .aptt
