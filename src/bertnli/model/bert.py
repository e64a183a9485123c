"""BERT, laid out so that d2l's pretrained checkpoints load into it unchanged.

The module names (``encoder.blks.0.attention.W_q``, ``addnorm1.ln``, ``ffn.dense1``,
``hidden.0``, ``mlm.mlp.3``, ``nsp.output``...) follow d2l 1.0.3's ``BERTModel`` so its
``pretrained.params`` loads with ``strict=True`` and our weights load back into d2l.
The computation is the same; what differs is how it runs: every size is given up front
(no lazy layers), and attention goes through ``scaled_dot_product_attention`` with a
key-padding mask, so PyTorch can pick a fused kernel. Fused kernels never materialise the
attention weights; ``BERTEncoder(..., return_attention=True)`` recomputes them on request
(``MultiHeadAttention.weights``) and leaves the normal path untouched.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

import torch
import torch.nn.functional as F
from torch import nn

from bertnli.hardware import available


@dataclass(frozen=True)
class EncoderSwitches:
    """Where BERT checkpoints from elsewhere differ from d2l's: a few explicit switches.

    The defaults are d2l's BERT. Google's BERT as Hugging Face stores it uses
    ``activation="gelu"``, ``embedding_norm=True`` (LayerNorm and dropout after the summed
    embeddings) and ``layer_norm_eps=1e-12``; ELECTRA's small discriminators also have
    embeddings narrower than the hidden size (``embedding_size``), projected up by a linear layer.
    """

    activation: str = "relu"  # of the feed-forward networks: "relu" (d2l) or "gelu" (erf form)
    embedding_norm: bool = False  # LayerNorm + dropout on the summed embeddings
    layer_norm_eps: float = (
        1e-5  # every LayerNorm's epsilon (PyTorch's default; 1e-12 in Google's BERT)
    )
    embedding_size: int | None = (
        None  # None: the hidden size; else embeddings this wide, then a projection
    )
    type_vocab_size: int = 2  # segment ids

    def __post_init__(self):
        if self.activation not in ACTIVATIONS:
            raise ValueError(
                f"activation must be one of {sorted(ACTIVATIONS)}, got {self.activation!r}"
            )


ACTIVATIONS = {"relu": nn.ReLU, "gelu": nn.GELU}
SWITCH_NAMES = tuple(f.name for f in fields(EncoderSwitches))


@dataclass(frozen=True)
class BERTConfig:
    """Everything needed to rebuild a BERTModel (stored in fine-tuning checkpoints): the sizes,
    then the switches (``EncoderSwitches``; d2l's values by default)."""

    vocab_size: int
    num_hiddens: int
    ffn_num_hiddens: int
    num_heads: int
    num_blks: int
    dropout: float
    max_len: int
    activation: str = "relu"
    embedding_norm: bool = False
    layer_norm_eps: float = 1e-5
    embedding_size: int | None = None
    type_vocab_size: int = 2

    @property
    def switches(self) -> EncoderSwitches:
        return EncoderSwitches(**{name: getattr(self, name) for name in SWITCH_NAMES})

    def sizes(self) -> dict:
        """The seven sizes, as ``BERTModel``'s positional arguments."""
        return {k: v for k, v in asdict(self).items() if k not in SWITCH_NAMES}

    def to_dict(self) -> dict:
        """The sizes, plus the switches that differ from d2l's: a d2l-shaped model's dict (and
        so every run folder written before the switches existed) is unchanged."""
        default = EncoderSwitches()
        return {
            **self.sizes(),
            **{
                k: getattr(self, k) for k in SWITCH_NAMES if getattr(self, k) != getattr(default, k)
            },
        }


class MultiHeadAttention(nn.Module):
    """Self-attention over ``num_heads`` heads; padded keys are masked out.

    Shapes: ``X`` is ``[batch, seq, num_hiddens]``; ``valid_lens`` is ``[batch]`` (the
    number of real tokens in each row) or ``None`` when no row is padded.
    """

    def __init__(self, num_hiddens: int, num_heads: int, dropout: float):
        super().__init__()
        if num_hiddens % num_heads:
            raise ValueError(f"num_hiddens={num_hiddens} is not divisible by num_heads={num_heads}")
        self.num_heads = num_heads
        self.dropout = dropout
        self.W_q = nn.Linear(num_hiddens, num_hiddens)
        self.W_k = nn.Linear(num_hiddens, num_hiddens)
        self.W_v = nn.Linear(num_hiddens, num_hiddens)
        self.W_o = nn.Linear(num_hiddens, num_hiddens)

    def _split_heads(self, X: torch.Tensor) -> torch.Tensor:
        batch, seq, hidden = X.shape  # -> [batch, heads, seq, hidden / heads]
        return X.view(batch, seq, self.num_heads, hidden // self.num_heads).transpose(1, 2)

    @staticmethod
    def _key_mask(seq: int, valid_lens: torch.Tensor | None, device) -> torch.Tensor | None:
        """``[batch, 1, 1, seq]``: True where the key is a real token (``None``: no padding).
        A row with no valid token would make softmax undefined, so it keeps its first key."""
        if valid_lens is None:
            return None
        positions = torch.arange(seq, device=device)
        keep = positions[None, :] < valid_lens.clamp(min=1)[:, None]
        return keep[:, None, None, :]

    def forward(self, X: torch.Tensor, valid_lens: torch.Tensor | None) -> torch.Tensor:
        batch, seq, hidden = X.shape
        q, k, v = (self._split_heads(W(X)) for W in (self.W_q, self.W_k, self.W_v))
        mask = self._key_mask(seq, valid_lens, X.device)
        out = F.scaled_dot_product_attention(
            q, k, v, attn_mask=mask, dropout_p=self.dropout if self.training else 0.0
        )
        return self.W_o(out.transpose(1, 2).reshape(batch, seq, hidden))

    def weights(self, X: torch.Tensor, valid_lens: torch.Tensor | None) -> torch.Tensor:
        """The softmax weights that ``forward`` applies to the same input, recomputed
        explicitly: ``[batch, heads, query, key]``, each row summing to 1 over the valid
        keys and exactly 0 on padded keys (dropout, a training-time effect, is not applied)."""
        q, k = self._split_heads(self.W_q(X)), self._split_heads(self.W_k(X))
        scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])  # [batch, heads, seq, seq]
        mask = self._key_mask(X.shape[1], valid_lens, X.device)
        if mask is not None:
            scores = scores.masked_fill(~mask, float("-inf"))
        return torch.softmax(scores, dim=-1)


