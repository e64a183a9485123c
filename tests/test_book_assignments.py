"""``bertnli classroom assignment``: nbgrader source notebooks, and real nbgrader grading them.

The fast tests read the course folder written from the book's chapters; the slow one runs
nbgrader itself (the ``classroom`` extra) offline in a temporary course folder with its own
SQLite gradebook: release, autograde three submissions per chapter, write the feedback.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from bertnli import cli
from bertnli.book import assignments, exercises
from bertnli.book.exercises import (
    CheckResult,
    check_bert_base_plan,
    check_proportional_truncation,
    grade,
    wrong_truncation_examples,
)

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
CH4, CH5, CH6 = "04_exercise_truncation", "05_exercise_bert_base", "06_korean_nli"
PLAN_OK = dict(lr=5e-5, batch_size=256, epochs=3, max_len=64, amp=True)


def nbg(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def role(cell) -> str:
    meta = nbg(cell)
    return (
        "solution"
        if meta["solution"]
        else "test"
        if meta["grade"]
        else "read-only"
        if meta["locked"]
        else "?"
    )


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    out = tmp_path_factory.mktemp("course")
    assignments.write_course(out, NOTEBOOKS)
    return out


def source_nb(course, name):
    return nbformat.read(course / "source" / name / f"{name}.ipynb", as_version=4)


def without_markers(source: str) -> str:
    return "\n".join(
        line
        for line in source.splitlines()
        if line.strip() not in (assignments.BEGIN, assignments.END)
    )


def released(source: str, stub: str = "raise NotImplementedError()") -> str:
    """What nbgrader's ClearSolutions leaves of a solution cell (the region becomes the stub)."""
    out, inside = [], False
    for line in source.splitlines():
        if line.strip() == assignments.BEGIN:
            inside = True
            out.append(line[: len(line) - len(line.lstrip())] + stub)
        elif line.strip() == assignments.END:
            inside = False
        elif not inside:
            out.append(line)
    return "\n".join(out)


# ---------------------------------------------------------------- the course folder


def test_course_has_one_assignment_per_exercise_chapter(course):
    assert sorted(p.name for p in (course / "source").iterdir()) == [CH4, CH5, CH6]
    config = (course / "nbgrader_config.py").read_text()
    compile(config, "nbgrader_config.py", "exec")
    assert (
        f"c.Execute.timeout = {assignments.cell_timeout()}" in config
        and "NotImplementedError" in config
    )


def test_the_time_limit_fits_chapter_4_in_the_laptop_profile():
    """Issue 21, item 8: chapter 4's training cell in the laptop profile (about 35 minutes on a 4-core
    CPU) ran past the 600 s the config gave every cell. The limit now follows the estimate, from the
    chapter's own numbers, and the instructors' page says the same."""
    import ast

    from bertnli.data.packing import TRUNCATIONS

    text = (NOTEBOOKS / f"{CH4}.md").read_text(encoding="utf-8")
    numbers = re.search(r"^SHORT_MAX_LEN, SHORT_EPOCHS = (.+)$", text, re.M)
    assert numbers and ast.literal_eval(numbers[1]) == (
        assignments.CHAPTER4_MAX_LEN,
        assignments.CHAPTER4_EPOCHS,
    )
    assert "for method in TRUNCATIONS:" in text and len(TRUNCATIONS) == assignments.CHAPTER4_RUNS
    laptop = assignments.longest_cell_seconds("laptop")
    assert laptop > 600  # what the old limit cut off
    assert assignments.cell_timeout() >= 1.5 * laptop
    page = (NOTEBOOKS.parent / "book" / "instructors.md").read_text(encoding="utf-8")
    minutes = assignments.cell_timeout() // 60
    assert (
        f"time limit\n  of {minutes} minutes per cell" in page
        or f"of {minutes} minutes per cell" in page
    )
    assert f"{minutes}분의 시간 제한" in page and f"about {round(laptop / 60)} minutes" in page


