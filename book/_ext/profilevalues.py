"""Profile settings on the book's pages are written out, and checked against ``bertnli.run.profiles``.

The book pages (``book/*.md``) are also read raw, on the repository's web view, where a MyST
substitution such as ``{{ profiles.full.epochs }}`` would show as typed. So a page writes the
value itself, followed by an HTML comment that names where it comes from::

    5<!-- profiles.full.epochs --> epochs, batch 512<!-- profiles.full.batch_size -->

The comment is invisible on GitHub and on the site. When Sphinx reads a page (its
``source-read`` event), every marked value is compared with the code's; a stale one is a
warning, which the book's ``-W`` build turns into an error. ``tests/test_book_pages.py``
runs the same check without Sphinx.

The chapters may still use the substitutions (``myst_substitutions["profiles"]``, filled when
Sphinx reads its configuration).
"""

from __future__ import annotations

import re

# A value (digits, letters, ``,`` ``.`` ``-``) directly followed by its marker.
MARKED = re.compile(r"(?P<value>[\w.,+-]*)<!-- *profiles\.(?P<profile>\w+)\.(?P<field>\w+) *-->")


def profile_values() -> dict[str, dict[str, object]]:
    """``{"sample": {"epochs": 6, "lr": "1e-3", ...}, "full": {...}}``: each profile's fields,
    the learning rate written as the pages write it."""
    from bertnli.run.profiles import PROFILES

    return {
        name: {
            **profile.to_dict(),
            "lr": _as_written(profile.lr),
            "train_pairs_text": f"{profile.train_pairs:,}" if profile.train_pairs else "all",
        }
        for name, profile in PROFILES.items()
    }


def _as_written(number: float) -> str:
    """1e-3, 2.5e-5: mantissa without trailing zeros, exponent without padding."""
    mantissa, exponent = f"{number:e}".split("e")
    return f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"


def stale_values(text: str) -> list[str]:
    """Each marked value of a page that differs from the code's, as a message with its line."""
    values = profile_values()
    problems = []
    for m in MARKED.finditer(text):
        line = text.count("\n", 0, m.start()) + 1
        fields = values.get(m["profile"])
        if fields is None or m["field"] not in fields:
            problems.append(
                f"line {line}: no setting profiles.{m['profile']}.{m['field']} in bertnli.run.profiles"
            )
        elif m["value"] != str(fields[m["field"]]):
            problems.append(
                f"line {line}: the page says {m['value']!r} for profiles.{m['profile']}.{m['field']}, "
                f"the code {fields[m['field']]!r}; write the code's value"
            )
    return problems


def marked_values(text: str) -> list[tuple[str, str, str]]:
    """``(value, profile, field)`` for every marked value of a page, in order."""
    return [(m["value"], m["profile"], m["field"]) for m in MARKED.finditer(text)]


def _fill(app, config) -> None:
    substitutions = dict(config.myst_substitutions or {})
    substitutions["profiles"] = profile_values()
    config["myst_substitutions"] = substitutions  # Sphinx's Config item API: a setting, not a patch


def _check(app, docname: str, source: list[str]) -> None:
    from sphinx.util import logging

    for problem in stale_values(source[0]):
        logging.getLogger(__name__).warning(f"{docname}: {problem}", location=docname)


def setup(app):
    app.connect("config-inited", _fill)
    app.connect("source-read", _check)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
