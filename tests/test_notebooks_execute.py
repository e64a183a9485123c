"""The chapters run: every notebook top to bottom in the sample profile, under nbval and
under a plain ``jupyter nbconvert --execute``; and the exercise checks behave as the
notebooks use them (the solution passes, a wrong answer fails with its hint).

The two execution tests are ``slow`` (a few minutes on a laptop CPU); the checks are fast.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import jupytext
import pytest

from bertnli.exercises import check_bert_base_plan, check_proportional_truncation, wrong_truncation_examples

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
IPYNBS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
TRUNCATION = NOTEBOOKS / "04_exercise_truncation.md"
BERT_BASE = NOTEBOOKS / "05_exercise_bert_base.md"


def _env(tmp_path: Path) -> dict:
    """The sample profile, a private cache, and the source tree importable by the kernel."""
    env = dict(os.environ, BERTNLI_PROFILE="sample", BERTNLI_CACHE=str(tmp_path / "cache"),
               BERTNLI_RUNS=str(tmp_path / "runs"))  # chapters 3 and 4 train afresh, not resume
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    return env


def _run(cmd: list[str], tmp_path: Path, timeout: int) -> subprocess.CompletedProcess:
    result = subprocess.run(cmd, cwd=ROOT, env=_env(tmp_path), capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{' '.join(cmd)} failed:\n{result.stdout[-6000:]}\n{result.stderr[-6000:]}"
    return result


# ----------------------------------------------------------------------------- execution

@pytest.mark.slow
def test_notebooks_run_under_nbval(tmp_path):
    assert len(IPYNBS) == 5
    _run([sys.executable, "-m", "pytest", "--nbval-lax", "-p", "no:cacheprovider", "-q",
          "--rootdir", str(ROOT), *map(str, IPYNBS)], tmp_path, timeout=1800)


@pytest.mark.slow
@pytest.mark.parametrize("notebook", IPYNBS, ids=[p.stem for p in IPYNBS])
def test_notebook_runs_under_nbconvert(notebook, tmp_path):
    out = tmp_path / "executed"
    _run([sys.executable, "-m", "nbconvert", "--to", "notebook", "--execute", "--output-dir", str(out),
          "--ExecutePreprocessor.timeout=600", str(notebook)], tmp_path, timeout=900)
    assert (out / notebook.name).exists()


# ----------------------------------------------------------------------------- the exercises as used

def _cell(path: Path, tag: str) -> str:
    cells = [c for c in jupytext.read(path).cells if tag in c.get("metadata", {}).get("tags", [])]
    assert len(cells) == 1, f"{path.name}: expected one cell tagged {tag!r}, found {len(cells)}"
    return cells[0].source


def _check_cell(path: Path) -> str:
    """The code cell right after the starter: the guarded check the reader runs."""
    cells = jupytext.read(path).cells
    start = next(i for i, c in enumerate(cells) if "exercise" in c.get("metadata", {}).get("tags", []))
    return next(c.source for c in cells[start + 1:] if c.cell_type == "code")


def _exec(source: str, namespace: dict | None = None) -> dict:
    namespace = {} if namespace is None else namespace
    exec(compile(source, "<notebook cell>", "exec"), namespace)
    return namespace


def test_truncation_solution_passes_the_check():
    fn = _exec(_cell(TRUNCATION, "solution"))["my_truncate_proportional"]
    result = check_proportional_truncation(fn)
    assert result.passed, str(result)


def test_truncation_wrong_rounding_fails_with_the_rounding_hint():
    solution = _cell(TRUNCATION, "solution")
    nearest = "(2 * budget * len(p) + total) // (2 * total)"
    assert nearest in solution
    wrong = _exec(solution.replace(nearest, "round(budget * len(p) / total)"))["my_truncate_proportional"]
    result = check_proportional_truncation(wrong)
    assert not result.passed
    text = str(result)
    assert "rounding" in text and "반올림" in text, text


@pytest.mark.parametrize("name", sorted(wrong_truncation_examples()))
def test_truncation_wrong_answers_fail_with_a_bilingual_hint(name):
    result = check_proportional_truncation(wrong_truncation_examples()[name])
    assert not result.passed
    assert result.messages and " / " in result.messages[0]


def test_truncation_check_cell_waits_for_the_reader():
    """Student copy (no solution): the check cell says "not implemented yet" instead of failing."""
    namespace = _exec(_cell(TRUNCATION, "exercise"), {"check_proportional_truncation": check_proportional_truncation})
    source = _check_cell(TRUNCATION)
    _exec(source, namespace)
    message = namespace["check_my_function"]()
    assert isinstance(message, str) and "Not implemented yet" in message and "구현" in message


def test_truncation_check_cell_checks_the_readers_function():
    namespace = {"check_proportional_truncation": check_proportional_truncation}
    _exec(_cell(TRUNCATION, "solution"), namespace)
    _exec(_check_cell(TRUNCATION), namespace)
    assert namespace["check_my_function"]().passed


def test_bert_base_plan_solution_passes_and_the_starter_waits():
    namespace = {"check_bert_base_plan": check_bert_base_plan}
    _exec(_cell(BERT_BASE, "exercise"), namespace)
    _exec(_check_cell(BERT_BASE), namespace)
    message = namespace["check_my_plan"]()
    assert isinstance(message, str) and "Not filled in yet" in message and "lr" in message
    _exec(_cell(BERT_BASE, "solution"), namespace)
    result = namespace["check_my_plan"]()
    assert result.passed, str(result)


def test_bert_base_plan_with_a_wrong_learning_rate_fails():
    plan = _exec(_cell(BERT_BASE, "solution"))["my_plan"]
    result = check_bert_base_plan(**dict(plan, lr=1e-3))
    assert not result.passed and "lr=" in str(result)
