"""Install the right PyTorch build *before* bertnli, so pip never picks one by accident.

Why: on Linux, PyPI's default ``torch`` wheel is a CUDA build of several GB. A laptop
or CI runner without an NVIDIA GPU needs only the CPU build (~200 MB); a CUDA machine
must get a CUDA build. This script decides, prints its reasoning, and runs pip.

    python tools/torch_choice.py            # decide and install (skips if torch is already usable)
    python tools/torch_choice.py --dry-run  # only print the pip command
    python tools/torch_choice.py --constraint constraints.txt  # the torch version pinned there (make venv)

Override with ``BERTNLI_TORCH=cpu|cuda|skip`` or pass ``--variant``.
Standard library only: it runs before anything is installed.
"""

from __future__ import annotations

import argparse
import configparser
import glob
import os
import platform
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

CPU_INDEX = "https://download.pytorch.org/whl/cpu"


@dataclass(frozen=True)
class Machine:
    system: str  # platform.system(): Linux, Darwin, Windows
    machine: str  # platform.machine(): x86_64, aarch64, arm64, AMD64
    has_nvidia_gpu: bool
    local_cpu_wheels: tuple[
        str, ...
    ] = ()  # CPU torch wheels pip can already see on disk (find-links)


@dataclass(frozen=True)
class Choice:
    variant: str  # "cpu", "cuda" or "skip"
    pip_args: tuple[str, ...]
    reason: str


def choose(m: Machine, override: str | None = None, pin: str | None = None) -> Choice:
    """The decision, as a pure function so it can be tested for every kind of machine.

    ``pin``: the torch version a constraints file requires (``2.13.0``); a CPU wheel on disk of
    another version is then passed over (pip, given the same file, would refuse it)."""
    variant = override or ("cuda" if m.has_nvidia_gpu else "cpu")
    if variant not in ("cpu", "cuda", "skip"):
        raise ValueError(f"BERTNLI_TORCH={variant!r}: expected cpu, cuda or skip")
    if variant == "skip":
        return Choice("skip", (), "asked to leave torch alone")
    if variant == "cuda":
        if m.system == "Darwin":
            raise ValueError(
                "CUDA builds of PyTorch do not exist for macOS; use BERTNLI_TORCH=cpu (MPS is included)"
            )
        if m.system == "Windows":
            # PyPI's Windows wheels are CPU-only; CUDA ones live on PyTorch's own index.
            return Choice(
                "cuda",
                ("torch", "--index-url", "https://download.pytorch.org/whl/cu128"),
                "NVIDIA GPU on Windows: CUDA build from PyTorch's index",
            )
        return Choice(
            "cuda", ("torch",), "NVIDIA GPU on Linux: PyPI's default wheel is the CUDA build"
        )
    # CPU
    if m.system in ("Darwin", "Windows"):
        return Choice(
            "cpu",
            ("torch",),
            f"{m.system}: PyPI's wheel is already CPU-only (with MPS on Apple silicon)",
        )
    if m.machine in ("aarch64", "arm64"):
        return Choice("cpu", ("torch",), "Linux on ARM: PyPI's wheel is CPU-only")
    wheels = sorted(
        w for w in m.local_cpu_wheels if pin is None or _public(_wheel_version(w)) == pin
    )
    if wheels:
        version = _wheel_version(wheels[-1])
        return Choice(
            "cpu",
            (f"torch=={version}",),
            f"no NVIDIA GPU; a CPU wheel torch {version} is already on disk for pip ({wheels[-1]})",
        )
    return Choice(
        "cpu",
        ("torch", "--index-url", CPU_INDEX),
        "no NVIDIA GPU on Linux x86_64: CPU build from PyTorch's CPU index (avoids the multi-GB CUDA wheel)",
    )


def _wheel_version(path: str) -> str:
    # torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl -> 2.13.0+cpu
    return Path(path).name.split("-")[1]


def _public(version: str) -> str:
    # 2.13.0+cpu -> 2.13.0: a pin without a local label matches every build of that release
    return version.split("+", 1)[0]


def pinned_torch(constraints: Path) -> str | None:
    """The version ``torch==X`` in a constraints file (tools/freeze_constraints.py), if it pins one."""
    for line in constraints.read_text(encoding="utf-8").splitlines():
        name, _, version = line.split("#", 1)[0].replace(" ", "").partition("==")
        if name.lower() == "torch" and version:
            return version
    return None


def has_nvidia_gpu() -> bool:
    if Path("/proc/driver/nvidia/gpus").is_dir() and any(
        Path("/proc/driver/nvidia/gpus").iterdir()
    ):
        return True
    smi = shutil.which("nvidia-smi")
    if smi:
        try:
            out = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=20)
            return out.returncode == 0 and "GPU" in out.stdout
        except (OSError, subprocess.TimeoutExpired):
            return False
    return False


def pip_find_links() -> list[str]:
    """The folders pip's own configuration points ``find-links`` at (env var and config files)."""
    folders = os.environ.get("PIP_FIND_LINKS", "").split()
    config_files = [
        Path("/etc/xdg/pip/pip.conf"),
        Path("/etc/pip.conf"),
        Path.home() / ".config/pip/pip.conf",
        Path.home() / ".pip/pip.conf",
    ]
    if os.environ.get("PIP_CONFIG_FILE"):
        config_files.append(Path(os.environ["PIP_CONFIG_FILE"]))
    for path in config_files:
        parser = configparser.ConfigParser()
        try:
            parser.read(path)
        except configparser.Error:
            continue
        for section in ("global", "install"):
            if parser.has_option(section, "find-links"):
                folders += parser.get(section, "find-links").split()
    return folders


def local_cpu_wheels(folders: list[str]) -> tuple[str, ...]:
    tag = f"cp{sys.version_info.major}{sys.version_info.minor}"
    found: list[str] = []
    for folder in folders:
        folder = folder.removeprefix("file://")
        found += glob.glob(os.path.join(folder, f"torch-*+cpu-{tag}-*{platform.machine()}.whl"))
    return tuple(sorted(found))


def torch_usable() -> bool:
    try:
        import torch  # noqa: F401

        return True
    except Exception:
        return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--variant",
        choices=["cpu", "cuda", "skip"],
        default=os.environ.get("BERTNLI_TORCH") or None,
    )
    parser.add_argument("--dry-run", action="store_true")
    parser.add_argument(
        "--constraint",
        type=Path,
        metavar="FILE",
        help="a constraints file (pip -c); its torch pin chooses the version",
    )
    args = parser.parse_args(argv)
    pin = pinned_torch(args.constraint) if args.constraint else None
    if not args.dry_run and args.variant is None and torch_usable():
        import torch

        if pin is None or _public(torch.__version__) == pin:
            print(
                f"torch {torch.__version__} is already installed; leaving it (BERTNLI_TORCH=cpu|cuda to change)"
            )
            return 0
        print(
            f"torch {torch.__version__} is installed, {args.constraint} pins {pin}: installing that"
        )
    machine = Machine(
        platform.system(), platform.machine(), has_nvidia_gpu(), local_cpu_wheels(pip_find_links())
    )
    choice = choose(machine, args.variant, pin)
    constraint = (
        ("-c", str(args.constraint)) if args.constraint and choice.variant != "skip" else ()
    )
    command = [sys.executable, "-m", "pip", "install", *choice.pip_args, *constraint]
    print(f"torch: {choice.variant} build — {choice.reason}")
    if choice.variant == "skip":
        return 0
    print("$ " + " ".join(command), flush=True)
    if args.dry_run:
        return 0
    return subprocess.call(command)


if __name__ == "__main__":
    sys.exit(main())
