"""The command line: ``python -m bertnli <command>`` (or the ``bertnli`` script).

Each command is a small function; argparse does the checking, so a bad argument gets
argparse's usual message naming the argument.
"""

from __future__ import annotations

import argparse
import platform
import sys


def cmd_info(args: argparse.Namespace) -> int:
    """What is installed, which devices are usable, and a look at the sample checkpoint."""
    import torch

    from . import __version__, count_parameters, devices, hub, load_pretrained

    print(f"bertnli {__version__} | torch {torch.__version__} | Python {platform.python_version()}")
    print("devices: " + ", ".join(str(d) for d in devices()))
    print(f"cache:   {hub.cache_dir()}")
    model, vocab = load_pretrained(args.model)
    c = model.config
    print(f"model {args.model}: {c.num_blks} blocks, {c.num_hiddens} hidden, {c.ffn_num_hiddens} ffn, "
          f"{c.num_heads} heads, max_len {c.max_len}, {count_parameters(model):,} parameters, "
          f"vocabulary of {len(vocab):,} tokens")
    return 0


def cmd_download(args: argparse.Namespace) -> int:
    from ._cli_hub import cmd_download as run
    return run(args.name)


def cmd_cache(args: argparse.Namespace) -> int:
    from ._cli_hub import cmd_cache as run
    return run()


def build_parser() -> argparse.ArgumentParser:
    from .hub import REGISTRY

    parser = argparse.ArgumentParser(prog="bertnli", description="Fine-tune a pretrained BERT on SNLI.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("info", help="versions, devices, cache folder and a checkpoint summary")
    p.add_argument("--model", default="sample", help="checkpoint to summarise (default: the embedded sample)")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("download", help="download a resource into the cache (sha1-checked)")
    p.add_argument("name", choices=sorted(REGISTRY), help="what to download")
    p.set_defaults(func=cmd_download)

    p = sub.add_parser("cache", help="list what is in the cache, with sizes")
    p.set_defaults(func=cmd_cache)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
