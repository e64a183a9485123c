"""A notebook figure's alt text describes the figure, in both languages, instead of naming its file.

myst-nb writes each output image under a hash of its bytes and gives it no alt text, so a
screen reader (or a failed image load) offers the file path. In a notebook, bertnli makes a
figure's plain-text output its description (``bertnli.book.plots.register_figure_descriptions``:
"Figure: ...\\n그림: ..."). When Sphinx has read a chapter (``doctree-read``), its executed
notebook is in ``jupyter_execute/``; each image output is matched to its image node by that
hash, and the node gets ``alt="English · 한국어"``. lang.js shows the half of the reader's
language. A figure without a description gets a plain bilingual one.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

FIGURE_EN, FIGURE_KO = "Figure: ", "그림: "
FALLBACK = ("Figure: drawn by the code cell above", "그림: 위 코드 셀이 그린 그림")
IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif")


def descriptions(notebook: dict) -> dict[str, tuple[str, str]]:
    """``{sha256 of an output image: (English, Korean)}`` for every image output of an executed notebook."""
    found = {}
    for cell in notebook.get("cells", []):
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            plain = data.get("text/plain", "")
            lines = ("".join(plain) if isinstance(plain, list) else plain).splitlines()
            en = next((line for line in lines if line.startswith(FIGURE_EN)), None)
            ko = next((line for line in lines if line.startswith(FIGURE_KO)), None)
            for mime in IMAGE_TYPES:
                if mime in data:
                    content = "".join(data[mime]) if isinstance(data[mime], list) else data[mime]
                    digest = hashlib.sha256(base64.b64decode(content)).hexdigest()
                    found[digest] = (en, ko) if en and ko else FALLBACK
    return found


def describe_images(doctree: Any, notebook: dict) -> int:
    """Give every output image of ``doctree`` without an alt text its description; returns how many."""
    from docutils import nodes

    known = descriptions(notebook)
    count = 0
    for image in doctree.findall(nodes.image):
        if image.get("alt"):
            continue
        digest = Path(str(image.get("uri", ""))).stem
        if digest in known:
            image["alt"] = " · ".join(known[digest])
            count += 1
    return count


def _on_doctree_read(app: Any, doctree: Any) -> None:
    executed = Path(app.outdir).parent / "jupyter_execute" / f"{app.env.docname}.ipynb"
    if executed.is_file():
        describe_images(doctree, json.loads(executed.read_text(encoding="utf-8")))


def setup(app: Any) -> dict[str, Any]:
    app.connect("doctree-read", _on_doctree_read)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
