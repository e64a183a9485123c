"""Chapter 6's helpers: vocabulary coverage of a text, hypothesis-only data, subsets sized to a
time budget, and the check of the chapter's exercise.

Why here and not in ``data/`` or ``run/``: these are the chapter's measurements, not steps of
a fine-tuning run. They work with both kinds of tokenizer the book loads: d2l's ``Vocab``
(lowercased, whitespace-split words, ``<unk>``) and a Hugging Face checkpoint's WordPiece
(``encode()`` and ``[UNK]``), so one call measures bert.small and a Korean model alike.
"""

from __future__ import annotations

import math
import warnings
from collections import Counter
from collections.abc import Callable, Mapping, Sequence

from bertnli.book.exercises import CheckResult, _both

Triple = tuple[list[str], list[str], list[int]]
EMPTY_PREMISE_WARNING = r".*empty premise or hypothesis after truncation.*"


# ---------------------------------------------------------------- coverage


def unk_id(tokenizer) -> int:
    """The id a tokenizer gives a piece it does not know (``<unk>`` or ``[UNK]``)."""
    special = getattr(tokenizer, "special_ids", None)
    if special is not None:
        ids = special() if callable(special) else special
        if "unk" in ids:
            return int(ids["unk"])
    token_to_idx = getattr(tokenizer, "token_to_idx", None)
    if token_to_idx is not None and "<unk>" in token_to_idx:
        return int(token_to_idx["<unk>"])
    raise TypeError(
        f"{type(tokenizer).__name__} is not a tokenizer this book loads: it names no unknown-token id "
        "(special_ids['unk'] or a '<unk>' entry)"
    )


def encode(tokenizer, sentences: Sequence[str]) -> list[list[int]]:
    """Each sentence's ids as the model reads them, without special tokens.

    A tokenizer with ``encode`` (WordPiece, and any that follows the book's tokenizer seam)
    does its own normalization; d2l's ``Vocab`` reads lowercased whitespace-split words,
    as ``SNLIBERTDataset`` feeds them to bert.small."""
    if hasattr(tokenizer, "encode"):
        return [list(ids) for ids in tokenizer.encode(list(sentences))]
    lookup, unk = tokenizer.token_to_idx.get, unk_id(tokenizer)
    return [[lookup(word, unk) for word in sentence.lower().split()] for sentence in sentences]


def unk_share(tokenizer, sentences: Sequence[str]) -> float:
    """Share of the pieces of ``sentences`` that the tokenizer maps to its unknown token (0.0 for no pieces)."""
    unk = unk_id(tokenizer)
    ids = [i for sentence in encode(tokenizer, sentences) for i in sentence]
    return sum(i == unk for i in ids) / len(ids) if ids else 0.0


def coverage(tokenizer, sentences: Sequence[str]) -> dict:
    """How well a vocabulary covers a text.

    ``pieces`` (ids the model reads), ``unk`` (of them unknown), ``unk_share``, ``words``
    (whitespace-separated words of the text), ``pieces_per_word``, and ``sentences_with_unk``:
    the share of sentences holding at least one unknown piece."""
    unk = unk_id(tokenizer)
    encoded = encode(tokenizer, sentences)
    pieces = sum(map(len, encoded))
    unknown = sum(i == unk for ids in encoded for i in ids)
    words = sum(len(s.split()) for s in sentences)
    return {
        "pieces": pieces,
        "unk": unknown,
        "unk_share": unknown / pieces if pieces else 0.0,
        "words": words,
        "pieces_per_word": pieces / words if words else 0.0,
        "sentences_with_unk": (sum(unk in ids for ids in encoded) / len(encoded))
        if encoded
        else 0.0,
    }


