"""Evaluation counts every pair once, also split across processes; device choice for a job."""

import os
import warnings

import pytest
import torch
from helpers.tiny_task import VOCAB, tiny_bert, tiny_data

from bertnli import BERTClassifier, DistInfo, SNLIBERTDataset, evaluate, make_loader, predict
from bertnli.distributed import pick_device, start
from bertnli.run.inference import UnreliablePrediction


@pytest.fixture
def odd_test_set(monkeypatch, tmp_path):
    monkeypatch.setenv("BERTNLI_CACHE", str(tmp_path))
    return SNLIBERTDataset(tiny_data(77, 1), VOCAB, max_len=32, cache=False)


@pytest.mark.parametrize("ranks", [2, 3, 8])
def test_evaluation_shares_cover_every_pair_exactly_once(odd_test_set, ranks):
    shares = [
        make_loader(odd_test_set, 8, shuffle=False, num_replicas=ranks, rank=r, even_shares=False)
        for r in range(ranks)
    ]
    seen = [i for loader in shares for batch in loader.batch_sampler for i in batch]
    assert sorted(seen) == list(range(len(odd_test_set)))  # 77 pairs, none twice, none missing
    assert [len(loader) for loader in shares] == [
        len(list(loader.batch_sampler)) for loader in shares
    ]
    # Training shares stay even (DDP needs the same number of steps): they repeat a few pairs.
    even = [
        make_loader(odd_test_set, 8, shuffle=False, num_replicas=ranks, rank=r)
        for r in range(ranks)
    ]
    assert len({len(loader) for loader in even}) == 1


def test_summed_rank_results_equal_one_process(odd_test_set):
    """What evaluate's all-reduce adds up: each rank's counts over its own share."""
    torch.manual_seed(0)
    model = BERTClassifier(tiny_bert())
    whole = evaluate(model, make_loader(odd_test_set, 8, shuffle=False))
    parts = [
        evaluate(
            model,
            make_loader(odd_test_set, 8, shuffle=False, num_replicas=2, rank=r, even_shares=False),
        )
        for r in range(2)
    ]
    assert sum(p["examples"] for p in parts) == whole["examples"] == 77
    summed = [
        [a + b for a, b in zip(*rows)] for rows in zip(parts[0]["confusion"], parts[1]["confusion"])
    ]
    assert summed == whole["confusion"]


def test_a_world_of_one_and_device_names(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    info = start("cpu")
    assert info == DistInfo(torch.device("cpu")) and info.is_main and not info.is_distributed
    assert info.backend is None and "CPU" in info.describe()
    assert torch.equal(info.all_reduce(torch.tensor([2.0])), torch.tensor([2.0]))
    with pytest.raises(ValueError, match="--device 'gpu0'"):
        pick_device("gpu0")
    # Under torchrun, no --device (or a bare "cuda") means this rank's own GPU, else the CPU.
    expected = torch.device("cuda:1") if torch.cuda.is_available() else torch.device("cpu")
    assert pick_device(None, local_rank=1) == expected
    if torch.cuda.is_available():
        assert pick_device("cuda", local_rank=0) == torch.device("cuda:0")
        with pytest.raises(ValueError, match="own local GPU"):
            pick_device("cuda:1", local_rank=0)
    else:
        with pytest.raises(ValueError, match="CUDA is not available.*--device cpu"):
            pick_device("cuda", local_rank=0)
    assert os.environ.get("WORLD_SIZE") is None


def test_a_long_input_says_how_many_tokens_were_kept_of_how_many():
    """Issue 21, item 7: a 10,000-word premise is cut to max_len; predict says so, with the counts."""
    import warnings

    from bertnli import predict
    from bertnli.run import inference

    model = BERTClassifier(tiny_bert())
    premise = " ".join(["a dog is running"] * 2500)  # 10,000 words
    with pytest.warns(
        UserWarning, match=r"kept 29 of 10,004 \(premise 25 of 10,000, hypothesis 4 of 4\)"
    ) as seen:
        predict(model, VOCAB, premise, "A dog runs.", max_len=32)
    assert [w.category for w in seen] == [inference.TruncatedInput]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a pair that fits: nothing to say
        predict(model, VOCAB, "A dog is running.", "An animal is outside.", max_len=32)


def test_predict_warns_on_words_the_vocabulary_lacks_and_on_empty_sentences():
    model = BERTClassifier(tiny_bert())
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # English the vocabulary knows: no warning
        predict(model, VOCAB, "A dog is running in the park.", "An animal is outside.")
    with pytest.warns(
        UnreliablePrediction, match="3 of the 3 words of the premise '고양이가 공원에서 잔다'"
    ):
        predict(model, VOCAB, "고양이가 공원에서 잔다", "A cat is sleeping.")
    with pytest.warns(UnreliablePrediction, match="hypothesis '' is empty"):
        predict(model, VOCAB, "A dog is running.", "")
    with pytest.warns(UnreliablePrediction, match="hypothesis"):  # two words of three unknown
        predict(model, VOCAB, "A dog is running.", "zebras gallop man")
