"""What a test needs that the test suite itself cannot make: skip without it, but never in CI.

A developer without d2l or Chromium may still run the rest; CI (``CI=true``, set by the CI
runner) must run every test, so there a missing prerequisite is a failure, not a skip.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NoReturn

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def missing(what: str, fix: str) -> NoReturn:
    """Skip (on a developer's machine) or fail (in CI) because ``what`` is not there."""
    message = f"{what}: {fix}"
    if in_ci():
        pytest.fail(
            f"{message} (CI runs every test: a missing prerequisite fails it)", pytrace=False
        )
    pytest.skip(message)


def sample_snli_dir() -> Path:
    """The packaged sample corpus (``src/bertnli/sample/data/snli_1.0``), all three splits."""
    from bertnli import sample

    folder = sample.snli_dir()
    if not all((folder / f"snli_1.0_{split}.txt").is_file() for split in ("train", "dev", "test")):
        missing(
            f"the embedded sample corpus is not in {folder}",
            "run `python tools/make_sample_corpus.py`",
        )
    return folder
