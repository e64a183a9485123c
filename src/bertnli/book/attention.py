"""What the model looks at: the attention weights of one premise/hypothesis pair.

``pair_attention`` packs a pair as the model reads it and asks the encoder for every
block's weights (recomputed on request; the normal forward pass never builds them).
The results become a matplotlib grid (one heatmap per layer and head), an inline-styled
HTML heatmap that tests can read, and ``attention_explorer``, a widget to pick the pair,
layer and head that shows its default view as static HTML on the book's site.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

import ipywidgets as widgets
import numpy as np
import torch

from bertnli.book.plots import use_hangul_font
from bertnli.book.widgets import SEGMENT_COLORS, Interactive
from bertnli.data.packing import CLS, SEP, tokenize_text
from bertnli.run.inference import evaluating, pair_inputs

HEAT_RGB = (31, 111, 235)  # blue: a cell's alpha is its weight
BOUNDARY = "2px solid #24292f"


@dataclass
class PairAttention:
    """One packed pair and its attention: ``weights[layer, head, query, key]``."""

    tokens: list[str]
    segments: list[int]
    weights: np.ndarray  # [num_blks, num_heads, seq, seq], rows sum to 1

    @property
    def num_layers(self) -> int:
        return self.weights.shape[0]

    @property
    def num_heads(self) -> int:
        return self.weights.shape[1]

    @property
    def hypothesis_start(self) -> int:
        """Position of the first hypothesis token (just after the premise's ``<sep>``)."""
        return self.segments.index(1) if 1 in self.segments else len(self.tokens)

    def word_positions(self, segment: int) -> list[int]:
        """Positions of one sentence's words: ``<cls>`` and ``<sep>`` left out."""
        return [
            i
            for i, (t, s) in enumerate(zip(self.tokens, self.segments))
            if s == segment and t not in (CLS, SEP)
        ]

    def cross_share(self) -> np.ndarray:
        """``[layer, head]``: how much of its attention a hypothesis word gives to premise
        words, averaged over the hypothesis words (0 when either side has no words)."""
        hyp, prem = self.word_positions(1), self.word_positions(0)
        if not hyp or not prem:
            return np.zeros(self.weights.shape[:2])
        return self.weights[:, :, hyp][:, :, :, prem].sum(-1).mean(-1)

    def special_share(self) -> np.ndarray:
        """``[layer, head]``: the share of all attention that lands on ``<cls>`` and ``<sep>``."""
        specials = [i for i, t in enumerate(self.tokens) if t in (CLS, SEP)]
        return self.weights[:, :, :, specials].sum(-1).mean(-1)


def pair_attention(
    model,
    vocab,
    premise: str | Sequence[str],
    hypothesis: str | Sequence[str],
    *,
    max_len: int,
    truncation: str = "longest_first",
) -> PairAttention:
    """Pack ``premise``/``hypothesis`` (text, or token lists) like ``predict`` does and return
    every block's attention weights. ``model`` is a ``BERTModel`` or a ``BERTClassifier``."""
    encoder = getattr(model, "encoder", None)
    if encoder is None:
        raise TypeError(
            f"expected a BERTModel or BERTClassifier (something with .encoder), got {type(model).__name__}"
        )
    p = tokenize_text(premise) if isinstance(premise, str) else list(premise)
    h = tokenize_text(hypothesis) if isinstance(hypothesis, str) else list(hypothesis)
    tokens, segments, X = pair_inputs(
        vocab, p, h, max_len=max_len, truncation=truncation, device=next(model.parameters()).device
    )
    with evaluating(model), torch.no_grad():
        _, weights = encoder(*X, return_attention=True)  # [blks, 1, heads, seq, seq]
    return PairAttention(tokens, segments, weights[:, 0].float().cpu().numpy())


# ---------------------------------------------------------------- matplotlib


def _mark_boundary(ax, att: PairAttention) -> None:
    edge = att.hypothesis_start - 0.5
    ax.axhline(edge, color="#24292f", lw=1.2)
    ax.axvline(edge, color="#24292f", lw=1.2)


def plot_attention(att: PairAttention, layer: int, head: int, ax=None):
    """One head as a heatmap: query tokens down, key tokens across, the premise/hypothesis
    boundary as lines; returns the axes."""
    import matplotlib.pyplot as plt

    use_hangul_font()
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 5))
    image = ax.imshow(att.weights[layer, head], cmap="Blues", vmin=0, vmax=1)
    ticks = range(len(att.tokens))
    ax.set_xticks(ticks, att.tokens, rotation=90, fontsize=8)
    ax.set_yticks(ticks, att.tokens, fontsize=8)
    ax.set_xlabel("attended to (key) · 주목받는 토큰(키)")
    ax.set_ylabel("attending (query) · 주목하는 토큰(쿼리)")
    ax.set_title(f"layer {layer + 1}, head {head + 1} · {layer + 1}층, {head + 1}번 헤드")
    _mark_boundary(ax, att)
    ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="weight · 가중치")
    return ax


