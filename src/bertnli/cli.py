"""The command line: ``python -m bertnli <command>`` (or the ``bertnli`` script).

Each command is a small function; argparse does the checking, so a bad argument gets
argparse's usual message naming the argument.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import shlex
import signal
import sys
import warnings

from bertnli.messages import check_language, label_name, text


def cmd_info(args: argparse.Namespace) -> int:
    """What is installed, which devices are usable, and a look at the sample checkpoint."""
    import torch

    from bertnli import __version__, count_parameters, devices, hub, load_pretrained
    from bertnli.run.profiles import get_profile

    print(f"bertnli {__version__} | torch {torch.__version__} | Python {platform.python_version()}")
    print(text("info.devices", devices=", ".join(str(d) for d in devices())))
    print(text("info.cache", path=hub.cache_dir()))
    profile = get_profile(args.profile, check_paths=False).with_overrides(
        "--model", model=args.model
    )
    profile.check_paths(("model",))  # a bad $BERTNLI_MODEL, unless --model replaced it
    name = profile.model
    print(
        text("info.profile", name=profile.name)
        + (text("info.overrides", names=", ".join(profile.overrides)) if profile.overrides else "")
    )
    model, vocab = load_pretrained(name)
    c = model.config
    print(
        text(
            "info.model",
            name=name,
            blocks=c.num_blks,
            hidden=c.num_hiddens,
            ffn=c.ffn_num_hiddens,
            heads=c.num_heads,
            max_len=c.max_len,
            params=count_parameters(model),
            vocab=len(vocab),
        )
    )
    return 0


def cmd_download(args: argparse.Namespace) -> int:
    from bertnli._cli_hub import cmd_download as run

    return run(args.name)


def cmd_cache(args: argparse.Namespace) -> int:
    from bertnli._cli_hub import cmd_cache as run

    return run()


def _rule(text: str, parse, check, where: str):
    """An argparse type's work: ``parse`` the text, then the setting's one rule (``bertnli.run.rules``)."""
    try:
        value = parse(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    try:
        return check(value, where)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _positive_int(text: str) -> int:
    from bertnli.run.rules import check_positive_int

    return _rule(text, int, check_positive_int, "the value")


def _learning_rate(text: str) -> float:
    from bertnli.run.rules import check_lr

    return _rule(text, float, check_lr, "--lr")


def _positive_float(text: str) -> float:
    value = float(text)
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a finite positive number, got {text}")
    return value


def _run_profile(folder: str):
    """The ``Profile`` a run folder's run.json records (only the fields this version knows)."""
    from bertnli.run.spec import recorded_profile

    return recorded_profile(folder)


def _resume_command(args: argparse.Namespace, info) -> str:
    """The exact command that continues this run (its settings come back from run.json)."""
    device = f" --device {shlex.quote(args.device)}" if args.device else ""
    from bertnli.launch import LAUNCHER_ENV

    if not info.is_distributed:
        launcher = "python -m bertnli"
    elif os.environ.get(LAUNCHER_ENV):  # started by python -m bertnli.launch: continue the same way
        launcher = f"python -m bertnli.launch --nproc-per-node={info.world_size}"
    else:
        launcher = f"torchrun --nproc-per-node={info.world_size} -m bertnli"
    return f"{launcher} finetune --out {shlex.quote(str(args.out))} --resume{device}"


# finetune's options that describe the run (RunSpec.build takes them by these names)
SPEC_OPTIONS = (
    "model",
    "data",
    "epochs",
    "batch_size",
    "max_len",
    "lr",
    "truncation",
    "train_pairs",
    "test_pairs",
    "out",
    "resume",
    "overwrite",
    "seed",
    "device",
    "amp",
    "compile",
    "num_workers",
    "progress",
)


