"""Figures for the book: training curves, confusion matrices, probability bars.

Titles and axis labels are bilingual ("English · 한국어"), because the same figure is
shown to readers of both languages. Korean needs a font with Hangul: ``bertnli.book.fonts``
picks the system's or the bundled NanumGothic, so every machine draws the same labels.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence

import matplotlib
import matplotlib.pyplot as plt

from bertnli.book.fonts import GLYPH_WARNING, find_hangul_font
from bertnli.data.snli import LABELS

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
        raise RuntimeError(
            "no font with Hangul for the figures: install bertnli with its dependencies "
            "(pip install koreanize-matplotlib) or a Korean system font (e.g. fonts-noto-cjk)"
        )
    if matplotlib.rcParams["font.sans-serif"][:1] != [font.name]:
        matplotlib.rcParams["font.family"] = ["sans-serif"]
        matplotlib.rcParams["font.sans-serif"] = [
            font.name,
            *matplotlib.rcParams["font.sans-serif"],
        ]
    matplotlib.rcParams["axes.unicode_minus"] = False
    return font.name


SEPARATOR = " · "
FIGURE_EN, FIGURE_KO = "Figure: ", "그림: "


def _halves(text: str) -> tuple[str, str]:
    """("English", "한국어") of a bilingual text "English · 한국어" (line by line, for a title of
    several lines); a one-language text twice."""
    lines = text.splitlines() or [""]
    korean = [any("가" <= c <= "힣" for c in line) for line in lines]
    if (
        SEPARATOR not in text and any(korean) and not all(korean)
    ):  # "English\n한국어": a language per line
        return (
            " ".join(line.strip() for line, k in zip(lines, korean) if not k),
            " ".join(line.strip() for line, k in zip(lines, korean) if k),
        )
    pairs = [_line_halves(line) for line in lines]
    return ", ".join(e for e, _ in pairs if e), ", ".join(k for _, k in pairs if k)


def _line_halves(line: str) -> tuple[str, str]:
    """One line's halves; a bilingual parenthesis inside it, "(grey: dropped · 회색: 버림)", is
    halved on its own and goes with each half."""
    import re

    inner = [group for group in re.findall(r"\(([^()]*)\)", line) if SEPARATOR in group]
    for i, group in enumerate(inner):
        line = line.replace(f"({group})", f"\0{i}\0")
    en, sep, ko = line.partition(SEPARATOR)
    if not (sep and any("가" <= c <= "힣" for c in ko)):
        en = ko = line
    for i, group in enumerate(inner):
        group_en, group_ko = _line_halves(group)
        if f"\0{i}\0" not in en:  # a note after the Korean half belongs to the whole title
            en += f" \0{i}\0"
        en, ko = en.replace(f"\0{i}\0", f"({group_en})"), ko.replace(f"\0{i}\0", f"({group_ko})")
    return en.strip(), ko.strip()


def figure_description(fig) -> tuple[str, str]:
    """An English and a Korean description of a figure, from its own titles and axis labels.

    The site uses it as the figure's alt text (book/_ext/figurealt.py), in the reader's
    language, instead of the image's file name."""
    titles = _unique([_figure_text(fig, "suptitle"), *(ax.get_title() for ax in fig.axes)])[:4]
    first = fig.axes[0] if fig.axes else None
    x = _figure_text(fig, "supxlabel") or (first.get_xlabel() if first else "")
    y = _figure_text(fig, "supylabel") or (first.get_ylabel() if first else "")
    if not (titles or x or y):
        return "Figure: a chart drawn by the code above", "그림: 위 코드가 그린 도표"
    en, ko = [], []
    if titles:
        en.append("; ".join(_halves(t)[0] for t in titles))
        ko.append("; ".join(_halves(t)[1] for t in titles))
    axes_en = ", ".join(
        f"{name}: {_halves(label)[0]}" for name, label in (("x", x), ("y", y)) if label.strip()
    )
    axes_ko = ", ".join(
        f"{name}: {_halves(label)[1]}"
        for name, label in (("가로축", x), ("세로축", y))
        if label.strip()
    )
    en += [f"({axes_en})"] if axes_en else []
    ko += [f"({axes_ko})"] if axes_ko else []
    en, ko = " ".join(en), " ".join(ko)
    return FIGURE_EN + en, FIGURE_KO + ko


def _unique(texts) -> list[str]:
    """Non-empty texts, whitespace collapsed, each once, in order."""
    seen: list[str] = []
    for text in texts:
        text = "\n".join(" ".join(line.split()) for line in text.strip().splitlines())
        if text and text not in seen:
            seen.append(text)
    return seen


