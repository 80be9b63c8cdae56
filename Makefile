# gazette: every set-up step on a fresh Debian machine, idempotent (stamp files in .stamps/).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMPS := .stamps
APT_PACKAGES := tesseract-ocr tesseract-ocr-vie tesseract-ocr-eng poppler-utils qpdf libjpeg-turbo-progs \
	fonts-liberation2 fonts-dejavu-core fonts-freefont-ttf fonts-texgyre chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test test-all bench lint lock samples schema clean help

help:
	@echo "make run       install everything, then convert the sample archive into out/"
	@echo "make test      install everything, then run the tests (without slow ones)"
	@echo "make test-all  the tests including slow ones"
	@echo "make bench     run scripts/bench_*.py (writes benchmarks/*.md)"
	@echo "make lint      ruff"
	@echo "make lock      rewrite constraints.txt (pinned versions) from the venv"

$(STAMPS)/apt:
	@mkdir -p $(STAMPS)
	@if ! dpkg -s $(APT_PACKAGES) >/dev/null 2>&1; then \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $(APT_PACKAGES); \
	fi
	@touch $@

$(STAMPS)/venv: pyproject.toml constraints.txt
	@mkdir -p $(STAMPS)
	@[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	# torch first, from the local CPU wheel, so nothing pulls a multi-GB CUDA build.
	$(PY) -m pip install -q --disable-pip-version-check torch==2.13.0
	# Every other package at the version the tests passed with (constraints.txt, `make lock`).
	$(PY) -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[test,build]'
	@touch $@

# Rewrite constraints.txt from the venv after a deliberate upgrade (then run `make test`).
lock: install
	@{ sed -n '1,2p' constraints.txt; $(PY) -m pip freeze --exclude-editable | sed 's/+cpu$$//'; } > constraints.txt.new
	@mv constraints.txt.new constraints.txt

install: $(STAMPS)/apt $(STAMPS)/venv

run: install
	$(VENV)/bin/gazette convert samples/archive -o out/samples -f json,txt,jsonl
	@echo "outputs in out/samples/"

test: install
	$(PY) -m pytest -q

test-all: install
	$(PY) -m pytest -q -m ""

bench: install
	@for script in scripts/bench_*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

lint: install
	$(VENV)/bin/ruff check .

schema: install
	$(VENV)/bin/gazette schema -o schema/document.schema.json

samples: install
	$(PY) scripts/make_samples.py

clean:
	rm -rf $(STAMPS) out .pytest_cache .ruff_cache
