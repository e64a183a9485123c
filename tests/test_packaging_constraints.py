"""Reproducible installs: constraints.txt pins what pyproject allows, and `make venv` uses it."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from helpers.needs import missing
from helpers.repo_tools import load_tool
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
CONSTRAINTS = ROOT / "constraints.txt"


def pins() -> dict[str, Version]:
    """constraints.txt as {normalized name: version}; every line must be ``name==version``."""
    found: dict[str, Version] = {}
    for number, line in enumerate(CONSTRAINTS.read_text(encoding="utf-8").splitlines(), 1):
        if not line or line.startswith("#"):
            continue
        match = re.fullmatch(r"([a-z0-9-]+)==(\S+)", line)
        assert match, f"constraints.txt line {number}: {line!r} is not `normalized-name==version`"
        assert match[1] not in found, f"constraints.txt line {number}: {match[1]} pinned twice"
        found[match[1]] = Version(match[2])
    return found


def declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = [d for group in project["optional-dependencies"].values() for d in group]
    return [Requirement(d) for d in [*project["dependencies"], *extras]]


def make_dry_run(*args: str) -> str:
    """The commands `make -n -B ARGS` would run (nothing is run)."""
    if shutil.which("make") is None:
        missing("make not found", "install make (the README's commands need it)")
    done = subprocess.run(
        ["make", "-n", "-B", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_every_dependency_has_a_pin_within_its_range():
    pinned = pins()
    for requirement in declared():
        name = canonicalize_name(requirement.name)
        assert name in pinned, (
            f"{name} ({requirement}) has no pin in constraints.txt: run `make constraints`"
        )
        assert requirement.specifier.contains(pinned[name], prereleases=True), (
            f"constraints.txt pins {name}=={pinned[name]}, outside pyproject's {requirement}"
        )


def test_torch_pin_has_no_local_label_and_admits_every_build():
    torch = pins()["torch"]
    assert torch.local is None, f"torch=={torch}: a local label would exclude the other builds"
    pin = SpecifierSet(f"=={torch}")
    for build in (f"{torch}+cpu", f"{torch}+cu128", str(torch)):
        assert pin.contains(build), build
    assert not pin.contains(f"{torch.major}.{torch.minor}.{torch.micro + 1}+cpu")


def test_the_project_d2l_and_the_installers_are_left_out():
    pinned = pins()
    assert not {"bertnli", "d2l", "pip", "setuptools", "wheel"} & pinned.keys()
    assert list(pinned) == sorted(pinned)


def test_freeze_writes_normalized_public_pins():
    freeze = load_tool("freeze_constraints")
    installed = [
        ("Torch", "2.13.0+cpu"),
        ("bertnli", "0.1.0"),
        ("d2l", "1.0.3"),
        ("pip", "26.3"),
        ("Jinja2", "3.1.6"),
        ("jinja2", "9.9"),
        ("typing_extensions", "4.15.0"),
    ]
    assert freeze.constraint_lines(installed, "bertnli") == [
        "jinja2==3.1.6",
        "torch==2.13.0",
        "typing-extensions==4.15.0",
    ]


def test_freeze_prints_this_environment():
    done = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "freeze_constraints.py"), "--output", "-"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if not line.startswith("#")]
    assert f"pytest=={pytest.__version__}" in lines
    assert not any(line.startswith(("bertnli==", "d2l==")) for line in lines)


def test_make_venv_installs_with_the_constraints():
    commands = make_dry_run("venv").splitlines()
    project = [c for c in commands if "pip install" in c and "-e " in c]
    assert project and all("-c constraints.txt" in c for c in project), project
    assert any("tools/torch_choice.py --constraint constraints.txt" in c for c in commands)
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    for command in project:
        installed = set(re.search(r"\.\[([a-z,]+)\]", command)[1].split(","))
        assert installed == set(extras), (
            f"make venv installs every extra: {sorted(extras)}, not {sorted(installed)}"
        )
    # ... and the stamp is rebuilt when the constraints change.
    assert re.search(
        r"^\$\(STAMP\):.*\$\(CONSTRAINTS\)", (ROOT / "Makefile").read_text(), re.MULTILINE
    )
    # The refresh's first step installs without them.
    assert "-c " not in make_dry_run("venv", "CONSTRAINTS=")


def test_torch_choice_keeps_to_the_pin(tmp_path):
    tc = load_tool("torch_choice")
    wheels = (
        "/w/torch-2.12.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl",
        "/w/torch-2.14.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl",
    )
    box = tc.Machine("Linux", "x86_64", False, wheels)
    assert tc.choose(box).pip_args == ("torch==2.14.0+cpu",)  # no pin: the newest on disk
    assert tc.choose(box, pin="2.12.0").pip_args == ("torch==2.12.0+cpu",)
    # No wheel of the pinned version on disk: PyTorch's CPU index (pip -c picks the version there).
    assert tc.choose(box, pin="2.13.0").pip_args == ("torch", "--index-url", tc.CPU_INDEX)
    file = tmp_path / "constraints.txt"
    file.write_text("# a comment\ntokenizers==0.22.1\ntorch==2.13.0\n")
    assert tc.pinned_torch(file) == "2.13.0"
    assert tc.pinned_torch(CONSTRAINTS) == str(pins()["torch"])
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "tools" / "torch_choice.py"),
            "--dry-run",
            "--variant",
            "cuda",
            "--constraint",
            str(file),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.rstrip().endswith(f"pip install torch -c {file}")
