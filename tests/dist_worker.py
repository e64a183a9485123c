"""Run by tests/test_distributed.py: a few fine-tuning steps, either under torchrun (DDP,
gloo, CPU) or as one process on the same global batches. Writes weights and history."""

import json
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
from tiny_task import VOCAB, tiny_bert, tiny_data  # noqa: E402

from bertnli import BERTClassifier, SNLIBERTDataset, distributed, fine_tune  # noqa: E402

GLOBAL_BATCH, STEPS = 8, 6


def main(out: Path, mode: str) -> None:
    torch.set_num_threads(1)
    info = distributed.start("cpu") if mode == "ddp" else None  # cpu under torchrun: gloo
    data = SNLIBERTDataset(tiny_data(GLOBAL_BATCH * STEPS), VOCAB, max_len=32, cache=False)
    batches = np.random.default_rng(0).permutation(len(data)).reshape(STEPS, GLOBAL_BATCH)
    if info is not None:  # each rank takes its half of every global batch
        share = GLOBAL_BATCH // info.world_size
        batches = batches[:, info.rank * share:(info.rank + 1) * share]
    loader = [data.batch(idx) for idx in batches]
    model = BERTClassifier(tiny_bert(seed=0))
    history = fine_tune(model, loader, None, epochs=2, lr=1e-3, device=info or "cpu", seed=0, progress=False)
    rank = info.rank if info is not None else "single"
    torch.save(model.state_dict(), out / f"weights-{rank}.pt")
    (out / f"history-{rank}.json").write_text(json.dumps(history.to_dict()))
    if info is not None:
        assert info.backend == "gloo" and info.world_size == 2 and info.device.type == "cpu"
        distributed.stop(info)


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2])
