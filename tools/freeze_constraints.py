"""Write ``constraints.txt``: the exact version of every package in this environment.

Why: pyproject.toml gives ranges (``numpy>=1.24``), so a fresh clone next year would install
whatever is newest then, not what the tests passed with. ``make venv`` installs with
``-c constraints.txt``, which pins each package that gets installed to the version written here
(a constraints file never adds a package by itself).

    python tools/freeze_constraints.py             # from the interpreter that runs it (make constraints)
    python tools/freeze_constraints.py --output -  # print instead of writing

Left out: the project itself (installed editable from the checkout), ``d2l`` (installed by
``make venv`` with ``--no-deps`` at its own pin) and the installers (pip, setuptools, wheel: pip
upgrades itself first, and ``[build-system]`` chooses the build backend). A local version label
is dropped (``torch==2.13.0``, not ``2.13.0+cpu``): a public pin also matches the ``+cpu`` and CUDA
builds, so ``tools/torch_choice.py`` still picks the build for the machine.
Standard library only.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import re
import sys
import tomllib
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LEFT_OUT = {"d2l", "pip", "setuptools", "wheel", "distribute"}
HEADER = """\
# The exact versions `make test` passed with; `make venv` installs with `-c constraints.txt`.
# Written by tools/freeze_constraints.py (`make constraints`) from Python {python}; do not edit by hand.
# Left out: {project} itself, d2l (pinned in the Makefile), pip, setuptools and wheel.
"""


def normalized(name: str) -> str:
    """A distribution's name as PEP 503 compares them (``Jinja2`` -> ``jinja2``, ``a_b.c`` -> ``a-b-c``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def public(version: str) -> str:
    """The version without its local label (``2.13.0+cpu`` -> ``2.13.0``)."""
    return version.split("+", 1)[0]


def project_name(pyproject: Path = ROOT / "pyproject.toml") -> str:
    return normalized(tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["name"])


def constraint_lines(installed: Iterable[tuple[str, str]], project: str) -> list[str]:
    """``name==version`` for each installed (name, version), sorted, without the packages left out.

    The first of two distributions with one name wins, as on ``sys.path``."""
    pins: dict[str, str] = {}
    for name, version in installed:
        key = normalized(name)
        if key not in LEFT_OUT and key != project:
            pins.setdefault(key, public(version))
    return [f"{name}=={pins[name]}" for name in sorted(pins)]


def installed_here() -> list[tuple[str, str]]:
    """(name, version) of every distribution the running interpreter can import, in sys.path order."""
    return [
        (d.metadata["Name"], d.version)
        for d in importlib.metadata.distributions()
        if d.metadata["Name"]
    ]


def render(lines: list[str], project: str) -> str:
    python = ".".join(map(str, sys.version_info[:3]))
    return HEADER.format(python=python, project=project) + "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--output",
        default=str(ROOT / "constraints.txt"),
        help="file to write (default: constraints.txt at the repository root; - prints)",
    )
    args = parser.parse_args(argv)
    project = project_name()
    text = render(constraint_lines(installed_here(), project), project)
    if args.output == "-":
        sys.stdout.write(text)
        return 0
    output = Path(args.output)
    partial = output.with_name(output.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(output)  # never a half-written constraints file
    print(f"wrote {output} ({text.count(chr(10)) - HEADER.count(chr(10))} pins)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
