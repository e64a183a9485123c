"""SNLIBERTDataset: parity with d2l, unpadded storage, the loader, coverage, the cache."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from helpers.d2l_compat import d2l_torch
from helpers.needs import sample_snli_dir
from helpers.snli_files import write_corpus
from helpers.snli_reference import ReferenceSNLIBERTDataset
from helpers.tiny_task import VOCAB, tiny_data

from bertnli.data import dataset as dataset_module
from bertnli.data.dataset import SNLIBERTDataset, cache_key, make_loader, vocab_coverage
from bertnli.data.packing import pack_pair
from bertnli.data.snli import read_snli
from bertnli.model.vocab import SPECIAL_TOKENS, Vocab


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    """Every test gets its own cache folder; nothing is ever downloaded."""
    monkeypatch.setenv("BERTNLI_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache" / "datasets"


def corpus_vocab(data, drop_every: int = 5) -> Vocab:
    """The corpus' lowercased words, minus every ``drop_every``-th one so that ``<unk>`` occurs."""
    words = sorted({w for side in data[:2] for s in side for w in s.lower().split()})
    return Vocab(list(SPECIAL_TOKENS) + [w for i, w in enumerate(words) if i % drop_every])


def d2l_vocab(vocab: Vocab):
    """A ``d2l.Vocab`` with our tokens, set up the way d2l's ``load_pretrained_model`` does."""
    d2l = d2l_torch()
    v = d2l.Vocab()
    v.idx_to_token = list(vocab.idx_to_token)
    v.token_to_idx = {token: idx for idx, token in enumerate(v.idx_to_token)}
    return v


def d2l_reference(data, max_len: int, vocab: Vocab) -> ReferenceSNLIBERTDataset:
    d2l = d2l_torch()
    return ReferenceSNLIBERTDataset(
        data,
        max_len,
        d2l_vocab(vocab),
        tokenize=d2l.tokenize,
        get_tokens_and_segments=d2l.get_tokens_and_segments,
    )


def assert_same_bytes(ours, ref: ReferenceSNLIBERTDataset) -> None:
    theirs = (ref.all_token_ids, ref.all_segments, ref.valid_lens, ref.labels)
    for name, a, b in zip(
        ("token_ids", "segments", "valid_lens", "labels"), ours, theirs, strict=True
    ):
        assert a.dtype == b.dtype and a.shape == b.shape, name
        assert a.numpy().tobytes() == b.numpy().tobytes(), name


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    folder = write_corpus(tmp_path_factory.mktemp("snli"))
    data = tuple(d2l_torch().read_snli(str(folder), True))
    return data, corpus_vocab(data, drop_every=4)


@pytest.fixture(scope="module")
def sample_train():
    data = read_snli(sample_snli_dir(), "train")
    return data, corpus_vocab(data)


# --------------------------------------------------------------------------- parity with d2l


@pytest.mark.parametrize("max_len", [128, 12, 5, 3])
def test_padded_tensors_match_d2l_on_a_tiny_corpus(tiny, max_len):
    data, vocab = tiny
    if max_len == 3:  # no room for any word: the dataset says so, and still packs like d2l
        with pytest.warns(UserWarning, match="empty premise or hypothesis after truncation"):
            ds = SNLIBERTDataset(data, vocab, max_len=max_len, cache=False)
    else:
        ds = SNLIBERTDataset(data, vocab, max_len=max_len, cache=False)
    assert_same_bytes(ds.padded_tensors(), d2l_reference(data, max_len, vocab))


@pytest.mark.parametrize("max_len", [128, 16])
def test_padded_tensors_match_d2l_on_the_sample_corpus(sample_train, max_len):
    data, vocab = sample_train
    ds = SNLIBERTDataset(data, vocab, max_len=max_len)
    ref = d2l_reference(data, max_len, vocab)
    assert (ref.all_token_ids == vocab.unk).any(), (
        "the test vocabulary should leave some words unknown"
    )
    assert_same_bytes(ds.padded_tensors(), ref)
    assert_same_bytes(
        SNLIBERTDataset(data, vocab, max_len=max_len).padded_tensors(), ref
    )  # via the cache