@pytest.mark.parametrize("name", [CH4, CH5, CH6])
def test_cells_get_nbgrader_roles(course, name):
    nb = source_nb(course, name)
    nbformat.validate(nb)
    roles = [role(c) for c in nb.cells]
    assert roles.count("solution") == 1 and roles.count("test") == 1
    assert set(roles) == {"solution", "test", "read-only"}
    ids = [nbg(c)["grade_id"] for c in nb.cells]
    assert len(ids) == len(set(ids)) and all(re.fullmatch(r"[\w-]+", i) for i in ids)
    solution = next(c for c in nb.cells if role(c) == "solution")
    test = next(c for c in nb.cells if role(c) == "test")
    assert nb.cells.index(solution) < nb.cells.index(test) and nbg(test)["points"] == 10
    assert assignments.BEGIN in solution.source and assignments.END in solution.source
    assert "grade(" in test.source.splitlines()[-1] and "check_" in test.source
    assert not any(
        "solution" in c.metadata.get("tags", []) for c in nb.cells
    )  # the book's solution cell is gone
    assert all(c.get("outputs", []) == [] for c in nb.cells) and "jupytext" not in nb.metadata
    assert not any(
        c.cell_type == "markdown"
        and ("## A solution" in c.source or "## A plan that passes" in c.source)
        for c in nb.cells
    )


def test_chapter4_solution_passes_and_its_stub_reads_not_implemented(course):
    cell = next(c for c in source_nb(course, CH4).cells if role(c) == "solution")
    assert cell.source.startswith("def my_truncate_proportional(p, h, budget):")
    space = {}
    exec(without_markers(cell.source), space)
    assert check_proportional_truncation(space["my_truncate_proportional"])
    stub = {}
    exec(released(cell.source), stub)  # signature and docstring stay, the body is the stub
    with pytest.raises(NotImplementedError):
        stub["my_truncate_proportional"](["a"], ["b"], 2)


def test_chapter5_keeps_the_starter_dict_before_the_solution(course):
    cell = next(c for c in source_nb(course, CH5).cells if role(c) == "solution")
    starter = released(cell.source)
    assert "lr=None" in starter and starter.rstrip().endswith("raise NotImplementedError()")
    space = {}
    exec(without_markers(cell.source), space)
    assert space["my_plan"] == PLAN_OK and check_bert_base_plan(**space["my_plan"])


@pytest.mark.parametrize("lang, gone", [("en", "lang-ko"), ("ko", "lang-en")])
def test_one_language(tmp_path, lang, gone):
    assignments.write_course(tmp_path, NOTEBOOKS, lang=lang)
    nb = source_nb(tmp_path, CH4)
    tags = [t for c in nb.cells for t in c.metadata.get("tags", [])]
    assert f"lang-{lang}" in tags and gone not in tags
    title = next(
        c.source for c in nb.cells if c.cell_type == "markdown"
    )  # the chapter's bilingual title
    hangul = any("\uac00" <= ch <= "\ud7a3" for ch in title)
    assert title.startswith("# 4.") and " · " not in title and hangul == (lang == "ko"), title
    both = source_nb(tmp_path, CH4)
    assert sum(role(c) == "test" for c in both.cells) == 1
    assert assignments.CODE_STUBS[lang] in (tmp_path / "nbgrader_config.py").read_text().replace(
        "\\n", "\n"
    )


def test_existing_work_is_not_overwritten(tmp_path, capsys):
    assignments.write_course(tmp_path, NOTEBOOKS)
    again = assignments.write_course(tmp_path, NOTEBOOKS)  # same content: fine
    assert not again.config_written
    target = tmp_path / "source" / CH4 / f"{CH4}.ipynb"
    target.write_text(target.read_text().replace("Your task", "Your edited task"))
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\n# mine\n")
    with pytest.raises(ValueError, match="--force"):
        assignments.write_course(tmp_path, NOTEBOOKS)
    assert "Your edited task" in target.read_text()
    assert cli.main(["classroom", "assignment", str(tmp_path), "--notebooks", str(NOTEBOOKS)]) == 2
    assert "already exist" in capsys.readouterr().err
    assert (
        cli.main(
            ["classroom", "assignment", str(tmp_path), "--notebooks", str(NOTEBOOKS), "--force"]
        )
        == 0
    )
    assert "Your edited task" not in target.read_text()
    assert (
        (tmp_path / "nbgrader_config.py").read_text().endswith("# mine\n")
    )  # the instructor's config stays
    assert not list(tmp_path.rglob(".*.partial"))


