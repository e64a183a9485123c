"""Checks for the book's exercises: they run the reader's code and answer with specific hints.

Every message is bilingual, English then Korean, joined by `` / ``. A check returns a
``CheckResult``: truthy when it passed, shown with ✅/❌ as text or HTML, so a notebook
cell that ends with the call displays it. ``grade`` turns a verdict into points for
nbgrader's autograder (``bertnli.book.assignments``), showing the same hints.
"""

from __future__ import annotations

import html
import inspect
import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from bertnli.book.korean import josa, particle
from bertnli.data.packing import pack_pair, truncate_longest_first, truncate_proportional

Truncation = Callable[[list, list, int], tuple]


@dataclass
class CheckResult:
    """The verdict of one check and the messages that explain it."""

    passed: bool
    messages: list[str] = field(default_factory=list)
    title: str = ""
    score: float | None = None  # share of the check's cases or rules that passed, in [0, 1]

    def __bool__(self) -> bool:
        return self.passed

    def _headline(self) -> str:
        mark = "✅ Passed · 통과" if self.passed else "❌ Not yet · 아직 아닙니다"
        return f"{mark}: {self.title}" if self.title else mark

    def __str__(self) -> str:
        return "\n".join([self._headline(), *(f"  - {m}" for m in self.messages)])

    def _repr_html_(self) -> str:
        color = "#1a7f37" if self.passed else "#cf222e"
        items = "".join(f"<li style='margin:2px 0'>{html.escape(m)}</li>" for m in self.messages)
        body = f"<ul style='margin:4px 0'>{items}</ul>" if items else ""
        return (
            f"<div style='border-left:4px solid {color};padding:4px 10px;margin:4px 0'>"
            f"<b style='color:{color}'>{html.escape(self._headline())}</b>{body}</div>"
        )


def _both(en: str, ko: str) -> str:
    return f"{en} / {ko}"


def grade(result, out_of: float) -> float:
    """Show ``result`` (a verdict with its hints, or a "not written yet" message) and return
    its points out of ``out_of``: all of them when it passed, ``out_of`` times its
    ``score`` when it did not, 0 for anything that is not a ``CheckResult``.

    An autograded nbgrader cell ends with this call: nbgrader reads a number as the
    cell's (partial) grade, and the displayed hints appear in the student's feedback.
    """
    from IPython.display import display

    display(result)
    if not isinstance(result, CheckResult):
        return 0.0
    if result.passed:
        return float(out_of)
    return round(float(out_of) * float(result.score or 0.0), 2)


# ---------------------------------------------------------------- proportional truncation


def _rounding_rule() -> str:
    """The rounding paragraph of ``truncate_proportional``'s docstring (the reference rule)."""
    doc = inspect.getdoc(truncate_proportional) or ""
    start = doc.find("Rounding:")
    return " ".join(doc[start:].replace("``", "").split()) if start >= 0 else doc


ROUNDING_RULE_KO = (
    "반올림 규칙: 전제는 floor(budget × len(p) / (len(p) + len(h)) + 1/2)개를 남기고(가장 가까운 정수, "
    "정확히 .5이면 전제 쪽으로 올림) 가설은 남은 예산을 모두 씁니다. 비어 있지 않은 쪽이 0개로 "
    "내려가면 다른 쪽에서 한 개를 돌려받습니다(budget ≥ 2일 때)."
)

_HAND_PICKED = [  # (premise length, hypothesis length, budget)
    (5, 3, 20),
    (10, 10, 20),
    (0, 7, 9),  # already fit
    (40, 10, 20),
    (10, 40, 20),
    (30, 30, 20),
    (12, 4, 10),  # plain cuts
    (5, 3, 4),
    (9, 7, 8),
    (3, 5, 4),
    (7, 9, 8),  # exact halves: the tie rule
    (1, 100, 10),
    (100, 1, 10),
    (2, 50, 5),
    (0, 30, 10),  # a tiny side must survive
    (61, 12, 29),
    (14, 9, 13),
    (25, 8, 2),
    (3, 3, 2),
]


