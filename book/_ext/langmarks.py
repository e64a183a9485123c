"""Carry the ``lang-en`` / ``lang-ko`` tags of notebook markdown cells into the HTML.

Why: the site's language switch (``book/_static/lang.js``) hides prose by CSS class.
myst-nb turns a *code* cell's tags into classes (``tag_lang-en``) but renders a
*markdown* cell without any wrapper, because a wrapper would break the section
structure. So we wrap myst-nb's markdown-cell renderer instead: every node the cell
adds gets ``tag_<tag>`` for each of its ``lang-*`` tags. A section the cell opens is
not marked (the following cells land inside it), only the cell's own nodes in it:
its title and its paragraphs.

A chapter that opens with one title per language (``# Fine-tuning`` in a ``lang-en``
cell, ``# 미세 조정`` in a ``lang-ko`` cell) would be two top-level sections, i.e. two
entries in the navigation with everything after the Korean title filed under it. We
merge such a pair into one bilingual title, "Fine-tuning · 미세 조정", which lang.js
splits in the page, the navigation and the window title.
"""

from __future__ import annotations

from typing import Any

from docutils import nodes
from myst_nb.core.render import MditRenderMixin
from sphinx.transforms import SphinxTransform

PREFIX = "lang-"
_ORIGINAL = MditRenderMixin.render_nb_cell_markdown


def _lang_tags(token: Any) -> list[str]:
    tags = (token.meta or {}).get("metadata", {}).get("tags", []) or []
    return [f"tag_{t}" for t in tags if isinstance(t, str) and t.startswith(PREFIX)]


def _mark_new_nodes(document: nodes.document, before: set[int], classes: list[str]) -> None:
    """Add ``classes`` to the outermost nodes created since ``before`` (sections excepted)."""
    for node in document.findall(nodes.Element):
        if id(node) in before or isinstance(node, nodes.section):
            continue
        parent = node.parent
        if parent is not None and id(parent) not in before and not isinstance(parent, nodes.section):
            continue  # an ancestor made by this cell carries the mark already
        node["classes"].extend(c for c in classes if c not in node["classes"])


def render_nb_cell_markdown(self: Any, token: Any) -> None:
    """myst-nb's markdown-cell renderer, plus the cell's language marks."""
    classes = _lang_tags(token)
    if not classes:
        return _ORIGINAL(self, token)
    before = {id(n) for n in self.document.findall(nodes.Element)}
    _ORIGINAL(self, token)
    _mark_new_nodes(self.document, before, classes)
    return None


def _title_lang(section: nodes.section) -> str | None:
    title = section.children[0] if section.children and isinstance(section.children[0], nodes.title) else None
    if title is None:
        return None
    marks = [c[len("tag_" + PREFIX):] for c in title["classes"] if c.startswith("tag_" + PREFIX)]
    return marks[0] if len(marks) == 1 else None


class MergeBilingualTitles(SphinxTransform):
    """Two top-level sections titled in English and Korean become one, titled "EN · KO"."""

    default_priority = 700  # after parsing, before the title and toctree collectors read the doctree

    def apply(self, **kwargs: Any) -> None:
        tops = [n for n in self.document.children if isinstance(n, nodes.section)]
        if len(tops) < 2 or {_title_lang(tops[0]), _title_lang(tops[1])} != {"en", "ko"}:
            return
        first, second = tops[0], tops[1]
        en, ko = (first, second) if _title_lang(first) == "en" else (second, first)
        title = nodes.title("", "", *[c.deepcopy() for c in en[0].children], nodes.Text(" · "),
                            *[c.deepcopy() for c in ko[0].children])
        # The first section keeps everything; the second gives up its title, ids and content.
        first.replace(first[0], title)
        for key in ("ids", "names"):
            first[key].extend(v for v in second[key] if v not in first[key])
        for child in list(second.children[1:]):
            second.remove(child)
            first.append(child)
        self.document.remove(second)


def setup(app: Any) -> dict[str, Any]:
    MditRenderMixin.render_nb_cell_markdown = render_nb_cell_markdown
    app.add_transform(MergeBilingualTitles)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
