"""The mechanical rules of the Korean style guide (book/style-ko.md), checked on every chapter and page.

The guide is the source of truth: the loanwords that take no gloss and the renderings this book
does not use are read from its tables, so a new decision there is enforced here at once.
Chapters' prose pairs are checked in test_book_notebooks.py; this file checks the pages' pairs,
glosses (first use only, native renderings only, never nested, never inside a word), banned
renderings (chapters, pages, figures, widgets, hints), particles after numbers, Korean comments
in code blocks of Korean cells, and American spelling in English prose.
"""

from __future__ import annotations

import re
from pathlib import Path

import jupytext
import pytest

from bertnli.book.korean import particle, wrong_particles
from bertnli.book.prose import template_of

ROOT = Path(__file__).resolve().parents[1]
STYLE = ROOT / "book" / "style-ko.md"
GLOSSARY = ROOT / "book" / "glossary.md"
CHAPTERS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.md"))
PAGES = sorted((ROOT / "book").glob("*.md"))
SOURCES = sorted((ROOT / "src" / "bertnli").glob("*.py"))
HANGUL = "가-힣"

# After a gloss's closing parenthesis only a particle may follow; these start a suffix that
# belongs to the word itself (토큰(token)화되고, 사전 학습(pretraining)된).
WORD_SUFFIX = re.compile(r"^(?:화|된|되|하|한|할|함|합|해|했|시키|시킨|적|성|들|스러)")
GLOSS = re.compile(
    rf"(?P<ko>[{HANGUL}][{HANGUL}0-9 ]*?)\*{{0,2}}\((?P<en>[A-Za-z][^()\n{HANGUL}]*)\)"
)
GLOSS_IN_PARENTHESES = re.compile(
    rf"\((?P<ko>[{HANGUL}][{HANGUL} ]*), (?P<en>[A-Za-z][A-Za-z -]*)\)"
)
NESTED = re.compile(rf"\([^()\n]*[{HANGUL}][^()\n]*\([A-Za-z][^()\n{HANGUL}]*\)[^()\n]*\)")
BRITISH = re.compile(
    r"\b(?:\w*(?:summar|recogn|memor|vector|optim|organ|normal|initial|token|util|minim|maxim|real|special|"
    r"general|visual|categor|prior|emphas|standard|serial|parallel|custom|character|synchron)is(?:e|es|ed|ing|ation|"
    r"ations|er|ers)|colour\w*|neighbour\w*|behaviour\w*|favour\w*|\w*labelled|\w*labelling|modelling|centre|"
    r"analyse[sd]?)\b",
    re.IGNORECASE,
)


# ----------------------------------------------------------------------------- reading the guide


def _table(path: Path, first_header: str) -> list[list[str]]:
    """Rows of the markdown table whose first header cell is ``first_header``."""
    rows, inside = [], False
    for line in path.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not inside:
            inside = line.lstrip().startswith("|") and cells[0] == first_header
            continue
        if not line.lstrip().startswith("|"):
            break
        if not set(cells[0]) <= set("-: "):
            rows.append(cells)
    assert rows, f"{path.name}: no table starting with '{first_header}'"
    return rows


def loanwords() -> dict[str, str]:
    """Korean loanword -> English, from the guide's list of terms that take no gloss."""
    return {row[0]: row[1] for row in _table(STYLE, "외래어 용어 (괄호 영어 없음)")}


def banned() -> dict[str, tuple[str, list[str]]]:
    """English term -> (the rendering used, the renderings banned), from the decisions table."""
    return {
        row[0]: (row[1], [b.strip() for b in row[2].split(",") if b.strip()])
        for row in _table(STYLE, "English")
    }


def glossary_korean() -> dict[str, str]:
    """Korean term -> English term, from the glossary page's table."""
    return {row[1]: row[0] for row in _table(GLOSSARY, "English")}


# ----------------------------------------------------------------------------- reading the text


def _tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def _cells(path: Path, lang: str) -> list[str]:
    """A chapter's prose in ``lang``: Markdown cells, and the paragraphs that code cells say
    (``say(f\"\"\"...\"\"\")``, bertnli.book.prose) with their ``{...}`` fields as written."""
    return [
        (template_of(c.source) or "") if c.cell_type == "code" else c.source
        for c in jupytext.read(path).cells
        if lang in _tags(c)
    ]


def _divs(path: Path, lang: str) -> list[str]:
    return re.findall(
        rf"^::::\{{div\}} {lang}\n(.*?)^::::$", path.read_text(encoding="utf-8"), flags=re.M | re.S
    )


