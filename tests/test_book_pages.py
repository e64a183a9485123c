"""The pages state what the code does: the book pages write each profile setting out, marked
``5<!-- profiles.full.epochs -->``, and book/_ext/profilevalues.py checks every marked value
against bertnli.run.profiles (the chapters may still use ``{{ profiles.<name>.<field> }}``
substitutions, which it fills); the numbers that must stay literal (the README's command line)
are checked against the profiles too."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import jinja2
import pytest

from bertnli.run.profiles import PROFILES

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted((ROOT / "book").glob("*.md"))
CHAPTERS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.md"))
SUBSTITUTION = re.compile(r"\{\{(.*?)\}\}")
HTML_COMMENT = re.compile(r"<!--.*?-->", flags=re.S)
# Markup that the repository's web view (and a plain Jupyter) shows as typed.
RAW_MARKUP = re.compile(r"\{\{|\{glue(?::\w+)?\}|\{eval\}|\{sub-ref\}")


def _extension():
    spec = importlib.util.spec_from_file_location(
        "bertnli_book_ext_profilevalues", ROOT / "book" / "_ext" / "profilevalues.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def render(text: str) -> str:
    """The page as the built site shows it: every substitution filled (an unknown one an error),
    HTML comments (the value markers) hidden."""
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    values = {"profiles": _extension().profile_values()}
    text = SUBSTITUTION.sub(lambda m: env.from_string("{{" + m[1] + "}}").render(values), text)
    return HTML_COMMENT.sub("", text)


def table(text: str, first_header: str) -> tuple[list[str], list[list[str]]]:
    lines = text.splitlines()
    for i, line in enumerate(lines):
        header = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and header[0] == first_header:
            rows = []
            for row in lines[i + 2 :]:
                if not row.startswith("|"):
                    break
                rows.append([c.strip() for c in row.strip().strip("|").split("|")])
            return header, rows
    raise AssertionError(f"no table starting with {first_header!r}")


@pytest.mark.parametrize("path", [*PAGES, *CHAPTERS], ids=lambda p: p.name)
def test_every_substitution_resolves(path):
    render(path.read_text(encoding="utf-8"))  # StrictUndefined raises on a misspelled field


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.name)
def test_book_pages_show_no_raw_markup_on_the_repository_web_view(path):
    """GitHub shows a page's ``{{ }}`` substitution or ``{glue}`` role as typed: the pages write values out."""
    text = re.sub(
        r"``.*?``|`[^`\n]*`", " ", path.read_text(encoding="utf-8")
    )  # code may name the markup
    found = sorted(
        {text[m.start() : m.start() + 40].split("\n")[0] for m in RAW_MARKUP.finditer(text)}
    )
    assert not found, f"{path.name}: markup a reader of the raw page sees as typed: {found}"


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.name)
def test_every_marked_value_on_a_page_is_the_codes(path):
    problems = _extension().stale_values(path.read_text(encoding="utf-8"))
    assert not problems, f"{path.name}: " + "; ".join(problems)


@pytest.mark.parametrize("page, least", [("intro.md", 12), ("setup.md", 26), ("instructors.md", 2)])
def test_the_pages_mark_their_profile_values(page, least):
    """The settings the pages state are marked, so the check above has something to check."""
    marked = _extension().marked_values((ROOT / "book" / page).read_text(encoding="utf-8"))
    assert len(marked) >= least, (
        f"book/{page}: {len(marked)} marked values, expected at least {least}"
    )
    assert {profile for _, profile, _ in marked} <= set(PROFILES)


def test_the_value_check_catches_a_stale_or_unknown_value():
    ext = _extension()
    full = PROFILES["full"]
    assert ext.stale_values(f"{full.epochs}<!-- profiles.full.epochs --> epochs") == []
    assert ext.stale_values(f"epochs {full.epochs + 1}<!-- profiles.full.epochs -->")  # stale
    assert ext.stale_values("batch 512<!-- profiles.full.batchsize -->")  # misspelled field
    assert ext.stale_values("x 1<!-- profiles.nosuch.epochs -->")  # unknown profile
    assert ext.stale_values("epochs <!-- profiles.full.epochs -->")  # value missing
    assert render("a 5<!-- profiles.full.epochs --> b") == "a 5 b"


def test_lr_is_written_as_the_pages_write_it():
    assert _extension()._as_written(1e-3) == "1e-3" and _extension()._as_written(2.5e-5) == "2.5e-5"


