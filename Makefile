# Two commands: `make demo` and `make test`. Both set everything up on a fresh machine.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
SHSYNC := $(VENV)/bin/shsync
DEMO_DIR ?= .shsync-demo
DEMO_ENV := SHSYNC_BACKEND=sqlite:///$(DEMO_DIR)/practice.db SHSYNC_NOW=2026-11-26T12:00:00Z
# The ids of the outstanding runbook steps, for the demo's `shsync done`
DEMO_PENDING = $$($(DEMO_ENV) $(SHSYNC) runbook --format json | $(PY) -c \
	'import json, sys; print(" ".join(s["id"] for s in json.load(sys.stdin)["steps"]))')

.PHONY: demo test lint docs schema openapi bench clean

# The package alone, for the demo; the test extras (the tests, `make lint`, the docs) on top.
$(VENV)/.package: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.package

demo: $(VENV)/.package
	@echo "== validate the org file"
	$(SHSYNC) validate examples/org.yaml
	@echo
	@echo "== seed a fresh demo practice (the live state) from examples/practice-snapshot.yaml"
	rm -rf $(DEMO_DIR)
	$(DEMO_ENV) $(SHSYNC) seed examples/practice-snapshot.yaml
	@echo
	@echo "== plan: what applying examples/org.yaml would change"
	$(DEMO_ENV) $(SHSYNC) plan examples/org.yaml --out $(DEMO_DIR)/plan.json
	@echo
	@echo "== apply exactly that saved plan"
	$(DEMO_ENV) $(SHSYNC) apply $(DEMO_DIR)/plan.json
	@echo
	@echo "== the apply recorded the change in shsync's store only: what people must now do in Sessions Health"
	$(DEMO_ENV) $(SHSYNC) runbook
	@echo
	@echo "== victor.okafor, alex.rivera and nina.patel have now accepted their invitations in Sessions Health: record it"
	$(DEMO_ENV) $(SHSYNC) accepted victor.okafor@riverbend.example alex.rivera@riverbend.example nina.patel@riverbend.example
	@echo
	@echo "== apply what waited for those acceptances"
	$(DEMO_ENV) $(SHSYNC) apply examples/org.yaml --auto-approve
	@echo
	@echo "== plan again: nothing left to do (exit 2 would mean drift)"
	$(DEMO_ENV) $(SHSYNC) plan examples/org.yaml --detailed-exitcode
	@echo
	@echo "== the steps left for Sessions Health, a printable checklist in $(DEMO_DIR)/runbook.html"
	$(DEMO_ENV) $(SHSYNC) runbook
	$(DEMO_ENV) $(SHSYNC) runbook --format html -o $(DEMO_DIR)/runbook.html
	@echo
	@echo "== an administrator carried them out in Sessions Health: record it"
	$(DEMO_ENV) $(SHSYNC) done $(DEMO_PENDING) --note "carried out in Sessions Health"
	@echo
	@echo "== nothing left to do in Sessions Health (exit 0; 2 while steps are pending, 4 when overdue)"
	$(DEMO_ENV) $(SHSYNC) runbook --detailed-exitcode
	@echo
	@echo "== the audit log, replayed and checked against the live practice"
	$(DEMO_ENV) $(SHSYNC) history
	$(DEMO_ENV) $(SHSYNC) history --verify

test: $(VENV)/.installed
	$(PY) -m pytest

lint: $(VENV)/.installed
	$(PY) -m ruff check shsync
	$(PY) -m mypy
	$(VENV)/bin/lint-imports
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict --site-dir .site

# The documentation site (mkdocs.yml, docs/) into .site/: open .site/index.html; it needs no
# network to view. NO_MKDOCS_2_WARNING: Material's notice about MkDocs 2 is not a finding.
docs: $(VENV)/.installed
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --site-dir .site

schema: $(VENV)/.installed
	$(PY) -m shsync.format.published

openapi: $(VENV)/.installed
	$(PY) -m shsync.server.api > docs/openapi.json

bench: $(VENV)/.installed
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) .shsync .shsync-demo .pytest_cache .hypothesis *.egg-info
