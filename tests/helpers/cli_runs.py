"""Running the command line inside the test process, with its exit code and what it printed."""

from bertnli import cli


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    """``python -m bertnli ARGV`` in this process: ``(exit code, stdout, stderr)``."""
    capsys.readouterr()
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err
