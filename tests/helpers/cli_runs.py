"""Running the command line inside the test process, with its exit code and what it printed, and
in a subprocess that is sent a signal at its first epoch."""

import subprocess

from bertnli import cli


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    """``python -m bertnli ARGV`` in this process: ``(exit code, stdout, stderr)``."""
    capsys.readouterr()
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def signal_at_first_epoch(command: list[str], env: dict, signum: int) -> tuple[int, str, str]:
    """Run ``command`` (a finetune of 8 epochs) and send it ``signum`` as soon as it prints
    ``epoch 1/8``: ``(exit code, everything it printed on stdout, stderr)``."""
    proc = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if line.startswith("epoch 1/8"):
            proc.send_signal(signum)
            break
    out, err = proc.communicate(timeout=120)
    return proc.returncode, "".join(lines) + out, err
