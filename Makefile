# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
DEV := DJANGO_DEBUG=1

.PHONY: run test deps test-deps smoke-production

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

deps: $(PY)
	$(PY) -m pip install -q -r requirements.txt

test-deps: $(PY)
	$(PY) -m pip install -q -r requirements-test.txt

# Serve the platform on http://127.0.0.1:8000 with the referential and demo data.
# First the system libraries the PDFs need (installed with apt as root, else
# the command to run is printed and make stops).
run: deps
	$(PY) scripts/check_system.py
	$(DEV) $(PY) manage.py migrate --noinput
	$(DEV) $(PY) manage.py seed_demo
	$(DEV) $(PY) manage.py runserver 127.0.0.1:8000

# The whole suite, browser journeys included (Debian's chromium must be installed).
test: test-deps
	$(PY) -m pytest $(PYTEST_ARGS)

# The production run (gunicorn, db_worker, PostgreSQL on 127.0.0.1:5432)
# tested through HTTP: README, « Mise en production ».
smoke-production: deps
	$(PY) scripts/smoke_production.py
