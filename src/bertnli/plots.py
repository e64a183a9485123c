"""Figures for the book: training curves, confusion matrices, probability bars.

Titles and axis labels are bilingual ("English · 한국어"), because the same figure is
shown to readers of both languages. Korean needs a font with Hangul: ``bertnli.fonts``
picks the system's or the bundled NanumGothic, so every machine draws the same labels.
"""

from __future__ import annotations

import re
import warnings
from typing import Sequence

import matplotlib
import matplotlib.pyplot as plt

from .fonts import GLYPH_WARNING, find_hangul_font
from .snli import LABELS

LABELS_KO = {"entailment": "함의", "contradiction": "모순", "neutral": "중립"}


def use_hangul_font() -> str:
    """Make matplotlib draw Hangul (the system's font, else the bundled NanumGothic); return its name.

    A glyph missing from the font then raises instead of drawing a box: a figure with
    broken labels fails the cell (and so the book build and the tests) instead of
    passing with a warning nobody reads.
    """
    font = find_hangul_font()
    warnings.filterwarnings("error", message=GLYPH_WARNING, category=UserWarning)
    if font is None:
        raise RuntimeError("no font with Hangul for the figures: install bertnli with its dependencies "
                           "(pip install koreanize-matplotlib) or a Korean system font (e.g. fonts-noto-cjk)")
    if matplotlib.rcParams["font.sans-serif"][:1] != [font.name]:
        matplotlib.rcParams["font.family"] = ["sans-serif"]
        matplotlib.rcParams["font.sans-serif"] = [font.name, *matplotlib.rcParams["font.sans-serif"]]
    matplotlib.rcParams["axes.unicode_minus"] = False
    return font.name


def bilingual_label(label: str) -> str:
    return f"{label} · {LABELS_KO.get(label, label)}"


def plot_history(history, ax=None):
    """Training loss, train accuracy and dev accuracy per epoch; the test accuracy, measured
    once at the end, as a single marker (runs without a dev set: test accuracy per epoch)."""
    use_hangul_font()
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 3.5))
    epochs = history["epoch"]
    ax.plot(epochs, history["train_loss"], "o-", label="train loss · 학습 손실")
    ax.plot(epochs, history["train_acc"], "s--", label="train acc · 학습 정확도")
    column = lambda key: [getattr(e, key, None) for e in history.epochs]  # noqa: E731
    devs, tests = column("valid_acc"), column("test_acc")
    if any(v is not None for v in devs):
        ax.plot(epochs, [v if v is not None else float("nan") for v in devs], "^-", label="dev acc · 검증 정확도")
    if any(t is not None for t in tests):
        ax.plot(epochs, [t if t is not None else float("nan") for t in tests], "^-", label="test acc · 테스트 정확도")
    final = getattr(history, "test_acc", None)
    if final is not None and len(epochs):
        ax.plot([epochs[-1]], [final], "*", markersize=11, color="#d1495b",
                label=f"test acc, once at the end · 마지막에 한 번 잰 테스트 정확도: {final:.3f}")
    ax.set_xlabel("epoch · 에폭")
    ax.set_title("Fine-tuning progress · 미세 조정 경과")
    ax.set_xticks(list(epochs) or [1])
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return ax


def plot_confusion(confusion: Sequence[Sequence[int]], labels: Sequence[str] = LABELS, ax=None):
    """A confusion matrix with counts; rows are true labels, columns predictions."""
    use_hangul_font()
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 4))
    data = [list(map(int, row)) for row in confusion]
    ax.imshow(data, cmap="Blues")
    names = [bilingual_label(label) for label in labels]
    ax.set_xticks(range(len(labels)), names, rotation=30, ha="right")
    ax.set_yticks(range(len(labels)), names)
    ax.set_xlabel("predicted · 예측")
    ax.set_ylabel("true · 정답")
    ax.set_title("Confusion matrix · 혼동 행렬")
    top = max(max(row) for row in data) or 1
    for i, row in enumerate(data):
        for j, value in enumerate(row):
            ax.text(j, i, str(value), ha="center", va="center", color="white" if value > top / 2 else "black")
    return ax


def plot_probabilities(probs: Sequence[float], labels: Sequence[str] = LABELS, ax=None):
    """Horizontal bars of the three class probabilities."""
    use_hangul_font()
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 1.8))
    names = [bilingual_label(label) for label in labels]
    bars = ax.barh(names, probs, color=["#4c9f70", "#d1495b", "#8d99ae"][: len(labels)])
    ax.set_xlim(0, 1)
    ax.invert_yaxis()
    ax.set_xlabel("probability · 확률")
    for bar, p in zip(bars, probs):
        ax.text(min(p + 0.02, 0.9), bar.get_y() + bar.get_height() / 2, f"{p:.2f}", va="center")
    return ax


