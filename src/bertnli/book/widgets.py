"""Interactive pieces for the notebooks that still show something on the static book site.

In JupyterLab a factory's result displays as live ipywidgets; the site has no kernel,
so each result also carries a ``text/html`` rendering of its default state
(``Interactive``). All HTML comes from pure functions (``probability_bars_html``,
``truncation_html``) with inline styles, so tests can read it and the site needs no CSS.
"""

from __future__ import annotations

import html
import warnings
from collections.abc import Sequence

import ipywidgets as widgets

from bertnli.book.plots import bilingual_label
from bertnli.data.packing import CLS, SEP, SPECIALS_PER_PAIR, TRUNCATIONS, keep_lengths, tokenize
from bertnli.data.snli import LABELS

STATIC_NOTE = (
    "Interactive in Jupyter: run this notebook to use the controls. · "
    "주피터에서 이 노트북을 실행하면 직접 조작할 수 있습니다."
)
LABEL_COLORS = {"entailment": "#2da44e", "contradiction": "#cf222e", "neutral": "#8c959f"}
METHOD_NAMES = {
    "longest_first": "longest_first · 긴 쪽 우선 절단",
    "proportional": "proportional · 비례 절단",
}
SEGMENT_COLORS = {
    "A": "#ddf4ff",
    "B": "#fff1e5",
}  # premise (segment 0) blue, hypothesis (segment 1) orange
DEFAULT_EXAMPLES = [
    ("A man is playing a guitar on stage.", "A person is performing music."),
    ("A dog runs through the snow.", "A cat is sleeping on the sofa."),
    ("Two children are playing in the park.", "The children are brothers."),
]
_WIDE = {"description_width": "initial"}


class Interactive:
    """A widget plus a static HTML stand-in: live in a kernel, readable on a static site.

    ``controls`` names the parts (inputs, button, output) so code and tests can drive them.
    """

    def __init__(self, widget: widgets.Widget, static_html: str, controls: dict | None = None):
        self.widget = widget
        self.static_html = static_html
        self.controls = dict(controls or {})

    def _repr_mimebundle_(self, **kwargs) -> dict:
        bundle = dict(self.widget._repr_mimebundle_(**kwargs) or {})
        bundle["text/html"] = (
            f"{self.static_html}<p style='color:#57606a;font-size:0.9em;margin-top:6px'>"
            f"<i>{html.escape(STATIC_NOTE)}</i></p>"
        )
        bundle["text/plain"] = f"{type(self.widget).__name__} ({STATIC_NOTE})"
        return bundle

    def __repr__(self) -> str:
        return f"Interactive({type(self.widget).__name__}, controls={sorted(self.controls)})"


# ---------------------------------------------------------------- predictions


def probability_bars_html(probs: Sequence[float], labels: Sequence[str] = LABELS) -> str:
    """Three horizontal bars, one per label (bilingual), the most likely one in bold."""
    if len(probs) != len(labels):
        raise ValueError(
            f"expected {len(labels)} probabilities ({', '.join(labels)}), got {len(probs)}"
        )
    best = max(range(len(probs)), key=lambda i: probs[i])
    rows = []
    for i, (label, p) in enumerate(zip(labels, probs)):
        weight = "bold" if i == best else "normal"
        color = LABEL_COLORS.get(label, "#57606a")
        # The label column and the number keep their width; the bar shrinks (down to 3em) to fit a phone.
        rows.append(
            f"<div class='bn-bar' data-label='{label}' style='display:flex;align-items:center;margin:3px 0;"
            f"max-width:36em'>"
            f"<span style='flex:0 0 10.5em;font-weight:{weight}'>{html.escape(bilingual_label(label))}</span>"
            f"<span style='flex:1 1 16em;min-width:3em;background:#eaeef2;height:1em;border-radius:3px'>"
            f"<span style='display:block;width:{100 * float(p):.1f}%;height:100%;background:{color};"
            f"border-radius:3px'></span></span>"
            f"<span style='flex:0 0 auto;margin-left:0.6em;font-family:monospace'>{float(p):.3f}</span></div>"
        )
    return "<div class='bn-bars'>" + "".join(rows) + "</div>"


def prediction_html(label: str, probs: Sequence[float]) -> str:
    """The predicted label (bilingual) above the three probability bars."""
    color = LABEL_COLORS.get(label, "#24292f")
    head = (
        f"<div style='margin-bottom:4px'>Prediction · 예측: <b class='bn-label' style='color:{color}'>"
        f"{html.escape(bilingual_label(label))}</b></div>"
    )
    return f"<div class='bn-prediction'>{head}{probability_bars_html(probs)}</div>"