def _cases(n_random: int = 300, seed: int = 0) -> list[tuple[int, int, int]]:
    rng = random.Random(seed)
    cases = list(_HAND_PICKED)
    for _ in range(n_random):
        cases.append((rng.randint(0, 60), rng.randint(1, 40), rng.randint(2, 50)))
    return cases


def _describe(p: int, h: int, budget: int, expected=None, got=None) -> str:
    en = f"{p} premise + {h} hypothesis tokens, budget {budget}"
    ko = f"전제 토큰 {p}개 + 가설 토큰 {h}개, 예산 {budget}"
    if expected is not None:
        en += f": expected lengths {expected}, got {got}"
        ko += f": 기대한 길이 {expected}, 실제 {got}"
    return _both(en, ko)


_HINTS = {
    "raises": _both("Your function raised an error", "함수가 예외를 일으켰습니다"),
    "type": _both(
        "Your function must return a pair (p_kept, h_kept) of token lists",
        "함수는 토큰 리스트 두 개를 (p_kept, h_kept) 튜플로 반환해야 합니다",
    ),
    "mutates": _both(
        "Your function mutated its input lists; build new lists (slicing does) and leave the "
        "arguments untouched",
        "함수가 입력 리스트를 바꿨습니다. 인자는 그대로 두고, 슬라이싱처럼 새 리스트를 "
        "만드는 방법으로 결과를 돌려주세요",
    ),
    "exceeds": _both(
        "The kept tokens exceed the budget: len(p_kept) + len(h_kept) must be <= budget",
        "남긴 토큰이 예산을 넘습니다. len(p_kept) + len(h_kept) <= budget이 성립해야 합니다",
    ),
    "fits": _both(
        "A pair that already fits the budget must come back unchanged",
        "이미 예산 안에 들어오는 쌍은 그대로 반환해야 합니다",
    ),
    "prefix": _both(
        "Keep the first tokens of each side, in order (p[:k]); do not drop from the front, "
        "reorder or swap the two sides",
        "각 문장의 앞쪽 토큰을 순서대로 남기세요(p[:k]). 앞에서 지우거나 순서를 바꾸거나 두 문장을 "
        "맞바꾸면 안 됩니다",
    ),
    "waste": _both(
        "A cut pair does not use the whole budget: after rounding, give the hypothesis "
        "budget - len(p_kept) instead of rounding both sides down",
        "잘린 쌍이 예산을 다 쓰지 않습니다. 두 쪽을 모두 내림하지 말고, 가설에는 "
        "남은 예산 전부(budget - len(p_kept))를 주세요",
    ),
    "empty": _both(
        "A non-empty side was left empty: when rounding gives a side 0 tokens, move one token "
        "to it from the other side",
        "비어 있지 않던 쪽이 빈 쪽이 되었습니다. 반올림으로 0개가 되면 다른 쪽에서 토큰 하나를 "
        "옮겨 주세요",
    ),
    "share": _both(
        "The shares are not proportional: the premise should keep about "
        "budget * len(p) / (len(p) + len(h)) tokens",
        "몫이 길이에 비례하지 않습니다. 전제는 대략 budget * len(p) / (len(p) + len(h))개를 남겨야 합니다",
    ),
    "rounding": _both(
        "Almost there: the rounding differs from the reference rule. " + _rounding_rule(),
        "거의 다 됐습니다. 반올림 방식이 기준과 다릅니다. " + ROUNDING_RULE_KO,
    ),
}
_ORDER = (
    "raises",
    "type",
    "mutates",
    "exceeds",
    "fits",
    "prefix",
    "waste",
    "empty",
    "share",
    "rounding",
)


