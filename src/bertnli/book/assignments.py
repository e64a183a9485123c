"""Graded assignments: the book's exercise chapters as an nbgrader course folder.

nbgrader (``pip install bertnli[classroom]``) is what instructors who teach with Jupyter
grade with. ``write_course`` turns every chapter that has an ``exercise`` cell into
``source/<chapter>/<chapter>.ipynb`` with nbgrader's cell metadata:

- the starter cell (tagged ``exercise``) becomes a *solution* cell holding the book's
  solution between ``### BEGIN SOLUTION`` / ``### END SOLUTION``, which
  ``nbgrader generate_assignment`` replaces with a stub for the students;
- the check cell right after it becomes an autograded *test* cell worth ``points``: it
  runs the same ``bertnli.book.exercises`` check and ends with ``grade(...)``, which shows the
  check's hints and returns the (partial) points;
- the book's own solution cell, the prose that introduces it and the repeated check
  after it are left out; every other cell is read-only.

It also writes a minimal ``nbgrader_config.py`` (kept if one is already there). Nothing
here imports nbgrader: the folder is plain notebooks and a config file.
"""

from __future__ import annotations

import ast
import math
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from bertnli.book.classroom import (
    EXERCISE_TAG,
    SOLUTION_TAG,
    _read,
    chapter_sources,
    default_notebooks_dir,
    keep_language,
)
from bertnli.files import atomic_write

LANGS = ("en", "ko")
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
DEFAULT_POINTS = 10
CONFIG_FILE = "nbgrader_config.py"
CODE_STUBS = {
    None: "# Your code here · 여기에 코드를 작성하세요\nraise NotImplementedError()",
    "en": "# Your code here\nraise NotImplementedError()",
    "ko": "# 여기에 코드를 작성하세요\nraise NotImplementedError()",
}
# A starter's lines after the part it shares with the solution may only be these to
# count as a placeholder body (comments, blank lines, raise NotImplementedError, pass, ...).
_PLACEHOLDER = re.compile(r"^\s*(#.*|raise NotImplementedError(\(\))?|pass|\.\.\.)?\s*$")
_EXERCISE_CHECK = re.compile(r"\bcheck_\w+\(")
_CELL_KEYS_DROPPED = ("execution", "jupyter", "collapsed", "scrolled")


@dataclass
class Assignment:
    """What ``write_course`` wrote for one chapter."""

    name: str
    notebook: Path
    exercises: int = 0
    points: float = 0
    read_only: int = 0
    left_out: int = 0
    languages: tuple[str, ...] = LANGS


@dataclass
class Course:
    folder: Path
    assignments: list[Assignment] = field(default_factory=list)
    config_written: bool = False


def _tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def solution_source(starter: str, solution: str) -> str:
    """The solution cell for nbgrader: the book's solution with its new part between the
    solution markers, so that the released stub keeps the starter's shape.

    When the starter is the solution's first lines (a signature and docstring) plus a
    placeholder body, those lines stay outside the markers and the body goes inside.
    Otherwise (say, a dict of ``None`` to fill in) the starter stays as it is and the
    whole solution follows it, inside the markers.
    """
    s_lines, t_lines = starter.rstrip().splitlines(), solution.rstrip().splitlines()
    shared = 0
    while shared < min(len(s_lines), len(t_lines)) and s_lines[shared] == t_lines[shared]:
        shared += 1
    rest = s_lines[shared:]
    if shared and shared < len(t_lines) and all(_PLACEHOLDER.match(line) for line in rest):
        body = t_lines[shared:]
        first = next((line for line in body if line.strip()), "")
        indent = first[: len(first) - len(first.lstrip())]
        return "\n".join([*t_lines[:shared], indent + BEGIN, *body, indent + END])
    return "\n".join([*s_lines, BEGIN, *t_lines, END])


def _parse(source: str, where: str) -> ast.Module:
    try:
        return ast.parse(source)
    except SyntaxError as err:
        raise ValueError(
            f"{where}: the check cell is not plain Python ({err.msg}, line {err.lineno})"
        ) from None


