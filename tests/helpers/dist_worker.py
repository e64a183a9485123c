"""Run (as a script, by path) by tests/test_run_distributed.py and tests/test_run_signals.py: a few fine-tuning steps, either
under torchrun (DDP, gloo, CPU) or as one process on the same global batches. Writes weights
and history.

Modes: ``ddp`` / ``single`` (two epochs, no run folder); with a run folder in ``out/run``
and dropout on, ``straight`` (three epochs), ``stop`` (rank 0 gets a SIGTERM the moment it
prints epoch 1's line, as a scheduler's would arrive) and ``resume`` (continues to three).
"""

import json
import os
import signal
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parents[1]))  # tests/, so that helpers.* imports
from bertnli import BERTClassifier, SNLIBERTDataset, distributed, fine_tune
from bertnli.distributed import DistInfo
from helpers.tiny_task import VOCAB, tiny_bert, tiny_data

GLOBAL_BATCH, STEPS = 8, 6


class SignalOnEpochLine(DistInfo):
    """Rank 0 sends itself SIGTERM right after printing epoch 1's line."""

    def print(self, *args, **kwargs) -> None:
        super().print(*args, **kwargs)
        if self.is_main and args and str(args[0]).startswith("epoch 1/"):
            os.kill(os.getpid(), signal.SIGTERM)


def main(out: Path, mode: str) -> None:
    torch.set_num_threads(1)
    info = distributed.start("cpu") if mode != "single" else None  # cpu under torchrun: gloo
    premises, hypotheses, labels = tiny_data(GLOBAL_BATCH * STEPS)
    if mode not in (
        "ddp",
        "single",
    ):  # pairs of several lengths: the ranks' batches differ in shape,
        premises = [
            p + " in the park ." * (i % 3) for i, p in enumerate(premises)
        ]  # so do their RNG draws
    data = SNLIBERTDataset((premises, hypotheses, labels), VOCAB, max_len=32, cache=False)
    batches = np.random.default_rng(0).permutation(len(data)).reshape(STEPS, GLOBAL_BATCH)
    if info is not None:  # each rank takes its half of every global batch
        share = GLOBAL_BATCH // info.world_size
        batches = batches[:, info.rank * share : (info.rank + 1) * share]
    loader = [data.batch(idx) for idx in batches]
    rank = info.rank if info is not None else "single"
    if mode in ("ddp", "single"):
        model = BERTClassifier(tiny_bert(seed=0))
        history = fine_tune(
            model, loader, None, epochs=2, lr=1e-3, device=info or "cpu", seed=0, progress=False
        )
    else:  # dropout on: each rank draws its own masks, so each rank's RNG state matters on resume
        model = BERTClassifier(tiny_bert(seed=0, dropout=0.2), dropout=0.2)
        device = (
            SignalOnEpochLine(
                info.device, info.rank, info.local_rank, info.world_size, info.backend
            )
            if mode == "stop"
            else info
        )
        history = fine_tune(
            model,
            loader,
            None,
            epochs=3,
            lr=1e-3,
            device=device,
            seed=0,
            progress=False,
            checkpoint_dir=out / "run",
            resume=mode == "resume",
        )
    torch.save(model.state_dict(), out / f"weights-{mode}-{rank}.pt")
    (out / f"history-{mode}-{rank}.json").write_text(json.dumps(history.to_dict()))
    if mode in ("ddp", "single"):  # the names test_distributed reads
        torch.save(model.state_dict(), out / f"weights-{rank}.pt")
        (out / f"history-{rank}.json").write_text(json.dumps(history.to_dict()))
    if info is not None:
        assert info.backend == "gloo" and info.world_size == 2 and info.device.type == "cpu"
        distributed.stop(info)


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2])  # exit 0 after a stop too: the test reads the files
