"""Two checkouts of bertnli side by side: training examples/s and dataset build time.

A refactor must not make the package slower. This script measures an old and a new
revision in one run, alternating them (old, new, old, new, ...) so that the machine's
load drifts over both alike, and reports the median of the runs and the ratio.
Each revision is measured with its OWN ``benchmarks/bench_train.py`` and
``benchmarks/bench_data.py`` (their APIs may differ), at sizes small enough for a
2-core machine:

    python benchmarks/compare_checkouts.py OLD_REV NEW_REV [--runs 5]

It makes detached git worktrees under a temporary folder and removes them at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TRAIN_ARGS = [
    "--model",
    "bert.small",
    "--batch-size",
    "128",
    "--max-len",
    "64",
    "--warmup",
    "2",
    "--windows",
    "3",
    "--steps-per-window",
    "2",
]
# Two corpora: the sample replicated (sentences repeat, as in SNLI) and the same made all distinct,
# the dataset build's worst case; the table reports both.
DATA_ARGS = ["--runs", "1", "--pairs", "50000"]
BUILD_ROW = re.compile(r"^\| build time \(median of \d+\) \| [\d.]+ s \| ([\d.]+) s \|", flags=re.M)


def run(checkout: Path, script: str, args: list[str]) -> str:
    env = dict(os.environ, PYTHONPATH=str(checkout / "src"))
    done = subprocess.run(
        [sys.executable, str(checkout / "benchmarks" / script), *args],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if done.returncode != 0:
        raise SystemExit(f"{checkout.name}: {script} failed:\n{done.stderr[-2000:]}")
    return done.stdout


def train_rate(checkout: Path, tmp: Path) -> float:
    out = tmp / f"{checkout.name}.json"
    run(checkout, "bench_train.py", [*TRAIN_ARGS, "--json", str(out)])
    rows = json.loads(out.read_text())
    return next(
        r["examples_per_sec"] for r in rows if r["side"] == "bertnli" and "skipped" not in r
    )


def build_seconds(checkout: Path) -> tuple[float, float]:
    """Build seconds on the replicated corpus and on the all-distinct one."""
    found = BUILD_ROW.findall(run(checkout, "bench_data.py", DATA_ARGS))
    if len(found) != 2:
        raise SystemExit(
            f"{checkout.name}: bench_data.py printed {len(found)} build-time rows, not 2"
        )
    return float(found[0]), float(found[1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("old")
    parser.add_argument("new")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--skip-train", action="store_true", help="measure the dataset build only")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="compare-") as tmp:
        tmp = Path(tmp)
        sides = {}
        for label, rev in (("old", args.old), ("new", args.new)):
            sides[label] = tmp / label
            subprocess.run(
                [
                    "git",
                    "-C",
                    str(ROOT),
                    "worktree",
                    "add",
                    "--detach",
                    "-q",
                    str(sides[label]),
                    rev,
                ],
                check=True,
            )
        try:
            rates = {label: [] for label in sides}
            builds = {label: [] for label in sides}
            for i in range(args.runs):
                for label, checkout in sides.items():
                    skip = args.skip_train
                    rates[label].append(float("nan") if skip else train_rate(checkout, tmp))
                    builds[label].append(build_seconds(checkout))
                    print(
                        f"run {i + 1} {label}: {rates[label][-1]:,.1f} examples/s, dataset build "
                        f"{builds[label][-1][0]:.2f} s / {builds[label][-1][1]:.2f} s (distinct)",
                        file=sys.stderr,
                        flush=True,
                    )
        finally:
            for checkout in sides.values():
                subprocess.run(
                    ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(checkout)]
                )
    med = {
        k: (
            statistics.median(rates[k]),
            statistics.median(b[0] for b in builds[k]),
            statistics.median(b[1] for b in builds[k]),
        )
        for k in sides
    }
    print(
        f"old = {args.old}, new = {args.new}; medians of {args.runs} alternating runs, {os.cpu_count()} CPUs; "
        f"bench_train {' '.join(TRAIN_ARGS)}; bench_data {' '.join(DATA_ARGS)}\n"
    )
    print("| measure | old | new | new / old |")
    print("| --- | ---: | ---: | ---: |")
    print(
        f"| training, examples/s (higher is better) | {med['old'][0]:,.1f} | {med['new'][0]:,.1f} "
        f"| {med['new'][0] / med['old'][0]:.3f} |"
    )
    print(
        f"| dataset build, s (lower is better) | {med['old'][1]:.2f} | {med['new'][1]:.2f} "
        f"| {med['new'][1] / med['old'][1]:.3f} |"
    )
    print(
        f"| dataset build, all sentences distinct, s | {med['old'][2]:.2f} | {med['new'][2]:.2f} "
        f"| {med['new'][2] / med['old'][2]:.3f} |"
    )
    print("\nevery run: " + json.dumps({"examples_per_sec": rates, "build_s": builds}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
