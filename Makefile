# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: install catalogs lint unit test demo clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

catalogs: $(STAMP)
	$(VENV)/bin/pybabel compile --domain jointcheck --directory jointcheck/locales

lint: $(STAMP)
	$(VENV)/bin/ruff check setup.py jointcheck tests bench scripts
	$(VENV)/bin/ruff format --check setup.py jointcheck tests bench scripts

# the pure layer alone (no database, no emulator): seconds
unit: catalogs
	$(PY) -m pytest tests/unit $(PYTEST_ARGS)

# two workers, each with its own Redis database (tests/conftest.py)
test: catalogs lint
	$(PY) -m pytest -n 2 $(PYTEST_ARGS)

demo: catalogs
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" bash scripts/demo.sh

clean:
	rm -rf $(VENV) demo-data .pytest_cache .hypothesis build dist
	find jointcheck/locales -name '*.mo' -delete