def merge_marks(marks) -> list[tuple[float, str]]:
    """``[(value, label), ...]`` with equal values merged into one entry whose labels are
    joined, in first-seen order: a reference line and a profile line at the same value
    (e.g. both at ``max_len`` 128) become one line with one legend entry, not two that hide
    each other (or one that silently replaces the other)."""
    merged: dict = {}
    for value, label in marks:
        merged.setdefault(value, []).append(label)
    return [(value, " / ".join(labels)) for value, labels in merged.items()]


def _is_number(value) -> bool:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return True
    text = str(value).strip().rstrip("%").replace(",", "")
    try:
        float(text)
    except ValueError:
        return False
    return True


BILINGUAL_SEP = " · "  # "field · 항목": the site's language switch shows the half before or after it
_HANGUL = re.compile(r"[\uac00-\ud7a3]")


def header_halves(header: Sequence) -> tuple[list[str], list[str]]:
    """Each header cell as a reader of one language sees it on the site: (English, Korean).

    ``book/_static/lang.js`` splits a header cell at its first " · " when Hangul follows;
    any other cell reads the same in both languages.
    """
    english, korean = [], []
    for cell in map(str, header):
        before, sep, after = cell.partition(BILINGUAL_SEP)
        if sep and _HANGUL.search(after):
            english.append(before)
            korean.append(after)
        else:
            english.append(cell)
            korean.append(cell)
    return english, korean


def header_problems(header: Sequence) -> list[str]:
    """What makes a table's header ambiguous in either language: two columns that read the
    same, or a half with unbalanced parentheses ("bert.base (estimate · 추정치)" -> "추정치)")."""
    problems = []
    for language, cells in zip(("English", "Korean"), header_halves(header)):
        repeated = sorted({c for c in cells if cells.count(c) > 1})
        if repeated:
            problems.append(f"{language} header repeats {repeated}")
        broken = [c for c in cells if c.count("(") != c.count(")")]
        if broken:
            problems.append(f"{language} header has unbalanced parentheses in {broken}")
    return problems


def show_table(header: Sequence, rows: Sequence[Sequence]):
    """A small HTML table for notebooks (the book does not depend on pandas).

    Numbers are right-aligned in tabular figures so their digits line up; the padding
    comes from the book's CSS (class ``bertnli-table``) and from inline styles, so the
    table reads the same in JupyterLab, Colab and on the site.
    """
    from html import escape

    from IPython.display import HTML

    problems = header_problems(header)
    if problems:
        raise ValueError(f"show_table: the header {list(map(str, header))} is ambiguous: {'; '.join(problems)}; "
                         "give each column its own name in both halves of \"English · 한국어\"")
    pad = "padding:0.3em 0.8em"
    numeric_columns = {j for j in range(len(header)) if rows and all(j < len(r) and _is_number(r[j]) for r in rows)}

    def cell(tag: str, value, right: bool) -> str:
        cls = ' class="num"' if right else ""
        return f'<{tag}{cls} style="{pad};text-align:{"right" if right else "left"}">{escape(str(value))}</{tag}>'

    head = "".join(cell("th", h, j in numeric_columns) for j, h in enumerate(header))
    body = "".join("<tr>" + "".join(cell("td", c, _is_number(c)) for c in row) + "</tr>" for row in rows)
    return HTML(f'<div class="bertnli-table-wrap" style="overflow-x:auto"><table class="bertnli-table">'
                f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>")


class LivePlot:
    """A ``fine_tune`` callback that redraws one figure in place in a notebook.

    One display slot is updated after every epoch, instead of appending a new figure
    each time. Outside a notebook it does nothing.
    """

    def __init__(self):
        self._handle = None
        self._fig = None

    def __call__(self, history) -> None:
        try:
            from IPython.display import display
        except ImportError:  # no IPython: nothing to draw into
            return
        if self._fig is None:
            self._fig, self._ax = plt.subplots(figsize=(5.5, 3.5))
            plt.close(self._fig)  # we show it ourselves; keep the inline backend from showing it again
        self._ax.clear()
        plot_history(history, ax=self._ax)
        if self._handle is None:
            self._handle = display(self._fig, display_id=True)
        else:
            self._handle.update(self._fig)