def test_bad_chapters_are_named(tmp_path, capsys):
    import jupytext

    nb = jupytext.read(NOTEBOOKS / f"{CH4}.md", fmt="md:myst")
    exercise = next(i for i, c in enumerate(nb.cells) if "exercise" in c.metadata.get("tags", []))
    del nb.cells[exercise + 1 :]  # no check cell after the exercise
    folder = tmp_path / "notebooks"
    folder.mkdir()
    nbformat.write(nb, folder / "09_broken.ipynb")
    with pytest.raises(ValueError, match=r"09_broken.*no check cell"):
        assignments.write_course(tmp_path / "out", folder)
    assert not (tmp_path / "out").exists()  # nothing half-written
    (folder / "09_broken.ipynb").unlink()
    assert (
        cli.main(["classroom", "assignment", str(tmp_path / "out"), "--notebooks", str(folder)])
        == 2
    )
    assert "no chapter with an exercise cell" in capsys.readouterr().err


def test_out_must_be_a_folder(tmp_path, capsys):
    (tmp_path / "course").write_text("not a folder")
    assert (
        cli.main(
            ["classroom", "assignment", str(tmp_path / "course"), "--notebooks", str(NOTEBOOKS)]
        )
        == 2
    )
    assert "is a file, not a folder" in capsys.readouterr().err
    with pytest.raises(ValueError, match="--lang must be one of en, ko"):
        assignments.write_course(tmp_path / "x", NOTEBOOKS, lang="fr")
    with pytest.raises(ValueError, match="not plain Python"):
        assignments.graded_source("%time check_it()\n", 10, where="ch")


def test_solution_source_shapes():
    starter = 'def f(x):\n    """Doc."""\n    # Your code here\n    raise NotImplementedError\n'
    solution = 'def f(x):\n    """Doc."""\n    y = x + 1\n    return y\n'
    assert assignments.solution_source(starter, solution).splitlines() == [
        "def f(x):",
        '    """Doc."""',
        "    ### BEGIN SOLUTION",
        "    y = x + 1",
        "    return y",
        "    ### END SOLUTION",
    ]
    plan = assignments.solution_source("plan = dict(a=None)\n", "plan = dict(a=1)\n")
    assert plan.splitlines() == [
        "plan = dict(a=None)",
        "### BEGIN SOLUTION",
        "plan = dict(a=1)",
        "### END SOLUTION",
    ]
    with pytest.raises(ValueError, match="must end with the call"):
        assignments.graded_source("x = check_it()\n", 10, where="ch, cell #3")
    graded = assignments.graded_source("def helper():\n    return 1\n\nhelper()\n", 4, where="")
    assert graded.splitlines()[-1] == "grade(helper(), 4)"
    ast.parse(graded)


def test_grade_gives_partial_points():
    wrong = wrong_truncation_examples()
    result = check_proportional_truncation(wrong["bankers_rounding"])
    assert not result and 0.9 < result.score < 1
    assert grade(result, 10) == round(10 * result.score, 2) < 10
    assert grade(check_proportional_truncation(wrong["ignores_budget"]), 10) < grade(result, 10)
    assert grade(check_proportional_truncation(assignments_reference()), 10) == 10
    assert grade("Not implemented yet", 10) == 0
    assert check_bert_base_plan(**{**PLAN_OK, "lr": 1e-3}).score == 0.75
    assert grade(check_bert_base_plan(**{**PLAN_OK, "lr": 1e-3, "epochs": 1}), 8) == 4
    assert grade(CheckResult(False, ["no score"]), 10) == 0


def assignments_reference():
    from bertnli import truncate_proportional

    return lambda p, h, budget: truncate_proportional(p, h, budget)


# ---------------------------------------------------------------- nbgrader itself


CH4_GOOD = """def my_truncate_proportional(p, h, budget):
    total = len(p) + len(h)
    if total <= budget:
        return list(p), list(h)
    k = int(budget * len(p) / total + 0.5)
    k = min(max(k, 1 if p else 0), budget - 1 if h else budget)
    return list(p[:k]), list(h[: budget - k])
"""
CH4_BANKERS = CH4_GOOD.replace(
    "int(budget * len(p) / total + 0.5)", "round(budget * len(p) / total)"
)
CH5_GOOD = "my_plan = dict(lr=3e-5, batch_size=128, epochs=2, max_len=128, amp=True)\n"
CH5_HIGH_LR = "my_plan = dict(lr=1e-3, batch_size=128, epochs=2, max_len=128, amp=True)\n"
CH6_GOOD = """def my_unk_share(tokenizer, sentences):
    ids = [i for s in tokenizer.encode(sentences) for i in s]
    return ids.count(unk_id(tokenizer)) / len(ids) if ids else 0.0
"""
CH6_BY_SENTENCE = """def my_unk_share(tokenizer, sentences):
    encoded = tokenizer.encode(sentences)
    return sum(unk_id(tokenizer) in ids for ids in encoded) / len(encoded) if encoded else 0.0
"""