def cmd_finetune(args: argparse.Namespace) -> int:
    import io

    from bertnli import distributed, sample
    from bertnli.run.recipe import finetune_job
    from bertnli.run.rules import CLI
    from bertnli.run.spec import RunSpec

    # Profile, then the BERTNLI_* variables, then the options: one RunSpec, checked once. A resumed
    # run continues with its own settings (and seed); options given now change how the rest of it
    # goes (epochs, lr, batch size, ...), and finetune_job refuses those that would make it another
    # run (model, data, pair limits, max_len, truncation, seed).
    spec = RunSpec.build(
        args.profile,
        os.environ,
        surface=CLI,
        **{name: getattr(args, name) for name in SPEC_OPTIONS},
    )
    if not spec.resume:
        spec.profile.check_paths(
            ("model", "data")
        )  # a bad $BERTNLI_DATA / $BERTNLI_MODEL no option replaced
    with distributed.session(spec.device) as info:  # this process's place in the job, made once
        if not info.is_main:
            sample.notice(file=io.StringIO())  # rank 0 alone shows the samples' notices
            sample.korean_notice(file=io.StringIO())
        info.print(spec.profile.banner(), flush=True)
        _, _, history = finetune_job(
            spec, dist=info, resume_command=_resume_command(args, info) if args.out else None
        )
        if history.interrupted:  # fine_tune said what was saved and how to continue
            return (
                128 + signal.Signals[history.stopped_by or "SIGINT"]
            )  # 130 for Ctrl-C, 143 for SIGTERM
        info.print(
            text("finetune.done", summary=history.summary())
            + (text("finetune.saved", out=args.out) if args.out else "")
        )
    return 0


def _load_run(folder: str):
    """``(model, vocab, profile)`` of a run folder: settings from run.json, weights from the checkpoint."""
    from bertnli.run.checkpoint import model_from_checkpoint

    profile = _run_profile(folder)
    model, vocab, _ = model_from_checkpoint(folder)
    if vocab is None:
        raise ValueError(
            f"{folder}: the checkpoint holds no vocabulary (saved by the Python API without one); "
            "fine-tune it with python -m bertnli finetune --out"
        )
    return model, vocab, profile


def cmd_evaluate(args: argparse.Namespace) -> int:
    from bertnli.data.loader import make_loader
    from bertnli.data.snli import LABELS
    from bertnli.run.inference import evaluate
    from bertnli.run.recipe import load_datasets

    model, vocab, profile = _load_run(args.run)
    data = load_datasets(profile, vocab, splits=(args.split,))[args.split]
    result = evaluate(model, make_loader(data, args.batch_size, shuffle=False))
    print(
        text(
            "evaluate.result",
            split=args.split,
            accuracy=result["accuracy"],
            loss=result["loss"],
            examples=result["examples"],
        )
    )
    language = _corpus_language(profile)
    print(
        text("evaluate.confusion", labels="/".join(label_name(name, language) for name in LABELS))
    )
    for row in result["confusion"]:
        print("  " + " ".join(f"{v:7d}" for v in row))
    return 0


def _corpus_language(profile) -> str:
    """The language of the run's corpus (``en`` / ``ko``): its labels are shown in it."""
    from bertnli.data.corpora import corpus_of

    try:
        return corpus_of(profile.data).language
    except (OSError, ValueError):  # the corpus moved since the run: the labels stay English
        return "en"


def cmd_predict(args: argparse.Namespace) -> int:
    from bertnli.data.snli import LABELS
    from bertnli.run.inference import predict

    model, vocab, profile = _load_run(args.run)
    label, probs = predict(
        model,
        vocab,
        args.premise,
        args.hypothesis,
        max_len=profile.max_len,
        truncation=profile.truncation,
    )
    language = _corpus_language(profile)
    print(label_name(label, language))
    print("  ".join(f"{label_name(name, language)} {p:.3f}" for name, p in zip(LABELS, probs)))
    return 0


def cmd_classroom(args: argparse.Namespace) -> int:
    from bertnli.book import classroom

    if args.action == "assignment":
        from bertnli.book.assignments import run_assignment

        lang = None if args.lang == "both" else args.lang
        return run_assignment(args.out, args.notebooks, lang, args.points, args.force)
    if args.action == "student-copy":
        return classroom.run_student_copy(args.out, args.notebooks, args.lang, args.force)
    return classroom.run_mirror(args.out, args.force)


