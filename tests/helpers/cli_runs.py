"""Running the command line inside the test process, with its exit code and what it printed, and
in a subprocess that is sent a signal at its first epoch."""

import subprocess
from pathlib import Path

from bertnli import cli

EPOCHS = 8  # long enough that a signal at epoch 1 always stops a run in the middle


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    """``python -m bertnli ARGV`` in this process: ``(exit code, stdout, stderr)``."""
    capsys.readouterr()
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def signal_at_first_epoch(
    launcher: list[str], folder: Path, env: dict, signum: int, *options: str
) -> tuple[int, str, str]:
    """``LAUNCHER finetune OPTIONS --epochs 8 --device cpu --out FOLDER`` in a subprocess, sent
    ``signum`` as soon as it prints epoch 1 of its 8: ``(exit code, all of stdout, stderr)``."""
    command = [*launcher, "finetune", *options, "--epochs", str(EPOCHS), "--device", "cpu"]
    proc = subprocess.Popen(
        [*command, "--out", str(folder)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if line.startswith(f"epoch 1/{EPOCHS}"):
            proc.send_signal(signum)
            break
    out, err = proc.communicate(timeout=120)
    return proc.returncode, "".join(lines) + out, err