def pieces(tokenizer, sentence: str) -> list[str]:
    """The pieces a model reads for ``sentence``, as strings (unknown ones as the unknown token)."""
    ids = encode(tokenizer, [sentence])[0]
    if hasattr(tokenizer, "to_tokens"):
        return list(tokenizer.to_tokens(ids))
    if hasattr(tokenizer, "idx_to_token"):
        return [tokenizer.idx_to_token[i] for i in ids]
    return [tokenizer.tokenizer.id_to_token(i) for i in ids]  # a WordPiece without to_tokens


# ---------------------------------------------------------------- hypothesis-only baseline


def hypothesis_only(data: Triple) -> Triple:
    """The same pairs with every premise emptied: what a model can learn from the hypothesis alone.

    Packed, a pair becomes ``<cls> <sep> hypothesis <sep>``: the input keeps its shape, so the
    same classifier and loop run unchanged, and only the premise's information is gone."""
    premises, hypotheses, labels = data
    if not len(premises) == len(hypotheses) == len(labels):
        raise ValueError(
            f"premises, hypotheses and labels differ in length: {len(premises)}, {len(hypotheses)}, "
            f"{len(labels)}"
        )
    return [""] * len(hypotheses), list(hypotheses), list(labels)


def hypothesis_only_dataset(
    data: Triple, tokenizer, *, max_len: int, truncation: str = "longest_first"
):
    """``SNLIBERTDataset`` of :func:`hypothesis_only` pairs.

    The dataset warns when most premises are empty, since a model usually cannot learn from
    such pairs; here the empty premise is the point of the experiment, so that one warning is
    silenced and no other."""
    from bertnli.data.dataset import SNLIBERTDataset

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=EMPTY_PREMISE_WARNING, category=UserWarning)
        return SNLIBERTDataset(
            hypothesis_only(data), tokenizer, max_len=max_len, truncation=truncation
        )


def majority_share(labels: Sequence[int]) -> float:
    """Accuracy of always answering the most frequent label: the floor a baseline must beat."""
    if not len(labels):
        raise ValueError("majority_share needs at least one label")
    return Counter(labels).most_common(1)[0][1] / len(labels)


# ---------------------------------------------------------------- sizing runs to a time limit


def laptop_pairs_per_second(config, mean_len: float) -> float:
    """Training pairs per second on a 4-core laptop CPU for ``config`` at a mean packed length.

    ``costs.laptop_cpu_seconds`` takes SNLI's mean length (27 tokens) for every corpus; Korean
    pairs cut into WordPiece pieces are longer, so the rate here scales the same measured
    speed by the FLOPs per pair at the corpus's own mean length."""
    from bertnli.run import costs

    reference = costs.flops_per_example(
        costs.LAPTOP_REFERENCE, min(costs.LAPTOP_REFERENCE_MAX_LEN, costs.SNLI_MEAN_PAIR_TOKENS)
    )
    return costs.LAPTOP_TRAIN_PAIRS_PER_SEC * reference / costs.flops_per_example(config, mean_len)


def laptop_seconds(
    config, *, train_pairs: int, epochs: int, evaluated_pairs: int, mean_len: float, runs: int = 1
) -> float:
    """Estimated seconds of ``runs`` fine-tuning runs on a 4-core laptop CPU (evaluation: a third
    of a training step per pair, as in ``costs.laptop_cpu_seconds``)."""
    rate = laptop_pairs_per_second(config, mean_len)
    return runs * (train_pairs * epochs / rate + evaluated_pairs / (3 * rate))


def train_pairs_within(
    config,
    seconds: float,
    *,
    epochs: int,
    evaluated_pairs: int,
    mean_len: float,
    runs: int = 1,
    available: int | None = None,
) -> int:
    """The most training pairs each of ``runs`` runs can use so that all of them take ``seconds``
    on a 4-core laptop CPU, capped at ``available``.

    Why: a graded course stops a cell after 600 s, so a cell that trains picks its subset from
    the estimate instead of a fixed number that fits one model and not another."""
    if seconds <= 0 or runs < 1 or epochs < 1:
        raise ValueError(
            f"seconds, runs and epochs must be positive, got {seconds}, {runs}, {epochs}"
        )
    rate = laptop_pairs_per_second(config, mean_len)
    left = seconds / runs - evaluated_pairs / (3 * rate)
    if left <= 0:
        raise ValueError(
            f"evaluating {evaluated_pairs:,} pairs alone takes longer than the {seconds / runs:.0f} s "
            "each run may take; evaluate fewer pairs"
        )
    pairs = int(left * rate / epochs)
    return min(pairs, available) if available is not None else pairs


