"""gpu_check.sh's one table: the machine, the versions and every measured row, as markdown.

    python benchmarks/gpu_report.py RESULTS_FOLDER > RESULTS_FOLDER/gpu_check.md

Reads what the check left in the folder: ``machine.json`` (written by ``--machine``),
``bench_train.json`` (bench_train.py's rows) and one ``cli-*.log`` per command-line run
(its epoch lines, and for ``--compile`` runs the ``TORCH_LOGS=recompiles`` lines). A step
that failed or never ran shows as such, so a partial check still reports what it got.
The targets are issue 18's, on one GPU: bert.small at least 100,000 examples/s and
bert.base at least 15,000 (the command line's epoch line), the first eager epoch within
15% of the second, ``--compile`` faster than eager, bertnli at least as fast as transformers.
"""

from __future__ import annotations

import json
import platform
import re
import sys
from pathlib import Path

EPOCH = re.compile(r"^epoch (\d+)/\d+: .*?([\d,]+\.\d) examples/sec")
TRAINING_ON = re.compile(r"^training on (.*)$")
TARGETS = {"bert.small": 100_000, "bert.base": 15_000}


def machine() -> dict:
    """Versions and the GPU, from this Python (run with ``--machine`` on the GPU machine)."""
    import torch

    info = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "gpus": torch.cuda.device_count(),
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none (CPU run)",
        "host": platform.node(),
    }
    try:
        import transformers

        info["transformers"] = transformers.__version__
    except ImportError:
        info["transformers"] = "not installed"
    return info


def bench_rows(folder: Path) -> list[str]:
    path = folder / "bench_train.json"
    if not path.exists():
        return ["| bench_train | | | | not run or failed | |"]
    rows = json.loads(path.read_text())
    out = []
    for r in rows:
        what = f"bench_train: {r['side']}"
        compiled = "yes" if r["compiled"] else "no"
        if "skipped" in r:
            out.append(f"| {what} | {r['model']} | {r['amp']} | {compiled} | {r['skipped']} | |")
            continue
        notes = [f"peak {r['peak_mb']:,.0f} MB", f"padding {r['padding_share']:.0%}"]
        other = next(
            (
                o
                for o in rows
                if o["side"] == "transformers"
                and o["model"] == r["model"]
                and o["amp"] == r["amp"]
                and o["compiled"] == r["compiled"]
                and "skipped" not in o
            ),
            None,
        )
        if r["side"] == "bertnli" and other:
            ratio = r["examples_per_sec"] / other["examples_per_sec"]
            notes.append(f"{ratio:.2f}x transformers ({'meets' if ratio >= 1 else 'MISSES'} >= 1x)")
        if r.get("graphs") is not None:
            notes.append(f"{r['graphs']} graph(s) compiled")
        out.append(
            f"| {what} | {r['model']} | {r['amp']} | {compiled} | {r['examples_per_sec']:,.0f} | "
            f"{'; '.join(notes)} |"
        )
    return out


def cli_rows(folder: Path) -> list[str]:
    out = []
    for log in sorted(folder.glob("cli-*.log")):
        name = log.stem[len("cli-") :]
        model = "bert.base" if "base" in name else "bert.small"
        compiled = "yes" if "compile" in name else "no"
        text = log.read_text(errors="replace")
        epochs = [
            float(m.group(2).replace(",", "")) for m in map(EPOCH.match, text.splitlines()) if m
        ]
        how = next((m.group(1) for m in map(TRAINING_ON.match, text.splitlines()) if m), "?")
        precision = how.split(": ", 1)[-1]
        if not epochs:
            out.append(
                f"| command line: {name} | {model} | {precision} | {compiled} | no epoch finished | |"
            )
            continue
        notes = [f"epochs: {', '.join(f'{e:,.0f}' for e in epochs)}"]
        if len(epochs) >= 2:
            ratio = epochs[0] / epochs[1]
            notes.append(
                f"epoch 1 / epoch 2 = {ratio:.2f}"
                + (
                    f" ({'meets' if ratio >= 0.85 else 'MISSES'} within 15%)"
                    if compiled == "no"
                    else ""
                )
            )
        best = max(epochs)
        if model in TARGETS and compiled == "no":
            notes.append(
                f"target {TARGETS[model]:,}: {'meets' if best >= TARGETS[model] else 'MISSES'}"
            )
        recompiles = text.count("Recompiling function")
        if compiled == "yes":
            notes.append(f"{recompiles} recompile(s) logged")
        out.append(
            f"| command line: {name} | {model} | {precision} | {compiled} | {best:,.0f} | "
            f"{'; '.join(notes)} |"
        )
    return out or ["| command line | | | | not run | |"]


def report(folder: Path) -> str:
    info_path = folder / "machine.json"
    info = json.loads(info_path.read_text()) if info_path.exists() else {}
    status = (
        (folder / "status.txt").read_text().strip()
        if (folder / "status.txt").exists()
        else "unknown"
    )
    lines = [
        f"# GPU check: {info.get('gpu', '?')}",
        "",
        "Python {python}, PyTorch {torch} (CUDA {cuda}), transformers {transformers}; {gpus} GPU(s); "
        "host {host}.".format(
            **{
                k: info.get(k, "?")
                for k in ("python", "torch", "cuda", "transformers", "gpus", "host")
            }
        ),
        f"Check status: {status}.",
        "",
        "| step | model | precision | compiled | examples/s | notes |",
        "| --- | --- | --- | --- | ---: | --- |",
    ]
    return "\n".join(lines + bench_rows(folder) + cli_rows(folder)) + "\n"


def main(argv: list[str]) -> int:
    if argv[:1] == ["--machine"]:
        Path(argv[1]).write_text(json.dumps(machine(), indent=1))
        return 0
    sys.stdout.write(report(Path(argv[0])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