def _figure_text(fig, name: str) -> str:
    """``fig.get_suptitle()`` and friends (matplotlib >= 3.8), read directly before that."""
    getter = getattr(fig, f"get_{name}", None)
    if getter is not None:
        return getter()
    artist = getattr(fig, f"_{name}", None)
    return artist.get_text() if artist is not None else ""


def _describe_for_ipython(fig, printer, cycle) -> None:
    printer.text("\n".join(figure_description(fig)))


def _set_up_inline_backend() -> None:
    """Let Jupyter's inline backend set itself up now, not at the first figure.

    Setting up removes every formatter registered for Figure, ours too; it happens when the
    backend module is first imported, which pyplot does lazily at the first figure, and that
    figure (shown by ``plt.show()`` inside the cell) would keep the plain repr."""
    backend = str(
        matplotlib.rcParams._get("backend")
        if hasattr(matplotlib.rcParams, "_get")
        else matplotlib.rcParams["backend"]
    )
    if backend in ("inline", "module://matplotlib_inline.backend_inline"):
        try:
            import matplotlib_inline.backend_inline  # noqa: F401 (its import is the set-up)
        except ImportError:  # no Jupyter here: nothing to set up
            pass


def register_figure_descriptions() -> bool:
    """In IPython, a figure's plain-text output becomes its two-line description (it was
    ``<Figure size 640x480 with 1 Axes>``); the notebook still shows the image. True if registered."""
    import sys

    ipython = sys.modules.get("IPython")
    shell = (
        ipython.get_ipython() if ipython is not None and hasattr(ipython, "get_ipython") else None
    )
    if shell is None:
        return False
    from matplotlib.figure import Figure

    _set_up_inline_backend()

    def register(*_) -> None:
        shell.display_formatter.formatters["text/plain"].for_type(Figure, _describe_for_ipython)

    register()
    # Turning on matplotlib's inline backend (lazily, at the first figure) removes every
    # formatter registered for Figure: register again before each cell runs.
    if not getattr(shell, "_bertnli_figure_descriptions", False):
        shell.events.register("pre_run_cell", register)
        shell.events.register(
            "post_execute", register
        )  # before the inline backend shows the cell's figures
        shell._bertnli_figure_descriptions = True
    return True


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
        ax.plot(
            epochs,
            [v if v is not None else float("nan") for v in devs],
            "^-",
            label="dev acc · 검증 정확도",
        )
    if any(t is not None for t in tests):
        ax.plot(
            epochs,
            [t if t is not None else float("nan") for t in tests],
            "^-",
            label="test acc · 테스트 정확도",
        )
    final = getattr(history, "test_acc", None)
    if final is not None and len(epochs):
        ax.plot(
            [epochs[-1]],
            [final],
            "*",
            markersize=11,
            color="#d1495b",
            label=f"test acc, once at the end · 마지막에 한 번 잰 테스트 정확도: {final:.3f}",
        )
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
            ax.text(
                j,
                i,
                str(value),
                ha="center",
                va="center",
                color="white" if value > top / 2 else "black",
            )
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


BILINGUAL_SEP = (
    " · "  # "field · 항목": the site's language switch shows the half before or after it
)
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
        raise ValueError(
            f"show_table: the header {list(map(str, header))} is ambiguous: {'; '.join(problems)}; "
            'give each column its own name in both halves of "English · 한국어"'
        )
    pad = "padding:0.3em 0.8em"
    numeric_columns = {
        j for j in range(len(header)) if rows and all(j < len(r) and _is_number(r[j]) for r in rows)
    }

    def cell(tag: str, value, right: bool) -> str:
        cls = ' class="num"' if right else ""
        return f'<{tag}{cls} style="{pad};text-align:{"right" if right else "left"}">{escape(str(value))}</{tag}>'

    head = "".join(cell("th", h, j in numeric_columns) for j, h in enumerate(header))
    body = "".join(
        "<tr>" + "".join(cell("td", c, _is_number(c)) for c in row) + "</tr>" for row in rows
    )
    return HTML(
        f'<div class="bertnli-table-wrap" style="overflow-x:auto"><table class="bertnli-table">'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"
    )


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
            plt.close(
                self._fig
            )  # we show it ourselves; keep the inline backend from showing it again
        self._ax.clear()
        plot_history(history, ax=self._ax)
        if self._handle is None:
            self._handle = display(self._fig, display_id=True)
        else:
            self._handle.update(self._fig)


register_figure_descriptions()  # in a notebook, figures carry their description (the site's alt text)
