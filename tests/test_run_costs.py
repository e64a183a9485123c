"""Costs: parameter split, FLOPs, memory and time estimates, checked against counts and hand sums."""

import re
from pathlib import Path

import pytest
import torch
from helpers.standin_files import TINY_VOCAB, standin_files
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

from bertnli import KNOWN_CONFIGS, BERTClassifier, BERTModel, count_parameters
from bertnli.run import costs

ROOT = Path(__file__).resolve().parents[1]

TINY = dict(
    vocab_size=50,
    num_hiddens=32,
    ffn_num_hiddens=48,
    num_heads=4,
    num_blks=2,
    dropout=0.0,
    max_len=40,
)
PARTS = ("embeddings", "encoder blocks", "pooler", "mlm head", "nsp head")


def test_parameters_by_part_sums_to_the_model():
    model = BERTModel(**TINY)
    parts = costs.parameters_by_part(model)
    assert set(parts) == {*PARTS, "total"}
    assert sum(parts[p] for p in PARTS) == parts["total"] == count_parameters(model)
    assert parts["embeddings"] == (50 + 2 + 40) * 32


def test_parameters_from_config_match_a_built_model():
    model = BERTModel(**TINY)
    assert costs.parameters_from_config(model.config) == costs.parameters_by_part(model)
    assert costs.parameters_from_config(TINY) == costs.parameters_by_part(model)
    assert costs.fine_tuned_parameters(TINY) == count_parameters(BERTClassifier(model))


def test_known_configs_without_vocab_use_the_default():
    with_vocab = dict(KNOWN_CONFIGS["bert.small"], vocab_size=costs.DEFAULT_VOCAB_SIZE)
    assert costs.parameters_from_config(
        KNOWN_CONFIGS["bert.small"]
    ) == costs.parameters_from_config(with_vocab)
    with pytest.raises(ValueError, match="lacks"):
        costs.parameters_from_config({"num_hiddens": 8})
    with pytest.raises(TypeError):
        costs.parameters_from_config(42)


def test_flops_match_a_hand_computation():
    cfg = dict(num_hiddens=4, ffn_num_hiddens=8, num_heads=2, num_blks=1, max_len=16)
    # T=3: projections 4*2*3*4*4=384, attention 2*2*3*3*4=144, FFN 2*2*3*4*8=384,
    # pooler 2*4*4=32, classifier 2*4*3=24 -> 968 forward, 2904 training.
    assert costs.flops_per_example(cfg, 3, training=False) == 968
    assert costs.flops_per_example(cfg, 3) == 3 * 968


def test_flops_match_torch_flop_counter():
    """Independent count: PyTorch's FlopCounterMode on the real classifier (plain attention path)."""
    model = BERTClassifier(BERTModel(**TINY))
    T = 10
    X = (torch.randint(0, 50, (1, T)), torch.zeros(1, T, dtype=torch.long), None)
    with sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as fwd:
        model(*X)
    with sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as train:
        model(*X).sum().backward()
    assert costs.flops_per_example(TINY, T, training=False) == fwd.get_total_flops()
    assert costs.flops_per_example(TINY, T) == train.get_total_flops()


def test_flops_base_vs_small_and_scaling_in_length():
    small, base = KNOWN_CONFIGS["bert.small"], KNOWN_CONFIGS["bert.base"]
    ratio = costs.flops_per_example(base, 27) / costs.flops_per_example(small, 27)
    # 6x the blocks, 9x the width of every matmul: about 54x, a little more from the FFN ratio.
    assert 50 < ratio < 100
    f = lambda T: costs.flops_per_example(base, T)  # noqa: E731
    assert f(20) / f(10) == pytest.approx(2, rel=0.05)  # short: nearly linear
    quadratic = f(512) - 2 * f(256) + f(0)  # nonzero only because of the T*T term
    L, H = base["num_blks"], base["num_hiddens"]
    assert quadratic == pytest.approx(3 * L * 4 * H * (512**2 - 2 * 256**2))


