"""The chapters as files: bilingual prose in pairs, one Korean term per glossary entry,
.md/.ipynb twins in sync, one profile cell, exercise and solution cells tagged.

Fast: nothing is executed here (``test_book_notebooks_execute.py`` runs the notebooks).
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import jupytext
import pytest

from bertnli.book.prose import fields_of, template_of

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
GLOSSARY = ROOT / "book" / "glossary.md"
CHAPTERS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.md"))
LANGS = ("lang-en", "lang-ko")
HANGUL = re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7a3]")

# English forms that count as a use of a glossary term, when not just the term itself
# (each form also matches with any word ending: "token" matches "tokens", "tokenized").
EXTRA_FORMS = {
    "corpus": ["corpora"],
    "development set": ["dev set"],
    "entailment": ["entail"],
    "fine-tuning": ["fine-tun"],
    "hypothesis": ["hypothes"],
    "overfitting": ["overfit"],
    "padding": ["pad"],
    "pretraining": ["pretrain", "pre-train"],
    "truncation": ["truncat"],
    "vocabulary": ["vocabular"],
}

# Korean renderings this book does not use, per glossary term. A Korean cell containing
# one (outside the glossary's own term) fails, whatever its English partner says.
COMPETING = {
    "accuracy": ["정답률"],
    "attention": ["주의 집중", "주의집중"],
    "block": ["블럭"],
    "bucket": ["양동이"],
    "checkpoint": ["검사점", "체크 포인트"],
    "classifier": ["분류자"],
    "confusion matrix": ["혼동행렬", "오차 행렬", "오차행렬"],
    "contradiction": ["상충"],
    "corpus": ["코퍼스"],
    "dropout": ["드랍아웃", "드롭 아웃"],
    "dynamic padding": ["동적패딩"],
    "encoder": ["부호기"],
    "entailment": ["수반"],
    "epoch": ["에포크", "에퐄", "에폭크"],
    "exercise": ["연습문제"],
    "fine-tuning": ["미세조정", "파인튜닝", "파인 튜닝"],
    "gradient": ["그라디언트", "그레이디언트", "기울기"],
    "hyperparameter": ["하이퍼 파라미터", "초매개변수"],
    "hypothesis": ["가설문", "가정문"],
    "label": ["라벨"],
    "learning rate": ["학습 속도", "학습율", "러닝 레이트"],
    "logit": ["로지트"],
    "loss": ["로스"],
    "masked language model": ["마스크드 언어 모델", "마스킹 언어 모델", "마스크 언어모델"],
    "mixed precision": ["혼합정밀도", "혼합 정밀"],
    "natural language inference": ["자연어추론", "자연 언어 추론", "자연언어 추론"],
    "optimizer": ["최적화기", "옵티마이져"],
    "overfitting": ["과대적합", "오버피팅"],
    "parameter": ["매개변수"],
    "pretraining": ["사전학습", "사전 훈련", "사전훈련", "프리트레이닝"],
    "premise": ["전제문"],
    "rendezvous": ["랑데뷰"],
    "segment": ["분절"],
    "softmax": ["소프트 맥스"],
    "special token": ["스페셜 토큰", "특별 토큰"],
    "test set": ["테스트 셋", "시험 세트", "테스트 집합"],
    "throughput": ["스루풋"],
    "training": ["훈련"],
    "training set": ["학습 셋", "학습 집합"],
    "truncation": ["트렁케이션", "잘라내기"],
    "vocabulary": ["단어장", "단어 사전", "어휘집", "어휘 사전"],
}

PROFILE_BRANCH = re.compile(r"\bif\b[^\n]*\bprofile\b|\bis_sample\b|\bprofile\.\w+\s*[!=]=")


# ----------------------------------------------------------------------------- helpers


def _read(path: Path):
    return jupytext.read(path)


def _tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def _lang(cell) -> str | None:
    found = [t for t in _tags(cell) if t in LANGS]
    return found[0] if len(found) == 1 else None


def _prose(cell) -> str:
    """A prose cell's text: a Markdown cell's source, or the paragraph a code cell says
    (``say(f\"\"\"...\"\"\")``, bertnli.book.prose), with its ``{...}`` fields as written."""
    if cell.cell_type == "code":
        return template_of(cell.source) or ""
    return cell.source


def _prose_pairs(nb) -> list[tuple[str, str]]:
    cells = nb.cells
    return [
        (_prose(cells[i]), _prose(cells[i + 1]))
        for i in range(len(cells) - 1)
        if _lang(cells[i]) == "lang-en" and _lang(cells[i + 1]) == "lang-ko"
    ]


def _without_code(markdown: str) -> str:
    """Prose only: fenced blocks and inline code are identifiers and commands, not terms."""
    text = re.sub(r"```.*?```", " ", markdown, flags=re.S)
    return re.sub(r"`[^`\n]*`", " ", text)


def _glossary() -> dict[str, str]:
    """English term -> Korean term, from the glossary page's table."""
    terms = {}
    for line in GLOSSARY.read_text(encoding="utf-8").splitlines():
        cols = [c.strip() for c in line.strip().strip("|").split("|")]
        if (
            len(cols) >= 3
            and line.lstrip().startswith("|")
            and cols[0] not in ("English", "")
            and not set(cols[0]) <= set("-: ")
        ):
            terms[cols[0]] = cols[1]
    return terms


def _english_pattern(term: str) -> re.Pattern:
    forms = [term, *EXTRA_FORMS.get(term, [])]
    alternatives = "|".join(re.escape(f).replace(r"\ ", r"\s+") for f in forms)
    return re.compile(rf"(?<![\w-])(?:{alternatives})\w*", re.IGNORECASE)


def _competitors_in(text: str, term: str, korean: str) -> list[str]:
    rest = text.replace(korean, " ")  # "혼합 정밀" must not flag "혼합 정밀도"
    return [c for c in COMPETING.get(term, []) if c in rest]


def _code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def _by_tag(nb, tag: str):
    return [c for c in nb.cells if tag in _tags(c)]


def _defined_names(source: str) -> set[str]:
    names = set()
    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return names


ids = [p.stem for p in CHAPTERS]


# ----------------------------------------------------------------------------- the set of chapters


def test_six_chapters_and_a_glossary():
    assert [p.stem for p in CHAPTERS] == [
        "01_pretrained_bert",
        "02_snli_dataset",
        "03_fine_tuning",
        "04_exercise_truncation",
        "05_exercise_bert_base",
        "06_korean_nli",
    ]
    assert len(_glossary()) >= 30


# ----------------------------------------------------------------------------- both languages

TITLE = re.compile(r"# (?P<en>[^\n·]+?) · (?P<ko>[^\n·]+)")


@pytest.mark.parametrize("path", CHAPTERS, ids=ids)
def test_chapter_opens_with_one_bilingual_title(path):
    """One title cell, "# 3. Fine-tuning · 3. 미세 조정", untagged: the page has one top-level
    section (one entry in the site's navigation), and the language switch shows its half."""
    cells = _read(path).cells
    first = cells[0]
    assert first.cell_type == "markdown" and not _tags(first), (
        f"{path.name}: the first cell is not an untagged title"
    )
    title = TITLE.fullmatch(first.source.strip())
    assert title, (
        f"{path.name}: the first cell must be one line '# English · 한국어', not {first.source[:80]!r}"
    )
    assert not HANGUL.search(title["en"]) and HANGUL.search(title["ko"]), title.group(0)
    others = [
        c.source
        for c in cells[1:]
        if c.cell_type == "markdown" and re.search(r"^# ", _without_code(c.source), flags=re.M)
    ]
    assert not others, f"{path.name}: a second top-level heading: {others[0][:60]!r}"


@pytest.mark.parametrize("path", CHAPTERS, ids=ids)
def test_every_prose_cell_is_tagged_with_one_language(path):
    for i, cell in enumerate(_read(path).cells):
        if i == 0:
            continue  # the bilingual title (test_chapter_opens_with_one_bilingual_title)
        if cell.cell_type == "markdown":
            assert _lang(cell), (
                f"{path.name}, cell {i}: markdown cell without exactly one of {LANGS}: "
                f"{cell.source[:60]!r}"
            )
        elif set(_tags(cell)) & set(LANGS):
            # Prose that states a computed figure: a code cell whose output is the paragraph.
            assert (
                _lang(cell)
                and template_of(cell.source) is not None
                and "remove-input" in _tags(cell)
            ), (
                f"{path.name}, cell {i}: a code cell with a language tag must be prose: tagged remove-input and "
                f'ending in say(f"""...""") (bertnli.book.prose), not {cell.source[:60]!r}'
            )


@pytest.mark.parametrize("path", CHAPTERS, ids=ids)
def test_prose_cells_come_in_english_korean_pairs(path):
    cells = _read(path).cells
    for i, cell in enumerate(cells):
        lang = _lang(cell)
        if lang == "lang-en":
            assert i + 1 < len(cells) and _lang(cells[i + 1]) == "lang-ko", (
                f"{path.name}, cell {i}: English cell not followed by its Korean partner: {cell.source[:60]!r}"
            )
        elif lang == "lang-ko":
            assert i > 0 and _lang(cells[i - 1]) == "lang-en", (
                f"{path.name}, cell {i}: Korean cell without an English cell just before it: {cell.source[:60]!r}"
            )


@pytest.mark.parametrize("path", CHAPTERS, ids=ids)
def test_korean_cells_have_hangul_and_english_cells_have_none(path):
    for i, cell in enumerate(_read(path).cells):
        text = _prose(cell)
        if _lang(cell) == "lang-ko":
            assert HANGUL.search(text), f"{path.name}, cell {i}: Korean cell without Hangul"
        elif _lang(cell) == "lang-en":
            found = HANGUL.search(text)
            assert not found, (
                f"{path.name}, cell {i}: English cell contains Hangul near {text[max(0, found.start() - 30) : found.end() + 10]!r}"
            )


@pytest.mark.parametrize("path", CHAPTERS, ids=ids)
def test_partners_have_the_same_headings_structure(path):
    """Both languages give the page the same outline (the site's table of contents)."""
    for en, ko in _prose_pairs(_read(path)):
        levels = lambda s: [len(m) for m in re.findall(r"^(#+) ", _without_code(s), flags=re.M)]  # noqa: E731
        assert levels(en) == levels(ko), (
            f"{path.name}: headings differ between\n{en[:80]!r}\nand\n{ko[:80]!r}"
        )


# MyST that only the book build fills in; JupyterLab, Notebook 7, VS Code and Colab show it as typed:
# a substitution {{ x }}, a role {glue:text}`x` / {eval}`x` / {ref}`x`, a directive or ::: fence.
RAW_MARKUP = re.compile(
    r"\{\{.*?\}\}|\{[a-zA-Z][\w:.-]*\}`|^[ \t]*(?:```|~~~)[ \t]*\{|^[ \t]*:::", flags=re.M | re.S
)


@pytest.mark.parametrize(
    "path", [*CHAPTERS, *(p.with_suffix(".ipynb") for p in CHAPTERS)], ids=lambda p: p.name
)
def test_no_markdown_cell_holds_markup_a_plain_notebook_shows_raw(path):
    """A figure in the prose is a code cell's output (bertnli.book.prose.say), which every notebook
    front end renders; a role or substitution would reach a Colab reader as raw text."""
    raw = [
        (i, m.group(0))
        for i, cell in enumerate(_read(path).cells)
        if cell.cell_type == "markdown"
        for m in RAW_MARKUP.finditer(cell.source)
    ]
    assert not raw, (
        f"{path.name}: markdown cells show raw MyST in Jupyter/Colab: {raw[:5]}; state a computed "
        'figure with a lang-tagged code cell say(f"""...""") (bertnli.book.prose) instead'
    )


def test_the_raw_markup_pattern_catches_what_notebooks_show_raw():
    for raw in (
        "{glue:text}`share:.1%`",
        "{glue}`fig`",
        "{eval}`x`",
        "{{ profiles.laptop.epochs }}",
        "```{note}\nhi\n```",
        ":::{tip}\nhi\n:::",
        "{ref}`chapter-3`",
    ):
        assert RAW_MARKUP.search(raw), raw
    for fine in ("a set {1, 2}", "`code`", "```python\nx = {1: 2}\n```", "**bold** and *emphasis*"):
        assert not RAW_MARKUP.search(fine), fine


@pytest.mark.parametrize("path", CHAPTERS, ids=ids)
def test_both_languages_state_the_same_computed_figures(path):
    """An English paragraph that states computed figures has a Korean partner that states the same
    ones (the same expressions, in any order); each is a valid Python expression."""
    problems = []
    cells = _read(path).cells
    for i in range(len(cells) - 1):
        en, ko = cells[i], cells[i + 1]
        if _lang(en) != "lang-en" or _lang(ko) != "lang-ko":
            continue
        if (en.cell_type == "code") != (ko.cell_type == "code"):
            problems.append(f"cell {i}: a {en.cell_type} cell's partner is a {ko.cell_type} cell")
            continue
        if en.cell_type != "code":
            continue
        en_fields, ko_fields = fields_of(_prose(en)), fields_of(_prose(ko))
        if not en_fields:
            problems.append(
                f"cell {i}: a say() cell that states no computed figure: make it a markdown cell"
            )
        if sorted(en_fields) != sorted(ko_fields):
            problems.append(
                f"cell {i}: English states {sorted(en_fields)}, Korean {sorted(ko_fields)}"
            )
        for field in en_fields + ko_fields:
            compile(field, f"{path.name} cell {i}", "eval")  # a SyntaxError names the field
    assert not problems, f"{path.name}:\n" + "\n".join(problems)


@pytest.mark.parametrize("path", CHAPTERS, ids=ids)
def test_glossary_terms_are_translated_consistently(path):
    """The Korean partner uses the glossary's term, bare: an English gloss is added only at a
    term's first use in the chapter, and never after a loanword (tests/test_book_style_ko.py)."""
    glossary = _glossary()
    problems = []
    for en, ko in _prose_pairs(_read(path)):
        en_text, ko_text = _without_code(en), _without_code(ko)
        for term, korean in glossary.items():
            if _english_pattern(term).search(en_text) and korean not in ko_text:
                problems.append(
                    f"'{term}' in English but no '{korean}' in its Korean partner: {ko[:70]!r}"
                )
    assert not problems, f"{path.name}:\n" + "\n".join(problems)


@pytest.mark.parametrize("path", CHAPTERS, ids=ids)
def test_no_competing_korean_renderings(path):
    glossary = _glossary()
    problems = []
    for i, cell in enumerate(_read(path).cells):
        if _lang(cell) == "lang-ko":
            text = _without_code(_prose(cell))
            for term, korean in glossary.items():
                for other in _competitors_in(text, term, korean):
                    problems.append(
                        f"cell {i}: '{other}' for '{term}'; the glossary's term is '{korean}'"
                    )
    assert not problems, f"{path.name}:\n" + "\n".join(problems)


def test_the_glossary_covers_the_competing_lists_and_checks_work():
    glossary = _glossary()
    assert set(COMPETING) <= set(glossary), sorted(set(COMPETING) - set(glossary))
    assert set(EXTRA_FORMS) <= set(glossary)
    assert _english_pattern("fine-tuning").search("we fine-tuned it")
    assert _english_pattern("token").search("Tokens and tokenized text")
    assert not _english_pattern("parameter").search("hyperparameters")
    assert not _english_pattern("padding").search("unpadded storage")
    assert _competitors_in("혼합 정밀도를 씁니다", "mixed precision", "혼합 정밀도") == []
    assert _competitors_in("파인튜닝합니다", "fine-tuning", "미세 조정") == ["파인튜닝"]
    assert _without_code("use `fine-tune` here") == "use   here"


# ----------------------------------------------------------------------------- paired files


def _sync_tool():
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "sync_notebooks", ROOT / "tools" / "sync_notebooks.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("path", CHAPTERS, ids=ids)
def test_markdown_and_ipynb_twins_are_in_sync(path):
    """The tracked .ipynb (Colab, the site's download) is exactly what tools/sync_notebooks.py writes."""
    twin = path.with_suffix(".ipynb")
    assert twin.exists(), f"{twin.name} is missing: run `make notebooks`"
    md, ipynb = _read(path), _read(twin)
    summary = lambda nb: [(c.cell_type, c.source, _tags(c)) for c in nb.cells]  # noqa: E731
    assert summary(md) == summary(ipynb), (
        f"{path.name} and {twin.name} differ: run `make notebooks`"
    )
    assert twin.read_text(encoding="utf-8") == _sync_tool().tracked_notebook(path, twin), (
        f"{twin.name} is out of date: run `make notebooks`"
    )
    raw = json.loads(twin.read_text(encoding="utf-8"))
    assert "jupytext" not in raw["metadata"], f"{twin.name} must not pair itself with the .md"
    # Readers open the .md in Jupyter; jupytext keeps its outputs in the git-ignored outputs/ folder.
    assert md.metadata["jupytext"]["formats"] == "md:myst,outputs//ipynb"
    assert md.metadata["kernelspec"]["name"] == "python3"
    assert "jupytext_version" not in path.read_text(encoding="utf-8").split("\n---", 1)[0]
    assert "notebooks/outputs/" in (ROOT / ".gitignore").read_text().split()


@pytest.mark.parametrize("path", CHAPTERS, ids=ids)
def test_ipynb_is_stored_without_outputs(path):
    raw = json.loads(path.with_suffix(".ipynb").read_text(encoding="utf-8"))
    for cell in raw["cells"]:
        if cell["cell_type"] == "code":
            assert cell.get("outputs") == [] and cell.get("execution_count") is None, (
                f"{path.stem}.ipynb is stored with outputs; clear them (the book build executes the notebooks)"
            )


def test_cells_the_site_shows_without_source_are_folded_in_jupyterlab():
    """A say(...) cell's sentence reads in JupyterLab without its code above it (folded source)."""
    hidden = [
        (path.stem, cell)
        for path in CHAPTERS
        for cell in json.loads(path.with_suffix(".ipynb").read_text(encoding="utf-8"))["cells"]
        if "remove-input" in cell.get("metadata", {}).get("tags", [])
    ]
    assert hidden, "no chapter has a remove-input cell to check"
    for stem, cell in hidden:
        assert cell["metadata"].get("jupyter", {}).get("source_hidden") is True, (
            f"{stem}.ipynb: a remove-input cell is not folded; run `make notebooks`"
        )


# ----------------------------------------------------------------------------- profiles


@pytest.mark.parametrize("path", CHAPTERS, ids=ids)
def test_first_code_cell_installs_bertnli_from_the_books_branch(path):
    """Colab has no bertnli: the first cell installs the book's branch of it, and only then."""
    import tomllib

    import yaml

    import bertnli

    first = _code_cells(_read(path))[0]
    assert "install-bertnli" in _tags(first), (
        f"{path.name}: the first code cell must be the install cell"
    )
    branch = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["branch"]
    assert f'BOOK_REVISION = "{branch}"' in first.source, (
        f"{path.name}: install cell not at branch {branch}"
    )
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert bertnli.__version__ == version
    assert 'find_spec("bertnli") is None' in first.source
    assert first.source == _code_cells(_read(CHAPTERS[0]))[0].source, (
        "one install cell, the same in every chapter"
    )


@pytest.mark.parametrize("path", CHAPTERS, ids=ids)
def test_second_code_cell_picks_the_profile(path):
    first = _code_cells(_read(path))[1].source
    assert "from bertnli import get_profile" in first
    assert re.search(r"^profile = get_profile\(announce=True\)$", first, flags=re.M)


@pytest.mark.parametrize("path", CHAPTERS, ids=ids)
def test_no_profile_branches_after_the_first_cell(path):
    for cell in _code_cells(_read(path))[2:]:
        found = PROFILE_BRANCH.search(cell.source)
        assert not found, (
            f"{path.name}: profile-dependent code outside the first cell: {found.group(0)!r}; "
            "derive settings from `profile` fields instead"
        )
        assert "get_profile(" not in cell.source


def test_the_branch_pattern_catches_branches():
    assert PROFILE_BRANCH.search("if profile.is_sample:")
    assert PROFILE_BRANCH.search("x = 1 if profile.name == 'full' else 2")
    assert not PROFILE_BRANCH.search("load_pretrained(profile.model)")


# ----------------------------------------------------------------------------- exercises


@pytest.mark.parametrize("path", CHAPTERS, ids=ids)
def test_solution_cells_are_tagged_hidden_and_follow_a_starter(path):
    nb = _read(path)
    for i, cell in enumerate(nb.cells):
        tags = _tags(cell)
        if "solution" in tags:
            assert cell.cell_type == "code" and "hide-cell" in tags, (
                f"{path.name}, cell {i}: tag solutions hide-cell"
            )
            assert cell.metadata.get("jupyter", {}).get("source_hidden") is True, (
                f"{path.name}, cell {i}: a solution is collapsed in Jupyter too (jupyter: source_hidden: true)"
            )
            starters = [c for c in nb.cells[:i] if "exercise" in _tags(c)]
            assert starters, (
                f"{path.name}, cell {i}: a solution without an `exercise` starter before it"
            )
            assert _defined_names(starters[-1].source) == _defined_names(cell.source), (
                f"{path.name}: the starter and the solution must define the same names"
            )
        if "exercise" in tags:
            assert cell.cell_type == "code" and "solution" not in tags
            assert any("solution" in _tags(c) for c in nb.cells[i + 1 :]), (
                f"{path.name}, cell {i}: no solution"
            )


@pytest.mark.parametrize(
    "name", ["04_exercise_truncation", "05_exercise_bert_base", "06_korean_nli"]
)
def test_exercise_chapters_have_starter_and_solution(name):
    nb = _read(NOTEBOOKS / f"{name}.md")
    assert len(_by_tag(nb, "exercise")) == 1 and len(_by_tag(nb, "solution")) == 1


# ----------------------------------------------------------------------------- table headers


def _markdown_tables(text: str) -> list[list[str]]:
    """The header row of every Markdown table in ``text``."""
    lines = text.splitlines()
    return [
        [c.strip() for c in line.strip().strip("|").split("|")]
        for i, line in enumerate(lines[:-1])
        if line.lstrip().startswith("|")
        and re.fullmatch(r"\s*\|?[\s:|-]+\|?\s*", lines[i + 1])
        and "-" in lines[i + 1]
    ]


@pytest.mark.parametrize("path", CHAPTERS, ids=ids)
def test_no_table_header_is_ambiguous_in_either_language(path):
    """Every table of the chapter's prose (English and Korean cells) names each column once; the
    tables its code draws are checked by show_table itself whenever a chapter runs."""
    from bertnli.book.plots import header_problems

    problems = [
        f"cell {i}: {header}: {'; '.join(header_problems(header))}"
        for i, cell in enumerate(_read(path).cells)
        if _lang(cell)
        for header in _markdown_tables(_prose(cell))
        if header_problems(header)
    ]
    assert not problems, f"{path.name}:\n" + "\n".join(problems)


def test_header_checks_find_what_a_reader_of_one_language_cannot_tell_apart():
    from bertnli.book.plots import header_halves, header_problems, show_table

    assert header_halves(["max_len", "pairs cut · 잘린 쌍", "a · b"]) == (
        ["max_len", "pairs cut", "a · b"],
        ["max_len", "잘린 쌍", "a · b"],
    )
    assert header_problems(
        ["part · 부분", "bert.small (estimate · 추정치)", "bert.base (estimate · 추정치)"]
    ) == [
        "English header has unbalanced parentheses in ['bert.small (estimate', 'bert.base (estimate']",
        "Korean header repeats ['추정치)']",
        "Korean header has unbalanced parentheses in ['추정치)', '추정치)']",
    ]
    assert header_problems(["longest_first input · 입력", "proportional input · 입력"]) == [
        "Korean header repeats ['입력']"
    ]
    assert header_problems(["a · 가", "a · 나"]) == ["English header repeats ['a']"]
    assert not header_problems(
        ["bert.small, estimate · bert.small 추정치", "bert.base, estimate · bert.base 추정치"]
    )
    assert _markdown_tables("| 전제 | 가설 |\n|---|---|\n| a | b |") == [["전제", "가설"]]
    with pytest.raises(
        ValueError,
        match=r"show_table: the header .* is ambiguous: Korean header repeats \['입력'\]",
    ):
        show_table(["x input · 입력", "y input · 입력"], [[1, 2]])


BARE_FIGURE = re.compile(
    r"\(\{[^{}]*\}\)"
)  # "(63%)": a figure alone in parentheses does not say of what


@pytest.mark.parametrize("path", CHAPTERS, ids=ids)
def test_a_stated_figure_says_what_it_measures(path):
    """A computed figure stands in a phrase that names it ("down to 63% of the slots"), never
    alone in parentheses after a claim, where a reader cannot tell what it is a share of."""
    bare = [
        (i, m.group(0))
        for i, cell in enumerate(_read(path).cells)
        if cell.cell_type == "code" and _lang(cell)
        for m in BARE_FIGURE.finditer(_prose(cell))
    ]
    assert not bare, f"{path.name}: figures alone in parentheses: {bare}"
    assert BARE_FIGURE.search("helps a lot already ({pad_share_dynamic:.0%}), because")
    assert not BARE_FIGURE.search("(here {pad_share_fixed:.0%} of the token slots)")


@pytest.mark.usefixtures(
    "clean_run_env"
)  # conftest.py (as in test_run_profiles.py, where these began)
def test_chapter_4_trains_with_a_progress_bar_like_chapter_3():
    """Issue 21, item 8: chapter 4's two runs passed progress=False, so a reader watched a silent
    cell for minutes; now its finetune_job call leaves the bar to the same rule as chapter 3's
    fine_tune (on in a notebook, off in the book build through TQDM_DISABLE)."""
    import ast

    def training_calls(chapter: str, function: str) -> list[ast.Call]:
        text = (ROOT / "notebooks" / chapter).read_text(encoding="utf-8")
        cells = re.findall(r"```\{code-cell\} ipython3\n(?:---\n.*?\n---\n)?(.*?)```", text, re.S)
        code = "\n".join(
            "\n".join(line for line in cell.splitlines() if not line.startswith((":", "%", "!")))
            for cell in cells
        )
        return [
            node
            for node in ast.walk(ast.parse(code))
            if isinstance(node, ast.Call)
            and getattr(node.func, "id", getattr(node.func, "attr", None)) == function
        ]

    def progress_of(call: ast.Call):
        return next((ast.literal_eval(k.value) for k in call.keywords if k.arg == "progress"), None)

    chapter3, chapter4 = (
        training_calls("03_fine_tuning.md", "fine_tune"),
        training_calls("04_exercise_truncation.md", "finetune_job"),
    )
    assert chapter3 and chapter4
    assert {progress_of(c) for c in chapter4} == {progress_of(c) for c in chapter3} == {None}