def build_parser() -> argparse.ArgumentParser:
    from bertnli.data.corpora import data_help
    from bertnli.hub import names

    parser = argparse.ArgumentParser(
        prog="bertnli", description="Fine-tune a pretrained BERT on SNLI."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    from bertnli.run.profiles import PROFILES

    p = sub.add_parser("info", help="versions, devices, cache folder and a checkpoint summary")
    p.add_argument(
        "--profile",
        choices=sorted(PROFILES),
        default=None,
        help="whose checkpoint to summarize (default: $BERTNLI_PROFILE or sample)",
    )
    p.add_argument(
        "--model", help="checkpoint to summarize (default: the profile's, or $BERTNLI_MODEL)"
    )
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("download", help="download a resource into the cache (sha1-checked)")
    p.add_argument("name", choices=names(), help="what to download")
    p.set_defaults(func=cmd_download)

    p = sub.add_parser("cache", help="list what is in the cache, with sizes")
    p.set_defaults(func=cmd_cache)

    from bertnli.data.packing import TRUNCATIONS

    p = sub.add_parser(
        "finetune",
        help="fine-tune a BERT classifier on SNLI",
        description="Defaults come from --profile (sample: offline, CPU; laptop: real bert.small "
        "on a subset of SNLI, ~10 min on a 4-core CPU; full: the reference run), then "
        "the BERTNLI_* variables (BERTNLI_MODEL, BERTNLI_DATA, BERTNLI_EPOCHS, "
        "BERTNLI_TRAIN_PAIRS, BERTNLI_TEST_PAIRS), then the options below. Dev accuracy "
        "is printed after every epoch, test accuracy once at the end. Under torchrun, "
        "--batch-size is the global batch split across processes.",
    )
    p.add_argument(
        "--profile",
        choices=sorted(PROFILES),
        default=None,
        help="preset of everything below (default: $BERTNLI_PROFILE or sample)",
    )
    p.add_argument("--model", help="checkpoint: bert.small, bert.base, sample, or a folder/zip")
    p.add_argument("--data", help=data_help())
    p.add_argument("--epochs", type=_positive_int)
    p.add_argument("--batch-size", type=_positive_int)
    p.add_argument("--max-len", type=_positive_int)
    p.add_argument("--lr", type=_learning_rate)
    p.add_argument("--truncation", choices=TRUNCATIONS)
    p.add_argument(
        "--train-pairs",
        type=_positive_int,
        metavar="N",
        help="train on a fixed, seeded subset of N training pairs (the same on every resume)",
    )
    p.add_argument(
        "--test-pairs",
        type=_positive_int,
        metavar="N",
        help="measure dev and test accuracy on fixed, seeded subsets of N pairs each",
    )
    p.add_argument("--out", help="run folder for checkpoint.pt and history.json")
    p.add_argument("--resume", action="store_true", help="continue the run saved in --out")
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="replace the run saved in --out (without it, a folder holding a run is refused)",
    )
    p.add_argument(
        "--seed",
        type=int,
        default=None,
        help="seed of everything random (default: 0; with --resume, the run's own)",
    )
    p.add_argument(
        "--device",
        help="cpu, cuda, cuda:1, mps (default: the first usable accelerator); "
        "under torchrun, cpu trains with gloo and cuda is each process's local GPU",
    )
    p.add_argument(
        "--amp",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="mixed precision (default: on CUDA for bert.base-sized encoders, >= 512 wide; "
        "off for bert.small and off the GPU)",
    )
    p.add_argument("--compile", action="store_true", help="torch.compile the model")
    p.add_argument("--num-workers", type=int, default=0)
    p.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="a progress bar per epoch (default: on in a terminal, off in logs; TQDM_DISABLE=1 "
        "turns it off); in a log it writes at most a line a second",
    )
    p.set_defaults(func=cmd_finetune)

    p = sub.add_parser("evaluate", help="accuracy and confusion matrix of a fine-tuned run")
    p.add_argument("run", help="run folder written by finetune --out")
    p.add_argument("--split", choices=["train", "dev", "test"], default="test")
    p.add_argument("--batch-size", type=_positive_int, default=256)
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("predict", help="classify one premise/hypothesis pair")
    p.add_argument("run", help="run folder written by finetune --out")
    p.add_argument("premise")
    p.add_argument("hypothesis")
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser(
        "classroom", help="student copies of the notebooks; an offline mirror of the downloads"
    )
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    a = actions.add_parser(
        "student-copy", help="the notebooks as .ipynb, outputs cleared, solution cells removed"
    )
    a.add_argument("out", help="folder to write the student notebooks into")
    a.add_argument(
        "--notebooks",
        help="folder with the chapter notebooks (default: ./notebooks or the checkout's)",
    )
    a.add_argument(
        "--lang",
        choices=["en", "ko", "both"],
        default="both",
        help="keep the prose of one language only (cells tagged lang-en / lang-ko; default: both)",
    )
    a.add_argument(
        "--force",
        action="store_true",
        help="replace notebooks in OUT that were changed since this command wrote them (a student's "
        "edits); without it they are kept",
    )
    a = actions.add_parser(
        "mirror",
        help="copy the cached archives and the sample checkpoint into a folder "
        "with a README, for BERTNLI_HUB_URL=file://...",
    )
    a.add_argument("out", help="folder for the mirror (e.g. a USB stick)")
    a.add_argument(
        "--force",
        action="store_true",
        help="replace files in OUT this command did not write (your own README.md, SHA1SUMS); "
        "without it they are kept",
    )
    a = actions.add_parser(
        "assignment", help="the exercise chapters as an nbgrader course folder (source/, config)"
    )
    a.add_argument(
        "out", help="nbgrader course folder to write source/<chapter>/ and nbgrader_config.py into"
    )
    a.add_argument(
        "--notebooks",
        help="folder with the chapter notebooks (default: ./notebooks or the checkout's)",
    )
    a.add_argument(
        "--lang",
        choices=["en", "ko", "both"],
        default="both",
        help="keep the prose of one language only (cells tagged lang-en / lang-ko; default: both)",
    )
    a.add_argument(
        "--points",
        type=_positive_float,
        default=10,
        help="points per autograded check (default: 10)",
    )
    a.add_argument(
        "--force",
        action="store_true",
        help="replace source notebooks that differ from a fresh copy",
    )
    p.set_defaults(func=cmd_classroom)
    return parser


