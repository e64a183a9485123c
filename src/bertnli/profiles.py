"""Run profiles: which checkpoint, which data and which hyperparameters a chapter uses.

``sample`` (the default) runs offline on a laptop CPU in a minute or two with the
embedded checkpoint and corpus; ``full`` is the reference configuration on the real
downloads, meant for a GPU. Notebooks and the command line pick one profile in one place
(``BERTNLI_PROFILE`` or ``--profile``) instead of branching cell by cell.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, replace

PROFILE_ENV = "BERTNLI_PROFILE"


@dataclass(frozen=True)
class Profile:
    name: str
    model: str          # load_pretrained() name
    data: str           # read_snli() path: "sample", or None-like "snli" for the hub download
    epochs: int
    batch_size: int
    max_len: int
    lr: float
    truncation: str = "longest_first"
    base_model: str = "bert.base"   # the checkpoint of chapter 5's bert.base exercise
    description_en: str = ""
    description_ko: str = ""

    @property
    def is_sample(self) -> bool:
        return self.data == "sample"

    def data_path(self):
        """What ``read_snli`` takes: ``"sample"`` or ``None`` (the hub's SNLI download)."""
        return "sample" if self.data == "sample" else (None if self.data == "snli" else self.data)

    def with_overrides(self, **changes) -> "Profile":
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    def to_dict(self) -> dict:
        return asdict(self)

    def banner(self) -> str:
        lines = [f"profile: {self.name} | model: {self.model} | data: {self.data} | epochs {self.epochs}, "
                 f"batch {self.batch_size}, max_len {self.max_len}, lr {self.lr:g}",
                 self.description_en, self.description_ko]
        if self.is_sample:
            lines += ["Sample numbers are NOT comparable to the reference run (test accuracy 0.786).",
                      "샘플 프로필의 수치는 기준 실험(테스트 정확도 0.786)과 비교할 수 없습니다."]
        width = max(len(line) for line in lines)
        rule = "=" * min(width, 100)
        return "\n".join([rule, *lines, rule])


PROFILES: dict[str, Profile] = {
    "sample": Profile(
        "sample", model="sample", data="sample", epochs=6, batch_size=64, max_len=64, lr=1e-3, base_model="sample",
        description_en="Embedded offline sample: a tiny pretrained BERT and a template-made SNLI stand-in, on CPU.",
        description_ko="내장 오프라인 샘플: 작은 사전 학습 BERT와 템플릿으로 만든 SNLI 대용 데이터, CPU에서 실행.",
    ),
    "full": Profile(
        "full", model="bert.small", data="snli", epochs=5, batch_size=512, max_len=128, lr=1e-4,
        description_en="The reference run: d2l's bert.small on the real SNLI 1.0 (downloads ~100 MB; use a GPU).",
        description_ko="기준 실험: 실제 SNLI 1.0에서 d2l의 bert.small을 미세 조정 (약 100MB 다운로드, GPU 권장).",
    ),
}


def get_profile(name: str | None = None, *, announce: bool = False) -> Profile:
    """The profile called ``name``, else ``$BERTNLI_PROFILE``, else ``sample``."""
    source = "argument"
    if not name:
        name, source = os.environ.get(PROFILE_ENV) or "sample", PROFILE_ENV
    if name not in PROFILES:
        raise ValueError(f"unknown profile {name!r} (from the {source}); choose one of {sorted(PROFILES)}")
    profile = PROFILES[name]
    if announce:
        print(profile.banner())
    return profile