def mean_pair_length(tokenizer, data: Triple, max_len: int) -> float:
    """Mean packed length of the pairs in ``tokenizer``'s pieces, specials included, at most ``max_len``."""
    premises, hypotheses, _ = data
    if not premises:
        raise ValueError("mean_pair_length needs at least one pair")
    lengths = [
        min(max_len, len(p) + len(h) + 3)
        for p, h in zip(encode(tokenizer, premises), encode(tokenizer, hypotheses))
    ]
    return sum(lengths) / len(lengths)


# ---------------------------------------------------------------- subsets and short runs


def subset(data: Triple, k: int | None, split: str) -> Triple:
    """``k`` pairs of ``data``, the same seeded choice as the profiles' subsets (``recipe.subset_indices``)."""
    from bertnli.run.recipe import subset_indices

    keep = subset_indices(len(data[2]), k, split)
    if keep is None:
        return tuple(list(part) for part in data)
    return tuple([part[i] for i in keep] for part in data)


def split_off(data: Triple, first: int, second: int, seed: int = 0) -> tuple[Triple, Triple]:
    """Two disjoint random parts of ``data``, of ``first`` and ``second`` pairs (fewer if it is short):
    a training subset and pairs held out from the same file."""
    import numpy as np

    order = np.random.default_rng(seed).permutation(len(data[2]))
    a, b = np.sort(order[:first]), np.sort(order[first : first + second])
    return tuple([part[i] for i in a] for part in data), tuple(
        [part[i] for i in b] for part in data
    )


def build_dataset(
    data: Triple,
    tokenizer,
    *,
    max_len: int,
    truncation: str = "longest_first",
    premise: bool = True,
):
    """``SNLIBERTDataset`` of the pairs, or of their hypotheses alone (``premise=False``)."""
    from bertnli.data.dataset import SNLIBERTDataset

    if premise:
        return SNLIBERTDataset(data, tokenizer, max_len=max_len, truncation=truncation)
    return hypothesis_only_dataset(data, tokenizer, max_len=max_len, truncation=truncation)


def short_run(
    model_name: str,
    data: Mapping[str, Triple],
    *,
    max_len: int,
    epochs: int,
    batch_size: int,
    lr: float,
    truncation: str = "longest_first",
    premise: bool = True,
    seed: int = 0,
):
    """Fine-tune ``model_name`` on ``data["train"]`` (dev accuracy every epoch, test once), with the
    book's own classifier and loop; returns ``(model, tokenizer, history)``.

    For the chapter's comparisons, which train on data no profile names (a subset of one file, the
    hypotheses alone); the chapter's main run goes through ``recipe.finetune_job`` like chapter 4's."""
    import torch

    from bertnli.data.loader import make_loader
    from bertnli.data.snli import LABELS
    from bertnli.model.classifier import BERTClassifier
    from bertnli.model.pretrained import load_pretrained
    from bertnli.run.train import fine_tune

    bert, tokenizer = load_pretrained(model_name, dropout=0.1, device="cpu")
    sets = {
        split: build_dataset(
            pairs, tokenizer, max_len=max_len, truncation=truncation, premise=premise
        )
        for split, pairs in data.items()
    }
    loaders = {
        split: make_loader(ds, batch_size, shuffle=split == "train", seed=seed)
        for split, ds in sets.items()
    }
    torch.manual_seed(seed)  # the new output layer's initial weights
    model = BERTClassifier(bert, num_classes=len(LABELS))
    history = fine_tune(
        model,
        loaders["train"],
        loaders.get("test"),
        valid_loader=loaders.get("dev"),
        epochs=epochs,
        lr=lr,
        seed=seed,
    )
    return model, tokenizer, history


