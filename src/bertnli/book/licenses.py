"""Who made each file that bertnli passes on, and under which license.

``classroom mirror`` copies the downloads (SNLI, KorNLI, d2l's checkpoints) and the embedded sample to
a USB stick or a shared drive: that is redistribution, so each file travels with its
license, written beside it as ``<file>.LICENSE.txt`` (:func:`license_notice`). The license
texts ship inside the package (``bertnli/book/licenses/*.txt``); nothing is downloaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

TEXTS = Path(__file__).with_name("licenses")
SUFFIX = ".LICENSE.txt"


@dataclass(frozen=True)
class Credit:
    """A file's source and license: ``spdx`` names the license text in ``bertnli/licenses``."""

    spdx: str
    source: str


D2L = (
    "Pretrained checkpoint published by the Dive into Deep Learning project (Aston Zhang, Zachary C. "
    "Lipton, Mu Li, Alexander J. Smola and contributors; https://d2l.ai, https://github.com/d2l-ai/d2l-en). "
    "The project's text is licensed CC BY-SA 4.0 and its sample code under a modified MIT license; the "
    "checkpoint file carries no license of its own and is passed on here, credited to d2l, under CC BY-SA 4.0."
)

CREDITS: dict[str, Credit] = {
    "snli": Credit(
        "CC-BY-SA-4.0",
        "The Stanford Natural Language Inference (SNLI) Corpus 1.0, by Samuel R. Bowman, "
        "Gabor Angeli, Christopher Potts and Christopher D. Manning (Stanford NLP Group), "
        "https://nlp.stanford.edu/projects/snli/",
    ),
    "kornli": Credit(
        "CC-BY-SA-4.0",
        'KorNLI, from "KorNLI and KorSTS: New Benchmark Datasets for Korean Natural '
        'Language Understanding" by Jiyeon Ham, Yo Joong Choe, Kyubyong Park, Ilji Choi '
        "and Hyungjoon Soh (Kakao Brain, 2020), "
        "https://github.com/kakaobrain/kor-nlu-datasets at revision "
        "0df0fe7d496eb61b092e022e238c2230b29f1cbc, licensed CC BY-SA 4.0 there. Its "
        "training files are machine translations of SNLI and MultiNLI, its dev and test "
        "files human translations of XNLI's.",
    ),
    "bert.small": Credit("CC-BY-SA-4.0", D2L),
    "bert.base": Credit("CC-BY-SA-4.0", D2L),
    "sample": Credit(
        "MIT",
        "The embedded offline sample of the bertnli package (a tiny checkpoint and a "
        "template-made corpus in SNLI's format), made by the bertnli contributors.",
    ),
}


def license_text(spdx: str) -> str:
    """The full text of a license this package ships (``CC-BY-SA-4.0``, ``MIT``)."""
    path = TEXTS / f"{spdx}.txt"
    if not path.is_file():
        raise ValueError(
            f"no license text {spdx!r} in {TEXTS}; known: "
            f"{sorted(p.stem for p in TEXTS.glob('*.txt'))}"
        )
    return path.read_text(encoding="utf-8")


def license_notice(name: str, filename: str) -> str:
    """What goes beside ``filename`` (the resource ``name``) when it is passed on: source, then license text.

    A file whose license bertnli does not know gets a notice that says so, in both languages,
    instead of a license it may not have."""
    credit = CREDITS.get(name)
    if credit is None:
        return (
            f"{filename}: bertnli has no license on record for '{name}'. Check where it came from before "
            f"you share it.\n{filename}: bertnli에 '{name}'의 라이선스 기록이 없습니다. 나누어 주기 전에 "
            "출처를 확인하세요.\n"
        )
    return (
        f"{filename}\n\nSource: {credit.source}\n\nLicense: {credit.spdx} (full text below)\n\n"
        + "=" * 72
        + "\n\n"
        + license_text(credit.spdx)
    )


__all__ = ["CREDITS", "Credit", "SUFFIX", "license_notice", "license_text"]
