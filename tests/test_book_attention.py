"""Attention weights on request: proper distributions, the same output, the ones actually used."""

import re

import pytest
import torch

from bertnli import BERTClassifier, BERTModel, Vocab
from bertnli.book import attention as A
from bertnli.model.bert import MultiHeadAttention

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WORDS = "a man is playing guitar person plays music dog runs nobody .".split()


def tiny_bert(seed=0, num_blks=2, num_heads=2):
    torch.manual_seed(seed)
    vocab = Vocab(["<unk>", "<pad>", "<mask>", "<cls>", "<sep>", *WORDS])
    bert = BERTModel(
        len(vocab),
        num_hiddens=16,
        ffn_num_hiddens=32,
        num_heads=num_heads,
        num_blks=num_blks,
        dropout=0.1,
        max_len=32,
    )
    return bert.eval(), vocab


def padded_batch(vocab_size, valid=(9, 5, 1), seq=9, seed=1):
    g = torch.Generator().manual_seed(seed)
    tokens = torch.randint(5, vocab_size, (len(valid), seq), generator=g)
    segments = (torch.arange(seq)[None, :] >= 4).long().expand(len(valid), -1).clone()
    valid_lens = torch.tensor(valid)
    for row, n in enumerate(valid):
        tokens[row, n:] = 1  # <pad>
    return tokens, segments, valid_lens


def test_weights_are_distributions_over_valid_keys():
    bert, vocab = tiny_bert()
    tokens, segments, valid_lens = padded_batch(len(vocab))
    weights = bert.attention(tokens, segments, valid_lens)
    blks, batch, heads, seq, _ = weights.shape
    assert (blks, batch, heads, seq) == (2, 3, 2, 9)
    assert (weights >= 0).all()
    for row, n in enumerate(valid_lens.tolist()):
        w = weights[:, row]
        torch.testing.assert_close(
            w[..., :n].sum(-1), torch.ones(blks, heads, seq)
        )  # every query row
        assert (w[..., n:] == 0).all(), f"row {row}: weight on padded keys"
        assert (w[..., :n] > 0).all()  # a softmax over valid keys leaves none at exactly 0


def test_asking_for_weights_changes_nothing():
    bert, vocab = tiny_bert()
    X = padded_batch(len(vocab))
    with torch.no_grad():
        plain = bert.encoder(*X)
        encoded, weights = bert.encoder(*X, return_attention=True)
        full = bert(*X)
    assert torch.equal(plain, encoded) and torch.equal(full[0], plain)
    assert bert.attention(*X).shape == weights.shape


def test_normal_forward_does_not_compute_weights(monkeypatch):
    bert, vocab = tiny_bert()

    def forbidden(*args, **kwargs):
        raise AssertionError("the normal forward pass computed attention weights")

    monkeypatch.setattr(MultiHeadAttention, "weights", forbidden)
    with torch.no_grad():
        bert(*padded_batch(len(vocab)))
        BERTClassifier(bert)(*padded_batch(len(vocab)))
    with pytest.raises(AssertionError, match="normal forward"):
        bert.attention(*padded_batch(len(vocab)))


def test_weights_are_the_ones_the_block_applies():
    """Multiplying the recomputed weights with the values reproduces the fused attention's output."""
    bert, vocab = tiny_bert()
    X = padded_batch(len(vocab))
    seen = []
    hooks = [
        blk.attention.register_forward_hook(lambda mod, inp, out: seen.append((mod, inp, out)))
        for blk in bert.encoder.blks
    ]
    with torch.no_grad():
        _, weights = bert.encoder(*X, return_attention=True)
    for h in hooks:
        h.remove()
    assert len(seen) == 2
    for layer, (mod, (x, _valid_lens), out) in enumerate(seen):
        v = mod._split_heads(mod.W_v(x))  # [batch, heads, seq, d]
        mixed = (weights[layer] @ v).transpose(1, 2).reshape(x.shape)
        torch.testing.assert_close(mod.W_o(mixed), out, atol=1e-5, rtol=1e-4)


