# The two commands of the README, and the benchmark. Each one sets up what it needs.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test bench i18n clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# The main job on the embedded default: sample CRM data in DuckDB, answers, a workbook (.kpi/kpi-demo.xlsx).
demo: $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	$(BIN)/kpi demo

# Installs the test extras and runs every test. Set KPI_REQUIRE_SERVICES=1 to make a missing
# PostgreSQL or Java a failure instead of a skip (.ci/run does).
test: $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[test]'
	$(BIN)/python -m pytest -q

# Builds the M dataset once (bench/.data), then prints the tables in README.md ("Benchmark").
bench: $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[test]'
	$(BIN)/python -m bench core
	$(BIN)/python -m bench cli

# Re-extracts every user-facing message (babel.cfg) and merges it into the catalogs; translate the
# new or fuzzy entries in metrics_core/locale/*/LC_MESSAGES/kpi.po (read as they are at run time).
i18n: $(BIN)/python
	$(BIN)/pybabel extract -F babel.cfg -k _h -k kpiT_ -c TRANSLATORS: --no-location --sort-output -o metrics_core/locale/kpi.pot .
	$(BIN)/pybabel update -i metrics_core/locale/kpi.pot -d metrics_core/locale -D kpi --no-fuzzy-matching --ignore-obsolete
	$(BIN)/python -m sheets.addon_messages

clean:
	rm -rf $(VENV) .kpi bench/.data kpi.xlsx
