"""What the site shows for the chapters' outputs (issue 19 item 5): figures described in the reader's
language instead of by their file path, the attention grid legible at full size, and the prediction
form's static stand-in saying which pair it classified and fitting a phone."""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import re
from pathlib import Path

import matplotlib
import pytest
import torch

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from bertnli import BERTClassifier, BERTModel, Vocab
from bertnli.book import attention as A
from bertnli.book import plots
from bertnli.book import widgets as W

ROOT = Path(__file__).resolve().parents[1]
WORDS = "a man is playing guitar person plays music dog runs nobody .".split()


def _figurealt():
    spec = importlib.util.spec_from_file_location(
        "bertnli_book_ext_figurealt", ROOT / "book" / "_ext" / "figurealt.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def tiny_bert(num_blks=2, num_heads=2):
    torch.manual_seed(0)
    vocab = Vocab(["<unk>", "<pad>", "<mask>", "<cls>", "<sep>", *WORDS])
    bert = BERTModel(
        len(vocab),
        num_hiddens=16,
        ffn_num_hiddens=32,
        num_heads=num_heads,
        num_blks=num_blks,
        dropout=0.0,
        max_len=32,
    )
    return bert.eval(), vocab


# --------------------------------------------------------------------------- figure descriptions


def test_a_figure_is_described_by_its_own_titles_and_axes_in_each_language():
    fig, ax = plt.subplots()
    ax.set_title("Training curves · 학습 곡선")
    ax.set_xlabel("epoch · 에폭")
    ax.set_ylabel("loss · 손실")
    en, ko = plots.figure_description(fig)
    assert en == "Figure: Training curves (x: epoch, y: loss)"
    assert ko == "그림: 학습 곡선 (가로축: 에폭, 세로축: 손실)"
    assert "·" not in en and "·" not in ko
    two_lines, ax = plt.subplots()
    ax.set_title("pad to 128 · 128로 패딩\n128 tokens wide · 너비 128 토큰")
    assert plots.figure_description(two_lines) == (
        "Figure: pad to 128, 128 tokens wide",
        "그림: 128로 패딩, 너비 128 토큰",
    )
    nested, ax = plt.subplots()
    ax.set_title("Parameters by part · 부분별 파라미터 (grey: dropped · 회색: 버림)")
    assert plots.figure_description(nested) == (
        "Figure: Parameters by part (grey: dropped)",
        "그림: 부분별 파라미터 (회색: 버림)",
    )
    per_line, ax = plt.subplots()
    ax.set_title(
        "Share of the lost tokens taken from the hypothesis\n잃은 토큰 중 가설에서 잘린 몫"
    )
    assert plots.figure_description(per_line) == (
        "Figure: Share of the lost tokens taken from the hypothesis",
        "그림: 잃은 토큰 중 가설에서 잘린 몫",
    )
    empty, _ = plt.subplots()
    assert plots.figure_description(empty) == (
        "Figure: a chart drawn by the code above",
        "그림: 위 코드가 그린 도표",
    )
    plt.close("all")


def test_the_attention_grid_is_described_by_its_title():
    bert, vocab = tiny_bert()
    att = A.pair_attention(
        bert, vocab, "a man is playing guitar .", "a person plays music .", max_len=32
    )
    en, ko = plots.figure_description(A.plot_attention_grid(att))
    assert (
        en.startswith("Figure: Attention per layer (L) and head (H)")
        and "x: attended to (key)" in en
    )
    assert ko.startswith("그림: 층(L)과 헤드(H)별 어텐션") and "가로축: 주목받는 토큰(키)" in ko
    plt.close("all")


def test_in_ipython_a_figure_shows_its_description_as_plain_text():
    """Also after the inline backend's set-up has removed the formatters registered for Figure."""
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.core.pylabtools import select_figure_formats

    shell = InteractiveShell.instance()
    assert plots.register_figure_descriptions()
    fig, ax = plt.subplots()
    ax.set_title("Loss · 손실")
    assert shell.display_formatter.format(fig)[0]["text/plain"] == "Figure: Loss\n그림: 손실"
    select_figure_formats(shell, {"png"})  # what the inline backend does when it starts
    assert shell.display_formatter.format(fig)[0]["text/plain"].startswith("<Figure")
    shell.events.trigger(
        "post_execute"
    )  # ... and bertnli registers again before the figures are shown
    assert shell.display_formatter.format(fig)[0]["text/plain"] == "Figure: Loss\n그림: 손실"
    plt.close("all")


@pytest.mark.slow
def test_in_a_kernel_the_first_figure_shown_with_plt_show_is_described(tmp_path):
    """The inline backend sets itself up at the first figure, removing our formatter: bertnli sets it
    up first, so even that figure, shown by plt.show() inside its cell, carries its description."""
    import nbclient
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            f"import sys; sys.path.insert(0, {str(ROOT / 'src')!r})\nimport bertnli\n"
            "import matplotlib.pyplot as plt\nbertnli.book.plots.use_hangul_font()"
        ),
        nbformat.v4.new_code_cell(
            "fig, ax = plt.subplots(); ax.set_title('Loss · 손실'); plt.show()"
        ),
    ]
    nbclient.NotebookClient(
        nb, timeout=120, resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    shown = [o for o in nb.cells[1].outputs if "image/png" in o.get("data", {})]
    assert shown and shown[0]["data"]["text/plain"] == "Figure: Loss\n그림: 손실"


def _png(fig) -> bytes:
    import io

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def test_the_site_extension_gives_each_output_image_its_description():
    from docutils import nodes
    from docutils.frontend import get_default_settings
    from docutils.parsers.rst import Parser
    from docutils.utils import new_document

    ext = _figurealt()
    described, plain = plt.subplots()[0], plt.subplots()[0]
    described.axes[0].set_title(
        "Loss"
    )  # two different images (their files are named by their hash)
    png1, png2 = _png(described), _png(plain)
    notebook = {
        "cells": [
            {
                "cell_type": "code",
                "outputs": [
                    {
                        "output_type": "display_data",
                        "data": {
                            "image/png": base64.b64encode(png1).decode(),
                            "text/plain": ["Figure: Loss\n", "그림: 손실"],
                        },
                    }
                ],
            },
            {
                "cell_type": "code",
                "outputs": [
                    {
                        "output_type": "display_data",
                        "data": {
                            "image/png": base64.b64encode(png2).decode(),
                            "text/plain": "<Figure size 640x480 with 1 Axes>",
                        },
                    }
                ],
            },
        ]
    }
    doc = new_document("test", get_default_settings(Parser))
    first = nodes.image(uri=f"../_images/{hashlib.sha256(png1).hexdigest()}.png")
    second = nodes.image(uri=f"../_images/{hashlib.sha256(png2).hexdigest()}.png")
    page = nodes.image(uri="diagram.png", alt="A diagram the page describes itself")
    doc += [first, second, page]
    assert ext.describe_images(doc, notebook) == 2
    assert first["alt"] == "Figure: Loss · 그림: 손실"
    assert second["alt"] == " · ".join(ext.FALLBACK) and "png" not in second["alt"]
    assert page["alt"] == "A diagram the page describes itself"
    plt.close("all")


# --------------------------------------------------------------------------- the attention grid


def test_the_attention_grids_token_labels_are_legible_at_full_size():
    bert, vocab = tiny_bert()
    att = A.pair_attention(
        bert, vocab, "a man is playing guitar .", "a person plays music .", max_len=32
    )
    fig = A.plot_attention_grid(att)
    sizes = {
        label.get_fontsize() * fig.dpi / 72
        for ax in fig.axes
        for label in [*ax.get_xticklabels(), *ax.get_yticklabels()]
        if label.get_text()
    }
    assert sizes and min(sizes) >= 9, (
        f"token labels {min(sizes):.1f} px high at {fig.dpi} dpi; 9 px is the least"
    )
    plt.close("all")


# --------------------------------------------------------------------------- the prediction stand-in


def test_the_prediction_stand_in_says_which_pair_it_classified():
    torch.manual_seed(0)
    bert, vocab = tiny_bert(num_blks=1)
    form = W.prediction_form(
        BERTClassifier(bert),
        vocab,
        max_len=32,
        examples=[
            ("a dog runs .", "nobody runs ."),
            ("a man plays guitar .", "a person plays music ."),
        ],
    )
    static = form._repr_mimebundle_()["text/html"]
    pair = re.search(r"<div class='bn-pair'.*?</div></div>", static, flags=re.S)
    assert pair, "the static stand-in does not show the pair it classified"
    assert "Premise · 전제" in pair[0] and "a dog runs ." in pair[0]
    assert "Hypothesis · 가설" in pair[0] and "nobody runs ." in pair[0]
    assert static.index("bn-pair") < static.index("bn-prediction")


def test_the_probability_bars_shrink_to_fit_a_phone():
    """The bar takes the room that is left (flex 1 1, at least 3em) instead of a fixed 16em that
    pushed a 27em row past a 400 px screen."""
    html = W.probability_bars_html([0.7, 0.2, 0.1])
    assert "flex:0 0 16em" not in html and "width:11em" not in html
    assert html.count("flex:1 1 16em;min-width:3em") == 3