class AddNorm(nn.Module):
    """Residual connection then layer norm: ``ln(dropout(Y) + X)``."""

    def __init__(self, num_hiddens: int, dropout: float, eps: float = 1e-5):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.ln = nn.LayerNorm(num_hiddens, eps=eps)

    def forward(self, X: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
        return self.ln(self.dropout(Y) + X)


class PositionWiseFFN(nn.Module):
    """The same two-layer MLP applied at every position."""

    def __init__(self, num_hiddens: int, ffn_num_hiddens: int, activation: str = "relu"):
        super().__init__()
        self.dense1 = nn.Linear(num_hiddens, ffn_num_hiddens)
        self.relu = ACTIVATIONS[activation]()  # named as in d2l's state dict (it has no weights)
        self.dense2 = nn.Linear(ffn_num_hiddens, num_hiddens)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return self.dense2(self.relu(self.dense1(X)))


class TransformerEncoderBlock(nn.Module):
    """Post-norm Transformer block: attention, add & norm, FFN, add & norm."""

    def __init__(
        self,
        num_hiddens: int,
        ffn_num_hiddens: int,
        num_heads: int,
        dropout: float,
        switches: EncoderSwitches = EncoderSwitches(),
    ):
        super().__init__()
        eps = switches.layer_norm_eps
        self.attention = MultiHeadAttention(num_hiddens, num_heads, dropout)
        self.addnorm1 = AddNorm(num_hiddens, dropout, eps)
        self.ffn = PositionWiseFFN(num_hiddens, ffn_num_hiddens, switches.activation)
        self.addnorm2 = AddNorm(num_hiddens, dropout, eps)

    def forward(self, X: torch.Tensor, valid_lens: torch.Tensor | None) -> torch.Tensor:
        Y = self.addnorm1(X, self.attention(X, valid_lens))
        return self.addnorm2(Y, self.ffn(Y))


class BERTEncoder(nn.Module):
    """Token + segment + learned position embeddings, then ``num_blks`` blocks.

    ``forward(tokens [batch, seq], segments [batch, seq], valid_lens [batch])``
    returns ``[batch, seq, num_hiddens]``; with ``return_attention=True`` it returns
    ``(that, weights [num_blks, batch, heads, seq, seq])``, the same output plus every
    block's attention weights (recomputed, see ``MultiHeadAttention.weights``).
    """

    def __init__(
        self,
        vocab_size: int,
        num_hiddens: int,
        ffn_num_hiddens: int,
        num_heads: int,
        num_blks: int,
        dropout: float,
        max_len: int,
        switches: EncoderSwitches = EncoderSwitches(),
    ):
        super().__init__()
        width = switches.embedding_size or num_hiddens  # of the embeddings
        self.token_embedding = nn.Embedding(vocab_size, width)
        self.segment_embedding = nn.Embedding(switches.type_vocab_size, width)
        if switches.embedding_norm:  # Google's BERT: LayerNorm and dropout on the summed embeddings
            self.embedding_norm = nn.Sequential(
                nn.LayerNorm(width, eps=switches.layer_norm_eps), nn.Dropout(dropout)
            )
        if width != num_hiddens:  # ELECTRA-small: narrow embeddings, projected to the hidden size
            self.embedding_projection = nn.Linear(width, num_hiddens)
        self.blks = nn.Sequential(
            *[
                TransformerEncoderBlock(num_hiddens, ffn_num_hiddens, num_heads, dropout, switches)
                for _ in range(num_blks)
            ]
        )
        self.pos_embedding = nn.Parameter(torch.randn(1, max_len, width))

    def forward(
        self,
        tokens: torch.Tensor,
        segments: torch.Tensor,
        valid_lens: torch.Tensor | None = None,
        *,
        return_attention: bool = False,
    ):
        seq = tokens.shape[1]
        if seq > self.pos_embedding.shape[1]:
            raise ValueError(
                f"sequence length {seq} exceeds the model's max_len {self.pos_embedding.shape[1]}"
            )
        X = self.token_embedding(tokens) + self.segment_embedding(segments)
        X = X + self.pos_embedding[:, :seq, :]
        if hasattr(self, "embedding_norm"):
            X = self.embedding_norm(X)
        if hasattr(self, "embedding_projection"):
            X = self.embedding_projection(X)
        weights = []
        for blk in self.blks:
            if return_attention:  # from the block's own input, before the block runs
                weights.append(blk.attention.weights(X, valid_lens))
            X = blk(X, valid_lens)
        return (X, torch.stack(weights)) if return_attention else X


class MaskLM(nn.Module):
    """Masked-language-model head: predicts the tokens at ``pred_positions``."""

    def __init__(self, vocab_size: int, num_hiddens: int):
        super().__init__()
        self.mlp = nn.Sequential(
            nn.Linear(num_hiddens, num_hiddens),
            nn.ReLU(),
            nn.LayerNorm(num_hiddens),
            nn.Linear(num_hiddens, vocab_size),
        )

    def forward(self, X: torch.Tensor, pred_positions: torch.Tensor) -> torch.Tensor:
        # X: [batch, seq, hidden]; pred_positions: [batch, num_pred] -> [batch, num_pred, vocab]
        picked = torch.gather(X, 1, pred_positions[..., None].expand(-1, -1, X.shape[-1]))
        return self.mlp(picked)


class NextSentencePred(nn.Module):
    """Next-sentence-prediction head: is segment B the sentence that followed A?"""

    def __init__(self, num_hiddens: int):
        super().__init__()
        self.output = nn.Linear(num_hiddens, 2)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return self.output(X)


class BERTModel(nn.Module):
    """BERT with its pooler (``hidden``) and both pretraining heads (``mlm``, ``nsp``).

    ``forward`` returns ``(encoded [batch, seq, hidden], mlm_logits or None, nsp_logits)``,
    as d2l's does; fine-tuning uses only ``encoder`` and ``hidden``.
    """

    def __init__(
        self,
        vocab_size: int,
        num_hiddens: int,
        ffn_num_hiddens: int,
        num_heads: int,
        num_blks: int,
        dropout: float,
        max_len: int = 1000,
        *,
        switches: EncoderSwitches = EncoderSwitches(),
    ):
        super().__init__()
        self.config = BERTConfig(
            vocab_size,
            num_hiddens,
            ffn_num_hiddens,
            num_heads,
            num_blks,
            float(dropout),
            max_len,
            **asdict(switches),
        )
        self.encoder = BERTEncoder(
            vocab_size,
            num_hiddens,
            ffn_num_hiddens,
            num_heads,
            num_blks,
            dropout,
            max_len,
            switches,
        )
        self.hidden = nn.Sequential(nn.Linear(num_hiddens, num_hiddens), nn.Tanh())
        self.mlm = MaskLM(vocab_size, num_hiddens)
        self.nsp = NextSentencePred(num_hiddens)

    @classmethod
    def from_config(cls, config: BERTConfig | dict) -> BERTModel:
        if isinstance(config, dict):
            config = BERTConfig(**config)
        return cls(**config.sizes(), switches=config.switches)

    def forward(
        self,
        tokens: torch.Tensor,
        segments: torch.Tensor,
        valid_lens: torch.Tensor | None = None,
        pred_positions: torch.Tensor | None = None,
    ):
        encoded = self.encoder(tokens, segments, valid_lens)
        mlm_logits = self.mlm(encoded, pred_positions) if pred_positions is not None else None
        nsp_logits = self.nsp(self.hidden(encoded[:, 0, :]))
        return encoded, mlm_logits, nsp_logits

    def attention(
        self, tokens: torch.Tensor, segments: torch.Tensor, valid_lens: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Every block's attention weights, ``[num_blks, batch, heads, seq, seq]`` (query
        rows, key columns), for inspection; ``forward`` does not compute them."""
        return self.encoder(tokens, segments, valid_lens, return_attention=True)[1]


def devices() -> list[torch.device]:
    """Usable accelerators: every CUDA device, else Apple's MPS, else ``[cpu]`` (never empty)."""
    return available()


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