def _judge(fn: Truncation, p_len: int, h_len: int, budget: int) -> tuple[str | None, str]:
    """The first failing category for one case (None when it passes) and the case's description."""
    p = [f"p{i}" for i in range(p_len)]
    h = [f"h{i}" for i in range(h_len)]
    p_arg, h_arg = list(p), list(h)
    ref_p, ref_h = truncate_proportional(p, h, budget)
    expected = (len(ref_p), len(ref_h))
    try:
        out = fn(p_arg, h_arg, budget)
    except Exception as err:  # the reader's code: report, don't crash the check
        return "raises", _describe(p_len, h_len, budget) + f" → {type(err).__name__}: {err}"
    ok_type = (
        isinstance(out, (tuple, list))
        and len(out) == 2
        and all(
            isinstance(side, (list, tuple)) and all(isinstance(t, str) for t in side)
            for side in out
        )
    )
    if not ok_type:
        return "type", _describe(p_len, h_len, budget) + f" → {type(out).__name__}: {str(out)[:80]}"
    kp, kh = (list(side) for side in out)
    got = (len(kp), len(kh))
    case = _describe(p_len, h_len, budget, expected, got)
    if p_arg != p or h_arg != h:
        return "mutates", _describe(p_len, h_len, budget) + " → " + _both(
            f"after the call the lists held {len(p_arg)} + {len(h_arg)} tokens",
            f"호출 뒤 두 리스트에 토큰이 {len(p_arg)}개 + {len(h_arg)}개 남았습니다",
        )
    if len(kp) + len(kh) > budget:
        return "exceeds", case
    if p_len + h_len <= budget:
        return (None if (kp, kh) == (p, h) else "fits"), case
    if kp != p[: len(kp)] or kh != h[: len(kh)]:
        show = lambda side: " ".join(side[:4]) + (" …" if len(side) > 4 else "")  # noqa: E731
        return "prefix", _describe(p_len, h_len, budget) + " → " + _both(
            f"kept [{show(kp)}] | [{show(kh)}], expected [{show(ref_p)}] | [{show(ref_h)}]",
            f"남긴 토큰 [{show(kp)}] | [{show(kh)}], 기대한 토큰 [{show(ref_p)}] | [{show(ref_h)}]",
        )
    if len(kp) + len(kh) < budget:
        return "waste", case
    if (p_len and not kp) or (h_len and not kh):
        return "empty", case
    ideal = budget * p_len / (p_len + h_len)
    if not math.floor(ideal) <= len(kp) <= math.ceil(ideal):
        return "share", case + f" (ideal {ideal:.2f} · 이상적인 값 {ideal:.2f})"
    if got != expected:
        return "rounding", case
    return None, case


def check_proportional_truncation(
    fn: Truncation, *, n_random: int = 300, seed: int = 0
) -> CheckResult:
    """Run ``fn(p_tokens, h_tokens, budget) -> (p_kept, h_kept)`` on hand-picked and random
    cases and compare with ``bertnli.truncate_proportional``.

    On failure: the first failing category in a fixed order (errors, return type,
    mutation, budget, pairs that fit, prefixes, wasted budget, empty sides, shares,
    rounding), its hint and up to 3 example cases. Budgets are >= 2.
    """
    title = "proportional truncation · 비례 절단"
    cases = _cases(n_random, seed)
    failures: dict[str, list[str]] = {}
    for p_len, h_len, budget in cases:
        category, case = _judge(fn, p_len, h_len, budget)
        if category is not None:
            failures.setdefault(category, []).append(case)
    if not failures:
        return CheckResult(
            True,
            [
                _both(
                    f"All {len(cases)} cases match the reference",
                    f"{len(cases)}개 사례가 모두 기준 구현과 일치합니다",
                )
            ],
            title,
            score=1.0,
        )
    passed = len(cases) - sum(len(found) for found in failures.values())
    first = min(failures, key=_ORDER.index)
    shown = failures[first][:3]
    examples = [_both("Example", "예시") + f" {i}: {c}" for i, c in enumerate(shown, 1)]
    count = _both(
        f"{len(failures[first])} of {len(cases)} cases fail this way; {passed} of {len(cases)} pass",
        f"{len(cases)}개 중 {len(failures[first])}개 사례가 이렇게 실패합니다. 통과한 사례는 "
        f"{len(cases)}개 중 {passed}개입니다",
    )
    return CheckResult(False, [_HINTS[first], *examples, count], title, score=passed / len(cases))


