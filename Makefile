PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test status deploy smoke cleanup bench sandbox clean browser

# The brief's targets run against whatever the environment points at (a real cluster, or a running
# `make sandbox` after `source .sandbox/env`). ARGS passes flags through, e.g. make deploy ARGS=--yes

# The stamp is written last: a .venv without it is an install that was interrupted (Ctrl-C during the
# first `make run`), and one whose python does not run is broken; both are rebuilt from scratch
# rather than patched. A .venv with an older stamp (pyproject.toml changed) is updated in place.
PIP_UPGRADE ?= $(BIN)/python -m pip install -q --upgrade pip
PIP_INSTALL ?= $(BIN)/python -m pip install -q -e '.[dev,sandbox]'

$(STAMP): pyproject.toml
	@if [ -d $(VENV) ] && { [ ! -f $(STAMP) ] || ! $(BIN)/python -c '' 2>/dev/null; }; then \
	  echo "$(VENV) is half-built (an earlier install was interrupted): rebuilding it"; rm -rf $(VENV); fi
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(PIP_UPGRADE)
	$(PIP_INSTALL)
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/iagent-tui --sandbox

sandbox: $(STAMP)
	$(BIN)/iagent-tui sandbox --kubeconfig .sandbox/kubeconfig --env-file .sandbox/env

# The browser tests (the HTML report, `iagent-tui serve`) drive Debian's Chromium headless. As root with
# apt-get (CI, these machines) it is installed here; elsewhere install the `chromium` package yourself
# or point IAGENT_CHROMIUM at a Chromium binary.
CHROMIUM ?= /usr/bin/chromium
browser:
	@if [ -n "$$IAGENT_CHROMIUM" ] || [ -x $(CHROMIUM) ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing Debian's chromium for the browser tests"; \
	  apt-get install -y -q chromium >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }; \
	else echo "note: no Chromium at $(CHROMIUM); the browser tests will say how to install it"; fi

test: $(STAMP) browser
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

status: $(STAMP)
	$(BIN)/iagent-tui status $(ARGS)

deploy: $(STAMP)
	$(BIN)/iagent-tui deploy $(ARGS)

smoke: $(STAMP)
	$(BIN)/iagent-tui smoke $(ARGS)

cleanup: $(STAMP)
	$(BIN)/iagent-tui rollback $(ARGS)

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .sandbox .pytest_cache
