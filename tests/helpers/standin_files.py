"""Real-shaped files made here: a bert.small-shaped checkpoint with a tiny vocabulary (random weights,
d2l format) and a small SNLI-format corpus, each as a folder and as a zip (``benchmarks/standins.py``)."""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TINY_VOCAB = 200


def standin_files(root: Path, vocab_size: int = TINY_VOCAB) -> dict:
    """``{"model", "data", "model_zip", "data_zip", "root"}``: the checkpoint and corpus under ``root``."""
    if str(ROOT / "benchmarks") not in sys.path:
        sys.path.insert(0, str(ROOT / "benchmarks"))
    from standins import write_checkpoint, write_corpus

    model = write_checkpoint(root / "bert.small", vocab_size=vocab_size)
    data = write_corpus(
        root / "snli_1.0", {"train": 300, "dev": 90, "test": 90}, vocab_size=vocab_size
    )
    zips = {}
    for name, folder in (("model", model), ("data", data)):
        zips[name] = root / f"{name}.zip"
        with zipfile.ZipFile(zips[name], "w") as zf:
            for f in sorted(folder.iterdir()):
                zf.write(f, f"inner/{folder.name}/{f.name}")
    return {
        "model": model,
        "data": data,
        "model_zip": zips["model"],
        "data_zip": zips["data"],
        "root": root,
    }