def _prose(markdown: str) -> str:
    """Running text only: no fenced or inline code, no headings, no link targets."""
    text = re.sub(r"```.*?```", " ", markdown, flags=re.S)
    text = re.sub(r"`[^`\n]*`", " ", text)
    text = re.sub(r"\]\([^)\s]*\)", "]", text)
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))


def korean_units() -> dict[str, list[str]]:
    """Each chapter and page -> its Korean prose blocks, in reading order."""
    units = {p.stem: _cells(p, "lang-ko") for p in CHAPTERS}
    units |= {f"book/{p.stem}": _divs(p, "lang-ko") for p in PAGES}
    return units


def english_units() -> dict[str, list[str]]:
    units = {p.stem: _cells(p, "lang-en") for p in CHAPTERS}
    units |= {f"book/{p.stem}": _divs(p, "lang-en") for p in PAGES}
    units["README"] = [(ROOT / "README.md").read_text(encoding="utf-8")]
    units |= {
        f"src/{p.name}": [p.read_text(encoding="utf-8")] for p in SOURCES
    }  # docstrings, help, messages
    return units


KOREAN = korean_units()


# ----------------------------------------------------------------------------- the checks

# Hangul spellings of English words that are not terms of their own in the guide's list, but make a
# compound a loanword too: 테스트 세트(test set) repeats the English, as 체크포인트(checkpoint) would.
TRANSLITERATED = {
    "테스트",
    "세트",
    "멀티",
    "헤드",
    "셀프",
    "어텐션",
    "서브워드",
    "태그",
    "릴리스",
    "포크",
    "셋",
}


def gloss_problems(blocks: list[str], compounds: bool = True) -> list[str]:
    """Glosses that break the guide's rules, in one chapter or page (``compounds``: also a gloss
    after a compound of loanwords, 테스트 세트(test set))."""
    lw, native = loanwords(), glossary_korean()
    text = "\n\n".join(_prose(b) for b in blocks)
    problems, seen_english, seen_korean = [], {}, {}
    for m in GLOSS.finditer(text):
        ko, en = m["ko"].strip(), m["en"].strip()
        where = text[max(0, m.start() - 20) : m.end() + 8].replace("\n", " ")
        term = next(
            (k for k in sorted(native, key=len, reverse=True) if ko == k or ko.endswith(" " + k)),
            None,
        )
        loan = ko.split()[-1]
        if (
            lw.get(loan, "").lower() == en.lower()
        ):  # 패딩(padding); a compound like 동적 패딩(dynamic padding) may
            problems.append(f"loanword glossed: {loan}({en}) in {where!r}; loanwords take no gloss")
        elif (
            compounds
            and len(_gloss_words(ko)) >= 2
            and len(_gloss_words(ko)) == len(re.split(r"[\s-]+", en))
        ):
            problems.append(
                f"loanword glossed: {ko}({en}) in {where!r}; a term spelled as its English sounds takes no gloss"
            )
        of_term = term and (
            en.lower() == native[term].lower() or en.isupper()
        )  # 자연어 추론(NLI) glosses it too
        if of_term and term in seen_korean:
            problems.append(f"'{term}' glossed twice: first {seen_korean[term]!r}, again {where!r}")
        if of_term:
            seen_korean.setdefault(term, where)
        words, en_words = ko.split(), en.lower().split()
        if (
            len(en_words) > 1
            and len(words) >= len(en_words)
            and all(  # 테스트 세트(test set): every word a loanword
                lw.get(w, "").lower() == e for w, e in zip(words[-len(en_words) :], en_words)
            )
        ):
            problems.append(
                f"loanword glossed: {' '.join(words[-len(en_words) :])}({en}) in {where!r}; "
                "loanwords take no gloss"
            )
        if WORD_SUFFIX.match(text[m.end() :]):
            problems.append(
                f"gloss inside a word: {where!r}; put the gloss after the whole word, or rephrase"
            )
        key = en.lower()
        if key in seen_english:
            problems.append(f"'{en}' glossed twice: first {seen_english[key]!r}, again {where!r}")
        seen_english.setdefault(key, where)
        if (
            term and term not in lw and key.startswith(native[term].lower())
        ):  # not a name: 말뭉치(Stanford ...)
            earlier = _mask_longer(text[: m.start()], term, native)
            if re.search(re.escape(term), earlier):
                problems.append(f"gloss not at the first use of '{term}': {where!r}")
    for m in NESTED.finditer(text):
        problems.append(f"nested gloss: {m.group(0)!r}")
    for m in GLOSS_IN_PARENTHESES.finditer(text):
        problems.append(f"gloss inside a parenthesis: {m.group(0)!r}; write {m['ko']}({m['en']})")
    return problems