UNREADABLE_NOTE = (
    "Most words are not in the model's vocabulary and read as <unk>: this prediction means little "
    "(d2l's BERT knows English words only). · 단어 대부분이 모델의 어휘에 없어 <unk>로 읽히므로 이 예측은 "
    "믿기 어렵습니다(d2l의 BERT는 영어 단어만 압니다)."
)


def pair_html(premise: str, hypothesis: str) -> str:
    """The pair a prediction is about, so a static page says which pair its bars belong to."""
    row = "<div class='bn-pair-{kind}' style='margin:2px 0'><b>{name}:</b> {text}</div>"
    return (
        "<div class='bn-pair' style='margin-bottom:6px'>"
        + row.format(kind="premise", name="Premise · 전제", text=html.escape(premise))
        + row.format(kind="hypothesis", name="Hypothesis · 가설", text=html.escape(hypothesis))
        + "</div>"
    )


def _message_html(text: str) -> str:
    return f"<div style='color:#9a6700'>{html.escape(text)}</div>"


def prediction_form(
    model,
    vocab,
    *,
    max_len: int,
    truncation: str = "longest_first",
    examples: Sequence[tuple[str, str]] | None = None,
) -> Interactive:
    """Type a premise and a hypothesis, click, see the fine-tuned model's label and probabilities.

    ``model`` is a fine-tuned ``BERTClassifier``; predictions go through ``bertnli.predict``
    with ``max_len`` and ``truncation``. ``examples`` fill a picker; the first one is
    classified when the form is built and is what the static site shows.
    """
    from bertnli.run.inference import UnreliablePrediction, predict

    examples = list(examples or DEFAULT_EXAMPLES)
    premise = widgets.Textarea(
        value=examples[0][0],
        description="Premise · 전제",
        style=_WIDE,
        layout=widgets.Layout(width="40em", height="4em"),
    )
    hypothesis = widgets.Textarea(
        value=examples[0][1],
        description="Hypothesis · 가설",
        style=_WIDE,
        layout=widgets.Layout(width="40em", height="4em"),
    )
    picker = widgets.Dropdown(
        options=[(f"{p} → {h}", i) for i, (p, h) in enumerate(examples)],
        value=0,
        description="Example · 예시",
        style=_WIDE,
        layout=widgets.Layout(width="40em"),
    )
    button = widgets.Button(description="Classify · 분류", button_style="primary")
    output = widgets.HTML()

    def classify(_=None) -> str:
        p, h = premise.value.strip(), hypothesis.value.strip()
        if not p or not h:
            output.value = _message_html(
                "Type a premise and a hypothesis. · 전제와 가설을 모두 입력하세요."
            )
            return output.value
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", UnreliablePrediction)
            label, probs = predict(model, vocab, p, h, max_len=max_len, truncation=truncation)
        output.value = prediction_html(label, probs)
        if any(
            issubclass(w.category, UnreliablePrediction) for w in caught
        ):  # say it where the reader looks
            output.value += _message_html(UNREADABLE_NOTE)
        return output.value

    def pick(change) -> None:
        premise.value, hypothesis.value = examples[change["new"]]
        classify()

    button.on_click(classify)
    picker.observe(pick, names="value")
    static = (
        pair_html(*examples[0]) + classify()
    )  # the site shows no form: say which pair it classified
    box = widgets.VBox([picker, premise, hypothesis, button, output])
    return Interactive(
        box,
        static,
        dict(
            premise=premise, hypothesis=hypothesis, examples=picker, classify=button, output=output
        ),
    )


# ---------------------------------------------------------------- truncation


def _chip(token: str, segment: str, kept: bool) -> str:
    special = token in (CLS, SEP)
    style = [
        f"background:{SEGMENT_COLORS[segment]}",
        "padding:1px 5px",
        "margin:2px",
        "border-radius:4px",
        "display:inline-block",
        "font-family:monospace",
        "border:1px solid #d0d7de",
    ]
    if special:
        style += ["font-weight:bold", "border-color:#57606a"]
    if not kept:
        style += [
            "text-decoration:line-through",
            "color:#8c959f",
            "background:#f6f8fa",
            "opacity:0.7",
        ]
    state = "kept" if kept else "dropped"
    kind = " data-special='1'" if special else ""
    return (
        f"<span class='bn-chip' data-state='{state}' data-seg='{segment}'{kind} style='{';'.join(style)}'>"
        f"{html.escape(token)}</span>"
    )


