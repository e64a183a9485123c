"""What a BERT costs to fine-tune: parameters, FLOPs, memory, time, all computed from sizes.

The notebooks print these numbers instead of quoting them, so a changed configuration
changes the table. Every figure is an estimate with its assumptions in the docstring;
they are meant for "will it fit, how long will it take", not for a paper.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import MISSING, fields

from torch import nn

from bertnli.model.bert import BERTConfig, BERTModel

GiB = 1024**3
FP32_BYTES, HALF_BYTES = 4, 2

# The vocabulary size of d2l's bert.small / bert.base, for figures computed without the
# checkpoint. NOT verified against the files' vocab.json: no public source at hand states
# it (earlier notes in this project said 20,256, d2l's WikiText-2 vocabulary, and 60,005;
# we keep the larger, which also makes speed estimates conservative). Every figure made
# from it is labeled an estimate; with a loaded checkpoint, pass its ``.config`` (or
# ``vocab_size=len(vocab)``) and the count is exact.
DEFAULT_VOCAB_SIZE = 60_005
DEFAULT_DROPOUT = 0.1

# Saved activations per encoder block, in elements, as multiples of B*T*H, B*T*F and
# heads*B*T*T (see ``activation_elements_per_block``).
ACT_PER_HIDDEN = 9
ACT_PER_FFN = 1
ACT_PER_SCORE = 1.5

Config = BERTConfig | Mapping


def _sizes(config: Config, **defaults) -> dict:
    """A plain dict of sizes from a ``BERTConfig``, a full dict or a ``KNOWN_CONFIGS`` entry."""
    if isinstance(config, BERTConfig):
        sizes = config.to_dict()
    elif isinstance(config, Mapping):
        sizes = dict(config)
    else:
        raise TypeError(f"expected a BERTConfig or a dict of sizes, got {type(config).__name__}")
    sizes.setdefault("vocab_size", DEFAULT_VOCAB_SIZE)
    sizes.setdefault("dropout", DEFAULT_DROPOUT)
    for key, value in defaults.items():
        if value is not None:
            sizes[key] = value
    needed = {
        f.name for f in fields(BERTConfig) if f.default is MISSING
    }  # the sizes; switches have defaults
    missing = sorted(needed - sizes.keys())
    if missing:
        raise ValueError(
            f"the configuration lacks {missing}; give num_hiddens, ffn_num_hiddens, num_heads, "
            "num_blks and max_len (as in bertnli.KNOWN_CONFIGS)"
        )
    return sizes


def _count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def parameters_by_part(model: BERTModel) -> dict[str, int]:
    """Parameters of a loaded ``BERTModel``, counted from its tensors, split by part.

    ``embeddings`` is token + segment + position; ``mlm head`` and ``nsp head`` are the
    pretraining heads that fine-tuning drops.
    """
    enc = model.encoder
    parts = {
        "embeddings": _count(enc.token_embedding)
        + _count(enc.segment_embedding)
        + enc.pos_embedding.numel(),
        "encoder blocks": _count(enc.blks),
        "pooler": _count(model.hidden),
        "mlm head": _count(model.mlm),
        "nsp head": _count(model.nsp),
    }
    parts["total"] = _count(model)
    return parts


SHAPE_FIELDS = ("num_hiddens", "ffn_num_hiddens", "num_heads", "num_blks", "max_len")


def same_shape(a: Config, b: Config) -> bool:
    """Whether two configurations agree on every size but the vocabulary (e.g. a loaded
    checkpoint and ``KNOWN_CONFIGS["bert.small"]``)."""
    a, b = (c.to_dict() if isinstance(c, BERTConfig) else dict(c) for c in (a, b))
    return all(a.get(k) == b.get(k) for k in SHAPE_FIELDS)


def parameters_from_config(config: Config, *, vocab_size: int | None = None) -> dict[str, int]:
    """The same split as ``parameters_by_part``, computed from the sizes alone.

    Useful before downloading: bert.base's 110M parameters need no checkpoint to count.
    """
    s = _sizes(config, vocab_size=vocab_size)
    V, H, F, P = s["vocab_size"], s["num_hiddens"], s["ffn_num_hiddens"], s["max_len"]
    linear = lambda n_in, n_out: n_in * n_out + n_out  # noqa: E731  (weight + bias)
    block = 4 * linear(H, H) + linear(H, F) + linear(F, H) + 2 * 2 * H  # + two layer norms
    parts = {
        "embeddings": V * H + 2 * H + P * H,
        "encoder blocks": s["num_blks"] * block,
        "pooler": linear(H, H),
        "mlm head": linear(H, H) + 2 * H + linear(H, V),
        "nsp head": linear(H, 2),
    }
    parts["total"] = sum(parts.values())
    return parts


def fine_tuned_parameters(
    config: Config, *, num_classes: int = 3, vocab_size: int | None = None
) -> int:
    """Parameters a ``BERTClassifier`` trains: embeddings, blocks, pooler and the new layer."""
    parts = parameters_from_config(config, vocab_size=vocab_size)
    H = _sizes(config)["num_hiddens"]
    return (
        parts["embeddings"]
        + parts["encoder blocks"]
        + parts["pooler"]
        + H * num_classes
        + num_classes
    )


def flops_per_example(
    config: Config, seq_len: float, *, training: bool = True, num_classes: int = 3
) -> float:
    """Matrix-multiply FLOPs to classify one packed pair of ``seq_len`` tokens.

    Counts 2 FLOPs per multiply-add. Per encoder block, with T tokens, H hidden units
    and F FFN units: the Q, K, V and output projections ``4 * 2*T*H*H``, attention scores
    and the weighted sum of values ``2 * 2*T*T*H`` (summed over heads), the FFN
    ``2 * 2*T*H*F``. Then the pooler ``2*H*H`` and the classifier ``2*H*num_classes``
    on the ``<cls>`` vector only. Training is taken as 3x the forward pass (the backward
    pass costs about twice the forward: gradients for inputs and for weights).

    Ignored, because they are small next to the matmuls: embedding lookups, layer norms,
    softmax, biases, activations, dropout, the optimizer step. ``seq_len`` may be an
    average (SNLI's ~27): the T*T term then uses the square of the mean, which slightly
    understates a mix of lengths.
    """
    s = _sizes(config)
    H, F, L, T = s["num_hiddens"], s["ffn_num_hiddens"], s["num_blks"], float(seq_len)
    per_block = 4 * 2 * T * H * H + 2 * 2 * T * T * H + 2 * 2 * T * H * F
    forward = L * per_block + 2 * H * H + 2 * H * num_classes
    return 3.0 * forward if training else forward


def activation_elements_per_block(config: Config, batch_size: int, seq_len: int) -> float:
    """Elements one encoder block keeps for the backward pass: ``B*T*(9H + F) + 1.5*heads*B*T*T``.

    The ``9H``: the block input (read by Q, K and V), Q, K, V, the attention output
    that enters ``W_o``, the FFN input, the inputs of the two layer norms, plus about
    one more for the two dropout masks (a byte per entry). The ``F``: the ReLU output,
    which both ReLU's backward and the second FFN layer's weight gradient use (a GELU
    model would keep two). The ``1.5 * heads*B*T*T``: the softmax probabilities and the
    attention-dropout mask, as PyTorch's plain attention path keeps them; fused kernels
    (flash / memory-efficient) keep only per-row statistics, so for them this term is an
    overestimate. The layout follows the usual per-layer accounting of Transformer
    activations (Korthikanti et al., 2022), adapted to a ReLU FFN.
    """
    s = _sizes(config)
    B, T = batch_size, seq_len
    return (
        B * T * (ACT_PER_HIDDEN * s["num_hiddens"] + ACT_PER_FFN * s["ffn_num_hiddens"])
        + ACT_PER_SCORE * s["num_heads"] * B * T * T
    )


def memory_estimate(
    config: Config, batch_size: int, seq_len: int, *, amp: bool, training: bool = True
) -> dict[str, int]:
    """Bytes on the device to fine-tune (or, ``training=False``, to run) a ``BERTClassifier``.

    - ``weights``: fp32 master copy of the fine-tuned parameters (MLM/NSP heads dropped).
    - ``gradients``: one fp32 gradient per parameter.
    - ``optimizer``: Adam's two fp32 moments per parameter.
    - ``activations``: ``activation_elements_per_block`` times the number of blocks, in
      16-bit when ``amp`` (autocast) else fp32. Without training nothing is kept for a
      backward pass, so one block's worth is live at a time.

    Not counted: autocast's 16-bit copies of the weights (2 bytes per parameter), the
    CUDA context and allocator slack (often 0.5-2 GiB), temporary buffers inside kernels.
    ``seq_len`` is the padded length; with dynamic padding, the longest pair of a batch.
    """
    s = _sizes(config)
    n = fine_tuned_parameters(s)
    per_elem = HALF_BYTES if amp else FP32_BYTES
    per_block = activation_elements_per_block(s, batch_size, seq_len) * per_elem
    out = {
        "weights": n * FP32_BYTES,
        "gradients": n * FP32_BYTES if training else 0,
        "optimizer": 2 * n * FP32_BYTES if training else 0,
        "activations": int(per_block * s["num_blks"] if training else per_block),
    }
    out["total"] = sum(out.values())
    return out


def epoch_seconds(num_examples: int, examples_per_sec: float) -> float:
    """Seconds for one pass over ``num_examples`` at a measured or estimated throughput."""
    if examples_per_sec <= 0:
        raise ValueError(f"examples_per_sec must be positive, got {examples_per_sec}")
    return num_examples / examples_per_sec


def throughput_from_flops(
    config: Config,
    seq_len: float,
    device_flops: float,
    utilization: float = 0.4,
    *,
    training: bool = True,
) -> float:
    """Examples per second a device with ``device_flops`` peak FLOP/s reaches at ``utilization``.

    0.4 is a fair share of peak for a well-fed BERT fine-tune with mixed precision;
    short sequences and small models usually get less.
    """
    if not 0 < utilization <= 1:
        raise ValueError(f"utilization is a fraction of peak in (0, 1], got {utilization}")
    return device_flops * utilization / flops_per_example(config, seq_len, training=training)


def cost_table(configs: Mapping[str, Config], seq_len: float, batch_size: int) -> list[dict]:
    """One row per configuration, for a notebook table.

    Keys: ``name``, ``parameters`` (what fine-tuning trains), ``GFLOPs/example (train)``
    at ``seq_len`` tokens, ``memory GiB (fp32)`` and ``memory GiB (AMP)`` for training at
    ``batch_size`` pairs padded to ``round(seq_len)``.
    """
    rows = []
    T = max(1, round(seq_len))
    for name, config in configs.items():
        rows.append(
            {
                "name": name,
                "parameters": fine_tuned_parameters(config),
                "GFLOPs/example (train)": round(flops_per_example(config, seq_len) / 1e9, 3),
                "memory GiB (fp32)": round(
                    memory_estimate(config, batch_size, T, amp=False)["total"] / GiB, 2
                ),
                "memory GiB (AMP)": round(
                    memory_estimate(config, batch_size, T, amp=True)["total"] / GiB, 2
                ),
            }
        )
    return rows


# ----------------------------------------------------------------------------- time on a laptop CPU

# SNLI 1.0's pairs with a gold label (no-consensus rows dropped), per split.
SNLI_PAIRS = {"train": 549_367, "dev": 9_842, "test": 9_824}
# The mean length of an SNLI pair packed for BERT, in tokens (<cls> and both <sep> included).
SNLI_MEAN_PAIR_TOKENS = 27
# The laptop profile's measured speed (benchmarks/laptop_size.py): one thread of the 2-core machine it
# was measured on trained ~345 bert.small pairs/s at batch 64 and max_len 64; a 4-core laptop CPU is
# taken as 1.5x that, the cautious end of the 1.5-2x the profile was sized with.
LAPTOP_TRAIN_PAIRS_PER_SEC = 345 * 1.5
LAPTOP_REFERENCE = dict(
    num_hiddens=256, ffn_num_hiddens=512, num_heads=4, num_blks=2, max_len=512
)  # bert.small
LAPTOP_REFERENCE_MAX_LEN = 64


def laptop_cpu_seconds(
    config: Config, *, train_pairs: int, epochs: int, evaluated_pairs: int, max_len: int
) -> float:
    """Seconds to fine-tune ``config`` on a 4-core laptop CPU: ``train_pairs`` for ``epochs`` epochs,
    plus ``evaluated_pairs`` classified (dev after every epoch, test once).

    The laptop profile's measured speed, scaled by the FLOPs per pair of this model at this
    ``max_len`` (pairs are padded per batch, so a pair costs about SNLI's mean length unless
    ``max_len`` cuts it shorter); evaluation runs the forward pass only, a third of training's
    FLOPs. An estimate for "will it take minutes or hours", like every figure here."""
    reference = flops_per_example(
        LAPTOP_REFERENCE, min(LAPTOP_REFERENCE_MAX_LEN, SNLI_MEAN_PAIR_TOKENS)
    )
    train_rate = (
        LAPTOP_TRAIN_PAIRS_PER_SEC
        * reference
        / flops_per_example(config, min(max_len, SNLI_MEAN_PAIR_TOKENS))
    )
    return train_pairs * epochs / train_rate + evaluated_pairs / (3 * train_rate)