def _gloss_words(ko: str) -> list[str]:
    """The loanwords that end the Korean before a gloss: "멀티 헤드 셀프 어텐션" from "블록은 모두
    멀티 헤드 셀프 어텐션"; none for "동적 패딩" or "학습 세트" (a Korean word comes first)."""
    kept = []
    for word in reversed(ko.split()):
        if not (word in TRANSLITERATED or word in loanwords()):
            break
        kept.insert(0, word)
    return kept


def _mask_longer(text: str, term: str, terms) -> str:
    """Hide longer terms that contain ``term`` (학습 inside 사전 학습, 학습률, 학습 세트)."""
    for other in sorted(terms, key=len, reverse=True):
        if other != term and term in other:
            text = text.replace(other, " ")
    return text


def banned_in(text: str, exempt: str = "") -> list[str]:
    """Banned renderings, also inside a shared-noun pair: 개발·테스트 세트 holds 개발 세트."""
    found = []
    for term, (used, forms) in banned().items():
        rest = text.replace(used, " ")
        for form in forms:
            if form in exempt:
                continue
            head, _, noun = form.rpartition(" ")
            paired = head and re.search(rf"{re.escape(head)}·[{HANGUL}]+ {re.escape(noun)}", rest)
            if form in rest or paired:
                found.append(f"'{form}' for '{term}' (use '{used}')")
    return found


CODE_PARTICLE = re.compile(rf"`([^`\n]+)`(으로|로|을|를|이|가|은|는|과|와)(?![{HANGUL}])")
PAIR_OF = {
    "을": "을/를",
    "를": "을/를",
    "이": "이/가",
    "가": "이/가",
    "은": "은/는",
    "는": "은/는",
    "과": "과/와",
    "와": "과/와",
    "으로": "으로/로",
    "로": "으로/로",
}


# A number the code fills in (a ``{field}`` of a prose cell's f-string; ``{{`` is a literal brace).
GLUED_PARTICLE = re.compile(
    rf"(?<!\{{)\{{([^{{}}\n]+)\}}(?!\}})(으로|로|을|를|이|가|은|는|과|와)(?![{HANGUL}])"
)


def code_particle_problems(block: str) -> list[str]:
    """`code`+particle whose particle does not fit how the code name is read (bertnli.book.korean), and
    a varying particle after a glued number, whose final sound nobody knows when writing."""
    text = re.sub(r"```.*?```", " ", block, flags=re.S)
    prose = re.sub(
        r"`[^`\n]*`", " ", text
    )  # `f"{max_len}를"` in a code span is an example, not a field
    found = [
        f"{m.group(0)}: a glued number takes a counter or a fixed postposition (에서, 에, 의), "
        "not 을/를, 이/가 ...; or use a percent format"
        for m in GLUED_PARTICLE.finditer(prose)
        if not m[1].endswith("%")
    ]
    for m in CODE_PARTICLE.finditer(text):
        right = particle(m[1], PAIR_OF[m[2]])
        if right != m[2] and "(" not in right:
            found.append(f"`{m[1]}`{m[2]} -> `{m[1]}`{right}")
    return found


def korean_comment_problems(block: str) -> list[str]:
    """Comments in fenced code blocks of a Korean cell that have no Korean."""
    problems = []
    for code in re.findall(r"```[^\n]*\n(.*?)```", block, flags=re.S):
        for line in code.splitlines():
            comment = re.search(r"(?:^|\s)#\s*(.*)$", line)
            if (
                comment
                and comment.group(1).strip()
                and not re.search(f"[{HANGUL}]", comment.group(1))
            ):
                problems.append(line.strip())
    return problems


def shared_comment_problems(page: str) -> list[str]:
    """Comments in a page's code blocks outside the language blocks (seen in both languages) that
    have no Korean: each needs ``# English · 한국어`` or a Korean comment line right under it."""
    outside = re.sub(r"^::::\{div\} lang-(?:en|ko)\n.*?^::::$", "", page, flags=re.M | re.S)
    problems = []
    for code in re.findall(r"```[^\n]*\n(.*?)```", outside, flags=re.S):
        lines = code.splitlines()
        for i, line in enumerate(lines):
            comment = re.search(r"(?:^|\s)#\s*(.*)$", line)
            if (
                not comment
                or not comment.group(1).strip()
                or re.search(f"[{HANGUL}]", comment.group(1))
            ):
                continue
            below = lines[i + 1].strip() if i + 1 < len(lines) else ""
            if line.lstrip().startswith("#") and (
                below.startswith("#")
                and re.search(f"[{HANGUL}]", below)
                or shared_comment_continues(lines, i)
            ):
                continue
            problems.append(line.strip())
    return problems