# Token labels of the grid: 7 pt is 9.7 px at matplotlib's 100 dpi, legible when the figure is
# opened full size (on the site a tap on the figure does that).
GRID_LABEL_PT = 7


def plot_attention_grid(att: PairAttention, *, max_layers: int = 4, max_heads: int = 4):
    """Every head of every layer (up to ``max_layers`` x ``max_heads``) as small heatmaps,
    premise/hypothesis boundaries marked; token names on the outer panels. Returns the figure."""
    import matplotlib.pyplot as plt

    use_hangul_font()
    layers, heads = min(att.num_layers, max_layers), min(att.num_heads, max_heads)
    fig, axes = plt.subplots(
        layers,
        heads,
        figsize=(2.6 * heads + 1.0, 2.9 * layers + 1.2),
        squeeze=False,
        sharex=True,
        sharey=True,
    )
    ticks = range(len(att.tokens))
    for layer in range(layers):
        for head in range(heads):
            ax = axes[layer][head]
            ax.imshow(att.weights[layer, head], cmap="Blues", vmin=0, vmax=1)
            _mark_boundary(ax, att)
            ax.set_title(f"L{layer + 1} H{head + 1}", fontsize=9)
            ax.set_xticks(ticks, att.tokens, rotation=90, fontsize=GRID_LABEL_PT)
            ax.set_yticks(ticks, att.tokens, fontsize=GRID_LABEL_PT)
            ax.tick_params(length=0)
    shown = f"{layers} of {att.num_layers} layers, {heads} of {att.num_heads} heads"
    fig.suptitle(
        f"Attention per layer (L) and head (H) · 층(L)과 헤드(H)별 어텐션 ({shown})", fontsize=10
    )
    fig.supxlabel("attended to (key) · 주목받는 토큰(키)", fontsize=9)
    fig.supylabel("attending (query) · 주목하는 토큰(쿼리)", fontsize=9)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------- HTML (widget and static site)


def _token_cell(token: str, segment: int, *, vertical: bool, boundary: bool) -> str:
    seg = "A" if segment == 0 else "B"
    style = [
        f"background:{SEGMENT_COLORS[seg]}",
        "font-family:monospace",
        "font-size:11px",
        "padding:2px 3px",
        "white-space:nowrap",
        "font-weight:bold" if token in (CLS, SEP) else "font-weight:normal",
    ]
    if vertical:
        style += [
            "writing-mode:vertical-rl",
            "transform:rotate(180deg)",
            "text-align:left",
            "vertical-align:bottom",
        ]
        if boundary:
            style.append(f"border-right:{BOUNDARY}")  # rotated: the right edge is drawn on the left
    elif boundary:
        style.append(f"border-top:{BOUNDARY}")
    return f"<th data-seg='{seg}' style='{';'.join(style)}'>{html.escape(token)}</th>"