@pytest.mark.parametrize("truncation", ["longest_first", "proportional"])
def test_items_are_unpadded_pack_pair_outputs(tiny, truncation):
    data, vocab = tiny
    ds = SNLIBERTDataset(data, vocab, max_len=10, truncation=truncation, cache=False)
    assert len(ds) == len(data[0])
    for i, (p, h, y) in enumerate(zip(*data)):
        tokens, segments = pack_pair(p.lower().split(), h.lower().split(), 10, truncation)
        ids, segs, label = ds[i]
        assert ids.dtype == segs.dtype == torch.long
        assert ids.tolist() == vocab[tokens] and segs.tolist() == segments and label == y
        assert ds.lengths[i] == len(tokens)
    assert ds[-1][0].tolist() == ds[len(ds) - 1][0].tolist()
    with pytest.raises(IndexError):
        ds[len(ds)]


def test_unpadded_storage_is_compact(sample_train):
    data, vocab = sample_train
    ds = SNLIBERTDataset(data, vocab, cache=False)
    assert ds.token_ids.dtype == np.uint16 and ds.token_ids.size == ds.lengths.sum()
    assert ds.lengths.max() < 128


def test_bad_inputs():
    vocab = Vocab(SPECIAL_TOKENS)
    with pytest.raises(ValueError, match="differ in length"):
        SNLIBERTDataset((["a"], ["b", "c"], [0]), vocab, cache=False)
    with pytest.raises(ValueError, match="labels"):
        SNLIBERTDataset((["a"], ["b"], [3]), vocab, cache=False)
    with pytest.raises(ValueError, match="truncation"):
        SNLIBERTDataset((["a"], ["b"], [0]), vocab, truncation="random", cache=False)
    with pytest.raises(ValueError, match="max_len"):
        SNLIBERTDataset((["a"], ["b"], [0]), vocab, max_len=2, cache=False)
    empty = SNLIBERTDataset(([], [], []), vocab, cache=False)
    assert len(empty) == 0 and empty.padded_tensors()[0].shape == (0, 128)


# --------------------------------------------------------------------------- loader


@pytest.fixture(scope="module")
def mid(sample_train):
    """About 2,000 pairs of the sample: enough for bucketing to matter, fast to build."""
    (p, h, y), vocab = sample_train
    return SNLIBERTDataset((p[:2003], h[:2003], y[:2003]), vocab, cache=False)


def seen(loader) -> list[int]:
    return [i for batch in loader.batch_sampler for i in batch]


def test_batches_are_padded_to_their_longest_pair(mid):
    pad = mid.vocab["<pad>"]
    loader = make_loader(mid, batch_size=64, shuffle=True)
    assert isinstance(loader, torch.utils.data.DataLoader)
    indices = list(loader.batch_sampler)
    batches = list(loader)
    assert len(batches) == len(loader) == 32
    for idx, ((tokens, segments, valid_lens), labels) in zip(indices, batches, strict=True):
        assert tokens.dtype == segments.dtype == valid_lens.dtype == labels.dtype == torch.long
        assert tokens.shape == segments.shape == (len(idx), int(valid_lens.max()))
        assert (
            valid_lens.tolist() == mid.lengths[idx].tolist()
            and labels.tolist() == mid.labels[idx].tolist()
        )
        for row, i in enumerate(idx):
            ids, segs, _ = mid[i]
            n = len(ids)
            assert (
                tokens[row, :n].tolist() == ids.tolist()
                and segments[row, :n].tolist() == segs.tolist()
            )
            assert (tokens[row, n:] == pad).all() and (segments[row, n:] == 0).all()
    assert sorted(seen(loader)) == list(range(len(mid)))  # every pair exactly once


def test_bucketing_removes_padding(mid):
    def padding(bucket: bool) -> int:
        return sum(
            int(t.numel() - v.sum())
            for (t, _, v), _ in make_loader(mid, 64, shuffle=True, bucket=bucket)
        )

    assert padding(bucket=True) < 0.5 * padding(bucket=False)


