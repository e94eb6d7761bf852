PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test status deploy smoke cleanup bench sandbox clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/iagent-tui sandbox --kubeconfig .sandbox/kubeconfig --env-file .sandbox/env

sandbox: $(STAMP)
	$(BIN)/iagent-tui sandbox --kubeconfig .sandbox/kubeconfig --env-file .sandbox/env

test: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .sandbox .pytest_cache
