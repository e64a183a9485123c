"""``python -m bertnli.launch``: torchrun for bertnli, ending the way its ranks end.

``python -m bertnli.launch --nproc-per-node=4 finetune --profile full --out runs/ddp`` runs
``torchrun --nproc-per-node=4 -m bertnli finetune ...`` (torchrun's options before the
command, bertnli's after it) with one difference: when Ctrl-C or SIGTERM (a scheduler,
``timeout``) stops the job, or a rank fails, it ends with the ranks' own words (rank 0's
"stopped by ... holds epoch N ... To continue from there: ...", or the error) and their
exit code (130, 143, 2), not with a traceback of torchrun's agent.
"""

from __future__ import annotations

import logging
import os
import sys

LAUNCHER_ENV = "BERTNLI_LAUNCHER"  # set for the ranks: their resume command names this launcher
COMMANDS = ("finetune", "evaluate", "predict", "info", "download", "cache", "classroom")
USAGE = (
    "usage: python -m bertnli.launch [torchrun options, e.g. --nproc-per-node=2] COMMAND [bertnli options]\n"
    f"COMMAND is one of {', '.join(COMMANDS)}"
)


def split(argv: list[str]) -> tuple[list[str], list[str]] | None:
    """``(torchrun options, bertnli command and options)``, cut at the first bertnli command."""
    for i, word in enumerate(argv):
        if word in COMMANDS:
            return argv[:i], argv[i:]
    return None


def exit_code(code: int) -> int:
    """A rank's exit status as a shell reports it (killed by signal N: 128 + N)."""
    return code if code >= 0 else 128 - code


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parts = split(argv)
    if parts is None or any(word in ("-h", "--help") for word in argv[:1]):
        print(USAGE, file=sys.stderr)
        return 0 if argv[:1] in (["-h"], ["--help"]) else 2
    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.run import parse_args, run

    options, command = parts
    os.environ[LAUNCHER_ENV] = "1"
    logging.getLogger("torch.distributed.elastic").setLevel(
        logging.ERROR
    )  # not "shutting down workers"
    try:
        run(parse_args([*options, "-m", "bertnli", *command]))
    except SignalException as err:  # the ranks stopped at the same step and rank 0 said so
        return 128 + int(err.sigval)
    except ChildFailedError as err:  # the failing rank said what went wrong
        return exit_code(err.get_first_failure()[1].exitcode)
    return 0


if __name__ == "__main__":
    sys.exit(main())
