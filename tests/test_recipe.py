"""The whole job in one call: --seed makes a run reproducible."""

import pytest
import torch

from bertnli import get_profile
from bertnli.recipe import finetune_job


@pytest.mark.slow
def test_the_same_seed_gives_the_same_run_and_another_seed_another(tmp_path, monkeypatch):
    monkeypatch.setenv("BERTNLI_CACHE", str(tmp_path / "cache"))
    profile = get_profile("sample").with_overrides(epochs=1)
    runs = [finetune_job(profile, seed=seed, device="cpu", progress=False) for seed in (7, 7, 8)]
    (model_a, _, history_a), (model_b, _, history_b), (model_c, _, history_c) = runs
    assert history_a.to_dict()["epochs"][0]["train_loss"] == history_b.to_dict()["epochs"][0]["train_loss"]
    assert history_a["valid_acc"] == history_b["valid_acc"] and history_a.test_acc == history_b.test_acc
    for (name, a), b in zip(model_a.state_dict().items(), model_b.state_dict().values(), strict=True):
        assert torch.equal(a, b), name
    assert history_c["train_loss"] != history_a["train_loss"]
    assert not torch.equal(model_c.output.weight, model_a.output.weight)
