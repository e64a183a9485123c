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

from bertnli.data.corpora import data_names, data_problem, files_help
from bertnli.run.rules import SettingError, parse_int

PROFILE_ENV = "BERTNLI_PROFILE"


def _name_or_path(text: str, where: str) -> str:
    if not text.strip():
        raise SettingError(
            f"{where} must be a name (e.g. bert.small, snli, sample), a folder or a zip, got an "
            "empty string; unset it or give a valid value"
        )
    return os.path.expanduser(text.strip())


# Environment variable -> (profile field, parser). The chapters and the book build read
# these through get_profile(); the command line has an option per field as well.
ENV_OVERRIDES: dict[str, tuple[str, object]] = {
    "BERTNLI_MODEL": ("model", _name_or_path),
    "BERTNLI_BASE_MODEL": ("base_model", _name_or_path),
    "BERTNLI_DATA": ("data", _name_or_path),
    "BERTNLI_EPOCHS": ("epochs", parse_int),
    "BERTNLI_TRAIN_PAIRS": ("train_pairs", parse_int),
    "BERTNLI_TEST_PAIRS": ("test_pairs", parse_int),
}


@dataclass(frozen=True)
class Profile:
    name: str
    model: str  # load_pretrained() name, folder or zip
    data: str  # a corpus name of bertnli.data.corpora (snli, sample, kornli, ...) or a corpus's folder/zip
    epochs: int
    batch_size: int
    max_len: int
    lr: float
    truncation: str = "longest_first"
    base_model: str = "bert.base"  # the checkpoint of chapter 5's bert.base exercise
    train_pairs: int | None = None  # a fixed, seeded subset of the training split (None: all of it)
    test_pairs: int | None = None  # the same for the dev and test splits
    description_en: str = ""
    description_ko: str = ""
    overrides: tuple[str, ...] = ()  # "field=value (where from)", for the banner and run.json

    def __post_init__(self):
        object.__setattr__(
            self, "overrides", tuple(self.overrides)
        )  # a list after a JSON round trip

    @property
    def is_sample(self) -> bool:
        return self.data == "sample"

    def data_path(self):
        """What ``read_snli`` and ``corpora.read_pairs`` take: the corpus name or the folder/zip."""
        return self.data

    def with_overrides(self, source: str | None = None, **changes) -> Profile:
        """A copy with ``changes`` (``None`` values ignored); with ``source`` (e.g. ``"--epochs"``
        or ``"BERTNLI_EPOCHS"``) the change is listed in the banner."""
        changes = {k: v for k, v in changes.items() if v is not None}
        noted = [
            f"{k}={v} ({source})" for k, v in changes.items() if source and getattr(self, k) != v
        ]
        kept = [line for line in self.overrides if line.split("=", 1)[0] not in changes]
        return replace(self, **changes, overrides=(*kept, *noted))

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Profile:
        """A profile saved in a run's ``run.json`` (unknown keys from newer versions ignored).

        A field of the wrong type (``"max_len": "64"``) is a ValueError naming the field."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        for name, kinds in _FIELD_TYPES.items():
            value = values.get(name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, kinds)):
                raise ValueError(f"the field {name!r} is {value!r}, not {_KIND_NAMES[kinds]}")
        return cls(**values)

    def check_paths(self, names: tuple[str, ...] = ("model", "base_model", "data")) -> None:
        """Refuse a checkpoint or data path set by a ``BERTNLI_*`` variable that is not there, with
        one line naming the variable and the fix (before any chapter cell loads or reads anything).
        ``names``: the fields to check (a command checks those it uses)."""
        for line in self.overrides:
            name, _, rest = line.partition("=")
            variable = rest.rsplit("(", 1)[-1].rstrip(")")
            if name in PATH_FIELDS and name in names and variable in ENV_OVERRIDES:
                problem = _path_problem(name, getattr(self, name))
                if problem:
                    default = getattr(PROFILES.get(self.name), name, None)
                    raise SettingError(
                        f"${variable}={getattr(self, name)}: {problem}. Point ${variable} at "
                        f"{PATH_FIELDS[name]}; or unset it"
                        + (f" (the {self.name} profile then uses {default})" if default else "")
                    )

    def resized(self) -> bool:
        """Whether an override changed what the run costs (so the description's estimate is stale)."""
        return any(line.split("=", 1)[0] in SIZE_FIELDS for line in self.overrides)

    def estimate(self) -> tuple[str, str]:
        """English and Korean lines: minutes on a 4-core laptop CPU and what is downloaded,
        computed from these settings with :mod:`bertnli.run.costs`."""
        from bertnli.model.pretrained import KNOWN_CONFIGS
        from bertnli.run import costs

        config = KNOWN_CONFIGS.get(self.model)
        pairs = {
            split: costs.SNLI_PAIRS[split] if self.data == "snli" else None
            for split in costs.SNLI_PAIRS
        }
        train = (
            min(p for p in (self.train_pairs, pairs["train"]) if p)
            if (self.train_pairs or pairs["train"])
            else None
        )
        dev, test = (
            (
                min(p for p in (self.test_pairs, pairs[s]) if p)
                if (self.test_pairs or pairs[s])
                else None
            )
            for s in ("dev", "test")
        )
        downloads = [
            name for name in (self.model, self.data) if name in ("bert.small", "bert.base", "snli")
        ]
        got_en = ", ".join(downloads) + " (once, then cached)" if downloads else "nothing"
        got_ko = ", ".join(downloads) + "(처음 한 번, 그 뒤에는 캐시 사용)" if downloads else "없음"
        if config is None or None in (train, dev, test):
            unknown = "the checkpoint's size" if config is None else "the number of pairs"
            return (
                f"Time not estimated: {unknown} is not known before loading. Downloads: {got_en}.",
                f"시간은 추정하지 않았습니다: 불러오기 전에는 {'체크포인트 크기' if config is None else '쌍의 개수'}를 "
                f"알 수 없습니다. 내려받기: {got_ko}.",
            )
        seconds = costs.laptop_cpu_seconds(
            config,
            train_pairs=train,
            epochs=self.epochs,
            evaluated_pairs=dev * self.epochs + test,
            max_len=self.max_len,
        )
        minutes = round(seconds / 60)
        en, ko = (
            (f"~{minutes:,} min", f"약 {minutes:,}분")
            if minutes >= 1
            else ("under a minute", "1분 미만")
        )
        return (
            f"Estimated for these settings: {en} of fine-tuning on a 4-core laptop CPU "
            f"(bertnli.run.costs; a GPU is many times faster). Downloads: {got_en}.",
            f"이 설정의 추정치: 4코어 노트북 컴퓨터의 CPU에서 미세 조정에 {ko}(bertnli.costs로 계산, "
            f"GPU는 몇 배 빠름). 내려받기: {got_ko}.",
        )

    def banner(self) -> str:
        subset = "".join(
            [
                f", train pairs {self.train_pairs:,}" if self.train_pairs else "",
                f", dev/test pairs {self.test_pairs:,}" if self.test_pairs else "",
            ]
        )
        described = (
            list(self.estimate())
            if self.resized() and not self.is_sample
            else [self.description_en, self.description_ko]
        )
        lines = [
            f"profile: {self.name} | model: {self.model} | data: {self.data} | epochs {self.epochs}, "
            f"batch {self.batch_size}, max_len {self.max_len}, lr {self.lr:g}{subset}",
            *described,
        ]
        if self.overrides:
            lines += ["overrides in effect · 적용된 재정의: " + ", ".join(self.overrides)]
        if self.is_sample:
            lines += [
                "Sample numbers are NOT comparable to the reference run (test accuracy 0.786).",
                "샘플 프로필의 수치는 기준 실험(테스트 정확도 0.786)과 비교할 수 없습니다.",
            ]
        width = max(len(line) for line in lines)
        rule = "=" * min(width, 60)  # a rule, not a line that wraps in a narrow notebook or page
        return "\n".join([rule, *lines, rule])


# Settings that change what a run costs: an override of one replaces the profile's fixed estimate
# ("~10 min ... ~100 MB") in the banner with one computed from the settings.
SIZE_FIELDS = ("model", "data", "epochs", "batch_size", "max_len", "train_pairs", "test_pairs")
_FIELD_TYPES = {
    "name": str,
    "model": str,
    "data": str,
    "epochs": int,
    "batch_size": int,
    "max_len": int,
    "lr": (int, float),
    "truncation": str,
    "base_model": str,
    "train_pairs": int,
    "test_pairs": int,
}
_KIND_NAMES = {str: "a string", int: "an integer", (int, float): "a number"}
# Fields that may name a file: what a good value is, for the message.
PATH_FIELDS = {
    "model": "a checkpoint folder or zip (vocab.json + pretrained.params) or a name: bert.small, "
    "bert.base, sample",
    "base_model": "a checkpoint folder or zip (vocab.json + pretrained.params) or a name: bert.base, "
    "bert.small, sample",
    "data": f"a folder or zip holding one corpus's files ({files_help()}), or a name: "
    + ", ".join(data_names()),
}
_NAMES = {
    "model": (
        "bert.small",
        "bert.base",
        "sample",
        "ko-sample",
        "klue-bert-base",
        "koelectra-small",
    ),
    "base_model": ("bert.small", "bert.base", "sample"),
    "data": tuple(data_names()),
}


def _path_problem(field: str, value: str) -> str | None:
    """Why ``value`` cannot be the ``field`` path (None when it can, or is a name)."""
    from pathlib import Path

    if value in _NAMES[field]:
        return None
    path = Path(value)
    if not path.exists():
        return "no such file or folder"
    if field != "data":
        return None  # load_pretrained names a folder or zip that holds the wrong files
    problem = data_problem(path)
    return f"not a corpus's files ({problem})" if problem else None


PROFILES: dict[str, Profile] = {
    "sample": Profile(
        "sample",
        model="sample",
        data="sample",
        epochs=6,
        batch_size=64,
        max_len=64,
        lr=1e-3,
        base_model="sample",
        description_en="Embedded offline sample: a tiny pretrained BERT and a template-made SNLI stand-in, on CPU.",
        description_ko="내장 오프라인 샘플: 작은 사전 학습 BERT와 템플릿으로 만든 SNLI 대용 데이터, CPU에서 실행.",
    ),
    # Sized with benchmarks/laptop_size.py on a bert.small-shaped model and SNLI-shaped data:
    # one thread of the 2-core machine it was measured on trained ~345 pairs/s at this batch
    # size and max_len; a 4-core laptop CPU is taken as 1.5-2x that, so one epoch on 300k
    # pairs plus the full dev and test sets makes chapter 3 about 8-10 minutes.
    "laptop": Profile(
        "laptop",
        model="bert.small",
        data="snli",
        epochs=1,
        batch_size=64,
        max_len=64,
        lr=1e-4,
        train_pairs=300_000,
        description_en="The real bert.small on a fixed subset of the real SNLI, sized for ~10 minutes of "
        "chapter 3 on a 4-core laptop CPU (downloads ~100 MB).",
        description_ko="실제 bert.small을 실제 SNLI의 고정된 부분 집합으로 미세 조정합니다. 4코어 노트북 컴퓨터의 "
        "CPU에서 3장이 약 10분 걸리도록 추정해 맞췄습니다(약 100MB 다운로드).",
    ),
    "full": Profile(
        "full",
        model="bert.small",
        data="snli",
        epochs=5,
        batch_size=512,
        max_len=128,
        lr=1e-4,
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
        found[name] = (
            variable,
            parse(text, "$" + variable),
        )  # each rule names the variable and the fix
    return found


def apply_env(profile: Profile, environ=None) -> Profile:
    """``profile`` with the ``BERTNLI_*`` overrides of ``ENV_OVERRIDES`` applied and noted."""
    for name, (variable, value) in env_overrides(environ).items():
        profile = profile.with_overrides(variable, **{name: value})
    return profile


def get_profile(
    name: str | None = None, *, announce: bool = False, check_paths: bool = True, environ=None
) -> Profile:
    """The profile called ``name``, else ``$BERTNLI_PROFILE``, else ``sample``, with the
    ``BERTNLI_*`` overrides (``ENV_OVERRIDES``) applied; ``announce`` prints its banner.

    ``check_paths`` refuses a ``BERTNLI_MODEL`` / ``BERTNLI_DATA`` path that is not there
    (:class:`SettingError`); the command line checks after its own options, which win.
    ``environ``: where the variables are read (default: ``os.environ``)."""
    environ = os.environ if environ is None else environ
    source = "argument"
    if not name:
        name, source = environ.get(PROFILE_ENV) or "sample", PROFILE_ENV
    if name not in PROFILES:
        raise SettingError(
            f"unknown profile {name!r} (from the {source}); choose one of {sorted(PROFILES)}"
        )
    profile = apply_env(PROFILES[name], environ)
    if check_paths:
        profile.check_paths()
    if announce:
        print(profile.banner())
    return profile
