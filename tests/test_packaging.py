"""The install: pyproject and environment.yml agree, and the torch build choice is right."""

import ast
import re
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from helpers.repo_tools import load_tool

ROOT = Path(__file__).resolve().parents[1]
CONDA_NAMES = {"torch": "pytorch"}  # where conda-forge's name differs from PyPI's


def _split(requirement: str) -> tuple[str, str]:
    name, spec = re.match(r"^([A-Za-z0-9_.\-]+)\s*(.*)$", requirement).groups()
    return name.lower().replace("_", "-"), spec.replace(" ", "")


def _torch_choice():
    return load_tool("torch_choice")


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pip_side = [
        *project["dependencies"],
        *(d for group in project["optional-dependencies"].values() for d in group),
    ]
    expected = {CONDA_NAMES.get(n, n): s for n, s in map(_split, pip_side)}
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda_side = dict(
        _split(d)
        for d in env["dependencies"]
        if isinstance(d, str) and not d.startswith(("python", "pip"))
    )
    # What conda-forge does not carry comes from PyPI in the `pip:` section (not the project itself).
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    from_pypi = dict(_split(d) for d in pip_section if not d.startswith("-"))
    assert not conda_side.keys() & from_pypi.keys(), "a package listed both for conda and for pip"
    assert {
        **conda_side,
        **from_pypi,
    } == expected  # the Python floor: tests/test_packaging_floors.py
    # Every pip line must be one pip accepts in a requirements file: no per-line --no-deps.
    assert all(
        line == "-e ." or not line.startswith("-") and " --" not in line for line in pip_section
    )


IMPORT_NAMES = {
    "IPython": "ipython",
    "myst_nb": "myst-nb",
    "matplotlib_inline": "matplotlib-inline",
}  # import name -> distribution name, where they differ
# Runtime dependencies used for their files, not imported: distribution -> the module that uses them.
DATA_DEPENDENCIES = {"koreanize-matplotlib": "bertnli.book.fonts (its NanumGothic.ttf)"}


def _imports(tree) -> tuple[set[str], set[str]]:
    """Third-party top-level names imported at module level, and inside functions."""
    top, inner = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names = {node.module.split(".")[0]}
        else:
            continue
        names = {
            IMPORT_NAMES.get(n, n)
            for n in names
            if n not in sys.stdlib_module_names and n != "bertnli"
        }
        (top if node.col_offset == 0 else inner).update(names)
    return top, inner


def test_runtime_dependencies_are_what_the_package_imports():
    """Runtime deps are exactly what `import bertnli` and its commands use; a command that
    needs an extra (the classroom tools need the `book` extra) imports it where it is used."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {_split(d)[0] for d in project["dependencies"]}
    extras = {_split(d)[0] for group in project["optional-dependencies"].values() for d in group}
    top, inner = set(), set()
    for path in (ROOT / "src" / "bertnli").rglob("*.py"):
        t, i = _imports(ast.parse(path.read_text()))
        top |= t
        inner |= i
    assert top <= declared, (
        f"imported at module level but not a runtime dependency: {top - declared}"
    )
    assert inner <= declared | extras, f"imported but declared nowhere: {inner - declared - extras}"
    assert declared <= top | inner | set(DATA_DEPENDENCIES), (
        f"declared but never imported: {declared - top - inner}"
    )
    assert set(DATA_DEPENDENCIES) <= declared
    from bertnli.book import fonts

    assert fonts.bundled_font_path() is not None, "koreanize-matplotlib's NanumGothic.ttf not found"
    assert "d2l" not in top | inner and "torchvision" not in top | inner


def test_no_numpy_pin_and_no_torchvision():
    text = (ROOT / "pyproject.toml").read_text()
    assert "numpy==" not in text and "torchvision" not in text


@pytest.mark.parametrize(
    "machine, variant, args_start",
    [
        (
            ("Linux", "x86_64", False, ()),
            "cpu",
            ("torch", "--index-url", "https://download.pytorch.org/whl/cpu"),
        ),
        (
            (
                "Linux",
                "x86_64",
                False,
                ("/w/torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl",),
            ),
            "cpu",
            ("torch==2.13.0+cpu",),
        ),
        (
            (
                "Linux",
                "x86_64",
                True,
                ("/w/torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl",),
            ),
            "cuda",
            ("torch",),
        ),
        (("Linux", "aarch64", False, ()), "cpu", ("torch",)),
        (("Darwin", "arm64", False, ()), "cpu", ("torch",)),
        (("Windows", "AMD64", False, ()), "cpu", ("torch",)),
        (
            ("Windows", "AMD64", True, ()),
            "cuda",
            ("torch", "--index-url", "https://download.pytorch.org/whl/cu128"),
        ),
    ],
)
def test_torch_choice(machine, variant, args_start):
    tc = _torch_choice()
    choice = tc.choose(tc.Machine(*machine))
    assert choice.variant == variant
    assert choice.pip_args == args_start
    assert choice.reason


def test_torch_choice_overrides():
    tc = _torch_choice()
    gpu_box = tc.Machine("Linux", "x86_64", True)
    assert tc.choose(gpu_box, "cpu").pip_args[-1] == "https://download.pytorch.org/whl/cpu"
    assert tc.choose(gpu_box, "skip").pip_args == ()
    with pytest.raises(ValueError, match="BERTNLI_TORCH"):
        tc.choose(gpu_box, "rocm")
    with pytest.raises(ValueError, match="macOS"):
        tc.choose(tc.Machine("Darwin", "arm64", False), "cuda")


def test_torch_choice_finds_wheels_from_pip_config(tmp_path, monkeypatch):
    tc = _torch_choice()
    tag = f"cp{sys.version_info.major}{sys.version_info.minor}"
    import platform

    wheel = tmp_path / f"torch-9.9.9+cpu-{tag}-{tag}-manylinux_2_28_{platform.machine()}.whl"
    wheel.write_bytes(b"")
    (tmp_path / f"torch-9.9.9-{tag}-{tag}-manylinux_2_28_{platform.machine()}.whl").write_bytes(
        b""
    )  # CUDA: ignored
    conf = tmp_path / "pip.conf"
    conf.write_text(f"[global]\nfind-links = {tmp_path}\n")
    monkeypatch.setenv("PIP_CONFIG_FILE", str(conf))
    assert str(wheel) in tc.local_cpu_wheels(tc.pip_find_links())


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in readme and "make test" in ci