def attention_html(att: PairAttention, layer: int, head: int) -> str:
    """One head as an HTML table: a row per query token, a column per key token, each cell
    shaded by its weight (``data-w``); a dark line marks where the hypothesis starts."""
    if not (0 <= layer < att.num_layers and 0 <= head < att.num_heads):
        raise ValueError(
            f"layer {layer} / head {head} out of range: the model has {att.num_layers} layers "
            f"and {att.num_heads} heads (counted from 0)"
        )
    w = att.weights[layer, head]
    start = att.hypothesis_start
    header = (
        "<tr><th></th>"
        + "".join(
            _token_cell(t, s, vertical=True, boundary=j == start)
            for j, (t, s) in enumerate(zip(att.tokens, att.segments))
        )
        + "</tr>"
    )
    rows = []
    for i, (token, segment) in enumerate(zip(att.tokens, att.segments)):
        cells = []
        for j in range(len(att.tokens)):
            value = float(w[i, j])
            style = [
                f"background:rgba({HEAT_RGB[0]},{HEAT_RGB[1]},{HEAT_RGB[2]},{value:.3f})",
                "width:16px",
                "height:16px",
                "padding:0",
                "border:1px solid #f6f8fa",
            ]
            if j == start:
                style.append(f"border-left:{BOUNDARY}")
            if i == start:
                style.append(f"border-top:{BOUNDARY}")
            cells.append(
                f"<td class='bn-w' data-q='{i}' data-k='{j}' data-w='{value:.4f}' "
                f"title='{html.escape(token)} → {html.escape(att.tokens[j])}: {value:.3f}' "
                f"style='{';'.join(style)}'></td>"
            )
        rows.append(
            "<tr>"
            + _token_cell(token, segment, vertical=False, boundary=i == start)
            + "".join(cells)
            + "</tr>"
        )
    cross = float(att.cross_share()[layer, head])
    special = float(att.special_share()[layer, head])
    caption = (
        f"<div class='bn-att-caption' style='margin:4px 0'><b>layer {layer + 1}, head {head + 1} · "
        f"{layer + 1}층, {head + 1}번 헤드</b> <span style='color:#57606a'>rows: attending token (query), "
        f"columns: attended-to token (key) · 행: 주목하는 토큰(쿼리), 열: 주목받는 토큰(키)</span></div>"
    )
    stats = (
        f"<div class='bn-att-stats' style='color:#57606a;font-size:0.9em;margin-top:4px'>"
        f"hypothesis words → premise words: {cross:.0%} of their attention · "
        f"가설 단어가 전제 단어에 준 어텐션: {cross:.0%}; on &lt;cls&gt;/&lt;sep&gt;: {special:.0%} of all · "
        f"&lt;cls&gt;/&lt;sep&gt;에 간 몫: 전체의 {special:.0%}</div>"
    )
    legend = (
        f"<div style='color:#57606a;font-size:0.9em;margin-bottom:4px'>"
        f"<span style='background:{SEGMENT_COLORS['A']};padding:0 4px'>premise · 전제</span> "
        f"<span style='background:{SEGMENT_COLORS['B']};padding:0 4px'>hypothesis · 가설</span> "
        f"darker = more weight · 진할수록 가중치가 큼</div>"
    )
    table = (
        "<table class='bn-att-table' style='border-collapse:collapse;margin:0'>"
        + header
        + "".join(rows)
        + "</table>"
    )
    return (
        f"<div class='bn-attention' data-layer='{layer}' data-head='{head}'>{caption}{legend}"
        f"<div style='overflow-x:auto'>{table}</div>{stats}</div>"
    )


def attention_explorer(
    model,
    vocab,
    pairs: Sequence[tuple[str, str]],
    *,
    max_len: int,
    truncation: str = "longest_first",
    layer: int = 0,
    head: int = 0,
) -> Interactive:
    """Pick a pair, a layer and a head; see that head's attention as a heatmap.

    ``pairs``: ``(premise, hypothesis)`` texts. Attention is computed once per pair, when
    it is first shown. The static site shows the first pair at ``layer``/``head``.
    """
    pairs = list(pairs)
    if not pairs:
        raise ValueError("attention_explorer needs at least one (premise, hypothesis) pair")
    cache: dict[int, PairAttention] = {}

    def attention_of(i: int) -> PairAttention:
        if i not in cache:
            cache[i] = pair_attention(
                model, vocab, *pairs[i], max_len=max_len, truncation=truncation
            )
        return cache[i]

    first = attention_of(0)
    wide = {"description_width": "initial"}
    picker = widgets.Dropdown(
        options=[(f"{i + 1}. {p} → {h}", i) for i, (p, h) in enumerate(pairs)],
        value=0,
        description="Pair · 문장 쌍",
        style=wide,
        layout=widgets.Layout(width="44em"),
    )
    layer_pick = widgets.Dropdown(
        options=[(str(n + 1), n) for n in range(first.num_layers)],
        value=layer,
        description="Layer · 층",
        style=wide,
    )
    head_pick = widgets.Dropdown(
        options=[(str(n + 1), n) for n in range(first.num_heads)],
        value=head,
        description="Head · 헤드",
        style=wide,
    )
    output = widgets.HTML()

    def render(_=None) -> None:
        output.value = attention_html(attention_of(picker.value), layer_pick.value, head_pick.value)

    for control in (picker, layer_pick, head_pick):
        control.observe(render, names="value")
    render()
    box = widgets.VBox([picker, widgets.HBox([layer_pick, head_pick]), output])
    return Interactive(
        box, output.value, dict(pair=picker, layer=layer_pick, head=head_pick, output=output)
    )


__all__ = [
    "PairAttention",
    "attention_explorer",
    "attention_html",
    "pair_attention",
    "plot_attention",
    "plot_attention_grid",
]
