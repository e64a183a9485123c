#!/bin/sh
# Register the nbstripout git filter that .gitattributes names, in this clone's .git/config.
# Why: a reader who runs a tracked notebooks/*.ipynb in Jupyter and saves it writes outputs into
# it; through this filter git sees the file without them, so `git status` stays clean and
# `git pull` never conflicts. (`nbstripout --install` does the same but cannot pass --keep-id,
# and without it nbstripout renumbers the cell ids that tools/sync_notebooks.py keeps stable; the
# tracked notebooks carry no language_info, which Jupyter adds on save, so that goes too.)
#   sh tools/git_filters.sh PYTHON     (PYTHON: an interpreter with nbstripout; `make venv` runs it)
set -eu
python="${1:?usage: sh tools/git_filters.sh PYTHON (an interpreter that has nbstripout)}"
if ! git rev-parse --git-dir >/dev/null 2>&1; then
    echo "tools/git_filters.sh: not inside a git checkout; no filter to register"
    exit 0
fi
if ! "$python" -m nbstripout --version >/dev/null 2>&1; then
    echo "tools/git_filters.sh: $python has no nbstripout; install it: $python -m pip install nbstripout" >&2
    exit 1
fi
git config filter.nbstripout.clean "\"$python\" -m nbstripout --keep-id --extra-keys metadata.language_info"
git config filter.nbstripout.smudge cat
git config diff.ipynb.textconv "\"$python\" -m nbstripout --keep-id --extra-keys metadata.language_info -t"
