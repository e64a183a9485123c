"""The book's Sphinx extensions (book/_ext): only what has no supported way, pinned, failing loudly.

Fast: nothing is built here (the browser tests in test_book_site.py look at the built site).
"""

from __future__ import annotations

import ast
import importlib.util
import re
import sys
import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest
from docutils import nodes
from docutils.frontend import get_default_settings
from docutils.parsers.rst import Parser
from docutils.utils import new_document
from packaging.specifiers import SpecifierSet
from sphinx.errors import ExtensionError

ROOT = Path(__file__).resolve().parents[1]
EXT = ROOT / "book" / "_ext"
# The one patch of another package's internals we keep, and why: myst-nb renders a markdown
# cell without any node of its own, so nothing else can carry the cell's language tags.
ALLOWED_PATCHES = {"langmarks.py": {"MditRenderMixin.render_nb_cell_markdown"}}


def load(name: str):
    spec = importlib.util.spec_from_file_location(f"bertnli_book_ext_{name}", EXT / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def patched_attributes(path: Path) -> set[str]:
    """``X.y`` assigned at module level or in functions, where ``X`` is not a local object we own."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        targets = (
            node.targets
            if isinstance(node, ast.Assign)
            else [node.target]
            if isinstance(node, (ast.AugAssign, ast.AnnAssign))
            else []
        )
        for target in targets:
            if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name):
                found.add(f"{target.value.id}.{target.attr}")
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "setattr" and node.args:
            found.add(f"setattr({ast.unparse(node.args[0])}, ...)")
    return found


def test_the_extensions_in_use_are_the_ones_in_book_ext():
    config = (ROOT / "_config.yml").read_text()
    used = set(re.findall(r"^\s+(\w+): book/_ext", config, flags=re.M))
    assert used == {p.stem for p in EXT.glob("*.py")}, used


@pytest.mark.parametrize("path", sorted(EXT.glob("*.py")), ids=lambda p: p.name)
def test_no_patch_of_another_package_but_the_allowed_one(path):
    patches = {
        p
        for p in patched_attributes(path)
        if not p.startswith(("render_nb_cell_markdown.", "self.", "node."))
    }
    assert patches <= ALLOWED_PATCHES.get(path.name, set()), f"{path.name} patches {patches}"


def test_the_patched_package_is_pinned_to_the_versions_it_was_written_for():
    langmarks = load("langmarks")
    book = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"][
        "book"
    ]
    pin = next(d for d in book if d.startswith("myst-nb"))
    assert SpecifierSet(pin[len("myst-nb") :]) == SpecifierSet(
        langmarks.TESTED[len("myst-nb") :].replace(" ", "")
    )
    assert version("myst-nb") in SpecifierSet(pin[len("myst-nb") :]), (
        f"installed myst-nb {version('myst-nb')}, pinned {pin}"
    )


def test_a_missing_patched_method_stops_the_build_naming_the_package(monkeypatch):
    from myst_nb.core.render import MditRenderMixin

    langmarks = load("langmarks")
    assert langmarks._renderer_class() is MditRenderMixin
    monkeypatch.delattr(MditRenderMixin, "render_nb_cell_markdown")
    with pytest.raises(
        ExtensionError, match=r"myst-nb .*render_nb_cell_markdown|render_nb_cell_markdown.*myst-nb"
    ):
        langmarks._renderer_class()
    monkeypatch.setitem(sys.modules, "myst_nb.core.render", None)  # the module itself gone
    with pytest.raises(ExtensionError, match="myst-nb"):
        langmarks._renderer_class()


def test_a_changed_signature_stops_the_build_too(monkeypatch):
    from myst_nb.core.render import MditRenderMixin

    langmarks = load("langmarks")
    monkeypatch.setattr(MditRenderMixin, "render_nb_cell_markdown", lambda self, token, extra: None)
    with pytest.raises(ExtensionError, match="no longer has that method"):
        langmarks._renderer_class()


def test_language_marks_go_on_the_cells_own_nodes_not_on_its_section():
    langmarks = load("langmarks")
    doc = new_document("<test>", get_default_settings(Parser))
    intro = nodes.paragraph(text="before")
    doc += intro
    before = {id(n) for n in doc.findall(nodes.Element)}
    section = nodes.section()
    section += nodes.title(text="Title")
    para = nodes.paragraph()
    para += nodes.emphasis(text="words")
    section += para
    doc += section
    langmarks._mark_new_nodes(doc, before, ["tag_lang-ko"])
    assert "tag_lang-ko" not in section["classes"] and "tag_lang-ko" not in intro["classes"]
    assert section[0]["classes"] == ["tag_lang-ko"] and para["classes"] == ["tag_lang-ko"]
    assert para[0]["classes"] == []  # its parent carries the mark


def test_a_prose_code_cell_gives_its_output_the_language_mark():
    """A say() cell (code tagged lang-ko, remove-input): the site's stylesheet never hides a code
    cell, so its output must carry the mark for the language switch to hide it."""
    langmarks = load("langmarks")
    doc = new_document("<test>", get_default_settings(Parser))
    prose = nodes.container(classes=["cell", "tag_lang-ko", "tag_remove-input"])
    said = nodes.container(classes=["cell_output"])
    said += nodes.paragraph(text="한국어 문단")
    prose += said
    code = nodes.container(classes=["cell"])
    code_output = nodes.container(classes=["cell_output"])
    code += code_output
    doc += [prose, code]
    langmarks.mark_prose_outputs(None, doc)
    assert said["classes"] == ["cell_output", "tag_lang-ko"] and said[0]["classes"] == []
    assert code_output["classes"] == ["cell_output"], (
        "a code cell without a language tag is left alone"
    )
    assert prose["classes"] == ["cell", "tag_lang-ko", "tag_remove-input"]


def test_make_book_builds_as_the_tests_do(book_env):
    """The Makefile's book recipe sets the environment the tests build the book in."""
    makefile = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^book:.*\n((?:\t.*\n)+)", makefile, flags=re.M).group(1)
    for key, value in book_env.items():
        if key == "OMP_NUM_THREADS":
            assert "OMP_NUM_THREADS=$(BOOK_THREADS)" in recipe and re.search(
                rf"^BOOK_THREADS \?= {value}$", makefile, re.M
            )
        else:
            assert f"{key}={value}" in recipe, f"`make book` does not set {key}={value}"
    assert "-W" in recipe and "--all" in recipe


def test_tqdm_disable_turns_off_the_notebook_progress_bars(monkeypatch):
    """The book build sets TQDM_DISABLE; tqdm.notebook alone would ignore it (it passes disable=False)."""
    import tqdm.auto
    import tqdm.notebook

    from bertnli._jupyter import progress_bar

    monkeypatch.setattr(tqdm.auto, "tqdm", tqdm.notebook.tqdm)  # as inside a Jupyter kernel
    monkeypatch.setenv("TQDM_DISABLE", "1")
    bar = progress_bar(total=3, desc="epoch 1/1")
    assert isinstance(bar, tqdm.notebook.tqdm) and bar.disable
