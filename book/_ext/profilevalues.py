"""Profile settings on the book's pages come from ``bertnli.profiles``, never typed by hand.

A page writes ``{{ profiles.full.epochs }}`` (a MyST substitution, rendered with Jinja); this
extension fills ``myst_substitutions["profiles"]`` from ``bertnli.profiles.PROFILES`` when Sphinx
reads its configuration (the supported ``config-inited`` event), so changing a profile changes
every page that states it. ``tests/test_pages_match_code.py`` renders the pages the same way.
"""

from __future__ import annotations


def profile_values() -> dict[str, dict[str, object]]:
    """``{"sample": {"epochs": 6, "lr": "1e-3", ...}, "full": {...}}``: each profile's fields,
    the learning rate written as the pages write it."""
    from bertnli.profiles import PROFILES

    return {name: {**profile.to_dict(), "lr": _as_written(profile.lr),
                   "train_pairs_text": f"{profile.train_pairs:,}" if profile.train_pairs else "all"}
            for name, profile in PROFILES.items()}


def _as_written(number: float) -> str:
    """1e-3, 2.5e-5: mantissa without trailing zeros, exponent without padding."""
    mantissa, exponent = f"{number:e}".split("e")
    return f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"


def _fill(app, config) -> None:
    substitutions = dict(config.myst_substitutions or {})
    substitutions["profiles"] = profile_values()
    config["myst_substitutions"] = substitutions  # Sphinx's Config item API: a setting, not a patch


def setup(app):
    app.connect("config-inited", _fill)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
