"""Write the embedded Korean NLI stand-in: template-made pairs in KorNLI's four files.

    PYTHONPATH=src python tools/make_korean_sample.py [--out src/bertnli/sample/data/KorNLI]

The real KorNLI cannot be downloaded in tests, CI or the offline book build, so the
package ships this stand-in. Each premise is a person at a place doing something
("소년이 공원에서 개를 산책시키고 있다."). The labels follow rules a reader can check:

- entailment: a hypernym of the person (소년 -> 아이, 사람) or of what is happening
  (달리고 있다 -> 움직이고 있다), or the premise's place made vaguer (공원 -> 밖);
- contradiction: the same person doing something that cannot happen at the same time
  (잠을 자고 있다 while running), or being indoors while the premise is outdoors;
- neutral: the premise plus a detail it does not settle (친구와 함께, 생일을 맞아).

Some premises quote a sign or a shirt's print in double quotes, as KorNLI's sentences
do, so readers must read the files with quoting off. Deterministic: a fixed seed.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "bertnli" / "sample" / "data" / "KorNLI"
HEADER = "sentence1\tsentence2\tgold_label"
SEED = 20260522

# (person, hypernyms it entails)
PEOPLE = [
    ("남자", ["사람", "어른"]),
    ("여자", ["사람", "어른"]),
    ("소년", ["아이", "사람"]),
    ("소녀", ["아이", "사람"]),
    ("할머니", ["노인", "사람"]),
    ("할아버지", ["노인", "사람"]),
    ("요리사", ["사람"]),
    ("학생", ["사람"]),
    ("경찰관", ["사람"]),
    ("간호사", ["사람"]),
    ("청년", ["사람", "어른"]),
]
DESCRIBED = ["젊은", "키가 큰", "안경을 쓴", "빨간 모자를 쓴", "웃고 있는", "피곤해 보이는"]

# (place, outdoors?, verb phrase, what it entails, kind)
ACTIVITIES = [
    ("공원", True, "개를 산책시키고 있다", "걷고 있다", "move"),
    ("공원", True, "자전거를 타고 있다", "움직이고 있다", "move"),
    ("해변", True, "모래성을 쌓고 있다", "놀고 있다", "play"),
    ("해변", True, "공을 차고 있다", "놀고 있다", "play"),
    ("운동장", True, "달리기를 하고 있다", "움직이고 있다", "move"),
    ("산", True, "등산을 하고 있다", "걷고 있다", "move"),
    ("거리", True, "버스를 기다리고 있다", "서 있다", "wait"),
    ("시장", True, "과일을 고르고 있다", "장을 보고 있다", "shop"),
    ("부엌", False, "찌개를 끓이고 있다", "요리를 하고 있다", "cook"),
    ("부엌", False, "설거지를 하고 있다", "일을 하고 있다", "work"),
    ("도서관", False, "책을 읽고 있다", "무언가를 읽고 있다", "read"),
    ("교실", False, "칠판에 글씨를 쓰고 있다", "무언가를 쓰고 있다", "write"),
    ("식당", False, "국수를 먹고 있다", "음식을 먹고 있다", "eat"),
    ("병원", False, "환자를 돌보고 있다", "일을 하고 있다", "work"),
    ("거실", False, "피아노를 치고 있다", "악기를 연주하고 있다", "play"),
    ("카페", False, "커피를 마시고 있다", "무언가를 마시고 있다", "eat"),
]
# What cannot happen while doing an activity of a kind.
INCOMPATIBLE = {
    "move": ["침대에서 잠을 자고 있다", "의자에 가만히 앉아 있다"],
    "play": ["침대에서 잠을 자고 있다", "사무실에서 회의를 하고 있다"],
    "wait": ["침대에서 잠을 자고 있다", "수영장에서 수영을 하고 있다"],
    "shop": ["침대에서 잠을 자고 있다", "수영장에서 수영을 하고 있다"],
    "cook": ["해변에서 수영을 하고 있다", "산에서 등산을 하고 있다"],
    "work": ["침대에서 잠을 자고 있다", "해변에서 수영을 하고 있다"],
    "read": ["잠을 자고 있다", "운동장에서 축구를 하고 있다"],
    "write": ["잠을 자고 있다", "수영장에서 수영을 하고 있다"],
    "eat": ["잠을 자고 있다", "산에서 등산을 하고 있다"],
}
DETAILS = [
    "친구와 함께",
    "생일을 맞아",
    "주말 아침에",
    "처음으로",
    "가족과 함께",
    "비가 그친 뒤에",
    "휴가 중에",
]
QUOTED = ["행복", "서울", "사랑해", "오늘도 힘내", "최고", "안녕"]
MNLI_FRAMES = ["어제 들은 이야기로는", "사진 속에서", "뉴스에 따르면", "친구가 말하기를"]


def batchim(word: str) -> bool:
    """Whether the last syllable ends in a consonant (chooses 이/가, 은/는)."""
    last = word[-1]
    return "가" <= last <= "힣" and (ord(last) - 0xAC00) % 28 != 0


def subject(noun: str) -> str:
    return noun + ("이" if batchim(noun) else "가")


def premise_of(rng: random.Random, person: str, activity: tuple, quoted: bool) -> str:
    place, _, verb, _, _ = activity
    who = f"{rng.choice(DESCRIBED)} {person}" if rng.random() < 0.4 else person
    if quoted:
        return f'"{rng.choice(QUOTED)}"라고 적힌 옷을 입은 {subject(who)} {place}에서 {verb}.'
    return f"{subject(who)} {place}에서 {verb}."


def hypothesis_of(rng: random.Random, label: str, person: tuple, activity: tuple) -> str:
    noun, hypernyms = person
    place, outdoors, verb, general, kind = activity
    if label == "entailment":
        return rng.choice(
            [
                f"{subject(rng.choice(hypernyms))} {place}에 있다.",
                f"{subject(rng.choice(hypernyms))} {general}.",
                f"{subject(noun)} {'밖' if outdoors else '건물 안'}에 있다.",
            ]
        )
    if label == "contradiction":
        options = [f"{subject(noun)} {rng.choice(INCOMPATIBLE[kind])}."]
        if outdoors:
            options.append(f"{subject(rng.choice(hypernyms))} 집 안에서 텔레비전을 보고 있다.")
        return rng.choice(options)
    return rng.choice(
        [
            f"{subject(noun)} {rng.choice(DETAILS)} {place}에서 {verb}.",
            f"{subject(noun)} {place}에서 {rng.choice(DETAILS)} {verb}.",
        ]
    )


LABELS = ("entailment", "neutral", "contradiction")


def make_pairs(n: int, rng: random.Random, *, framed: bool = False) -> list[tuple[str, str, str]]:
    """``n`` pairs, three hypotheses (one per label) for each premise, as in SNLI and KorNLI.
    ``framed`` prefixes a source ("뉴스에 따르면") for the MNLI-like file: other wording, same rules."""
    pairs = []
    while len(pairs) < n:
        person, activity = rng.choice(PEOPLE), rng.choice(ACTIVITIES)
        premise = premise_of(rng, person[0], activity, quoted=rng.random() < 0.08)
        if framed:
            premise = f"{rng.choice(MNLI_FRAMES)} {premise}"
        for label in LABELS:
            pairs.append((premise, hypothesis_of(rng, label, person, activity), label))
    return pairs[:n]


def write(path: Path, pairs: list[tuple[str, str, str]]) -> None:
    lines = [HEADER, *("\t".join(p) for p in pairs)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


SIZES = {
    "snli_1.0_train.ko.tsv": 2400,
    "multinli.train.ko.tsv": 600,
    "xnli.dev.ko.tsv": 300,
    "xnli.test.ko.tsv": 300,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUT)
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    for i, (name, n) in enumerate(SIZES.items()):
        rng = random.Random(SEED + i)
        write(out / name, make_pairs(n, rng, framed=name.startswith("multinli")))
        print(f"{out / name}: {n} pairs")


if __name__ == "__main__":
    main()
