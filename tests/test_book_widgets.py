"""Widgets: live ipywidgets plus a static HTML stand-in; the HTML says what each rule keeps."""

import re

import torch
from helpers.tiny_task import VOCAB, tiny_bert

from bertnli import LABELS, BERTClassifier, BERTModel, Vocab
from bertnli.book import widgets as W

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
PREMISE = "a man in a red shirt is playing a guitar on stage".split()  # 12 tokens
HYPOTHESIS = "a person plays music".split()  # 4 tokens
WORDS = sorted({*PREMISE, *HYPOTHESIS, "dog", "runs", "."})


def chips(html, method):
    """(token, state, segment) for every chip of one method's row."""
    row = re.search(rf"data-method='{method}'.*?(?=data-method=|$)", html, re.S).group(0)
    return re.findall(r"data-state='(\w+)' data-seg='(\w)'[^>]*>([^<]*)</span>", row)


def kept(html, method, segment):
    return [
        tok
        for state, seg, tok in chips(html, method)
        if state == "kept" and seg == segment and tok not in ("&lt;cls&gt;", "&lt;sep&gt;")
    ]


def dropped(html, method):
    return [tok for state, _, tok in chips(html, method) if state == "dropped"]


def test_truncation_html_marks_kept_and_dropped_tokens():
    html = W.truncation_html(PREMISE, HYPOTHESIS, 13)  # budget 10: the two rules disagree
    assert (
        kept(html, "longest_first", "A") == PREMISE[:6]
        and kept(html, "longest_first", "B") == HYPOTHESIS
    )
    assert (
        kept(html, "proportional", "A") == PREMISE[:8]
        and kept(html, "proportional", "B") == HYPOTHESIS[:2]
    )
    assert dropped(html, "longest_first") == PREMISE[6:]
    assert dropped(html, "proportional") == PREMISE[8:] + HYPOTHESIS[2:]
    assert "line-through" in html and "&lt;cls&gt;" in html and "&lt;sep&gt;" in html
    assert "premise 8/12, hypothesis 2/4 kept" in html and "전제 8/12, 가설 2/4 유지" in html


def test_explorer_bundle_and_static_html():
    explorer = W.truncation_explorer(
        [(" ".join(PREMISE), " ".join(HYPOTHESIS)), ("a dog runs", "a dog .")], max_len=13
    )
    bundle = explorer._repr_mimebundle_()
    assert WIDGET_VIEW in bundle and "text/html" in bundle and "text/plain" in bundle
    assert bundle["text/html"].startswith(W.truncation_html(PREMISE, HYPOTHESIS, 13))
    assert W.STATIC_NOTE.split(" · ")[1] in bundle["text/html"]
    assert explorer.controls["max_len"].max == len(PREMISE) + len(HYPOTHESIS) + 3


def test_explorer_updates_when_controls_change():
    explorer = W.truncation_explorer([(PREMISE, HYPOTHESIS), (["a", "dog"], ["runs"])], max_len=13)
    out = explorer.controls["output"]
    explorer.controls["max_len"].value = 19  # everything fits
    assert dropped(out.value, "longest_first") == dropped(out.value, "proportional") == []
    explorer.controls["max_len"].value = 9  # budget 6
    assert (
        kept(out.value, "proportional", "A") == PREMISE[:5]
    )  # 6 * 12/16 = 4.5: the half goes to the premise
    assert kept(out.value, "longest_first", "B") == HYPOTHESIS[:3]
    explorer.controls["pair"].value = 1
    assert kept(out.value, "longest_first", "A") == ["a", "dog"] and "max_len = 9" in out.value
    assert "Pair · 문장 쌍" == explorer.controls["pair"].description
    assert "최대 길이" in explorer.controls["max_len"].description


def test_probability_bars():
    html = W.probability_bars_html([0.7, 0.2, 0.1])
    assert html.count("class='bn-bar'") == 3
    assert "width:70.0%" in html and "0.700" in html
    for label, ko in zip(LABELS, ("함의", "모순", "중립"), strict=True):
        assert f"{label} · {ko}" in html


def tiny_classifier():
    torch.manual_seed(0)
    vocab = Vocab(["<unk>", "<pad>", "<mask>", "<cls>", "<sep>", *WORDS])
    bert = BERTModel(
        len(vocab),
        num_hiddens=16,
        ffn_num_hiddens=32,
        num_heads=2,
        num_blks=1,
        dropout=0.0,
        max_len=32,
    )
    return BERTClassifier(bert), vocab


def test_prediction_form_classifies_on_click():
    model, vocab = tiny_classifier()
    form = W.prediction_form(model, vocab, max_len=32)
    bundle = form._repr_mimebundle_()
    assert WIDGET_VIEW in bundle and "Prediction · 예측" in bundle["text/html"]
    c = form.controls
    assert (
        c["premise"].description == "Premise · 전제"
        and c["hypothesis"].description == "Hypothesis · 가설"
    )
    assert c["classify"].description == "Classify · 분류"
    c["premise"].value, c["hypothesis"].value = "A dog runs.", "A man is playing."
    c["output"].value = ""
    c["classify"].click()
    html = c["output"].value
    assert html.count("class='bn-bar'") == 3
    label = re.search(r"class='bn-label'[^>]*>([^<]*)<", html).group(1)
    assert label.split(" · ")[0] in LABELS and " · " in label
    c["hypothesis"].value = "  "
    c["classify"].click()
    assert "전제와 가설을" in c["output"].value


def test_prediction_form_examples_picker():
    model, vocab = tiny_classifier()
    form = W.prediction_form(
        model,
        vocab,
        max_len=32,
        examples=[("a dog runs", "a man plays"), ("a man plays guitar", "a person plays music")],
    )
    form.controls["examples"].value = 1
    assert form.controls["premise"].value == "a man plays guitar"
    assert "bn-label" in form.controls["output"].value


def test_the_prediction_form_says_when_it_cannot_read_the_words():
    from bertnli.book import widgets as W

    form = W.prediction_form(
        BERTClassifier(tiny_bert()),
        VOCAB,
        max_len=32,
        examples=[("a dog is running in the park .", "a man is sleeping .")],
    )
    assert "<unk>" not in form.controls["output"].value  # English it knows: no note
    form.controls["premise"].value, form.controls["hypothesis"].value = (
        "개가 공원에서 달린다",
        "남자가 잔다",
    )
    form.controls["classify"].click()
    shown = form.controls["output"].value
    assert "class='bn-bar'" in shown and "&lt;unk&gt;" in shown and "어휘에 없어" in shown
