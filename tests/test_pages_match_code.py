"""The pages state what the code does: profile settings are rendered from bertnli.profiles
(book/_ext/profilevalues.py fills the ``{{ profiles.<name>.<field> }}`` substitutions), and the
numbers that must stay literal (the README's command line) are checked against the profiles."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import jinja2
import pytest

from bertnli.profiles import PROFILES

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted((ROOT / "book").glob("*.md"))
CHAPTERS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.md"))
SUBSTITUTION = re.compile(r"\{\{(.*?)\}\}")


def _extension():
    spec = importlib.util.spec_from_file_location("bertnli_book_ext_profilevalues",
                                                  ROOT / "book" / "_ext" / "profilevalues.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def render(text: str) -> str:
    """The page as the built site shows it: every substitution filled, an unknown one an error."""
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    values = {"profiles": _extension().profile_values()}
    return SUBSTITUTION.sub(lambda m: env.from_string("{{" + m[1] + "}}").render(values), text)


def table(text: str, first_header: str) -> tuple[list[str], list[list[str]]]:
    lines = text.splitlines()
    for i, line in enumerate(lines):
        header = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and header[0] == first_header:
            rows = []
            for row in lines[i + 2:]:
                if not row.startswith("|"):
                    break
                rows.append([c.strip() for c in row.strip().strip("|").split("|")])
            return header, rows
    raise AssertionError(f"no table starting with {first_header!r}")


@pytest.mark.parametrize("path", [*PAGES, *CHAPTERS], ids=lambda p: p.name)
def test_every_substitution_resolves(path):
    render(path.read_text(encoding="utf-8"))  # StrictUndefined raises on a misspelled field


def test_lr_is_written_as_the_pages_write_it():
    assert _extension()._as_written(1e-3) == "1e-3" and _extension()._as_written(2.5e-5) == "2.5e-5"


@pytest.mark.parametrize("first, columns", [
    ("profile", {"epochs": "epochs", "batch": "batch_size", "`max_len`": "max_len", "learning rate": "lr"}),
    ("프로필", {"에폭": "epochs", "배치": "batch_size", "`max_len`": "max_len", "학습률": "lr"}),
])
def test_setup_profile_tables_state_the_profiles(first, columns):
    header, rows = table(render((ROOT / "book" / "setup.md").read_text(encoding="utf-8")), first)
    values = _extension().profile_values()
    named = {re.search(r"`(\w+)`", row[0]).group(1): row for row in rows}
    assert set(named) == set(PROFILES), f"setup.md's {first!r} table lists {sorted(named)}, the code {sorted(PROFILES)}"
    for name, row in named.items():
        for column, field in columns.items():
            assert row[header.index(column)] == str(values[name][field]), f"setup.md: {name} {column}"


def test_readme_reference_command_is_the_full_profile():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    command = re.search(r"finetune --model bert\.small --data snli (.*?)\s+--truncation", readme, flags=re.S)
    assert command, "README: the spelled-out reference command is gone; update this test"
    flags = dict(re.findall(r"--([\w-]+) (\S+)", command.group(1)))
    full = PROFILES["full"]
    assert (int(flags["epochs"]), int(flags["batch-size"]), int(flags["max-len"]), float(flags["lr"])) == \
        (full.epochs, full.batch_size, full.max_len, full.lr)


# ----------------------------------------------------------------------------- computed figures in the prose

def _chapter(path: Path):
    import jupytext

    return jupytext.read(path)


def _namespace_before(cells, index: int) -> set[str]:
    """Names that the code cells before ``index`` bind (assignments, imports, defs, for targets)."""
    import ast

    names: set[str] = set()
    for cell in cells[:index]:
        if cell.cell_type != "code":
            continue
        for node in ast.walk(ast.parse(cell.source)):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                names |= {(a.asname or a.name).split(".")[0] for a in node.names}
            elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                names.add(node.name)
    return names


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_every_stated_figure_is_computed_before_its_sentence(path):
    """A prose cell's ``{field}`` uses only names that code earlier in the chapter (or the cell
    itself) computes: run top to bottom, the sentence states the run's value (never a stale one)."""
    import ast
    import builtins

    from bertnli.prose import fields_of, template_of

    cells = _chapter(path).cells
    problems, said = [], 0
    for i, cell in enumerate(cells):
        template = template_of(cell.source) if cell.cell_type == "code" else None
        if template is None:
            continue
        said += 1
        known = _namespace_before(cells, i + 1) | set(dir(builtins))
        for field in fields_of(template):
            used = {n.id for n in ast.walk(ast.parse(field, mode="eval")) if isinstance(n, ast.Name)}
            if used - known:
                problems.append(f"cell {i}: {{{field}}} uses {sorted(used - known)}, computed nowhere before it")
    assert not problems, f"{path.name}:\n" + "\n".join(problems)
    if path.stem != "03_fine_tuning":
        assert said, f"{path.name}: no prose cell states a computed figure (this test would check nothing)"


def test_say_shows_its_paragraph_as_markdown(monkeypatch):
    from IPython.display import Markdown

    import bertnli.prose as prose

    shown = []
    monkeypatch.setattr(prose, "display", shown.append)
    share = 0.25
    returned = prose.say(f"""
        In this profile {share:.1%} of the pairs are cut.
        """)
    assert returned is None, "a returned value would be shown twice (as the cell's result too)"
    [result] = shown
    assert isinstance(result, Markdown) and result.data == "In this profile 25.0% of the pairs are cut."
    assert result._repr_markdown_() == result.data  # what Jupyter, Colab and myst-nb render
    with pytest.raises(TypeError, match=r"say\(\) takes the paragraph as a str"):
        prose.say(0.25)


def test_template_of_reads_a_prose_cell_and_only_that():
    from bertnli.prose import fields_of, template_of

    cell = 'laptop = PROFILES["laptop"]\nsay(f"""\nA subset of {laptop.train_pairs:,} pairs, {{not a field}}.\n""")'
    assert template_of(cell) == "A subset of {laptop.train_pairs:,} pairs, {{not a field}}."
    assert fields_of(template_of(cell)) == ["laptop.train_pairs"]
    for other in ("print(1)", "say(text)", "say(f'x', end='')", "x = say", "say(f'x')\nprint(2)", "def ("):
        assert template_of(other) is None, other


@pytest.mark.parametrize("page", ["book/intro.md", "notebooks/01_pretrained_bert.md", "book/setup.md"])
def test_pages_that_introduce_the_profiles_name_every_one(page):
    """A new profile in bertnli.profiles must be introduced where readers choose one."""
    text = (ROOT / page).read_text(encoding="utf-8")
    missing = [name for name in PROFILES if f"`{name}`" not in text]
    assert not missing, f"{page} does not introduce the profiles {missing}"