def graded_source(check: str, points: float, *, where: str) -> str:
    """The autograded cell: the check cell as written, its last expression (the call that
    displays the verdict) wrapped in ``grade(..., points)``."""
    tree = _parse(check, where)
    last = tree.body[-1] if tree.body else None
    if not isinstance(last, ast.Expr):
        raise ValueError(
            f"{where}: the check cell must end with the call that shows the verdict "
            f"(e.g. `check_my_function()`), found {type(last).__name__ if last else 'an empty cell'}"
        )
    lines = check.rstrip().splitlines()
    call = ast.get_source_segment(check, last)
    head = "\n".join(lines[: last.lineno - 1]).rstrip()
    graded = (
        "from bertnli.book.exercises import grade\n\n"
        + (head + "\n\n\n" if head else "")
        + f"# Autograded: the verdict and its hints, then the points out of {points:g}.\n"
        + f"# 자동 채점: 판정과 힌트를 보여 주고, {points:g}점 만점 중 받은 점수를 냅니다.\n"
        + f"grade({call}, {points:g})"
    )
    return graded


def _nbgrader(
    cell,
    grade_id: str,
    *,
    solution: bool = False,
    grade: bool = False,
    locked: bool = True,
    points: float | None = None,
) -> None:
    meta = {
        "grade": grade,
        "grade_id": grade_id,
        "locked": locked,
        "schema_version": 3,
        "solution": solution,
        "task": False,
    }
    if points is not None:
        meta["points"] = points
    cell.metadata["nbgrader"] = meta
    if "id" in cell:
        cell["id"] = grade_id  # stable ids: writing the same chapter twice gives the same file


def _is_check(cell) -> bool:
    return cell.cell_type == "code" and bool(_EXERCISE_CHECK.search(cell.source))


def to_assignment(
    nb, name: str, *, points: float = DEFAULT_POINTS, lang: str | None = None, where: str = ""
) -> tuple[object, Assignment]:
    """Turn one chapter notebook into an nbgrader source notebook (in place); see the module doc."""
    where = where or name
    keep_language(nb, lang or "both")  # None: both languages
    cells = nb.cells
    roles: dict[int, str] = {}
    pairs: list[tuple[int, int, int]] = []  # (exercise, check, solution) cell indices
    for i, cell in enumerate(cells):
        if EXERCISE_TAG not in _tags(cell):
            continue
        check = next((j for j in range(i + 1, len(cells)) if cells[j].cell_type == "code"), None)
        if check is None or not _is_check(cells[check]) or EXERCISE_TAG in _tags(cells[check]):
            raise ValueError(
                f"{where}: the exercise cell #{i + 1} has no check cell after it (the next code cell "
                "must call a check from bertnli.book.exercises, e.g. check_proportional_truncation(...))"
            )
        solution = next(
            (j for j in range(check + 1, len(cells)) if SOLUTION_TAG in _tags(cells[j])), None
        )
        if solution is None or any(
            EXERCISE_TAG in _tags(cells[j]) for j in range(check + 1, solution)
        ):
            raise ValueError(
                f"{where}: the exercise cell #{i + 1} has no solution cell (tagged `solution`) after "
                "its check; nbgrader needs the solution to make the students' stub"
            )
        pairs.append((i, check, solution))
        roles[i], roles[check], roles[solution] = "exercise", "check", "drop"
        for j in range(check + 1, solution):  # the prose that introduces the book's solution
            if cells[j].cell_type == "markdown":
                roles[j] = "drop"
        body = _parse(cells[check].source, f"{where}, check cell #{check + 1}").body
        call = ast.get_source_segment(cells[check].source, body[-1]) if body else None
        for j in range(solution + 1, len(cells)):  # the check, run again under the solution
            if cells[j].cell_type == "code":
                if cells[j].source.strip() == (call or "").strip():
                    roles[j] = "drop"
                break
    if not pairs:
        raise ValueError(f"{where}: no cell tagged `{EXERCISE_TAG}`, so there is nothing to grade")
    for i, cell in enumerate(
        cells
    ):  # solutions without an exercise are left out, as in student copies
        if SOLUTION_TAG in _tags(cell):
            roles.setdefault(i, "drop")
    summary = Assignment(name, Path(f"{name}.ipynb"), languages=(lang,) if lang else LANGS)
    by_index = {i: n for n, (i, _, _) in enumerate(pairs, 1)}
    kept = []
    for i, cell in enumerate(cells):
        role = roles.get(i, "read-only")
        if role == "drop":
            summary.left_out += 1
            continue
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        for key in _CELL_KEYS_DROPPED:
            cell.metadata.pop(key, None)
        if role == "exercise":
            n = by_index[i]
            _, check, solution = pairs[n - 1]
            cell.source = solution_source(cell.source, cells[solution].source)
            _nbgrader(cell, f"exercise-{n}", solution=True, locked=False)
            summary.exercises += 1
        elif role == "check":
            n = next(k for k, (_, c, _) in enumerate(pairs, 1) if c == i)
            cell.source = graded_source(cell.source, points, where=f"{where}, check cell #{i + 1}")
            _nbgrader(cell, f"check-{n}", grade=True, points=points)
            summary.points += points
        else:
            _nbgrader(cell, f"{name}-cell-{i + 1:02d}")
            summary.read_only += 1
        kept.append(cell)
    nb.cells = kept
    nb.metadata.pop("jupytext", None)
    return nb, summary


