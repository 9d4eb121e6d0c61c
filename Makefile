# The two commands of the README: `make run` and `make test`. Everything else here serves them.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask
export FLASK_APP := wsgi

.PHONY: run test install install-test translations serve-prod clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed translations

translations: $(VENV)/.installed
	$(VENV)/bin/pybabel compile --statistics -d survey_app/core/translations >/dev/null

## Serve the demo on http://127.0.0.1:5000 with an embedded SQLite database.
run: install
	$(FLASK) db upgrade
	$(FLASK) demo seed
	$(FLASK) run --host 127.0.0.1 --port 5000

## Run the whole suite against throw-away PostgreSQL and Redis servers.
test: install
	bash scripts/ensure-chromium.sh
	bash scripts/ensure-nginx.sh
	bash scripts/with-postgres.sh bash scripts/with-redis.sh $(PY) -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) instance .pytest_cache
