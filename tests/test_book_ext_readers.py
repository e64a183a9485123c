"""The book's Sphinx extensions for readers, without building the book.

``koreansearch``: Hangul terms of the search index also under their stem (가설은 -> 가설).
``hangulfigures``: a glyph message in a cell's output is found and fails a real (tiny)
``sphinx-build -W``; a new figure font clears the execution cache (so figures are drawn
again), the same font keeps it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))
import hangulfigures  # noqa: E402
import koreansearch  # noqa: E402

sys.path.pop(0)


@pytest.mark.parametrize(
    "term, expected",
    [
        ("가설은", "가설"),
        ("가설에게", "가설"),
        ("가설에게서", "가설"),
        ("모델이", "모델"),
        ("토큰을", "토큰"),
        ("문장으로", "문장"),
        ("가설", None),
        ("수가", None),
        ("premise", None),
        ("가설s", None),
    ],
)
def test_stem_strips_one_trailing_particle(term, expected):
    assert koreansearch.stem(term) == expected


def test_stems_join_the_pages_of_every_inflected_form():
    terms = {"가설은": 0, "가설에게": [1, 2], "가설": 3, "전제를": 4, "premise": [0, 4]}
    assert koreansearch.add_stems(terms) == 1  # 전제 is new; 가설 existed
    assert terms["가설"] == [0, 1, 2, 3]
    assert terms["전제"] == 4
    assert terms["가설은"] == 0 and terms["premise"] == [0, 4]  # the forms themselves stay


def test_index_stems_rewrites_sphinx_searchindex(tmp_path):
    index = {
        "docnames": ["a", "b"],
        "terms": {"가설은": 0, "가설에게": 1},
        "titleterms": {"모델의": 1},
    }
    path = tmp_path / "searchindex.js"
    path.write_text(
        "Search.setIndex(" + json.dumps(index, ensure_ascii=False) + ")", encoding="utf-8"
    )
    assert koreansearch.index_stems(path) == 2
    text = path.read_text(encoding="utf-8")
    assert text.startswith("Search.setIndex(") and text.endswith(")")
    data = json.loads(text[len("Search.setIndex(") : -1])
    assert data["terms"]["가설"] == [0, 1] and data["titleterms"]["모델"] == 1
    assert koreansearch.index_stems(path) == 0  # idempotent: a rebuild reloads the stems it wrote
    path.write_text("var index = {}", encoding="utf-8")
    with pytest.raises(ValueError, match="Search.setIndex"):
        koreansearch.index_stems(path)


def test_missing_glyph_messages_are_found_in_outputs_only():
    from docutils import nodes

    doc = nodes.container()
    doc += nodes.literal_block(
        "",
        "UserWarning: Glyph 54217 (\\N{HANGUL SYLLABLE HAG}) missing from font(s) DejaVu Sans.",
        classes=["output", "stderr"],
    )
    doc += nodes.literal_block("", "print('Glyph 1 is missing from font')", classes=["cell_input"])
    found = hangulfigures.missing_glyph_messages(doc)
    assert len(found) == 1 and "54217" in found[0]
    assert hangulfigures.missing_glyph_messages(nodes.container()) == []


def test_a_new_figure_font_clears_the_execution_cache(tmp_path):
    from jupyter_cache import get_cache

    cache = tmp_path / "_build" / ".jupyter_cache"
    get_cache(cache).list_cache_records()  # creates the cache folder and its database
    (cache / "marker").write_text("drawn with the old font")
    # A cache from before the stamp existed: its figures' font is unknown, so it goes.
    assert hangulfigures.refresh_cache(cache, "bundled:NanumGothic:/x.ttf:1") is True
    assert not (cache / "marker").exists()
    get_cache(cache).list_cache_records()
    (cache / "marker").write_text("drawn with NanumGothic")
    assert (
        hangulfigures.refresh_cache(cache, "bundled:NanumGothic:/x.ttf:1") is False
    )  # same font: kept
    assert (cache / "marker").exists()
    assert (
        hangulfigures.refresh_cache(cache, "system:Noto Sans CJK KR:/y.ttc:2") is True
    )  # a new font
    assert not (cache / "marker").exists()
    assert (
        tmp_path / "_build" / hangulfigures.STAMP_FILE
    ).read_text().strip() == "system:Noto Sans CJK KR:/y.ttc:2"


def _sphinx_build(tmp_path: Path, outputs: list[dict]) -> subprocess.CompletedProcess:
    """`sphinx-build -W` of one stored notebook (not executed) with myst-nb and hangulfigures."""

    import nbformat

    src = tmp_path / "src"
    src.mkdir()
    nb = nbformat.v4.new_notebook(
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        }
    )
    cell = nbformat.v4.new_code_cell("ax.set_title('혼동 행렬')")
    cell.outputs = [nbformat.from_dict(o) for o in outputs]
    nb.cells = [nbformat.v4.new_markdown_cell("# Figure"), cell]
    nbformat.write(nb, src / "index.ipynb")
    (src / "conf.py").write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(ROOT / 'book' / '_ext')!r})\n"
        "extensions = ['myst_nb', 'hangulfigures']\n"
        "nb_execution_mode = 'off'\n",
        encoding="utf-8",
    )
    sphinx = Path(sys.executable).with_name("sphinx-build")
    return subprocess.run(
        [str(sphinx), "-W", "-q", "-b", "html", str(src), str(tmp_path / "out" / "html")],
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow
def test_a_figure_drawn_with_missing_glyphs_fails_the_build(tmp_path):
    """What a kernel records when the inline backend fails to draw Hangul (the cell itself "succeeds")."""
    error = {
        "output_type": "error",
        "ename": "UserWarning",
        "evalue": "Glyph 54844 (\\N{HANGUL SYLLABLE HON}) missing from font(s) DejaVu Sans.",
        "traceback": [
            "UserWarning: Glyph 54844 (\\N{HANGUL SYLLABLE HON}) missing from font(s) DejaVu Sans."
        ],
    }
    run = _sphinx_build(tmp_path, [error])
    assert run.returncode != 0, "a figure with missing glyphs passed the build"
    assert "glyphs missing from its font" in run.stderr, run.stderr[-2000:]
    stamp = (tmp_path / "out" / hangulfigures.STAMP_FILE).read_text().strip()
    assert stamp != "none"


@pytest.mark.slow
def test_a_figure_with_its_glyphs_passes_the_build(tmp_path):
    ok = {"output_type": "stream", "name": "stdout", "text": "drawn\n"}
    run = _sphinx_build(tmp_path, [ok])
    assert run.returncode == 0, run.stderr[-2000:]
