"""Small fixes to the pages Jupyter Book 1 writes, so the browser console stays clean.

Why: with Sphinx 7.4, the inline configuration scripts that sphinx-thebe and
sphinx-togglebutton register land in a page twice. sphinx-thebe's declares
``const THEBE_JS_URL``, so the second copy throws "Identifier has already been
declared" on every page. We drop exact duplicates before the page is rendered.

And a notebook whose execution failed is read again on the next build even when its
source did not change. Sphinx only re-reads changed sources, so otherwise a second
``jupyter-book build -W`` would pass silently and publish the traceback; failed runs
are never stored in the execution cache, so the retry really executes the notebook.
"""

from __future__ import annotations

from typing import Any


def _dedupe_scripts(app: Any, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
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


def _failed_notebooks(app: Any, env: Any, added: set, changed: set, removed: set) -> list[str]:
    """Docnames whose last execution failed: Sphinx must read (and so execute) them again."""
    data = getattr(env, "nb_metadata", None) or {}
    return sorted(doc for doc, meta in data.items()
                  if doc in env.found_docs and doc not in removed
                  and (meta.get("exec_data") or {}).get("succeeded") is False)


def setup(app: Any) -> dict[str, Any]:
    app.connect("env-get-outdated", _failed_notebooks)
    # After the themes and extensions have added their files (default priority 500).
    app.connect("html-page-context", _dedupe_scripts, priority=900)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