@pytest.mark.parametrize(
    "first, columns",
    [
        (
            "profile",
            {
                "epochs": "epochs",
                "batch": "batch_size",
                "`max_len`": "max_len",
                "learning rate": "lr",
            },
        ),
        (
            "프로필",
            {"에폭": "epochs", "배치": "batch_size", "`max_len`": "max_len", "학습률": "lr"},
        ),
    ],
)
def test_setup_profile_tables_state_the_profiles(first, columns):
    header, rows = table(render((ROOT / "book" / "setup.md").read_text(encoding="utf-8")), first)
    values = _extension().profile_values()
    named = {re.search(r"`(\w+)`", row[0]).group(1): row for row in rows}
    assert set(named) == set(PROFILES), (
        f"setup.md's {first!r} table lists {sorted(named)}, the code {sorted(PROFILES)}"
    )
    for name, row in named.items():
        for column, field in columns.items():
            assert row[header.index(column)] == str(values[name][field]), (
                f"setup.md: {name} {column}"
            )


def test_readme_reference_command_is_the_full_profile():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    command = re.search(
        r"finetune --model bert\.small --data snli (.*?)\s+--truncation", readme, flags=re.S
    )
    assert command, "README: the spelled-out reference command is gone; update this test"
    flags = dict(re.findall(r"--([\w-]+) (\S+)", command.group(1)))
    full = PROFILES["full"]
    assert (
        int(flags["epochs"]),
        int(flags["batch-size"]),
        int(flags["max-len"]),
        float(flags["lr"]),
    ) == (full.epochs, full.batch_size, full.max_len, full.lr)


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

    from bertnli.book.prose import fields_of, template_of

    cells = _chapter(path).cells
    problems, said = [], 0
    for i, cell in enumerate(cells):
        template = template_of(cell.source) if cell.cell_type == "code" else None
        if template is None:
            continue
        said += 1
        known = _namespace_before(cells, i + 1) | set(dir(builtins))
        for field in fields_of(template):
            used = {
                n.id for n in ast.walk(ast.parse(field, mode="eval")) if isinstance(n, ast.Name)
            }
            if used - known:
                problems.append(
                    f"cell {i}: {{{field}}} uses {sorted(used - known)}, computed nowhere before it"
                )
    assert not problems, f"{path.name}:\n" + "\n".join(problems)
    if path.stem != "03_fine_tuning":
        assert said, (
            f"{path.name}: no prose cell states a computed figure (this test would check nothing)"
        )


def test_say_shows_its_paragraph_as_markdown(monkeypatch):
    from IPython.display import Markdown

    import bertnli.book.prose as prose

    shown = []
    monkeypatch.setattr(prose, "display", shown.append)
    share = 0.25
    returned = prose.say(f"""
        In this profile {share:.1%} of the pairs are cut.
        """)
    assert returned is None, "a returned value would be shown twice (as the cell's result too)"
    [result] = shown
    assert (
        isinstance(result, Markdown)
        and result.data == "In this profile 25.0% of the pairs are cut."
    )
    assert result._repr_markdown_() == result.data  # what Jupyter, Colab and myst-nb render
    with pytest.raises(TypeError, match=r"say\(\) takes the paragraph as a str"):
        prose.say(0.25)


def test_template_of_reads_a_prose_cell_and_only_that():
    from bertnli.book.prose import fields_of, template_of

    cell = 'laptop = PROFILES["laptop"]\nsay(f"""\nA subset of {laptop.train_pairs:,} pairs, {{not a field}}.\n""")'
    assert template_of(cell) == "A subset of {laptop.train_pairs:,} pairs, {{not a field}}."
    assert fields_of(template_of(cell)) == ["laptop.train_pairs"]
    for other in (
        "print(1)",
        "say(text)",
        "say(f'x', end='')",
        "x = say",
        "say(f'x')\nprint(2)",
        "def (",
    ):
        assert template_of(other) is None, other


@pytest.mark.parametrize(
    "page", ["book/intro.md", "notebooks/01_pretrained_bert.md", "book/setup.md"]
)
def test_pages_that_introduce_the_profiles_name_every_one(page):
    """A new profile in bertnli.run.profiles must be introduced where readers choose one."""
    text = (ROOT / page).read_text(encoding="utf-8")
    missing = [name for name in PROFILES if f"`{name}`" not in text]
    assert not missing, f"{page} does not introduce the profiles {missing}"


# ----------------------------------------------------------------------------- facts the pages state

NUMBER_WORDS = {2: ("two", "두"), 3: ("three", "세"), 4: ("four", "네")}


def _blocks(page: str, lang: str) -> list[str]:
    text = (ROOT / "book" / page).read_text(encoding="utf-8")
    return re.findall(rf"^::::\{{div\}} {lang}\n(.*?)^::::$", text, flags=re.M | re.S)


def test_setup_counts_the_run_profiles_it_lists():
    en, ko = NUMBER_WORDS[len(PROFILES)]
    assert re.search(rf"\b{en} run profiles\b", _blocks("setup.md", "lang-en")[0]), (
        "setup.md [en]: profile count"
    )
    assert re.search(rf"{ko} 가지 실행\s+프로필", _blocks("setup.md", "lang-ko")[0]), (
        "setup.md [ko]: profile count"
    )


