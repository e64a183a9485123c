"""The chapters run: every notebook top to bottom in the sample profile, without an error, a
warning or an accidental output; and the exercise checks behave as the notebooks use them
(the solution passes, a wrong answer fails with its hint).

The chapters are executed once per test run, by the book build (``executed_notebooks`` in
conftest.py); the tests here read what that build executed. They are ``slow``; the exercise
checks are fast.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import jupytext
import pytest
from helpers.standin_files import standin_files

from bertnli.book.exercises import (
    check_bert_base_plan,
    check_proportional_truncation,
    wrong_truncation_examples,
)
from bertnli.sample import KOREAN_NOTICE, NOTICE

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
CHAPTERS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.md"))
TRUNCATION = NOTEBOOKS / "04_exercise_truncation.md"
BERT_BASE = NOTEBOOKS / "05_exercise_bert_base.md"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
ADDRESS = re.compile(
    r"<[^<>\n]* at 0x[0-9a-f]+>"
)  # "<torch._C.Generator at 0x7f...>": a value shown by mistake


def _code_cells(nb: dict) -> list[dict]:
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def _outputs(nb: dict):
    """(cell index, output) for every output of the notebook."""
    return [
        (i, out)
        for i, c in enumerate(nb["cells"])
        if c["cell_type"] == "code"
        for out in c.get("outputs", [])
    ]


# ----------------------------------------------------------------------------- execution (the book build's)


@pytest.mark.slow
def test_the_book_build_executed_every_chapter(executed_notebooks):
    executed = sorted(k for k in executed_notebooks if k.startswith("notebooks/"))
    assert executed == [f"notebooks/{p.stem}" for p in CHAPTERS] and len(executed) == 6


@pytest.mark.slow
@pytest.mark.parametrize("chapter", [p.stem for p in CHAPTERS])
def test_chapter_runs_top_to_bottom_without_an_error(executed_notebooks, chapter):
    nb = executed_notebooks[f"notebooks/{chapter}"]
    source = jupytext.read(NOTEBOOKS / f"{chapter}.md")
    cells = _code_cells(nb)
    assert [
        c["source"] if isinstance(c["source"], str) else "".join(c["source"]) for c in cells
    ] == [c.source for c in source.cells if c.cell_type == "code"], (
        f"{chapter}: the build executed other code"
    )
    counts = [c.get("execution_count") for c in cells if _text(c["source"]).strip()]
    assert counts == list(range(1, len(counts) + 1)), (
        f"{chapter}: not every cell ran, in order: {counts}"
    )
    errors = [
        (i, out.get("ename"), out.get("evalue"))
        for i, out in _outputs(nb)
        if out["output_type"] == "error"
    ]
    assert not errors, f"{chapter}: cells raised {errors}"


@pytest.mark.slow
@pytest.mark.parametrize("chapter", [p.stem for p in CHAPTERS])
def test_chapter_shows_no_warning_and_no_accidental_output(executed_notebooks, chapter):
    """stderr carries only the samples' notices (chapter 6: the Korean one too); no value is shown as ``<object at 0x...>``; every
    widget brings a static stand-in (``text/html``) for the site, and no progress bar is left."""
    nb = executed_notebooks[f"notebooks/{chapter}"]
    problems = []
    for i, out in _outputs(nb):
        if out["output_type"] == "stream" and out["name"] == "stderr":
            rest = _text(out["text"]).replace(NOTICE, "").replace(KOREAN_NOTICE, "").strip()
            if rest:
                problems.append(f"cell {i} wrote to stderr: {rest[:300]!r}")
        data = out.get("data", {})
        plain = _text(data.get("text/plain", ""))
        if ADDRESS.search(plain):
            problems.append(
                f"cell {i} shows {ADDRESS.search(plain).group(0)!r}: end the line with `;` or assign it"
            )
        if WIDGET_VIEW in data and "text/html" not in data:
            problems.append(f"cell {i}: a widget without a static stand-in: {plain[:80]!r}")
        if "it/s]" in plain:
            problems.append(f"cell {i}: a progress bar in the book: {plain[:80]!r}")
    assert not problems, f"{chapter}:\n" + "\n".join(problems)


@pytest.mark.slow
def test_fine_tuning_chapter_reports_what_it_teaches(executed_notebooks):
    """Chapter 3's numbers, as the book prints them: the sample run learns (dev accuracy per epoch,
    as the CLI's does) and the test set is measured once at the end."""
    nb = executed_notebooks["notebooks/03_fine_tuning"]
    printed = "".join(
        _text(out["text"]) for _, out in _outputs(nb) if out["output_type"] == "stream"
    )
    epochs = [
        float(a) for a in re.findall(r"^epoch \d+/\d+: .*dev acc ([0-9.]+)", printed, flags=re.M)
    ]
    assert len(epochs) >= 2 and epochs[-1] > epochs[0], printed[-2000:]
    final = re.search(r"test accuracy · 테스트 정확도: ([0-9.]+) on (\d+) pairs", printed)
    assert final, printed[-2000:]
    assert float(final.group(1)) >= 0.8 and int(final.group(2)) == 600


# ----------------------------------------------------------------------------- the exercises as used


def _cell(path: Path, tag: str) -> str:
    cells = [c for c in jupytext.read(path).cells if tag in c.get("metadata", {}).get("tags", [])]
    assert len(cells) == 1, f"{path.name}: expected one cell tagged {tag!r}, found {len(cells)}"
    return cells[0].source


