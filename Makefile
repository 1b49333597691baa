# The README's two commands. Each does all the set-up it needs on a fresh machine.
VENV   ?= .venv
PY     := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: demo test install clean-venv

install:
	@bash scripts/install.sh $(VENV)

demo: install
	@$(PY) tools/demo.py

test: install
	@bash scripts/test_services.sh
	@OMP_NUM_THREADS=$${OMP_NUM_THREADS:-2} $(PY) -m pytest $(PYTEST_ARGS)

clean-venv:
	rm -rf $(VENV)