DEBUG_ENV = "BERTNLI_DEBUG"


def _message(err: BaseException) -> str:
    """An exception as one readable line: ``file: what is wrong`` without ``[Errno N]``."""
    if isinstance(err, UnicodeDecodeError):
        return f"a file is not UTF-8 text ({err.reason} at byte {err.start}); re-save it as UTF-8"
    if isinstance(err, OSError) and err.strerror and type(err).__str__ is OSError.__str__:
        name = err.filename if err.filename is not None else ""
        if name and str(name) in err.strerror:
            return err.strerror
        return f"{name}: {err.strerror}" if name else err.strerror
    return str(err).strip() or type(err).__name__


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Warnings as one ``warning:`` line on stderr (not the source line they came from)."""
    print(text("cli.warning", message=message), file=sys.stderr if file is None else file)


def _stop_on_sigterm() -> dict:
    """SIGTERM (a scheduler, ``timeout``, ``docker stop``) and SIGHUP (the terminal closed) end a
    command as Ctrl-C does: what it was doing stops, says so, and exits 128 + the signal (143,
    129), instead of vanishing without a word. Returns the handlers to put back."""
    import threading

    from bertnli.run.train import _raise_stopped

    if threading.current_thread() is not threading.main_thread():
        return {}
    signals = [signal.SIGTERM, *([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])]
    return {
        signum: signal.signal(signum, _raise_stopped)
        for signum in signals
        if signal.getsignal(signum) == signal.SIG_DFL
    }


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        check_language()
    except ValueError as err:
        print(f"bertnli {args.command}: error: {err}", file=sys.stderr)
        return 2
    if (
        args.command == "finetune"
    ):  # the run folder's flags, by their one rule, as argparse's own error
        from bertnli.run.rules import CLI, check_out_flags

        try:
            check_out_flags(args.out, args.resume, args.overwrite, CLI)
        except ValueError as err:
            parser.error(str(err))
    previous = _stop_on_sigterm()
    try:
        return _run(args)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _run(args: argparse.Namespace) -> int:
    """One parsed command, its errors as one line and an exit code (2: bad input, 130/143: stopped)."""
    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        try:
            return args.func(args)
        except KeyboardInterrupt as err:
            signum = getattr(err, "signum", signal.SIGINT)
            said = (
                text("cli.interrupted")
                if signum == signal.SIGINT
                else text("cli.stopped", signal=signal.Signals(signum).name)
            )
            print(f"bertnli {args.command}: {said}", file=sys.stderr)
            return 128 + signum
        except (OSError, ValueError, RuntimeError) as err:  # HubError is a RuntimeError
            if os.environ.get(DEBUG_ENV):
                raise
            print(
                f"bertnli {args.command}: " + text("cli.error", message=_message(err)),
                file=sys.stderr,
            )
            return 2
        except (
            Exception
        ) as err:  # the last line of defence: a short message, the traceback on request
            if os.environ.get(DEBUG_ENV):
                raise
            print(
                f"bertnli {args.command}: "
                + text(
                    "cli.unexpected",
                    kind=type(err).__name__,
                    message=_message(err),
                    debug=DEBUG_ENV,
                ),
                file=sys.stderr,
            )
            return 1
