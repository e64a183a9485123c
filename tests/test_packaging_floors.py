"""The declared floors are true: no code needs a newer Python or PyTorch than pyproject says.

Checked cheaply and without the old versions installed: every Python file (and every
chapter's code) must parse as the floor's Python, must not import a standard-library module
or name that came later, and must not use a PyTorch API newer than the torch floor. The
tables below list what came when; add to them when the code starts using something new.
"""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

import jupytext
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CODE_DIRS = ("src", "tests", "tools", "benchmarks", "book/_ext")

# Standard-library modules and names newer than 3.10, with the version that added them.
NEW_MODULES = {
    "tomllib": (3, 11),
    "wsgiref.types": (3, 11),
    "annotationlib": (3, 14),
    "compression": (3, 14),
    "string.templatelib": (3, 14),
    "concurrent.interpreters": (3, 14),
}
NEW_NAMES = {
    ("datetime", "UTC"): (3, 11),
    ("typing", "Self"): (3, 11),
    ("typing", "LiteralString"): (3, 11),
    ("typing", "Never"): (3, 11),
    ("typing", "assert_never"): (3, 11),
    ("typing", "reveal_type"): (3, 11),
    ("enum", "StrEnum"): (3, 11),
    ("hashlib", "file_digest"): (3, 11),
    ("contextlib", "chdir"): (3, 11),
    ("asyncio", "TaskGroup"): (3, 11),
    ("asyncio", "timeout"): (3, 11),
    ("operator", "call"): (3, 11),
    ("itertools", "batched"): (3, 12),
    ("typing", "override"): (3, 12),
    ("math", "sumprod"): (3, 12),
    ("typing", "TypeAliasType"): (3, 12),
    ("calendar", "Month"): (3, 12),
    ("warnings", "deprecated"): (3, 13),
    ("copy", "replace"): (3, 13),
    ("typing", "TypeIs"): (3, 13),
    ("typing", "ReadOnly"): (3, 13),
    ("os", "process_cpu_count"): (3, 13),
    ("glob", "translate"): (3, 13),
}
# PyTorch APIs newer than 2.1, with the first release that has them.
TORCH_APIS = {
    "torch.amp.GradScaler": (2, 3),
    "torch.nn.attention": (2, 3),
    "torch.get_default_device": (2, 3),
    "torch.serialization.add_safe_globals": (2, 4),
    "torch.amp.custom_fwd": (2, 4),
    "torch.serialization.safe_globals": (2, 5),
    "torch.nn.attention.flex_attention": (2, 5),
    "torch.accelerator": (2, 6),
    "torch.compiler.set_stance": (2, 6),
}


def _floor(spec: str, name: str) -> tuple[int, ...]:
    found = re.fullmatch(rf"{name}\s*>=\s*(\d+(?:\.\d+)*)(?:,.*)?", spec.replace(" ", ""))
    assert found, f"{name}: expected a '>=X.Y' floor, found {spec!r}"
    return tuple(int(x) for x in found.group(1).split("."))


def project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def python_floor() -> tuple[int, int]:
    return _floor("python" + project()["requires-python"], "python")[:2]


def torch_floor() -> tuple[int, int]:
    spec = next(d for d in project()["dependencies"] if re.match(r"torch\b", d))
    return _floor(spec, "torch")[:2]


def python_sources() -> dict[str, str]:
    """Every .py file of the repository's code, and every chapter's code cells (as one module)."""
    files = {
        str(p.relative_to(ROOT)): p.read_text(encoding="utf-8")
        for d in CODE_DIRS
        for p in sorted((ROOT / d).rglob("*.py"))
        if ".venv" not in p.parts
    }
    for chapter in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.md")):
        cells = [c.source for c in jupytext.read(chapter).cells if c.cell_type == "code"]
        # IPython's own syntax (%magic, !shell) is not Python: comment it out.
        files[str(chapter.relative_to(ROOT))] = "\n".join(
            re.sub(r"^(\s*)([%!])", r"\1#\2", src, flags=re.M) for src in cells
        )
    return files


def newer_stdlib_uses(source: str, floor: tuple[int, int]) -> list[str]:
    """Standard-library modules and names ``source`` uses that came after ``floor``."""
    found, modules = [], {}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                modules[alias.asname or alias.name.split(".")[0]] = (
                    alias.name if alias.asname else alias.name.split(".")[0]
                )
                if NEW_MODULES.get(alias.name, (0,)) > floor:
                    found.append(
                        f"import {alias.name} (Python {'.'.join(map(str, NEW_MODULES[alias.name]))})"
                    )
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if NEW_MODULES.get(node.module, (0,)) > floor:
                found.append(
                    f"from {node.module} (Python {'.'.join(map(str, NEW_MODULES[node.module]))})"
                )
            for alias in node.names:
                if NEW_MODULES.get(f"{node.module}.{alias.name}", (0,)) > floor:
                    found.append(f"{node.module}.{alias.name}")
                if NEW_NAMES.get((node.module, alias.name), (0,)) > floor:
                    added = NEW_NAMES[(node.module, alias.name)]
                    found.append(
                        f"from {node.module} import {alias.name} (Python {'.'.join(map(str, added))})"
                    )
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in modules
        ):
            key = (modules[node.value.id], node.attr)
            if NEW_NAMES.get(key, (0,)) > floor:
                found.append(f"{key[0]}.{key[1]} (Python {'.'.join(map(str, NEW_NAMES[key]))})")
    return found


