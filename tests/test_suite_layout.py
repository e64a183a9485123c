"""The test suite's own shape: test modules named by subject beside ``conftest.py``, shared helpers in
the ``tests/helpers/`` package, and no page, docstring or comment citing a test file that is gone."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"
# Where a test file gets cited: the tests themselves, the pages, the Makefile, the package's
# docstrings, the benchmarks and tools.
CITING = (
    "tests/**/*.py",
    "README.md",
    "book/*.md",
    "notebooks/*.md",
    "Makefile",
    "pyproject.toml",
    "environment.yml",
    "src/**/*.py",
    "benchmarks/*",
    "tools/*",
    "book/_ext/*.py",
)
# ``tests/helpers/needs.py`` or ``tests/test_hub.py`` (a path), or ``test_hub.py`` alone (a name in tests/).
CITED_PATH = re.compile(r"(?<![\w/.])tests/([\w/]+\.py)\b")
CITED_NAME = re.compile(r"(?<![\w/.{*])(test_\w+\.py)\b")


def citing_files(root: Path) -> list[Path]:
    """Every file that may cite a test file, each once."""
    found = {path for pattern in CITING for path in root.glob(pattern) if path.is_file()}
    return sorted(path for path in found if "__pycache__" not in path.parts)


def missing_citations(root: Path) -> list[str]:
    """``file:line: cited`` for each mention of a test file that does not exist under ``root/tests``."""
    tests = root / "tests"
    gone = []
    for path in citing_files(root):
        text = path.read_text(encoding="utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), start=1):
            cited = [m for m in CITED_PATH.findall(line) if not (tests / m).is_file()]
            cited += [m for m in CITED_NAME.findall(line) if not (tests / m).is_file()]
            gone += [f"{path.relative_to(root)}:{number}: {name}" for name in cited]
    return gone


def test_no_file_cites_a_test_file_that_is_gone():
    assert missing_citations(ROOT) == [], "rename the citation to the test file's current name"


def test_the_citation_check_finds_a_gone_file_and_accepts_a_present_one(tmp_path):
    py = ".py"  # kept apart from the names, so that this file cites nothing itself
    (tmp_path / "tests" / "helpers").mkdir(parents=True)
    (tmp_path / "tests" / "helpers" / f"kept{py}").write_text("")
    (tmp_path / "tests" / f"test_kept{py}").write_text("")
    gone, kept = f"test_gone_away{py}", f"test_kept{py}"
    (tmp_path / "README.md").write_text(
        f"see `tests/{gone}`, `tests/{kept}`\nand {gone}, {kept}, "
        f"tests/helpers/kept{py}, tests/helpers/lost{py}\n"
    )
    assert missing_citations(tmp_path) == [
        f"README.md:1: {gone}",
        f"README.md:2: helpers/lost{py}",
        f"README.md:2: {gone}",
    ]


def bare_helper_imports(root: Path) -> list[str]:
    """``file:line`` for each import of a tests/helpers module by its bare name (``from tiny_task import``),
    which works only where ``tests/helpers`` itself is on ``sys.path``: the benchmarks and tools put
    ``tests/`` there and import ``helpers.<name>``."""
    names = "|".join(
        p.stem for p in (root / "tests" / "helpers").glob("*.py") if p.stem != "__init__"
    )
    bare = re.compile(rf"^[ \t]*(?:from|import)\s+(?:{names})\b", flags=re.M)
    found = []
    for pattern in ("tests/**/*.py", "benchmarks/*.py", "tools/*.py"):
        for path in sorted(root.glob(pattern)):
            text = path.read_text(encoding="utf-8")
            found += [
                f"{path.relative_to(root)}:{text.count(chr(10), 0, m.start()) + 1}"
                for m in bare.finditer(text)
            ]
    return found


def test_helpers_are_imported_as_the_helpers_package():
    assert bare_helper_imports(ROOT) == [], "import them as `from helpers.<module> import ...`"


def test_test_modules_are_named_by_subject_and_helpers_live_in_the_helpers_package():
    loose = [
        p.name
        for p in TESTS.glob("*.py")
        if not (p.name.startswith("test_") or p.name == "conftest.py")
    ]
    assert loose == [], (
        f"{loose}: a shared helper belongs in tests/helpers/, a test module is named test_<subject>.py"
    )
    assert (TESTS / "helpers" / "__init__.py").is_file()
    assert not list((TESTS / "helpers").glob("test_*.py")), (
        "a test module in tests/helpers/ would not be a helper"
    )