def wrong_truncation_examples() -> dict[str, Truncation]:
    """Deliberately wrong implementations, each tripping one hint of the check."""

    def drops_from_front(p, h, budget):
        kp, kh = map(len, truncate_proportional(p, h, budget))
        return list(p[len(p) - kp :]), list(h[len(h) - kh :])

    def ignores_budget(p, h, budget):
        return list(p), list(h)

    def rounds_down(p, h, budget):
        if len(p) + len(h) <= budget:
            return list(p), list(h)
        total = len(p) + len(h)
        return list(p[: budget * len(p) // total]), list(h[: budget * len(h) // total])

    def empties_a_side(p, h, budget):
        if len(p) + len(h) <= budget:
            return list(p), list(h)
        kp = math.floor(budget * len(p) / (len(p) + len(h)) + 0.5)
        return list(p[:kp]), list(h[: budget - kp])

    def halves_like_longest_first(p, h, budget):
        return truncate_longest_first(p, h, budget)

    def bankers_rounding(p, h, budget):
        if len(p) + len(h) <= budget:
            return list(p), list(h)
        kp = round(budget * len(p) / (len(p) + len(h)))  # Python rounds halves to even
        kp = min(max(kp, 1 if p else 0), budget - 1 if h else budget)
        return list(p[:kp]), list(h[: budget - kp])

    def mutates_inputs(p, h, budget):
        kp, kh = map(len, truncate_proportional(p, h, budget))
        del p[kp:], h[kh:]
        return p, h

    def returns_one_list(p, h, budget):
        kp, kh = truncate_proportional(p, h, budget)
        return kp + kh

    return {
        f.__name__: f
        for f in (
            drops_from_front,
            ignores_budget,
            rounds_down,
            empties_a_side,
            halves_like_longest_first,
            bankers_rounding,
            mutates_inputs,
            returns_one_list,
        )
    }


# ---------------------------------------------------------------- bert.base

BERT_BASE_EXPECTED: dict[str, int] = dict(
    num_hiddens=768, ffn_num_hiddens=3072, num_heads=12, num_blks=12, max_len=512
)
_FIELD_KO = {
    "num_hiddens": "은닉 크기",
    "ffn_num_hiddens": "FFN 은닉 크기",
    "num_heads": "어텐션 헤드 수",
    "num_blks": "인코더 블록 수",
    "max_len": "최대 길이",
}


def _config_of(model):
    config = getattr(model, "config", None) or getattr(model, "bert_config", None)
    return config


def check_bert_base(model, vocab, *, expected: Mapping[str, int] | None = None) -> CheckResult:
    """Is ``model`` (a ``BERTModel`` or ``BERTClassifier``) the 768/3072/12/12 bert.base with
    ``max_len`` 512, does ``vocab`` match its embedding, and does one packed pair encode to
    ``[1, T, 768]``? ``expected`` replaces the sizes (tests use a tiny one)."""
    import torch

    title = "bert.base · bert.base 모델"
    expected = dict(BERT_BASE_EXPECTED if expected is None else expected)
    config = _config_of(model)
    if config is None or not hasattr(model, "encoder"):
        return CheckResult(
            False,
            [
                _both(
                    f"Expected a BERTModel from bertnli.load_pretrained('bert.base'), got {type(model).__name__}",
                    f"bertnli.load_pretrained('bert.base')가 반환한 BERTModel이 필요한데 "
                    f"{josa(type(model).__name__, '을/를')} 받았습니다",
                )
            ],
            title,
        )
    sizes = config.to_dict()
    messages, ok = [], True
    for key, want in expected.items():
        have = sizes.get(key)
        if have != want:
            ok = False
            messages.append(
                _both(
                    f"{key} is {have}, bert.base needs {want}: you passed {key}={have} (or loaded another "
                    f"checkpoint); load_pretrained('bert.base') reads the sizes from the checkpoint, so leave "
                    f"{key} out",
                    f"{key}({_FIELD_KO.get(key, key)}){particle(key, '이/가')} {have}인데 bert.base는 {want}입니다. "
                    f"{josa(f'{key}={have}', '을/를')} 넘겼거나 다른 체크포인트를 읽었습니다. "
                    f"load_pretrained('bert.base')는 크기를 체크포인트에서 읽으니 {josa(key, '은/는')} 넘기지 마세요",
                )
            )
    rows = model.encoder.token_embedding.num_embeddings
    if len(vocab) != rows or sizes.get("vocab_size") != rows:
        ok = False
        messages.append(
            _both(
                f"The vocabulary has {len(vocab)} tokens but the token embedding has {rows} rows: use the vocab "
                "returned together with the model",
                f"어휘는 {len(vocab)}개인데 토큰 임베딩은 {rows}행입니다. 모델과 함께 반환된 어휘(vocab)를 쓰세요",
            )
        )
    tokens, segments = pack_pair(
        "a man is playing a guitar .".split(),
        "a person plays music .".split(),
        max_len=min(int(sizes.get("max_len", 16)), 16),
    )
    encoder = model.encoder
    try:
        device = next(model.parameters()).device
        with torch.no_grad():
            out = encoder(
                torch.tensor([vocab[tokens]], device=device),
                torch.tensor([segments], device=device),
                torch.tensor([len(tokens)], device=device),
            )
        shape = list(out.shape)
    except Exception as err:  # a mismatched vocab or config can break the forward pass
        ok = False
        messages.append(
            _both(
                f"The forward pass failed: {type(err).__name__}: {err}",
                f"순전파가 실패했습니다: {type(err).__name__}: {err}",
            )
        )
    else:
        want_shape = [1, len(tokens), expected.get("num_hiddens", sizes["num_hiddens"])]
        if shape != want_shape:
            ok = False
            messages.append(
                _both(
                    f"One packed pair encodes to {shape}, expected {want_shape}",
                    f"패킹한 문장 쌍 하나의 인코딩 모양이 {shape}입니다. 기대한 모양은 {want_shape}입니다",
                )
            )
        elif ok:
            messages.append(
                _both(
                    f"{sizes['num_blks']} blocks × {sizes['num_hiddens']} hidden ({sizes['num_heads']} heads, FFN "
                    f"{sizes['ffn_num_hiddens']}), max_len {sizes['max_len']}, {rows} tokens; a pair of "
                    f"{len(tokens)} tokens encodes to {shape}",
                    f"블록 {sizes['num_blks']}개 × 은닉 {sizes['num_hiddens']}(헤드 {sizes['num_heads']}개, FFN "
                    f"{sizes['ffn_num_hiddens']}), 최대 길이 {sizes['max_len']}, 어휘 {rows}개. 토큰 {len(tokens)}개인 "
                    f"문장 쌍의 인코딩 모양은 {shape}입니다",
                )
            )
    return CheckResult(ok, messages, title)


# ---------------------------------------------------------------- the bert.base plan

PLAN_RULES = {
    "lr": (
        1e-5,
        1e-4,
    ),  # BERT's fine-tuning grid is 2e-5..5e-5; above 1e-4 a 12-block model tends to diverge
    "min_epochs": 2,  # one pass is rarely enough to settle; BERT used 2-4
    "min_max_len": 64,  # SNLI pairs average ~27 tokens; below 64 a visible share is cut
    "max_max_len": 512,  # bert.base has 512 learned positions
    "memory_gib": 80.0,  # one 80 GB accelerator (H100/A100-80GB); pass another budget if yours differs
}


def check_bert_base_plan(
    lr: float,
    batch_size: int,
    epochs: int,
    max_len: int,
    amp: bool,
    *,
    memory_gib: float = PLAN_RULES["memory_gib"],
    num_gpus: int = 1,
) -> CheckResult:
    """Sanity-check a hyperparameter plan for bert.base on SNLI (aiming at test accuracy > 0.86).

    Rules (``PLAN_RULES``): ``lr`` in [1e-5, 1e-4]; ``epochs >= 2``; ``64 <= max_len <= 512``;
    the training memory estimate (``costs.memory_estimate`` for bert.base at the per-GPU
    batch ``batch_size / num_gpus``, padded to ``max_len``) fits in ``memory_gib``. Notes
    that do not fail the plan: no AMP on a GPU, more than 5 epochs, very small batches.
    """
    from bertnli.run.costs import GiB, memory_estimate

    title = "bert.base plan · bert.base 학습 계획"
    low, high = PLAN_RULES["lr"]
    messages, failed = [], 0
    rules = 4  # learning rate, epochs, max_len, batch and memory: the score is the share that pass

    def fail(en: str, ko: str) -> None:
        nonlocal failed
        failed += 1
        messages.append("❌ " + _both(en, ko))

    if not low <= lr <= high:
        fail(
            f"lr={lr:g} is outside [{low:g}, {high:g}]: bert.base usually fine-tunes at 2e-5 to 5e-5 with "
            "Adam; much larger forgets the pretraining or diverges, much smaller barely moves in a few epochs",
            f"lr={lr:g}: [{low:g}, {high:g}] 범위를 벗어났습니다. bert.base는 보통 Adam으로 2e-5~5e-5에서 "
            "미세 조정합니다. 너무 크면 사전 학습한 내용을 잃거나 발산하고, 너무 작으면 몇 에폭으로는 거의 "
            "학습되지 않습니다",
        )
    if epochs < PLAN_RULES["min_epochs"]:
        fail(
            f"epochs={epochs}: plan at least {PLAN_RULES['min_epochs']} passes over SNLI",
            f"epochs={epochs}: SNLI 전체를 적어도 {PLAN_RULES['min_epochs']}번은 학습하도록 계획하세요",
        )
    elif epochs > 5:
        messages.append(
            _both(
                f"epochs={epochs} is more than BERT usually needs (2-4); watch the dev accuracy",
                f"epochs={epochs}: BERT에 보통 필요한 2~4회보다 많습니다. 검증 정확도를 지켜보세요",
            )
        )
    if max_len < PLAN_RULES["min_max_len"]:
        fail(
            f"max_len={max_len} cuts too many pairs; use at least {PLAN_RULES['min_max_len']}",
            f"max_len={max_len}: 잘리는 문장 쌍이 너무 많습니다. max_len을 {PLAN_RULES['min_max_len']} 이상으로 "
            "하세요",
        )
    elif max_len > PLAN_RULES["max_max_len"]:
        fail(
            f"max_len={max_len} is longer than bert.base's {PLAN_RULES['max_max_len']} position embeddings",
            f"max_len={max_len}: bert.base의 위치 임베딩 {PLAN_RULES['max_max_len']}개보다 깁니다",
        )
    if batch_size < 1 or num_gpus < 1:
        fail(
            f"batch_size={batch_size} and num_gpus={num_gpus} must be positive",
            f"batch_size={batch_size}, num_gpus={num_gpus}: 둘 다 양수여야 합니다",
        )
    else:
        per_gpu = math.ceil(batch_size / num_gpus)
        need = (
            memory_estimate(BERT_BASE_EXPECTED, per_gpu, min(max_len, 512), amp=amp)["total"] / GiB
        )
        if need > memory_gib:
            fail(
                f"Estimated {need:.1f} GiB per GPU for a batch of {per_gpu} at max_len {max_len}"
                f"{' with AMP' if amp else ' in fp32'}: more than {memory_gib:g} GiB. Turn on AMP, use a "
                "smaller batch or more GPUs",
                f"max_len {max_len}, GPU당 배치 {per_gpu}{'(AMP 사용)' if amp else '(fp32)'}에 GPU당 약 "
                f"{need:.1f} GiB가 필요해 {memory_gib:g} GiB를 넘습니다. AMP를 켜거나 배치를 줄이거나 GPU를 "
                "늘리세요",
            )
        else:
            messages.append(
                _both(
                    f"Memory: about {need:.1f} GiB per GPU of {memory_gib:g} GiB",
                    f"메모리: GPU당 약 {need:.1f} GiB ({memory_gib:g} GiB 중)",
                )
            )
        if batch_size < 16:
            messages.append(
                _both(
                    f"batch_size={batch_size} works but makes an epoch of 549k pairs slow",
                    f"batch_size={batch_size}: 동작은 하지만 54만 쌍을 도는 에폭이 느려집니다",
                )
            )
    if not amp:
        messages.append(
            _both(
                "On a GPU, AMP (bf16/fp16) roughly halves activation memory and is much faster",
                "GPU에서는 AMP(bf16/fp16)를 쓰면 활성값 메모리가 약 절반이 되고 훨씬 빠릅니다",
            )
        )
    return CheckResult(failed == 0, messages, title, score=(rules - failed) / rules)