def accuracy_on(
    model,
    tokenizer,
    data: Triple,
    *,
    max_len: int,
    batch_size: int = 256,
    truncation: str = "longest_first",
    premise: bool = True,
) -> dict:
    """``evaluate()``'s result (accuracy, loss, confusion) for ``model`` on ``data``, read with ``tokenizer``."""
    from bertnli.data.loader import make_loader
    from bertnli.run.inference import evaluate

    ds = build_dataset(data, tokenizer, max_len=max_len, truncation=truncation, premise=premise)
    return evaluate(model, make_loader(ds, batch_size, shuffle=False))


# ---------------------------------------------------------------- the exercise's check

UnkShare = Callable[[object, Sequence[str]], float]


def check_unk_share(
    fn: UnkShare, tokenizers: Mapping[str, object], sentences: Sequence[str]
) -> CheckResult:
    """Run the reader's ``fn(tokenizer, sentences) -> share of unknown pieces`` on each tokenizer
    (the whole text, its first sentence, no sentences) and compare with :func:`unk_share`."""
    title = "share of unknown pieces · 모르는 조각의 비율"
    sentences = list(sentences)
    cases = [
        (name, tok, label, text)
        for name, tok in tokenizers.items()
        for label, text in (
            ("all sentences · 모든 문장", sentences),
            ("one sentence · 한 문장", sentences[:1]),
            ("no sentences · 문장 없음", []),
        )
    ]
    failures: list[str] = []
    for name, tok, label, text in cases:
        expected = unk_share(tok, text)
        try:
            got = fn(tok, list(text))
        except ZeroDivisionError:
            failures.append(
                _both(
                    f"{name}, {label}: division by zero; with no pieces there is nothing unknown, "
                    "so return 0.0",
                    f"{name}, {label}: 0으로 나눴습니다. 조각이 하나도 없으면 모르는 "
                    "조각도 없으니 0.0을 돌려주세요",
                )
            )
            continue
        except Exception as err:  # the reader's code: report, do not crash the check
            failures.append(
                _both(
                    f"{name}, {label}: raised {type(err).__name__}: {err}",
                    f"{name}, {label}: {type(err).__name__} 오류가 났습니다: {err}",
                )
            )
            continue
        if isinstance(got, bool) or not isinstance(got, (int, float)) or not math.isfinite(got):
            failures.append(
                _both(
                    f"{name}, {label}: expected a number between 0 and 1, got {got!r}",
                    f"{name}, {label}: 0과 1 사이의 수가 와야 하는데 {got!r}이(가) 왔습니다",
                )
            )
        elif abs(got - expected) > 1e-9:
            hint = _both(
                "count pieces (the ids encode gives), not words or sentences, and compare each id with the "
                "tokenizer's unknown id (unk_id)",
                "단어나 문장이 아니라 조각(encode가 주는 ID)을 세고, 각 ID를 토크나이저의 모르는 토큰 "
                "ID(unk_id)와 비교하세요",
            )
            failures.append(
                _both(
                    f"{name}, {label}: expected {expected:.4f}, got {got:.4f}",
                    f"{name}, {label}: {expected:.4f}이어야 하는데 {got:.4f}입니다",
                )
                + f" ({hint})"
            )
    if not failures:
        return CheckResult(
            True,
            [
                _both(
                    f"All {len(cases)} cases match unk_share",
                    f"{len(cases)}개 사례가 모두 unk_share와 일치합니다",
                )
            ],
            title,
            score=1.0,
        )
    return CheckResult(False, failures[:3], title, score=(len(cases) - len(failures)) / len(cases))