def run_nbgrader(course: Path, env: dict, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args],
        cwd=course,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, (
        f"nbgrader {' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    )
    return done.stdout + done.stderr


def submit(course: Path, assignment: str, student: str, answer: str | None) -> None:
    """A student's submission: the released notebook, its solution cell replaced by ``answer``."""
    nb = nbformat.read(course / "release" / assignment / f"{assignment}.ipynb", as_version=4)
    if answer is not None:
        cell = next(c for c in nb.cells if nbg(c).get("solution"))
        cell.source = answer
    folder = course / "submitted" / student / assignment
    folder.mkdir(parents=True)
    nbformat.write(nb, folder / f"{assignment}.ipynb")


@pytest.mark.slow
def test_nbgrader_releases_autogrades_and_gives_feedback(tmp_path):
    import nbgrader  # noqa: F401  (the `classroom` extra; `make venv` installs it)
    from nbgrader.api import Gradebook

    course = tmp_path / "course"
    assert cli.main(["classroom", "assignment", str(course), "--notebooks", str(NOTEBOOKS)]) == 0
    env = dict(
        os.environ,
        BERTNLI_PROFILE="sample",
        OMP_NUM_THREADS="1",
        MPLBACKEND="Agg",
        BERTNLI_CACHE=str(tmp_path / "cache"),
        BERTNLI_HUB_URL=(tmp_path / "no-network").as_uri() + "/",
        JUPYTER_CONFIG_DIR=str(tmp_path / "jupyter-config"),
        JUPYTER_DATA_DIR=str(tmp_path / "jupyter-data"),
        PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
    )
    answers = {
        CH4: {"good": CH4_GOOD, "wrong": CH4_BANKERS, "idle": None},
        CH5: {"good": CH5_GOOD, "wrong": CH5_HIGH_LR, "idle": None},
        CH6: {"good": CH6_GOOD, "wrong": CH6_BY_SENTENCE, "idle": None},
    }
    for assignment, by_student in answers.items():
        run_nbgrader(course, env, "generate_assignment", assignment)
        release = (course / "release" / assignment / f"{assignment}.ipynb").read_text(
            encoding="utf-8"
        )
        assert (
            "BEGIN SOLUTION" not in release
            and "keep_p = (2 * budget" not in release
            and "lr=5e-5" not in release
        )
        assert "raise NotImplementedError()" in release
        for student, answer in by_student.items():
            submit(course, assignment, student, answer)
        run_nbgrader(course, env, "autograde", assignment)
        run_nbgrader(course, env, "generate_feedback", assignment)
    assert (course / "gradebook.db").is_file()
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        scores = {
            (a, s): (gb.find_submission(a, s).score, gb.find_submission(a, s).max_score)
            for a in answers
            for s in answers[a]
        }
    for assignment in answers:
        assert scores[assignment, "good"] == (10, 10)
        assert scores[assignment, "idle"] == (0, 10)
        assert 0 < scores[assignment, "wrong"][0] < 10
    assert scores[CH5, "wrong"] == (7.5, 10)  # one rule of four fails: the learning rate

    def feedback(assignment, student):
        return (course / "feedback" / student / assignment / f"{assignment}.html").read_text(
            encoding="utf-8"
        )

    assert "Almost there: the rounding differs" in feedback(CH4, "wrong")
    assert "반올림 방식이 기준과 다릅니다" in feedback(CH4, "wrong")
    assert "lr=0.001 is outside" in feedback(CH5, "wrong")
    assert "Not implemented yet" in feedback(CH4, "idle") and "Not filled in yet" in feedback(
        CH5, "idle"
    )
    assert f"All {len(exercises._cases())} cases match the reference" in feedback(CH4, "good")
    assert "All 6 cases match unk_share" in feedback(
        CH6, "good"
    ) and "Not implemented yet" in feedback(CH6, "idle")
    assert "count pieces" in feedback(CH6, "wrong") and "조각" in feedback(CH6, "wrong")
    shutil.rmtree(
        course / "autograded"
    )  # what remains is the course folder an instructor would keep
