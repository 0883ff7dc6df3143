# The course's commands. Only Python 3.11 (or newer) is needed; everything else installs here.
#   make lab     set up (first time) and open the course in JupyterLab (127.0.0.1, with a token)
#   make test    set up and run every test: unit, browser, book, slides, hub, wheelhouse, nbval, robust
#   make bench   each notebook in a fresh kernel: wall time, memory, CPU; explorer latency in kernel and browser
#   make media   redraw every figure in media/
#   make assignments  nbgrader homework from the exercises (build/nbgrader/) and the student edition
#   make robust  run every notebook under 5 seed offsets and 2 threads; report every asserted number
#   make book    the offline HTML book of every chapter (build/book/html/index.html)
#   make slides  one offline reveal.js deck per chapter (build/slides/index.html)
#   make wheelhouse  every pinned wheel in wheelhouse/ for machines without network (PLATFORM=..., PYVER=...)
#   make hub     JupyterHub for a class on this machine (root; docs/classroom-server.md)
#   make loadtest  N students (STUDENTS=4) run chapters 04+05 at once on a local hub (root)
SHELL   := /bin/bash
PYTHON  ?= $(shell command -v python3.11 || command -v python3)
VENV    := .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed-stamp

HUB_STAMP := $(VENV)/.hub-installed-stamp
STUDENTS ?= 4

.PHONY: install lab test test-setup pip-extras unit notebooks bench robust media clean hub-install hub loadtest book slides assets wheelhouse assignments

$(STAMP): requirements.txt pyproject.toml scripts/install.sh
	@$(PYTHON) -c 'import sys; v = sys.version_info; sys.exit(0 if v >= (3, 11) else "Python 3.11+ is needed, got %d.%d" % v[:2])'
	PYTHON=$(PYTHON) VENV=$(VENV) NUMBA_WARM=0 bash scripts/install.sh
	@touch $(STAMP)

# numba compiles chapter 09's baselines once, here (about a minute of one core; helpers/baselines.py)
WARM_STAMP := $(VENV)/.numba-warm-stamp
$(WARM_STAMP): $(STAMP) helpers/baselines.py
	$(PY) -m helpers.baselines || echo "make: numba warm-up failed; chapter 09's baselines will compile on first use" >&2
	@touch $(WARM_STAMP)

install: $(STAMP) $(WARM_STAMP)

# the book's Sphinx stack, the npm tarballs (reveal.js, MathJax) and a wheelhouse for the offline
# install test are fetched here, with the network; the builds and tests then run offline
BOOK_STAMP  := $(VENV)/.book-stamp
TEST_WHEELS := build/wheelhouse/.complete
$(BOOK_STAMP): requirements-book.txt $(STAMP)
	VENV=$(VENV) bash scripts/install.sh requirements-book.txt
	@touch $(BOOK_STAMP)

assets: $(STAMP)
	$(PY) scripts/npm_assets.py >/dev/null

book: $(BOOK_STAMP) assets
	bash scripts/offline.sh $(PY) scripts/build_book.py

slides: install assets
	bash scripts/offline.sh $(PY) scripts/build_slides.py

wheelhouse: install
	VENV=$(VENV) bash scripts/wheelhouse.sh

$(TEST_WHEELS): requirements.txt requirements-book.txt $(STAMP)
	rm -rf build/wheelhouse
	VENV=$(VENV) WHEELHOUSE=build/wheelhouse bash scripts/wheelhouse.sh
	@touch $(TEST_WHEELS)

# The class server's packages (requirements-hub.txt) go into the same venv; the proxy from npm.
$(HUB_STAMP): $(STAMP) requirements-hub.txt
	$(PY) -m pip install --disable-pip-version-check -q -r requirements-hub.txt
	@touch $(HUB_STAMP)

hub-install: $(HUB_STAMP)
	@test -x node_modules/.bin/configurable-http-proxy -a node_modules/.package-lock.json -nt package-lock.json \
	  || { command -v npm >/dev/null && npm ci --no-audit --no-fund --loglevel=error; } \
	  || echo "make: npm is missing: the class server (make hub) needs Node.js 20+ and npm" >&2

# make hub [AUTH=native] [HUB_HOST=0.0.0.0] [HUB_PORT=443] [HUB_CERT=cert.pem HUB_KEY=key.pem]:
# per-student logins, the school's network over HTTPS (docs/classroom-server.md)
hub: hub-install
	$(if $(AUTH),SEQHUB_AUTH='$(AUTH)') $(if $(HUB_HOST),SEQHUB_HOST='$(HUB_HOST)') \
	  $(if $(HUB_PORT),SEQHUB_PORT='$(HUB_PORT)') $(if $(HUB_CERT),SEQHUB_CERT='$(HUB_CERT)') \
	  $(if $(HUB_KEY),SEQHUB_KEY='$(HUB_KEY)') bash scripts/hub/start.sh

loadtest: hub-install
	bash scripts/offline.sh $(PY) scripts/hub/loadtest.py --students $(STUDENTS)

lab: install
	bash scripts/lab.sh

# make test: the setup, then scripts/test.sh: every test file and every chapter on both cores (nbval
# runs a chapter twice in one kernel and its first run is the book's execution: tests/nbval_passes.py),
# the book and the slides from those runs and their tests, then every notebook under 5 seed offsets
# and 2 threads (make robust). Each phase's time is printed when it ends and all of them at the end
# (scripts/phase.sh).
MAKE_START := $(shell date +%s.%N)
test:
	@$(MAKE) --no-print-directory -j3 test-setup
	PY=$(PY) bash scripts/test.sh $(MAKE_START)

test-setup: $(WARM_STAMP) $(TEST_WHEELS) assets pip-extras
pip-extras: $(STAMP)
	@$(MAKE) --no-print-directory hub-install
	@$(MAKE) --no-print-directory $(BOOK_STAMP)

unit: install
	$(PY) -m pytest -rs tests

notebooks: install
	bash scripts/offline.sh $(PY) -m pytest -rs notebooks --nbval-lax --nbval-current-env

bench: install
	bash scripts/offline.sh $(PY) scripts/bench.py
	bash scripts/offline.sh $(PY) scripts/bench_browser.py

robust: install
	bash scripts/offline.sh $(PY) scripts/robust.py

# nbgrader homework from the chapters' exercises (build/nbgrader/: source/ with answers, release/
# without) and the student edition without reference answers (build/student-edition/, a git repo)
assignments: $(HUB_STAMP)
	$(PY) scripts/assignments.py build
	$(PY) scripts/assignments.py student-edition

media: install
	$(PY) scripts/make_media.py

clean:
	rm -rf $(VENV) artifacts .pytest_cache build
