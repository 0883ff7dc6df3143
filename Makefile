# The course's commands. Only Python 3.11 (or newer) is needed; everything else installs here.
#   make lab     set up (first time) and open the course in JupyterLab (127.0.0.1, with a token)
#   make test    set up and run every test: unit tests, browser test, and every notebook (nbval)
#   make bench   run each notebook in a fresh kernel and print wall times and widget latency
#   make media   redraw every figure in media/
#   make robust  run every notebook under 5 seed offsets and 2 threads; report every asserted number
SHELL   := /bin/bash
PYTHON  ?= $(shell command -v python3.11 || command -v python3)
VENV    := .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed-stamp

.PHONY: install lab test unit notebooks bench robust media clean

$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; v = sys.version_info; sys.exit(0 if v >= (3, 11) else "Python 3.11+ is needed, got %d.%d" % v[:2])'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements.txt
	$(PY) -m pip install --disable-pip-version-check -q --no-deps -e .
	@touch $(STAMP)

install: $(STAMP)

lab: install
	bash scripts/lab.sh

test: install
	bash scripts/offline.sh $(PY) -m pytest -rs tests notebooks --nbval-lax --nbval-current-env

unit: install
	$(PY) -m pytest -rs tests

notebooks: install
	bash scripts/offline.sh $(PY) -m pytest -rs notebooks --nbval-lax --nbval-current-env

bench: install
	bash scripts/offline.sh $(PY) scripts/bench.py

robust: install
	bash scripts/offline.sh $(PY) scripts/robust.py

media: install
	$(PY) scripts/make_media.py

clean:
	rm -rf $(VENV) artifacts .pytest_cache