def test_order_is_reproducible_and_changes_with_the_epoch(mid):
    a, b = make_loader(mid, 64, shuffle=True, seed=1), make_loader(mid, 64, shuffle=True, seed=1)
    assert list(a.batch_sampler) == list(b.batch_sampler)
    first = list(a.batch_sampler)
    a.set_epoch(1)
    assert list(a.batch_sampler) != first and sorted(seen(a)) == list(range(len(mid)))
    assert list(make_loader(mid, 64, shuffle=True, seed=2).batch_sampler) != first
    plain = make_loader(mid, 64, shuffle=False, bucket=False)
    assert seen(plain) == list(range(len(mid)))  # no shuffle, no buckets: dataset order


@pytest.mark.parametrize("drop_last", [False, True])
def test_ranks_split_the_batches(mid, drop_last):
    batch_size, reps = 64, 3  # 2003 pairs -> 31 full batches + 1 partial
    every = [
        list(
            make_loader(
                mid, batch_size, True, drop_last=drop_last, num_replicas=reps, rank=r
            ).batch_sampler
        )
        for r in range(reps)
    ]
    lengths = {len(b) for b in every}
    assert len(lengths) == 1  # the same number of batches on every rank
    whole = list(make_loader(mid, batch_size, True, drop_last=drop_last).batch_sampler)
    if drop_last:
        assert lengths == {31 // reps} and all(len(x) == batch_size for b in every for x in b)
        flat = [i for b in every for x in b for i in x]
        assert len(flat) == len(set(flat))  # disjoint
    else:
        assert lengths == {11}  # ceil(32 / 3); one batch repeated to even the ranks out
        covered = {i for b in every for x in b for i in x}
        assert covered == set(range(len(mid)))
        for r in range(reps):
            assert every[r] == (whole + whole[:1])[r::reps]
    for r in range(reps):
        assert len(
            make_loader(mid, batch_size, True, drop_last=drop_last, num_replicas=reps, rank=r)
        ) == len(every[r])
    with pytest.raises(ValueError, match="rank"):
        make_loader(mid, batch_size, True, num_replicas=2, rank=2)


def test_workers_give_the_same_batches(mid):
    ours = list(make_loader(mid, 256, shuffle=True, num_workers=2, pin_memory=False))
    again = list(make_loader(mid, 256, shuffle=True, num_workers=0, pin_memory=False))
    assert len(ours) == len(again) == len(make_loader(mid, 256, shuffle=True)) > 1
    for ((t1, s1, v1), y1), ((t2, s2, v2), y2) in zip(ours, again, strict=True):
        assert (
            torch.equal(t1, t2)
            and torch.equal(s1, s2)
            and torch.equal(v1, v2)
            and torch.equal(y1, y2)
        )


# --------------------------------------------------------------------------- coverage


def test_vocab_coverage_counts_unknown_words():
    vocab = Vocab(list(SPECIAL_TOKENS) + ["a", "dog", "runs", "."])
    data = (["A dog runs .", "A zebra runs . zebra"], ["Zebra !", "a dog"], [0, 1])
    report = vocab_coverage(SNLIBERTDataset(data, vocab, cache=False))
    # words: 4 + 5 + 2 + 2 = 13; unknown: zebra x3, ! x1
    assert report == {
        "tokens": 13,
        "unk": 4,
        "unk_share": 4 / 13,
        "top_unknown": [("zebra", 3), ("!", 1)],
    }
    cut = vocab_coverage(SNLIBERTDataset(data, vocab, max_len=6, cache=False), top=1)
    # max_len 6 keeps 3 words a pair (longest_first): "a dog" | "zebra", "a zebra" | "a"
    assert cut == {"tokens": 6, "unk": 2, "unk_share": 2 / 6, "top_unknown": [("zebra", 2)]}


def test_vocab_coverage_on_the_sample(sample_train):
    data, vocab = sample_train
    ds = SNLIBERTDataset(data, vocab, cache=False)
    report = vocab_coverage(ds, top=5)
    assert report["tokens"] == int(ds.lengths.sum()) - 3 * len(ds)
    assert 0 < report["unk_share"] < 0.5 and len(report["top_unknown"]) == 5
    assert sum(ds.unknown_words.values()) == report["unk"]
    assert all(word not in vocab for word, _ in report["top_unknown"])


# --------------------------------------------------------------------------- cache


def test_cache_hit_skips_the_build(tiny, private_cache, monkeypatch):
    data, vocab = tiny
    built = SNLIBERTDataset(data, vocab, max_len=12)
    files = list(private_cache.iterdir())
    assert files == [built.cache_path] and not list(private_cache.glob("*.tmp"))

    def no_build(*args):
        raise AssertionError("built again despite a cache hit")

    monkeypatch.setattr(dataset_module, "_build", no_build)
    loaded = SNLIBERTDataset(data, vocab, max_len=12)
    for a, b in zip(built.padded_tensors(), loaded.padded_tensors(), strict=True):
        assert torch.equal(a, b)
    assert loaded.unknown_words == built.unknown_words


def test_cache_key_covers_everything_that_changes_the_result(tiny):
    (p, h, y), vocab = tiny
    base = cache_key(p, h, y, vocab, 128, "longest_first")
    assert (
        cache_key(list(p), list(h), list(y), Vocab(vocab.idx_to_token), 128, "longest_first")
        == base
    )
    changed = [
        cache_key(p[:-1] + [p[-1] + "!"], h, y, vocab, 128, "longest_first"),
        cache_key(p, h[:-1] + [h[-1] + " "], y, vocab, 128, "longest_first"),
        cache_key(p[:1] + h[1:], h[:1] + p[1:], y, vocab, 128, "longest_first"),
        cache_key([p[0] + p[1]] + [""] + p[2:], h, y, vocab, 128, "longest_first"),
        cache_key(p, h, y[:-1] + [(y[-1] + 1) % 3], vocab, 128, "longest_first"),
        cache_key(p, h, y, Vocab(vocab.idx_to_token + ["zebra"]), 128, "longest_first"),
        cache_key(p, h, y, vocab, 64, "longest_first"),
        cache_key(p, h, y, vocab, 128, "proportional"),
    ]
    assert len(set(changed + [base])) == len(changed) + 1


def corrupt_truncated(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def corrupt_other_key(path):
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["key"] = np.array("0" * 40)
    np.savez(path.with_suffix(".tmp.npz"), **arrays)
    path.with_suffix(".tmp.npz").replace(path)


def corrupt_shapes(path):
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["lengths"] = arrays["lengths"][:-1]
    np.savez(path.with_suffix(".tmp.npz"), **arrays)
    path.with_suffix(".tmp.npz").replace(path)


def corrupt_ids(path):
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["token_ids"] = np.full_like(arrays["token_ids"], 60000)
    np.savez(path.with_suffix(".tmp.npz"), **arrays)
    path.with_suffix(".tmp.npz").replace(path)


@pytest.mark.parametrize(
    "corrupt", [corrupt_truncated, corrupt_other_key, corrupt_shapes, corrupt_ids]
)
def test_corrupt_or_stale_cache_is_rebuilt_never_used(tiny, corrupt):
    data, vocab = tiny
    good = SNLIBERTDataset(data, vocab, max_len=12)
    corrupt(good.cache_path)
    with pytest.warns(UserWarning, match="discarding the dataset cache"):
        again = SNLIBERTDataset(data, vocab, max_len=12)
    for a, b in zip(good.padded_tensors(), again.padded_tensors(), strict=True):
        assert torch.equal(a, b)
    with np.load(again.cache_path) as z:  # rewritten whole
        assert str(z["key"]) == again.cache_path.stem.rsplit("-", 1)[1]


def test_failed_cache_write_leaves_nothing_behind(tiny, private_cache, monkeypatch):
    data, vocab = tiny

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(dataset_module.np, "savez", disk_full)
    with pytest.warns(UserWarning, match="could not write the dataset cache"):
        ds = SNLIBERTDataset(data, vocab, max_len=12)
    assert len(ds) == len(data[0]) and list(private_cache.iterdir()) == []


def test_a_dataset_cut_to_nothing_warns():
    data = tiny_data(32)
    with pytest.warns(
        UserWarning, match=r"32 of 32 pairs have an empty premise or hypothesis.*max_len=4"
    ):
        SNLIBERTDataset(data, VOCAB, max_len=4, cache=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        SNLIBERTDataset(data, VOCAB, max_len=32, cache=False)
