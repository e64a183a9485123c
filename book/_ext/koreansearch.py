"""Korean words with a particle attached are found by the word alone: 가설 finds 가설은, 가설에게.

Why: Sphinx has no Korean word splitter; its default splits on non-word characters, so
"가설은" is indexed as one term and a search for 가설 misses every page that only writes
the word with a particle (조사) attached, which in Korean is nearly every use. After the
build writes ``searchindex.js`` we add, for each Hangul term that ends in a common
particle, its stem as a term of the same pages (and of the same titles). The query side
(Sphinx's searchtools.js) is unchanged: it looks the stem up like any other term.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from sphinx.util import logging

from bertnli.run.checkpoint import atomic_write

logger = logging.getLogger(__name__)

# Common particles and copula endings, longest first so 에게서 wins over 서.
PARTICLES = sorted(
    {
        "에게서",
        "으로서",
        "으로써",
        "에서는",
        "에서도",
        "에게는",
        "으로는",
        "이라는",
        "이라고",
        "이라면",
        "입니다",
        "처럼",
        "까지",
        "부터",
        "에게",
        "한테",
        "에서",
        "으로",
        "보다",
        "이나",
        "이며",
        "이고",
        "라는",
        "라고",
        "마다",
        "만큼",
        "와",
        "과",
        "은",
        "는",
        "이",
        "가",
        "을",
        "를",
        "의",
        "에",
        "도",
        "로",
        "만",
    },
    key=len,
    reverse=True,
)
HANGUL_WORD = re.compile(r"^[\uac00-\ud7a3]+$")
MIN_STEM = 2  # one-syllable stems ("수" from "수가") would match too much
PREFIX, SUFFIX = "Search.setIndex(", ")"


def stem(term: str) -> str | None:
    """``term`` without its trailing particle, or None when it has none (or is not Hangul)."""
    if not HANGUL_WORD.match(term):
        return None
    for particle in PARTICLES:
        if term.endswith(particle) and len(term) - len(particle) >= MIN_STEM:
            return term[: -len(particle)]
    return None


def _as_set(value: Any) -> set[int]:
    return set(value) if isinstance(value, list) else {value}


def add_stems(terms: dict[str, Any]) -> int:
    """Add the particle-less stem of every Hangul term to ``terms`` (in place); return how many were new."""
    added: dict[str, set[int]] = {}
    for term, docs in list(terms.items()):
        base = stem(term)
        if base is not None:
            added.setdefault(base, set()).update(_as_set(docs))
    new = 0
    for base, docs in added.items():
        if base not in terms:
            new += 1
        docs |= _as_set(terms.get(base, []))
        merged = sorted(docs)
        terms[base] = merged[0] if len(merged) == 1 else merged
    return new


def index_stems(path: Path) -> int:
    """Rewrite Sphinx's ``searchindex.js`` with the stems added; return the number of new terms."""
    text = path.read_text(encoding="utf-8")
    if not (text.startswith(PREFIX) and text.rstrip().endswith(SUFFIX)):
        raise ValueError(
            f"{path}: not the Search.setIndex(...) format this extension knows (Sphinx changed it?)"
        )
    index = json.loads(text[len(PREFIX) : text.rstrip().rindex(SUFFIX)])
    new = add_stems(index["terms"]) + add_stems(index["titleterms"])
    atomic_write(
        path,
        PREFIX
        + json.dumps(index, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
        + SUFFIX,
    )
    return new


def _on_build_finished(app: Any, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    path = Path(app.outdir) / "searchindex.js"
    if path.is_file():
        new = index_stems(path)
        logger.info(f"koreansearch: {new} Korean stems indexed without their particles")


def setup(app: Any) -> dict[str, Any]:
    app.connect("build-finished", _on_build_finished)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