def _dotted(node: ast.AST) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    return ".".join([node.id, *reversed(parts)]) if isinstance(node, ast.Name) else None


def newer_torch_uses(source: str, floor: tuple[int, int]) -> list[str]:
    """PyTorch APIs ``source`` uses (``torch.a.b`` or imported from their module) newer than ``floor``."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute):
            names.add(_dotted(node))
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return sorted(
        f"{api} (torch {'.'.join(map(str, added))})"
        for api, added in TORCH_APIS.items()
        if added > floor and any(n == api or n.startswith(api + ".") for n in names if n)
    )


# --------------------------------------------------------------------------- the declarations


def test_environment_yml_declares_the_same_floors():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())["dependencies"]
    python = next(d for d in env if isinstance(d, str) and d.startswith("python"))
    assert _floor(python, "python")[:2] == python_floor()
    torch = next(d for d in env if isinstance(d, str) and d.startswith("pytorch"))
    assert _floor(torch.replace("pytorch", "torch"), "torch")[:2] == torch_floor()


def test_this_interpreter_and_torch_meet_the_floors():
    import sys

    import torch

    assert sys.version_info[:2] >= python_floor()
    assert tuple(int(x) for x in re.findall(r"\d+", torch.__version__)[:2]) >= torch_floor()


# --------------------------------------------------------------------------- the code


def test_all_code_parses_as_the_floor_python():
    floor = python_floor()
    sources = python_sources()
    assert len(sources) > 40 and any(k.startswith("src/bertnli/") for k in sources)
    problems = []
    for name, text in sources.items():
        try:
            ast.parse(text, filename=name, feature_version=floor)
        except SyntaxError as err:
            problems.append(f"{name}:{err.lineno}: {err.msg}")
    assert not problems, f"syntax newer than Python {floor[0]}.{floor[1]}:\n" + "\n".join(problems)


def test_no_standard_library_newer_than_the_floor_python():
    floor = python_floor()
    problems = [
        f"{name}: {use}"
        for name, text in python_sources().items()
        for use in newer_stdlib_uses(text, floor)
    ]
    assert not problems, (
        f"requires-python says >={floor[0]}.{floor[1]}, but the code uses:\n" + "\n".join(problems)
    )


def test_no_torch_api_newer_than_the_torch_floor():
    floor = torch_floor()
    problems = [
        f"{name}: {use}"
        for name, text in python_sources().items()
        for use in newer_torch_uses(text, floor)
    ]
    assert not problems, (
        f"pyproject says torch>={floor[0]}.{floor[1]}, but the code uses:\n" + "\n".join(problems)
    )


def test_the_torch_floor_is_not_lower_than_what_the_code_needs():
    """The other direction: torch 2.3 is declared because the code uses 2.3's APIs."""
    used = [use for text in python_sources().values() for use in newer_torch_uses(text, (2, 2))]
    assert any("torch.amp.GradScaler" in u for u in used), used
    assert torch_floor() >= (2, 3)


@pytest.mark.parametrize(
    "source, floor, expected",
    [
        ("import tomllib", (3, 10), "import tomllib"),
        ("from itertools import batched", (3, 11), "from itertools import batched"),
        ("import datetime as dt\nx = dt.UTC", (3, 10), "datetime.UTC"),
        ("import typing\ndef f() -> typing.Self: ...", (3, 10), "typing.Self"),
    ],
)
def test_the_stdlib_check_catches_newer_uses(source, floor, expected):
    assert any(expected in use for use in newer_stdlib_uses(source, floor))
    assert newer_stdlib_uses(source, (3, 14)) == []


def test_the_torch_check_catches_newer_uses():
    assert newer_torch_uses("scaler = torch.amp.GradScaler('cuda')", (2, 2))
    assert newer_torch_uses("from torch.serialization import add_safe_globals", (2, 3))
    assert newer_torch_uses("from torch.nn.attention import SDPBackend", (2, 2))
    assert not newer_torch_uses("torch.amp.GradScaler('cuda')", (2, 3))


def test_the_syntax_check_catches_newer_syntax():
    with pytest.raises(SyntaxError):
        ast.parse("try:\n    pass\nexcept* ValueError:\n    pass\n", feature_version=(3, 10))
