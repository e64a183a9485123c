"""Carry the ``lang-en`` / ``lang-ko`` tags of notebook markdown cells into the HTML.

Why: the site's language switch (``book/_static/lang.js``) hides prose by CSS class.
myst-nb turns a *code* cell's tags into classes (``tag_lang-en``) but renders a
*markdown* cell without any wrapper, because a wrapper would break the section
structure, and it offers no hook for markdown cells (its own source says so). So we wrap
myst-nb's markdown-cell renderer: every node the cell adds gets ``tag_<tag>`` for each of
its ``lang-*`` tags. A section the cell opens is not marked (the following cells land
inside it), only the cell's own nodes in it: its title and its paragraphs.

This is a patch of myst-nb's internals (``MditRenderMixin.render_nb_cell_markdown``),
written for myst-nb 1.1 to 1.4 (pinned in pyproject's ``book`` extra). Should a myst-nb
release drop or rename that method, the build stops with a message saying so.
Chapter titles are bilingual in the notebooks themselves ("# 3. Fine-tuning · 3. 미세 조정",
one untagged cell), so nothing here touches titles.

Prose that states a computed number is a *code* cell tagged ``lang-en`` / ``lang-ko`` and
``remove-input`` whose output is the paragraph (``bertnli.book.prose.say``). myst-nb marks the cell's
container ``tag_lang-en``, but the site's stylesheet never hides a code cell (``.cell``), only
prose; so ``mark_prose_outputs`` gives the language mark to the children of such a cell (its
output), which the language switch then hides like any prose. That uses only docutils nodes and
Sphinx's ``doctree-read`` event, no myst-nb internals.
"""

from __future__ import annotations

import inspect
from importlib.metadata import version
from typing import Any

from docutils import nodes
from sphinx.errors import ExtensionError

PREFIX = "lang-"
PATCHED = "myst_nb.core.render.MditRenderMixin.render_nb_cell_markdown"
TESTED = "myst-nb >=1.1,<1.5"


def _lang_tags(token: Any) -> list[str]:
    tags = (token.meta or {}).get("metadata", {}).get("tags", []) or []
    return [f"tag_{t}" for t in tags if isinstance(t, str) and t.startswith(PREFIX)]


def _mark_new_nodes(document: nodes.document, before: set[int], classes: list[str]) -> None:
    """Add ``classes`` to the outermost nodes created since ``before`` (sections excepted)."""
    for node in document.findall(nodes.Element):
        if id(node) in before or isinstance(node, nodes.section):
            continue
        parent = node.parent
        if (
            parent is not None
            and id(parent) not in before
            and not isinstance(parent, nodes.section)
        ):
            continue  # an ancestor made by this cell carries the mark already
        node["classes"].extend(c for c in classes if c not in node["classes"])


def _cell_lang_classes(node: nodes.Element) -> list[str]:
    classes = node.get("classes", [])
    if "cell" not in classes:
        return []
    return [c for c in classes if c.startswith("tag_" + PREFIX)]


def mark_prose_outputs(app: Any, doctree: nodes.document) -> None:
    """Give a language-tagged code cell's children (its output) the cell's language mark."""
    for cell in doctree.findall(nodes.container):
        classes = _cell_lang_classes(cell)
        for child in cell.children if classes else ():
            if isinstance(child, nodes.Element):
                child["classes"].extend(c for c in classes if c not in child["classes"])


def _renderer_class() -> type:
    """myst-nb's renderer mixin, checked to still have the method we wrap (else a clear error)."""
    where = f"book/_ext/langmarks.py wraps {PATCHED} (written for {TESTED})"
    try:
        from myst_nb.core.render import MditRenderMixin
    except ImportError as err:
        raise ExtensionError(
            f"{where}, but myst-nb {_installed()} has no such module ({err}); "
            f"install the pinned version: pip install -e '.[book]'"
        ) from err
    original = getattr(MditRenderMixin, "render_nb_cell_markdown", None)
    if original is None or list(inspect.signature(original).parameters) != ["self", "token"]:
        raise ExtensionError(
            f"{where}, but myst-nb {_installed()} no longer has that method with "
            f"(self, token); install the pinned version: pip install -e '.[book]'"
        )
    return MditRenderMixin


def _installed() -> str:
    try:
        return version("myst-nb")
    except Exception:  # not installed at all
        return "(not installed)"


def setup(app: Any) -> dict[str, Any]:
    app.connect("doctree-read", mark_prose_outputs)
    MditRenderMixin = _renderer_class()
    original = MditRenderMixin.render_nb_cell_markdown
    if getattr(original, "_bertnli_langmarks", False):
        return {
            "version": "2.0",
            "parallel_read_safe": True,
            "parallel_write_safe": True,
        }  # patched already

    def render_nb_cell_markdown(self: Any, token: Any) -> None:
        """myst-nb's markdown-cell renderer, plus the cell's language marks."""
        classes = _lang_tags(token)
        if not classes:
            return original(self, token)
        before = {id(n) for n in self.document.findall(nodes.Element)}
        original(self, token)
        _mark_new_nodes(self.document, before, classes)
        return None

    render_nb_cell_markdown._bertnli_langmarks = True
    MditRenderMixin.render_nb_cell_markdown = render_nb_cell_markdown
    return {"version": "2.0", "parallel_read_safe": True, "parallel_write_safe": True}