def test_pair_attention_packs_like_predict_and_restores_mode():
    bert, vocab = tiny_bert()
    classifier = BERTClassifier(bert).train()
    att = A.pair_attention(
        classifier, vocab, "A man is playing guitar.", "A person plays music.", max_len=32
    )
    assert classifier.training
    assert att.tokens == [
        "<cls>",
        "a",
        "man",
        "is",
        "playing",
        "guitar",
        ".",
        "<sep>",
        "a",
        "person",
        "plays",
        "music",
        ".",
        "<sep>",
    ]
    assert att.hypothesis_start == 8 and att.word_positions(1) == [8, 9, 10, 11, 12]
    assert att.weights.shape == (2, 2, 14, 14)
    cross = att.cross_share()
    manual = att.weights[1, 0][8:13, 1:7].sum(1).mean()
    assert cross.shape == (2, 2) and cross[1, 0] == pytest.approx(manual)
    short = A.pair_attention(bert, vocab, "a man is playing guitar .".split(), ["music"], max_len=6)
    assert short.tokens == [
        "<cls>",
        "a",
        "man",
        "<sep>",
        "music",
        "<sep>",
    ]  # truncated as predict would
    with pytest.raises(TypeError, match="BERTModel or BERTClassifier"):
        A.pair_attention(torch.nn.Linear(2, 2), vocab, "a", "b", max_len=8)


def cells(html):
    """{(query, key): weight} from one heatmap's HTML."""
    return {
        (int(q), int(k)): float(w)
        for q, k, w in re.findall(r"data-q='(\d+)' data-k='(\d+)' data-w='([\d.]+)'", html)
    }


def test_attention_html_is_the_head_it_names():
    bert, vocab = tiny_bert()
    att = A.pair_attention(
        bert, vocab, "a man is playing guitar .", "a person plays music .", max_len=32
    )
    html = A.attention_html(att, layer=1, head=1)
    grid = cells(html)
    n = len(att.tokens)
    assert len(grid) == n * n
    for q in range(n):
        assert sum(grid[q, k] for k in range(n)) == pytest.approx(1, abs=5e-3)
        assert grid[q, 3] == pytest.approx(float(att.weights[1, 1, q, 3]), abs=1e-4)
    boundary = re.findall(r"data-q='(\d+)' data-k='(\d+)'[^>]*border-left:2px", html)
    assert {int(k) for _, k in boundary} == {att.hypothesis_start}
    assert "layer 2, head 2" in html and "2층, 2번 헤드" in html and "&lt;sep&gt;" in html
    with pytest.raises(ValueError, match="2 layers and 2 heads"):
        A.attention_html(att, layer=2, head=0)


def test_explorer_static_view_and_controls():
    bert, vocab = tiny_bert()
    pairs = [
        ("a man is playing guitar .", "a person plays music ."),
        ("a dog runs .", "nobody runs ."),
    ]
    explorer = A.attention_explorer(bert, vocab, pairs, max_len=32)
    bundle = explorer._repr_mimebundle_()
    assert WIDGET_VIEW in bundle and "data-layer='0' data-head='0'" in bundle["text/html"]
    out = explorer.controls["output"]
    explorer.controls["layer"].value = 1
    explorer.controls["head"].value = 1
    assert "data-layer='1' data-head='1'" in out.value
    explorer.controls["pair"].value = 1
    second = A.pair_attention(bert, vocab, *pairs[1], max_len=32)
    assert out.value == A.attention_html(second, 1, 1)
    assert [label for label, _ in explorer.controls["layer"].options] == ["1", "2"]
    with pytest.raises(ValueError, match="at least one"):
        A.attention_explorer(bert, vocab, [], max_len=32)


def test_grid_figure_has_a_panel_per_layer_and_head():
    import matplotlib

    matplotlib.use("Agg")
    bert, vocab = tiny_bert(num_blks=3, num_heads=2)
    att = A.pair_attention(
        bert, vocab, "a man is playing guitar .", "a person plays music .", max_len=32
    )
    fig = A.plot_attention_grid(att)
    assert len(fig.axes) == 6 and fig.axes[5].get_title() == "L3 H2"
    assert len(A.plot_attention_grid(att, max_layers=2).axes) == 4
    ax = A.plot_attention(att, 0, 1)
    assert [t.get_text() for t in ax.get_xticklabels()] == att.tokens
