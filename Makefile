# bertnli: `make sample` runs the book's main job on the embedded offline sample,
# `make test` runs every test. Both set up .venv on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.bertnli-installed
LABCONFIG := $(VENV)/etc/jupyter/labconfig/default_setting_overrides.json

.PHONY: venv system-deps sample test test-fast lint constraints book clean-book notebooks

# The exact versions `make test` passed with (written by `make constraints`); every pip install
# below is held to them. `make venv CONSTRAINTS=` installs the newest versions pyproject.toml
# allows instead: the first step of a refresh (README, "Reproducible installs").
CONSTRAINTS ?= constraints.txt

venv: $(STAMP)

$(STAMP): pyproject.toml $(CONSTRAINTS) tools/torch_choice.py tools/git_filters.sh tools/jupyter_server_config.json
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python tools/torch_choice.py $(if $(CONSTRAINTS),--constraint $(CONSTRAINTS))
	$(BIN)/python -m pip install --quiet $(if $(CONSTRAINTS),-c $(CONSTRAINTS)) -e '.[test,book,classroom,dev]'
	# d2l is a reference for the tests only: without its pins (numpy 1.23.5, torchvision).
	$(BIN)/python -m pip install --quiet --no-deps 'd2l==1.0.3'
	# JupyterLab and Notebook 7 of this environment open a chapter's .md as a notebook on a
	# double click (jupytext's viewer; settings read from <env>/etc/jupyter/labconfig).
	$(BIN)/jupytext-config --settings-file $(LABCONFIG) set-default-viewer markdown myst
	# A tracked notebooks/*.ipynb saved with outputs (by any editor) shows no diff and commits none:
	# git reads it through nbstripout (.gitattributes names the filter; this registers it here).
	sh tools/git_filters.sh "$(CURDIR)/$(BIN)/python"
	# ... and Jupyter saves a tracked chapter .ipynb without its outputs (bertnli.book.jupyter_save):
	# otherwise git still reports the file as modified (its size changed) and `git pull` stops.
	mkdir -p $(VENV)/etc/jupyter/jupyter_server_config.d
	cp tools/jupyter_server_config.json $(VENV)/etc/jupyter/jupyter_server_config.d/bertnli.json
	touch $(STAMP)

# Debian packages the browser test and the Korean figures need (chromium, its driver,
# a Hangul font); installed with apt only when missing.
system-deps:
	bash tools/ensure_chromium.sh

# The book's main job on the embedded offline sample: fine-tune from the command line,
# then build the whole book (every chapter executed) into _build/html.
sample: venv
	$(BIN)/python -m bertnli info
	$(BIN)/python -m bertnli finetune --profile sample --out runs/sample
	$(MAKE) book

# Then the chapters' own test: nbval runs every chapter in a fresh kernel, in the sample profile
# (notebooks/conftest.py sets it, before any kernel starts); both run, and either failing fails.
NBVAL := BERTNLI_PROFILE=sample $(BIN)/python -m pytest --nbval-lax notebooks/
# The suite runs in PYTEST_WORKERS processes (pytest-xdist), tests handed out one at a time,
# except the users of the book build: they are one group (tests/conftest.py), run by one worker
# while the others run the rest. `make test PYTEST_WORKERS=0` runs it in one process.
PYTEST_WORKERS ?= 2
XDIST = $(if $(filter-out 0,$(PYTEST_WORKERS)),-n $(PYTEST_WORKERS) --dist loadgroup)
# `make test` runs `make lint` first; a lint failure fails `make test` at once (LINT_REQUIRED=no
# reports it and runs the tests anyway, for a quick look at a work in progress).
LINT_REQUIRED ?= yes
test: venv system-deps
	$(MAKE) --no-print-directory lint || test "$(LINT_REQUIRED)" != yes
	$(BIN)/python -m pytest $(XDIST); suite=$$?; $(NBVAL); chapters=$$?; test $$suite -eq 0 && test $$chapters -eq 0

# For developers: everything but the book build and the browser (those are `slow`/`browser`).
test-fast: venv
	$(BIN)/python -m pytest $(XDIST) -m "not slow and not browser"

# ruff's formatter and linter, configured in pyproject.toml ([tool.ruff]); both only check here.
lint: venv
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

# Rewrite constraints.txt from .venv: after `make test` passed with new versions (README).
constraints: venv
	$(BIN)/python tools/freeze_constraints.py

# The site in _build/html: every notebook executed in the sample profile (cached in
# _build/.jupyter_cache, so a rebuild runs only changed notebooks); warnings are errors.
# --all reads every page again, so a chapter whose run failed runs again (only successful
# runs are cached). One PyTorch thread: the sample's tiny model gains nothing from more, and
# on a busy 2-core machine two threads made chapter 3 take over 10 minutes instead of 20 s.
# No progress bars: a static page cannot show a live one. (tests/conftest.py builds the
# same way: BOOK_ENV there.)
BOOK_THREADS ?= 1
book: venv
	BERTNLI_PROFILE=sample OMP_NUM_THREADS=$(BOOK_THREADS) TQDM_DISABLE=1 $(BIN)/jupyter-book build . -W --keep-going --all

# The tracked notebooks/NN_*.ipynb (Colab, downloads) from their MyST sources; run after
# editing a chapter's .md (tests/test_book_notebooks.py checks they are up to date).
notebooks: venv
	$(BIN)/python tools/sync_notebooks.py

clean-book:
	rm -rf _build