def shared_comment_continues(lines: list[str], i: int) -> bool:
    """A full-line English comment continued on the next line(s), the Korean line under the last one."""
    j = i + 1
    while (
        j < len(lines)
        and lines[j].lstrip().startswith("#")
        and not re.search(f"[{HANGUL}]", lines[j])
    ):
        j += 1
    return j > i + 1 and j < len(lines) and lines[j].lstrip().startswith("#")


# ----------------------------------------------------------------------------- tests


@pytest.mark.parametrize("name", sorted(KOREAN))
def test_glosses_follow_the_guide(name):
    # The book pages' loanword compounds (references.md: 멀티 헤드 셀프 어텐션(...)) are the site
    # work's part of issue 19 item 7; the chapters are checked for them here.
    problems = gloss_problems(KOREAN[name], compounds=not name.startswith("book/"))
    assert not problems, f"{name}:\n" + "\n".join(problems)


@pytest.mark.parametrize("name", sorted(KOREAN))
def test_no_number_carries_a_wrong_particle(name):
    found = [w for block in KOREAN[name] for w in wrong_particles(_prose(block).replace("`", ""))]
    assert not found, f"{name}: " + "; ".join(found)


@pytest.mark.parametrize("name", sorted(KOREAN))
def test_no_code_name_carries_a_wrong_particle(name):
    found = [w for block in KOREAN[name] for w in code_particle_problems(block)]
    assert not found, f"{name}: " + "; ".join(found)


@pytest.mark.parametrize("name", sorted(KOREAN))
def test_code_comments_in_korean_cells_are_korean(name):
    found = [line for block in KOREAN[name] for line in korean_comment_problems(block)]
    assert not found, f"{name}: English comments in a Korean cell's code block:\n" + "\n".join(
        found
    )


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.stem)
def test_code_comments_both_languages_see_are_bilingual(path):
    found = shared_comment_problems(path.read_text(encoding="utf-8"))
    assert not found, (
        f"{path.name}: English-only comments in a code block both languages share:\n"
        + "\n".join(found)
    )


@pytest.mark.parametrize(
    "path", [*CHAPTERS, *PAGES, *SOURCES], ids=lambda p: str(p.relative_to(ROOT))
)
def test_no_banned_rendering(path):
    if path == STYLE:
        return  # the guide names them
    if path.suffix == ".md" and path.parent.name == "notebooks":
        nb = jupytext.read(path)
        text = "\n".join(c.source for c in nb.cells if "lang-en" not in _tags(c))
    else:
        text = path.read_text(encoding="utf-8")
    found = banned_in(text)
    assert not found, f"{path.name}: " + "; ".join(found)


@pytest.mark.parametrize("name", sorted(english_units()))
def test_english_prose_uses_american_spelling(name):
    if name == "book/style-ko":
        return
    blocks = english_units()[name]
    text = "\n".join(blocks if name.startswith("src/") else (_prose(b) for b in blocks))
    found = sorted({m.group(0) for m in BRITISH.finditer(text)})
    assert not found, (
        f"{name}: British spelling {found}; the book uses American spelling (book/style-ko.md)"
    )


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.stem)
def test_page_prose_comes_in_pairs(path):
    langs = re.findall(
        r"^::::\{div\} (lang-en|lang-ko)$", path.read_text(encoding="utf-8"), flags=re.M
    )
    pairs = [set(langs[i : i + 2]) for i in range(0, len(langs), 2)]
    bad = [i for i, pair in enumerate(pairs) if pair != {"lang-en", "lang-ko"}]
    assert not bad, (
        f"{path.name}: block pair {bad[0] + 1} is not one lang-en and one lang-ko div: {langs}"
    )


def test_the_guide_and_the_glossary_spell_each_term_alike():
    """A loanword listed in the guide and a glossary entry for the same English use one spelling."""
    by_english = {english.lower(): korean for korean, english in glossary_korean().items()}
    differ = {
        k: by_english[e.lower()]
        for k, e in loanwords().items()
        if by_english.get(e.lower(), k) != k
    }
    assert not differ, f"the guide's loanword list and the glossary disagree: {differ}"
    for term, (used, _) in banned().items():
        assert by_english.get(term.lower(), used) == used, (
            f"'{term}': the guide says '{used}', the glossary '{by_english[term.lower()]}'"
        )


