# bertnli: `make sample` runs the book's main job on the embedded offline sample,
# `make test` runs every test. Both set up .venv on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.bertnli-installed

.PHONY: venv sample test book clean-book

venv: $(STAMP)

$(STAMP): pyproject.toml tools/torch_choice.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python tools/torch_choice.py
	$(BIN)/python -m pip install --quiet -e '.[test,book]'
	# d2l is a reference for the tests only: without its pins (numpy 1.23.5, torchvision).
	$(BIN)/python -m pip install --quiet --no-deps 'd2l==1.0.3'
	touch $(STAMP)

sample: venv
	$(BIN)/python -m bertnli info
	# (fine-tuning on the sample is added with the training code)

test: venv
	$(BIN)/python -m pytest

book: venv
	$(BIN)/jupyter-book build . -W --keep-going

clean-book:
	rm -rf _build