def _method_html(
    p_tokens: Sequence[str], h_tokens: Sequence[str], max_len: int, method: str
) -> str:
    kp, kh = (
        int(k)
        for k in keep_lengths(len(p_tokens), len(h_tokens), max_len - SPECIALS_PER_PAIR, method)
    )
    chips = [_chip(CLS, "A", True)]
    chips += [_chip(t, "A", i < kp) for i, t in enumerate(p_tokens)]
    chips.append(_chip(SEP, "A", True))
    chips += [_chip(t, "B", i < kh) for i, t in enumerate(h_tokens)]
    chips.append(_chip(SEP, "B", True))
    counts = (
        f"premise {kp}/{len(p_tokens)}, hypothesis {kh}/{len(h_tokens)} kept, "
        f"{kp + kh + SPECIALS_PER_PAIR}/{max_len} slots · "
        f"전제 {kp}/{len(p_tokens)}, 가설 {kh}/{len(h_tokens)} 유지, {kp + kh + SPECIALS_PER_PAIR}/{max_len}칸"
    )
    return (
        f"<div class='bn-method' data-method='{method}' style='margin:6px 0'>"
        f"<div><b>{html.escape(METHOD_NAMES.get(method, method))}</b> "
        f"<span class='bn-counts' style='color:#57606a'>{counts}</span></div>"
        f"<div style='line-height:1.9'>{''.join(chips)}</div></div>"
    )


def truncation_html(
    p_tokens: Sequence[str],
    h_tokens: Sequence[str],
    max_len: int,
    methods: Sequence[str] = TRUNCATIONS,
) -> str:
    """One packed pair per truncation method as token chips: kept tokens plain, dropped ones
    struck through and grey; segment A (premise) blue, segment B (hypothesis) orange."""
    if max_len < SPECIALS_PER_PAIR:
        raise ValueError(f"max_len must be at least {SPECIALS_PER_PAIR}, got {max_len}")
    legend = (
        f"<div style='color:#57606a;font-size:0.9em'>max_len = {max_len}: "
        f"{_chip('A', 'A', True)} segment A / premise · 세그먼트 A / 전제 "
        f"{_chip('B', 'B', True)} segment B / hypothesis · 세그먼트 B / 가설 "
        f"{_chip('x', 'A', False)} dropped · 잘려 나감</div>"
    )
    return (
        "<div class='bn-truncation'>"
        + legend
        + "".join(_method_html(p_tokens, h_tokens, max_len, m) for m in methods)
        + "</div>"
    )


def _as_tokens(side) -> list[str]:
    return tokenize([side])[0] if isinstance(side, str) else list(side)


def truncation_explorer(
    pairs: Sequence[tuple], *, max_len: int = 32, min_len: int = 8, max_value: int | None = None
) -> Interactive:
    """Pick a pair and move a ``max_len`` slider to see what each truncation rule drops.

    ``pairs``: ``(premise, hypothesis)`` tuples, sentences (split like SNLI) or token lists.
    The slider runs from ``min_len`` to ``max_value`` (default: long enough for the longest
    pair to fit whole). The static site shows the first pair at ``max_len``.
    """
    tokenized = [(_as_tokens(p), _as_tokens(h)) for p, h in pairs]
    if not tokenized:
        raise ValueError("truncation_explorer needs at least one (premise, hypothesis) pair")
    min_len = max(min_len, SPECIALS_PER_PAIR)
    longest = max(len(p) + len(h) for p, h in tokenized) + SPECIALS_PER_PAIR
    top = max_value if max_value is not None else max(longest, max_len)
    top = max(top, min_len)

    def short(tokens: list[str], n: int = 6) -> str:
        return " ".join(tokens[:n]) + (" …" if len(tokens) > n else "")

    picker = widgets.Dropdown(
        options=[
            (f"{i + 1}. {short(p)} | {short(h)} ({len(p)}+{len(h)})", i)
            for i, (p, h) in enumerate(tokenized)
        ],
        value=0,
        description="Pair · 문장 쌍",
        style=_WIDE,
        layout=widgets.Layout(width="44em"),
    )
    slider = widgets.IntSlider(
        value=min(max(max_len, min_len), top),
        min=min_len,
        max=top,
        step=1,
        description="max_len · 최대 길이",
        style=_WIDE,
        continuous_update=True,
        layout=widgets.Layout(width="44em"),
    )
    output = widgets.HTML()

    def render(_=None) -> None:
        p, h = tokenized[picker.value]
        output.value = truncation_html(p, h, slider.value)

    picker.observe(render, names="value")
    slider.observe(render, names="value")
    render()
    static = output.value
    box = widgets.VBox([picker, slider, output])
    return Interactive(box, static, dict(pair=picker, max_len=slider, output=output))


__all__ = [
    "Interactive",
    "pair_html",
    "prediction_form",
    "prediction_html",
    "probability_bars_html",
    "truncation_explorer",
    "truncation_html",
    "STATIC_NOTE",
]
