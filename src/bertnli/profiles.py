"""Run profiles: which checkpoint, which data and which hyperparameters a chapter uses.

``sample`` (the default) runs offline on a laptop CPU in a minute or two with the
embedded checkpoint and corpus; ``laptop`` is the real ``bert.small`` on a fixed subset
of the real SNLI, sized so chapter 3 takes about ten minutes on a 4-core laptop CPU;
``full`` is the reference configuration on the real downloads, meant for a GPU.
Notebooks and the command line pick one profile in one place (``BERTNLI_PROFILE`` or
``--profile``) instead of branching cell by cell, and both accept the same size
controls: the ``BERTNLI_*`` variables in ``ENV_OVERRIDES`` (read by ``get_profile``)
and, on the command line, the matching options (``--model``, ``--train-pairs``, ...).
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, fields, replace

PROFILE_ENV = "BERTNLI_PROFILE"


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError(f"must be a positive integer, got {text!r}")
    return value


def _name_or_path(text: str) -> str:
    if not text.strip():
        raise ValueError("must be a name (e.g. bert.small, snli, sample), a folder or a zip, got an empty string")
    return os.path.expanduser(text.strip())


# Environment variable -> (profile field, parser). The chapters and the book build read
# these through get_profile(); the command line has an option per field as well.
ENV_OVERRIDES: dict[str, tuple[str, object]] = {
    "BERTNLI_MODEL": ("model", _name_or_path),
    "BERTNLI_BASE_MODEL": ("base_model", _name_or_path),
    "BERTNLI_DATA": ("data", _name_or_path),
    "BERTNLI_EPOCHS": ("epochs", _positive_int),
    "BERTNLI_TRAIN_PAIRS": ("train_pairs", _positive_int),
    "BERTNLI_TEST_PAIRS": ("test_pairs", _positive_int),
}


@dataclass(frozen=True)
class Profile:
    name: str
    model: str          # load_pretrained() name, folder or zip
    data: str           # "snli" (the hub's download), "sample", or a folder/zip with snli_1.0_*.txt
    epochs: int
    batch_size: int
    max_len: int
    lr: float
    truncation: str = "longest_first"
    base_model: str = "bert.base"   # the checkpoint of chapter 5's bert.base exercise
    train_pairs: int | None = None  # a fixed, seeded subset of the training split (None: all of it)
    test_pairs: int | None = None   # the same for the dev and test splits
    description_en: str = ""
    description_ko: str = ""
    overrides: tuple[str, ...] = ()  # "field=value (where from)", for the banner and run.json

    def __post_init__(self):
        object.__setattr__(self, "overrides", tuple(self.overrides))  # a list after a JSON round trip

    @property
    def is_sample(self) -> bool:
        return self.data == "sample"

    def data_path(self):
        """What ``read_snli`` takes: ``"sample"``, ``None`` (the hub's SNLI download) or a folder/zip."""
        return "sample" if self.data == "sample" else (None if self.data == "snli" else self.data)

    def with_overrides(self, source: str | None = None, **changes) -> "Profile":
        """A copy with ``changes`` (``None`` values ignored); with ``source`` (e.g. ``"--epochs"``
        or ``"BERTNLI_EPOCHS"``) the change is listed in the banner."""
        changes = {k: v for k, v in changes.items() if v is not None}
        noted = [f"{k}={v} ({source})" for k, v in changes.items() if source and getattr(self, k) != v]
        kept = [line for line in self.overrides if line.split("=", 1)[0] not in changes]
        return replace(self, **changes, overrides=(*kept, *noted))

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Profile":
        """A profile saved in a run's ``run.json`` (unknown keys from newer versions ignored)."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def banner(self) -> str:
        subset = "".join([f", train pairs {self.train_pairs:,}" if self.train_pairs else "",
                          f", dev/test pairs {self.test_pairs:,}" if self.test_pairs else ""])
        lines = [f"profile: {self.name} | model: {self.model} | data: {self.data} | epochs {self.epochs}, "
                 f"batch {self.batch_size}, max_len {self.max_len}, lr {self.lr:g}{subset}",
                 self.description_en, self.description_ko]
        if self.overrides:
            lines += ["overrides in effect · 적용된 재정의: " + ", ".join(self.overrides)]
        if self.is_sample:
            lines += ["Sample numbers are NOT comparable to the reference run (test accuracy 0.786).",
                      "샘플 프로필의 수치는 기준 실험(테스트 정확도 0.786)과 비교할 수 없습니다."]
        width = max(len(line) for line in lines)
        rule = "=" * min(width, 60)  # a rule, not a line that wraps in a narrow notebook or page
        return "\n".join([rule, *lines, rule])


PROFILES: dict[str, Profile] = {
    "sample": Profile(
        "sample", model="sample", data="sample", epochs=6, batch_size=64, max_len=64, lr=1e-3, base_model="sample",
        description_en="Embedded offline sample: a tiny pretrained BERT and a template-made SNLI stand-in, on CPU.",
        description_ko="내장 오프라인 샘플: 작은 사전 학습 BERT와 템플릿으로 만든 SNLI 대용 데이터, CPU에서 실행.",
    ),
    # Sized with benchmarks/laptop_size.py on a bert.small-shaped model and SNLI-shaped data:
    # one thread of the 2-core machine it was measured on trained ~345 pairs/s at this batch
    # size and max_len; a 4-core laptop CPU is taken as 1.5-2x that, so one epoch on 300k
    # pairs plus the full dev and test sets makes chapter 3 about 8-10 minutes.
    "laptop": Profile(
        "laptop", model="bert.small", data="snli", epochs=1, batch_size=64, max_len=64, lr=1e-4,
        train_pairs=300_000,
        description_en="The real bert.small on a fixed subset of the real SNLI, sized for ~10 minutes of "
                       "chapter 3 on a 4-core laptop CPU (downloads ~100 MB).",
        description_ko="실제 bert.small을 실제 SNLI의 고정된 부분 집합으로 미세 조정합니다. 4코어 노트북 컴퓨터의 "
                       "CPU에서 3장이 약 10분 걸리도록 추정해 맞췄습니다(약 100MB 다운로드).",
    ),
    "full": Profile(
        "full", model="bert.small", data="snli", epochs=5, batch_size=512, max_len=128, lr=1e-4,
        description_en="The reference run: d2l's bert.small on the real SNLI 1.0 (downloads ~100 MB; use a GPU).",
        description_ko="기준 실험: 실제 SNLI 1.0에서 d2l의 bert.small을 미세 조정(약 100MB 다운로드, GPU 권장).",
    ),
}


def env_overrides(environ=None) -> dict[str, tuple[str, object]]:
    """``{field: (variable, value)}`` for every ``BERTNLI_*`` size control that is set."""
    environ = os.environ if environ is None else environ
    found = {}
    for variable, (name, parse) in ENV_OVERRIDES.items():
        text = environ.get(variable)
        if text is None or text == "":
            continue
        try:
            found[name] = (variable, parse(text))
        except ValueError as err:
            raise ValueError(f"${variable}: {err}; unset it or give a valid value") from None
    return found


def apply_env(profile: Profile, environ=None) -> Profile:
    """``profile`` with the ``BERTNLI_*`` overrides of ``ENV_OVERRIDES`` applied and noted."""
    for name, (variable, value) in env_overrides(environ).items():
        profile = profile.with_overrides(variable, **{name: value})
    return profile


def get_profile(name: str | None = None, *, announce: bool = False) -> Profile:
    """The profile called ``name``, else ``$BERTNLI_PROFILE``, else ``sample``, with the
    ``BERTNLI_*`` overrides (``ENV_OVERRIDES``) applied; ``announce`` prints its banner."""
    source = "argument"
    if not name:
        name, source = os.environ.get(PROFILE_ENV) or "sample", PROFILE_ENV
    if name not in PROFILES:
        raise ValueError(f"unknown profile {name!r} (from the {source}); choose one of {sorted(PROFILES)}")
    profile = apply_env(PROFILES[name])
    if announce:
        print(profile.banner())
    return profile