# Chapter 4's longest cell fine-tunes once per truncation rule, SHORT_EPOCHS epochs each at max_len
# SHORT_MAX_LEN (the chapter's own numbers; tests/test_book_assignments.py keeps them in step).
CHAPTER4_RUNS, CHAPTER4_EPOCHS, CHAPTER4_MAX_LEN = 2, 2, 24
MIN_CELL_TIMEOUT = 600  # seconds: ample for the sample profile


def longest_cell_seconds(profile_name: str = "laptop") -> float:
    """Estimated seconds of chapter 4's training cell in a profile on the real SNLI (``laptop``,
    ``full``), on a 4-core laptop CPU (bertnli.run.costs)."""
    from bertnli.model.pretrained import KNOWN_CONFIGS
    from bertnli.run import costs
    from bertnli.run.profiles import PROFILES

    profile = PROFILES[profile_name]
    train = min(profile.train_pairs or costs.SNLI_PAIRS["train"], costs.SNLI_PAIRS["train"])
    dev, test = (
        min(profile.test_pairs or costs.SNLI_PAIRS[s], costs.SNLI_PAIRS[s]) for s in ("dev", "test")
    )
    one_run = costs.laptop_cpu_seconds(
        KNOWN_CONFIGS[profile.model],
        train_pairs=train,
        epochs=CHAPTER4_EPOCHS,
        evaluated_pairs=dev * CHAPTER4_EPOCHS + test,
        max_len=CHAPTER4_MAX_LEN,
    )
    return CHAPTER4_RUNS * one_run


def cell_timeout() -> int:
    """nbgrader's time limit per cell: twice the laptop profile's estimated longest cell, in whole
    minutes, and never under ``MIN_CELL_TIMEOUT``."""
    return max(MIN_CELL_TIMEOUT, 60 * math.ceil(2 * longest_cell_seconds("laptop") / 60))


def nbgrader_config(lang: str | None = None) -> str:
    """A minimal ``nbgrader_config.py`` for the course folder."""
    stub = CODE_STUBS[lang]
    timeout = cell_timeout()
    laptop_minutes = round(longest_cell_seconds("laptop") / 60)
    return f'''"""nbgrader settings for the bertnli assignments (written by `python -m bertnli classroom assignment`).

Run nbgrader from this folder: `nbgrader generate_assignment 04_exercise_truncation`,
then `nbgrader autograde 04_exercise_truncation` once submissions are in submitted/.
The gradebook is gradebook.db (SQLite) in this folder, nbgrader's default.
"""

c = get_config()  # noqa: F821 (nbgrader provides it)

c.CourseDirectory.course_id = "bertnli"
# The stub that replaces each solution in the students' copies.
c.ClearSolutions.code_stub = {{"python": {stub!r}}}
# Chapter 4 fine-tunes twice in one cell: seconds in the sample profile, about {laptop_minutes} minutes in
# the laptop profile on a 4-core CPU (estimated with bertnli.run.costs). So a cell may run up to
# {timeout // 60} minutes instead of nbgrader's 30 s; raise it for the full profile on a CPU.
c.Execute.timeout = {timeout}
'''


