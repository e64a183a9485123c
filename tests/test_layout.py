"""The package's shape: the module map in ``bertnli/__init__.py`` names exactly its files,
imports go only downward through the layers it lists, and no import cycle exists, counting
imports inside functions and under ``TYPE_CHECKING``."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import bertnli

SRC = Path(bertnli.__file__).resolve().parent
# Lower number = lower layer; a module may import only from its own layer or lower ones.
LAYERS = {
    "files": 0,
    "messages": 0,
    "hardware": 0,
    "distributed": 0,
    "_jupyter": 0,
    "hub": 0,
    "sample": 0,
    "model": 1,
    "data": 2,
    "run": 3,
    "book": 4,
    "cli": 5,
    "_cli_hub": 5,
    "launch": 5,
    "__main__": 5,
}
SUBPACKAGES = ("model", "data", "run", "book")  # their __init__ holds only a docstring


def modules() -> dict[str, Path]:
    """Dotted name (without ``bertnli.``) -> file, for every module; packages as ``pkg``."""
    found = {}
    for path in SRC.rglob("*.py"):
        parts = path.relative_to(SRC).with_suffix("").parts
        if parts == ("__init__",):
            continue
        name = ".".join(parts[:-1]) if parts[-1] == "__init__" else ".".join(parts)
        found[name] = path
    return found


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """Every bertnli module ``name`` imports, wherever in the file the import is."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".") if package else []
                base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
                mod = ".".join(base + ([node.module] if node.module else []))
            elif node.module and (node.module == "bertnli" or node.module.startswith("bertnli.")):
                mod = node.module.removeprefix("bertnli").lstrip(".")
            else:
                continue
            # `from bertnli.run import costs` imports the module run.costs
            targets = ["bertnli." + (f"{mod}.{a.name}" if mod else a.name) for a in node.names]
            targets += ["bertnli." + mod] if mod else []
        else:
            continue
        for target in targets:
            if target.startswith("bertnli."):
                dotted = target.removeprefix("bertnli.")
                while dotted and dotted not in known:
                    dotted = dotted.rpartition(".")[0]
                if dotted and dotted != name:
                    out.add(dotted)
    return out


def graph() -> dict[str, set[str]]:
    mods = modules()
    return {name: imports_of(name, path, set(mods)) for name, path in mods.items()}


def test_module_map_names_exactly_the_files():
    documented = set(re.findall(r"^- ``([\w.]+)``", bertnli.__doc__, flags=re.M))
    files = {name for name in modules() if name not in SUBPACKAGES}
    assert documented == files, (
        f"in the map, not a file: {sorted(documented - files)}; "
        f"a file, not in the map: {sorted(files - documented)}"
    )


def test_no_import_cycle():
    edges = graph()
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                cycle = trail[trail.index(nxt) :] + [nxt] if nxt in trail else [node, nxt]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt, trail + [nxt])
        state[node] = 2

    for start in sorted(edges):
        if start not in state:
            visit(start, [start])


def test_imports_go_down_the_layers():
    def layer(name: str) -> int:
        return LAYERS[name.split(".")[0]]

    upward = [f"{a} -> {b}" for a, deps in graph().items() for b in deps if layer(b) > layer(a)]
    assert not upward, "imports from a higher layer: " + ", ".join(sorted(upward))


def test_every_top_level_entry_has_a_layer():
    assert {name.split(".")[0] for name in modules()} <= set(LAYERS)


def test_the_checker_sees_a_cycle_and_an_upward_import(tmp_path, monkeypatch):
    """The checks above could only pass if the graph were read right: on a made-up package
    with a cycle through a function-level import, the same code finds both edges."""
    pkg = tmp_path / "pkg"
    (pkg / "run").mkdir(parents=True)
    (pkg / "files.py").write_text("def f():\n    from bertnli.run import train\n")
    (pkg / "run" / "__init__.py").write_text("")
    (pkg / "run" / "train.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from bertnli.files import f\n"
    )
    known = {"files", "run", "run.train"}
    assert imports_of("files", pkg / "files.py", known) == {"run", "run.train"}
    assert imports_of("run.train", pkg / "run" / "train.py", known) == {"files"}
