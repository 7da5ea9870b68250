# Two commands matter: `make run` and `make test`. Everything else is what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint install init demo bench translations migration clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

init: install
	$(BIN)/ledger init

# Loads the demo only into an empty database, so `make run` never touches real data.
demo: init
	@$(BIN)/python -c "from ledger import create_app; from ledger.extensions import db; from ledger.people.models import Person; app = create_app(); ctx = app.app_context(); ctx.push(); raise SystemExit(0 if db.session.query(Person.id).first() else 3)" || $(BIN)/ledger demo

run: demo
	$(BIN)/ledger serve --host 127.0.0.1 --port 5000

# PYTEST_ARGS lets CI add -p no:randomly or a marker selection; LEDGER_REQUIRE_* turn skips into failures.
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

test: lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

translations: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k "_lp:1c,2" -k "lazy_pgettext:1c,2" --sort-by-file -o ledger/translations/messages.pot .
	$(BIN)/pybabel update -i ledger/translations/messages.pot -d ledger/translations --no-fuzzy-matching
	$(BIN)/pybabel compile -d ledger/translations

# A new Alembic migration from model changes: make migration MESSAGE="add a column to contributions"
migration: install
	$(BIN)/python -c 'import sys; from ledger.migrate import new_revision; new_revision(sys.argv[1])' "$(MESSAGE)"

bench: install
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) instance .pytest_cache