def exercise_chapters(notebooks_dir: Path) -> list[Path]:
    """The chapter sources that hold at least one cell tagged ``exercise``."""
    return [
        src
        for src in chapter_sources(notebooks_dir)
        if any(EXERCISE_TAG in _tags(c) for c in _read(src).cells)
    ]


def write_course(
    out: str | os.PathLike[str],
    notebooks_dir: str | os.PathLike[str] | None = None,
    *,
    lang: str | None = None,
    points: float = DEFAULT_POINTS,
    force: bool = False,
) -> Course:
    """Write ``out/source/<chapter>/<chapter>.ipynb`` for every exercise chapter, and
    ``out/nbgrader_config.py`` unless one exists. A source notebook that is already there
    with other content is not replaced unless ``force``: it may hold an instructor's edits."""
    import nbformat

    if lang is not None and lang not in LANGS:
        raise ValueError(
            f"--lang must be one of {', '.join(LANGS)} (or left out for both), got {lang!r}"
        )
    if points <= 0:
        raise ValueError(f"--points must be positive, got {points}")
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise ValueError(
            f"{folder} is a file, not a folder: choose a folder for the nbgrader course"
        )
    src_dir = Path(notebooks_dir) if notebooks_dir is not None else default_notebooks_dir()
    chapters = exercise_chapters(src_dir)
    if not chapters:
        raise FileNotFoundError(
            f"no chapter with an exercise cell (tagged `{EXERCISE_TAG}`) in {src_dir}"
        )
    made = []
    for source in chapters:  # build everything first: a bad chapter writes nothing
        nb, summary = to_assignment(
            _read(source), source.stem, points=points, lang=lang, where=str(source)
        )
        nbformat.validate(nb)
        made.append((nb, summary))
    targets = [folder / "source" / s.name / s.notebook for _, s in made]
    texts = [nbformat.writes(nb) + "\n" for nb, _ in made]
    clashes = [
        t
        for t, text in zip(targets, texts)
        if t.is_file() and t.read_text(encoding="utf-8") != text
    ]
    if clashes and not force:
        raise ValueError(
            f"{', '.join(map(str, clashes))} already exist(s) with other content (your edits?); "
            "choose another folder, or pass --force to replace them"
        )
    course = Course(folder.resolve())
    for target, text, (_, summary) in zip(targets, texts, made):
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(target, text)
        summary.notebook = target
        course.assignments.append(summary)
    config = folder / CONFIG_FILE
    if not config.exists():
        atomic_write(config, nbgrader_config(lang))
        course.config_written = True
    return course


def run_assignment(
    out: str,
    notebooks_dir: str | None = None,
    lang: str | None = None,
    points: float = DEFAULT_POINTS,
    force: bool = False,
) -> int:
    course = write_course(out, notebooks_dir, lang=lang, points=points, force=force)
    for a in course.assignments:
        print(
            f"{a.notebook}  ({a.exercises} exercise(s), {a.points:g} points, {a.read_only} read-only cells, "
            f"{a.left_out} left out)"
        )
    config = course.folder / CONFIG_FILE
    print(f"{config}  ({'written' if course.config_written else 'kept: it was already there'})")
    names = " ".join(a.name for a in course.assignments)
    print(
        f"nbgrader course folder: {course.folder}\n"
        f"next: cd {course.folder} && for a in {names}; do nbgrader generate_assignment $a; done"
    )
    try:
        import nbgrader  # noqa: F401
    except ImportError:
        print("nbgrader is not installed here: pip install 'bertnli[classroom]'", file=sys.stderr)
    return 0
