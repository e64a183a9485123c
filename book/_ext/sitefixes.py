"""Small fixes to the pages Jupyter Book 1 writes, so the browser console stays clean.

Why: with Sphinx 7.4, the inline configuration scripts that sphinx-thebe and
sphinx-togglebutton register land in a page twice. sphinx-thebe's declares
``const THEBE_JS_URL``, so the second copy throws "Identifier has already been
declared" on every page. We drop exact duplicates before the page is rendered, in
Sphinx's own ``html-page-context`` event (no patch of another package).

A notebook whose execution failed must be executed again by the next build even when its
source did not change: ``make book`` passes ``--all``, so Sphinx reads every page again;
jupyter-cache keeps only successful runs, so the unchanged chapters come from the cache.
"""

from __future__ import annotations

from typing import Any


def _dedupe_scripts(
    app: Any, pagename: str, templatename: str, context: dict, doctree: Any
) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen: set[tuple[str, str]] = set()
    unique = []
    for script in scripts:
        attributes = getattr(script, "attributes", {}) or {}
        # The copies differ only in an empty filename being None or "".
        key = (str(getattr(script, "filename", script) or ""), str(attributes.get("body", "")))
        if key in seen:
            continue
        seen.add(key)
        unique.append(script)
    context["script_files"] = unique


def setup(app: Any) -> dict[str, Any]:
    # After the themes and extensions have added their files (default priority 500).
    app.connect("html-page-context", _dedupe_scripts, priority=900)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