def test_the_checks_catch_what_they_should():
    assert gloss_problems(["토큰(token)화되고"])  # a loanword, and inside a word
    assert gloss_problems(["사전 학습(pretraining)된 체크포인트"])
    assert gloss_problems(["미세 조정(fine-tuning)을 합니다. 미세 조정(fine-tuning)은 ..."])
    assert gloss_problems(["미세 조정을 합니다. 다시 미세 조정(fine-tuning)을 합니다"])
    assert gloss_problems(["외우기 시작한 것이고(과적합, overfitting)"])
    assert gloss_problems(["(모델이 외웁니다(overfitting))"])
    assert not gloss_problems(["미세 조정(fine-tuning)을 합니다. 미세 조정은 ..."])
    assert not gloss_problems(["사전 학습(pretraining)으로 얻은 것. 학습률(learning rate)"])
    assert banned_in("에포크마다 어휘 집합을") and not banned_in("에폭마다 어휘를")
    assert banned_in("개발·테스트 세트도") and not banned_in("검증·테스트 세트도")
    assert gloss_problems(["테스트 세트(test set)로 잽니다"]) and gloss_problems(
        ["태그(tag)로 설치"]
    )
    assert not gloss_problems(["학습 세트(training set)로 학습합니다"])
    assert shared_comment_problems("```bash\nmake venv  # create it\n```") == [
        "make venv  # create it"
    ]
    assert (
        shared_comment_problems(
            "```bash\nmake venv  # create it · 만들기\n# long English\n# 긴 한국어\nx\n```"
        )
        == []
    )
    assert (
        shared_comment_problems("::::{div} lang-en\n```bash\nx  # only English\n```\n::::\n") == []
    )
    assert korean_comment_problems("```bash\n# one GPU\npython x  # run\n```") == [
        "# one GPU",
        "python x  # run",
    ]
    assert korean_comment_problems("```bash\n# GPU 한 개\n```") == []
    assert code_particle_problems("`max_len`를 `bert.base`을") == [
        "`max_len`를 -> `max_len`을",
        "`bert.base`을 -> `bert.base`를",
    ]
    assert code_particle_problems("{n}를 보면") and not code_particle_problems("{s:.1%}를")
    assert code_particle_problems("{laptop.epochs}이 지나면") and not code_particle_problems(
        "{{literal}}를"
    )
    assert not code_particle_problems("{n}개를") and BRITISH.search("unlabelled text")
    assert gloss_problems(["나머지는 테스트 세트(test set)에 둡니다."]) and gloss_problems(
        ["블록은 멀티 헤드 셀프 어텐션(multi-head self-attention)으로"]
    )
    assert not gloss_problems(
        ["배치를 동적 패딩(dynamic padding)으로 묶고 학습 세트(training set)를 씁니다."]
    )
    twice = gloss_problems(
        ["자연어 추론(natural language inference)을 봅니다. 자연어 추론(NLI)의 입력은"]
    )
    assert any("'자연어 추론' glossed twice" in p for p in twice), twice
    assert (
        BRITISH.search("we summarise")
        and BRITISH.search("labelled data")
        and not BRITISH.search("tokenize, premise")
    )


def page_table_headers(text: str) -> list[list[str]]:
    """The header row of every markdown table of a page."""
    lines = text.splitlines()
    return [
        [c.strip() for c in line.strip().strip("|").split("|")]
        for i, line in enumerate(lines[:-1])
        if line.startswith("|")
        and re.match(r"^\|[\s:|-]+\|$", lines[i + 1])
        and (i == 0 or not lines[i - 1].startswith("|"))
    ]


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.stem)
def test_page_tables_have_distinct_headers(path):
    """A reader of either language tells every column from the others by its header (issue 19 item 6);
    on a phone each header is the label of its cell."""
    tables = page_table_headers(path.read_text(encoding="utf-8"))
    bad = [h for h in tables if len(set(h)) != len(h) or "" in h]
    assert not bad, f"{path.name}: tables with an empty or repeated header: {bad}"


def test_the_header_check_catches_a_repeat():
    assert page_table_headers("| a | b |\n|---|---|\n| 1 | 2 |\n") == [["a", "b"]]
    assert page_table_headers("| 추정치) | 추정치) |\n| --- | --- |\n")[0] == ["추정치)", "추정치)"]