def _check_cell(path: Path) -> str:
    """The code cell right after the starter: the guarded check the reader runs."""
    cells = jupytext.read(path).cells
    start = next(
        i for i, c in enumerate(cells) if "exercise" in c.get("metadata", {}).get("tags", [])
    )
    return next(c.source for c in cells[start + 1 :] if c.cell_type == "code")


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
    wrong = _exec(solution.replace(nearest, "round(budget * len(p) / total)"))[
        "my_truncate_proportional"
    ]
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
    namespace = _exec(
        _cell(TRUNCATION, "exercise"),
        {"check_proportional_truncation": check_proportional_truncation},
    )
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


@pytest.mark.slow
@pytest.mark.parametrize("chapter", [p.stem for p in CHAPTERS])
def test_every_drawn_table_names_each_column_once_in_both_languages(executed_notebooks, chapter):
    """Each table a chapter's code drew, as the site shows its header in English and in Korean."""
    import html

    from bertnli.book.plots import header_problems

    problems = []
    for i, out in _outputs(executed_notebooks[f"notebooks/{chapter}"]):
        for thead in re.findall(
            r"<thead>(.*?)</thead>", _text(out.get("data", {}).get("text/html", "")), flags=re.S
        ):
            header = [
                html.unescape(re.sub(r"<[^>]+>", "", th))
                for th in re.findall(r"<th\b[^>]*>(.*?)</th>", thead, re.S)
            ]
            problems += [f"cell {i}: {header}: {p}" for p in header_problems(header)]
    assert not problems, f"{chapter}:\n" + "\n".join(problems)


@pytest.mark.slow
@pytest.mark.parametrize("chapter", [p.stem for p in CHAPTERS])
def test_every_prose_cell_shows_its_sentence_once_with_the_figures_filled_in(
    executed_notebooks, chapter
):
    """A say() cell's one output is its paragraph as Markdown, every ``{field}`` replaced."""
    from bertnli.book.prose import fields_of, template_of

    problems = []
    for i, cell in enumerate(executed_notebooks[f"notebooks/{chapter}"]["cells"]):
        template = template_of(_text(cell["source"])) if cell["cell_type"] == "code" else None
        if template is None:
            continue
        shown = [_text(o.get("data", {}).get("text/markdown", "")) for o in cell.get("outputs", [])]
        if len(shown) != 1 or not shown[0]:
            problems.append(f"cell {i}: {len(shown)} outputs, expected its paragraph once")
        elif fields_of(shown[0]) or "{{" in shown[0]:
            problems.append(f"cell {i}: a field is left unfilled: {shown[0][:120]!r}")
    assert not problems, f"{chapter}:\n" + "\n".join(problems)


@pytest.mark.slow
def test_fine_tuning_reference_row_shows_the_prose_figures(executed_notebooks):
    """The reference run's loss, training and test accuracy read the same in the prose and in the
    table (0.520, not 0.52)."""
    nb = executed_notebooks["notebooks/03_fine_tuning"]
    prose = "\n".join(_text(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    tables = "\n".join(_text(out.get("data", {}).get("text/html", "")) for _, out in _outputs(nb))
    for figure in ("0.520", "0.791", "0.786"):
        assert figure in prose and re.search(rf">{re.escape(figure)}<", tables), figure


# ----------------------------------------------------------------------------- the chapters on made-up real-shaped files


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict:
    """A bert.small-shaped checkpoint and a small SNLI-format corpus, as folders and zips."""
    return standin_files(tmp_path_factory.mktemp("standins"))


@pytest.mark.usefixtures(
    "clean_run_env"
)  # conftest.py (as in test_run_profiles.py, where these began)
@pytest.mark.slow
def test_chapters_run_with_overrides_and_chapter3_resumes(files, tmp_path):
    """All five chapters in the full profile (max_len 128: the equal-marks case) with every
    override pointing at files made here; then chapter 3 again resumes from its run folder."""
    env = dict(
        os.environ,
        BERTNLI_PROFILE="full",
        BERTNLI_CACHE=str(tmp_path / "cache"),
        BERTNLI_RUNS=str(tmp_path / "runs"),
        BERTNLI_MODEL=str(files["model"]),
        BERTNLI_BASE_MODEL=str(files["model_zip"]),
        BERTNLI_DATA=str(files["data_zip"]),
        BERTNLI_EPOCHS="1",
        BERTNLI_TRAIN_PAIRS="200",
        BERTNLI_TEST_PAIRS="60",
        TQDM_DISABLE="1",
        OMP_NUM_THREADS="1",
    )
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    out = tmp_path / "executed"
    notebooks = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    for nb in notebooks + [ROOT / "notebooks" / "03_fine_tuning.ipynb"]:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "nbconvert",
                "--to",
                "notebook",
                "--execute",
                "--output-dir",
                str(out),
                "--ExecutePreprocessor.timeout=600",
                str(nb),
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert done.returncode == 0, f"{nb.name}:\n{done.stderr[-4000:]}"
    texts = {p.stem: p.read_text(encoding="utf-8") for p in out.glob("*.ipynb")}
    assert "BERTNLI_TRAIN_PAIRS" in texts["01_pretrained_bert"]  # the banner lists the overrides
    assert (
        texts["02_snli_dataset"].count("pairs longer than 128") == 1
    )  # reference and profile: one row
    assert (
        "bert.small, loaded" in texts["01_pretrained_bert"]
        and "bert.base, estimate" in texts["01_pretrained_bert"]
    )
    assert "resuming from" in texts["03_fine_tuning"]  # the second run of chapter 3
    assert len(list((tmp_path / "runs").glob("chapter3-full-*"))) == 1
    assert len(list((tmp_path / "runs").glob("chapter4-*"))) == 2