def test_setup_states_the_rate_measured_for_the_laptop_profile():
    """The laptop profile's size comes from a measured rate (the comment in bertnli/run/profiles.py);
    setup.md states that rate and where it was measured, not a range nobody measured."""
    source = (ROOT / "src" / "bertnli" / "run" / "profiles.py").read_text(encoding="utf-8")
    measured = re.search(r"trained ~(\d+) pairs/s", source)
    assert measured, "profiles.py no longer records the measured rate; update this test"
    for lang, words in (
        ("lang-en", rf"about {measured[1]} pairs per second"),
        ("lang-ko", rf"초당 약 {measured[1]}쌍"),
    ):
        text = " ".join(" ".join(_blocks("setup.md", lang)).split())
        assert re.search(words, text), (
            f"setup.md [{lang}]: the measured rate {measured[1]} pairs/s is not stated"
        )
        assert "2-core" in text or "2코어" in text, (
            f"setup.md [{lang}]: does not say where the rate was measured"
        )
        assert "500" not in text.split("pairs per second")[0][-40:], (
            f"setup.md [{lang}]: an unmeasured rate"
        )


def test_instructors_epoch_time_is_the_division_it_shows():
    seconds = round(549_367 / 10_588.8)
    en = " ".join(" ".join(_blocks("instructors.md", "lang-en")).split())
    ko = " ".join(" ".join(_blocks("instructors.md", "lang-ko")).split())
    assert f"about {seconds} seconds (549,367 ÷ 10,588.8)" in en
    assert f"약 {seconds}초(549,367 ÷ 10,588.8)" in ko and "1분 남짓" not in ko


def test_intro_says_the_checkpoint_learned_both_pretraining_tasks():
    en, ko = _blocks("intro.md", "lang-en")[0], _blocks("intro.md", "lang-ko")[0]
    assert (
        "masked words" in en
        and "next sentence" in " ".join(en.split())
        and "only ever filled" not in en
    )
    assert "다음 문장 예측" in ko and "맞히는 일만" not in ko


def test_a_stale_value_is_a_warning_of_the_sphinx_build(tmp_path):
    """The book's -W build fails on a page whose written value no longer matches the code."""
    import io

    from sphinx.application import Sphinx

    src = tmp_path / "src"
    src.mkdir()
    (src / "conf.py").write_text(
        f"import sys\nsys.path.insert(0, {str(ROOT / 'book' / '_ext')!r})\n"
        "extensions = ['myst_parser', 'profilevalues']\n"
    )
    stale = PROFILES["full"].epochs + 1
    (src / "index.md").write_text(
        f"# Page\n\nThe reference runs {stale}<!-- profiles.full.epochs --> epochs.\n"
    )
    warnings = io.StringIO()
    app = Sphinx(
        str(src),
        str(src),
        str(tmp_path / "out"),
        str(tmp_path / "doctrees"),
        "html",
        status=None,
        warning=warnings,
        freshenv=True,
    )
    app.build()
    assert f"the page says '{stale}' for profiles.full.epochs" in warnings.getvalue()


def test_the_setup_pages_gpu_section_states_what_the_code_does():
    """The GPU paragraph's rules and figures, in both languages, are the code's (bertnli.hardware,
    bertnli.run.costs) and the H200 rates' arithmetic (549,367 training pairs per epoch)."""
    from bertnli import KNOWN_CONFIGS, hardware
    from bertnli.run import costs

    text = (ROOT / "book" / "setup.md").read_text(encoding="utf-8")
    section = text[text.index("**What the GPU does.**") : text.index("## Downloads")]
    en, ko = section.split("::::{div} lang-ko")[:2]
    assert hardware.AMP_MIN_HIDDEN == 512 and "512 wide" in en and "너비가 512 이상" in ko
    assert hardware.PAD_MULTIPLE == 8 and "multiple of 8" in en and "8의 배수" in ko
    shapes = 128 // hardware.PAD_MULTIPLE
    assert f"at most {shapes} shapes" in en and f"많아야 {shapes}가지" in ko
    for rate, en_time, ko_time in (
        (59_872, "about 9 s", "약 9초"),
        (10_831, "about 51 s", "약 51초"),
        (35_616, "about 15 s", "약 15초"),
        (3_626, "about 2.5 min", "약 2.5분"),
    ):
        seconds = 549_367 / rate
        shown = f"{seconds:.0f}" if seconds < 60 else f"{seconds / 60:.1f}"
        assert (
            shown in en_time
            and f"| {rate:,} | {en_time} |" in en
            and f"| {rate:,} | {ko_time} |" in ko
        )

    def gib(model, amp):
        return costs.memory_estimate(KNOWN_CONFIGS[model], 512, 128, amp=amp)["total"] / costs.GiB

    assert round(gib("bert.small", False)) == 2 and "about 2 GiB" in en and "약 2GiB" in ko
    assert round(gib("bert.base", True)) == 20 and "about 20 GiB" in en and "약 20GiB" in ko