def test_memory_estimate_parts():
    base = KNOWN_CONFIGS["bert.base"]
    full = costs.memory_estimate(base, 32, 64, amp=False)
    half = costs.memory_estimate(base, 32, 64, amp=True)
    assert set(full) == {"weights", "gradients", "optimizer", "activations", "total"}
    assert half["activations"] * 2 == pytest.approx(full["activations"], abs=2)
    assert full["optimizer"] == 2 * full["weights"] == 2 * full["gradients"]
    assert half["weights"] == full["weights"] == 4 * costs.fine_tuned_parameters(base)
    assert full["total"] == sum(v for k, v in full.items() if k != "total")
    infer = costs.memory_estimate(base, 32, 64, amp=False, training=False)
    assert infer["gradients"] == infer["optimizer"] == 0
    assert infer["activations"] * base["num_blks"] == pytest.approx(full["activations"], abs=16)


def test_memory_accepts_config_objects_and_amp_saves_at_scale():
    model_cfg = BERTModel(**TINY).config
    assert costs.memory_estimate(model_cfg, 4, 8, amp=True) == costs.memory_estimate(
        TINY, 4, 8, amp=True
    )
    base = KNOWN_CONFIGS["bert.base"]
    fp32 = costs.memory_estimate(base, 512, 128, amp=False)["total"]
    amp = costs.memory_estimate(base, 512, 128, amp=True)["total"]
    assert fp32 > amp > fp32 / 2
    assert 10 * costs.GiB < amp < fp32 < 80 * costs.GiB


def test_time_estimates_and_table():
    assert costs.epoch_seconds(549_367, 10_588.8) == pytest.approx(51.88, abs=0.01)
    with pytest.raises(ValueError):
        costs.epoch_seconds(10, 0)
    small = KNOWN_CONFIGS["bert.small"]
    rate = costs.throughput_from_flops(small, 27, 1e15, utilization=0.5)
    assert rate == pytest.approx(0.5e15 / costs.flops_per_example(small, 27))
    with pytest.raises(ValueError):
        costs.throughput_from_flops(small, 27, 1e15, utilization=1.5)
    rows = costs.cost_table({"bert.small": small, "bert.base": KNOWN_CONFIGS["bert.base"]}, 27, 512)
    assert [r["name"] for r in rows] == ["bert.small", "bert.base"]
    assert set(rows[0]) == {
        "name",
        "parameters",
        "GFLOPs/example (train)",
        "memory GiB (fp32)",
        "memory GiB (AMP)",
    }
    assert rows[1]["parameters"] > rows[0]["parameters"]
    assert all(r["memory GiB (AMP)"] < r["memory GiB (fp32)"] for r in rows)


# ----------------------------------------------------------------------------- on a real-shaped checkpoint; one constant


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict:
    """A bert.small-shaped checkpoint and a small SNLI-format corpus, as folders and zips."""
    return standin_files(tmp_path_factory.mktemp("standins"))


@pytest.mark.usefixtures(
    "clean_run_env"
)  # conftest.py (as in test_run_profiles.py, where these began)
def test_same_shape_ignores_only_the_vocabulary(files):
    from bertnli import KNOWN_CONFIGS, load_pretrained

    bert, vocab = load_pretrained(files["model"])
    assert len(vocab) == TINY_VOCAB
    assert costs.same_shape(bert.config, KNOWN_CONFIGS["bert.small"])
    assert not costs.same_shape(bert.config, KNOWN_CONFIGS["bert.base"])
    exact = costs.parameters_from_config(bert.config)["total"]
    assert exact == sum(p.numel() for p in bert.parameters())
    assert (
        costs.parameters_from_config(KNOWN_CONFIGS["bert.small"])["total"] != exact
    )  # the assumed vocabulary


@pytest.mark.usefixtures(
    "clean_run_env"
)  # conftest.py (as in test_run_profiles.py, where these began)
def test_one_vocabulary_size_constant():
    """The size appears in one place only: costs.DEFAULT_VOCAB_SIZE and its comment."""
    pattern = re.compile(r"\b(20[,_]?256|60[,_]?005)\b")
    hits = {
        str(p.relative_to(ROOT))
        for p in sorted((ROOT / "src").rglob("*.py"))
        if pattern.search(p.read_text(encoding="utf-8"))
    }
    assert hits == {"src/bertnli/run/costs.py"}, hits
    lines = (ROOT / "src/bertnli/run/costs.py").read_text(encoding="utf-8").splitlines()
    assert sum(line.startswith("DEFAULT_VOCAB_SIZE =") for line in lines) == 1
    assert "NOT verified" in (ROOT / "src/bertnli/run/costs.py").read_text(encoding="utf-8")
