"""Figures with Korean labels: a missing glyph fails the build, a font change re-draws them.

Why: ``bertnli.book.plots.use_hangul_font`` makes matplotlib's "Glyph ... missing from font"
an error in the notebooks, but an error raised while the inline backend draws a figure
(after the cell ran) only lands in the cell's output; the cell still "succeeds". So we
read the outputs: any message about a missing glyph is a build warning (an error under
``-W``). ``make book`` and the tests build with ``--all``, so every page is read, and
checked, on every build, cached or not.

And the execution cache (jupyter-cache) keys a notebook on its code only: figures drawn
before a Hangul font was available would be served from it forever. The font the
figures use (``bertnli.book.fonts.font_stamp``) is stored next to the cache; when it changes
(or the cache predates this stamp) the cache is cleared, so the notebooks run again.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.util import logging

from bertnli.book.fonts import GLYPH_WARNING
from bertnli.run.checkpoint import atomic_write

logger = logging.getLogger(__name__)
MISSING_GLYPH = re.compile(GLYPH_WARNING)  # the warning use_hangul_font() turns into an error
STAMP_FILE = "bertnli-figure-font.txt"


def cache_folder(app: Any) -> Path:
    """Where myst-nb keeps its execution cache (Jupyter Book: ``_build/.jupyter_cache``)."""
    configured = getattr(app.config, "nb_execution_cache_path", "") or ""
    return Path(configured) if configured else Path(app.outdir).parent / ".jupyter_cache"


def refresh_cache(cache: Path, stamp: str) -> bool:
    """Clear ``cache`` when its figures were drawn under another font; return whether it was cleared."""
    stamp_file = cache.parent / STAMP_FILE
    old = stamp_file.read_text(encoding="utf-8").strip() if stamp_file.is_file() else None
    cleared = False
    if old != stamp and cache.exists():
        from jupyter_cache import get_cache

        get_cache(cache).clear_cache()
        cleared = True
    atomic_write(stamp_file, stamp + "\n")
    return cleared


def _on_builder_inited(app: Any) -> None:
    from bertnli.book.fonts import font_stamp

    stamp = font_stamp()
    if stamp == "none":
        logger.warning(
            "hangulfigures: no font with Hangul for the figures (install bertnli's dependencies: "
            "koreanize-matplotlib); their Korean labels would be boxes"
        )
    if refresh_cache(cache_folder(app), stamp):
        logger.info(f"hangulfigures: the figures' font is now {stamp}: cleared the execution cache")


def missing_glyph_messages(doctree: nodes.Node) -> list[str]:
    """Lines of cell outputs (stderr, tracebacks) that report a glyph missing from the font."""
    found = []
    for node in doctree.findall(nodes.literal_block):
        if "output" not in node.get("classes", []):
            continue
        found += [line.strip() for line in node.astext().splitlines() if MISSING_GLYPH.search(line)]
    return found


def _on_doctree_read(app: Any, doctree: nodes.document) -> None:
    broken = missing_glyph_messages(doctree)
    if broken:
        logger.warning(
            f"a figure was drawn with glyphs missing from its font ({len(broken)} messages, first: "
            f"{broken[0][:160]}); Korean shows as boxes. Install bertnli's dependencies "
            f"(koreanize-matplotlib) or a Korean font",
            location=app.env.docname,
        )


def setup(app: Any) -> dict[str, Any]:
    app.connect("builder-inited", _on_builder_inited)
    app.connect("doctree-read", _on_doctree_read)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
