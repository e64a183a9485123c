"""Write bertnli's offline sample corpus: a small SNLI 1.0 (``.txt``) corpus of made-up scenes.

    python tools/make_sample_corpus.py     # rewrites src/bertnli/sample/data/snli_1.0/*.txt

Why it is this simple: the sample must be learnable by a tiny BERT on a laptop CPU in
under a minute, yet its labels must follow the same kinds of rules as SNLI's. So the
world is small and regular. Every premise describes a scene: someone (a person or an
animal, maybe with an adjective) doing one action, maybe in a place, maybe with a
detail, and sometimes followed by background clauses that make the pair long. Each
premise gets one hypothesis per label:

* entailment: say the same with less or more general words: a hypernym for the
  subject (man -> person, dog -> animal) or for the action (playing a guitar -> playing
  an instrument), or drop words (an adjective, the place, a detail);
* contradiction: change one thing so both cannot be true: an action that excludes the
  premise's (sleeping vs running), a place of the other kind (a kitchen vs a park), another
  subject (man vs woman, dog vs cat, a person vs an animal), or "nobody";
* neutral: add one thing the premise does not settle: an adjective, a companion, a
  purpose or a time.

The words of every rule also occur in premises and in the other labels' hypotheses.
The output is byte-identical on every run (one seeded ``random.Random`` per split).
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

SEED = 2026
SPLIT_PREMISES = {"train": 1334, "dev": 200, "test": 200}  # three labelled pairs per premise
OUT_DIR = Path(__file__).resolve().parents[1] / "src" / "bertnli" / "sample" / "data" / "snli_1.0"
HEADER = [
    "gold_label",
    "sentence1_binary_parse",
    "sentence2_binary_parse",
    "sentence1_parse",
    "sentence2_parse",
    "sentence1",
    "sentence2",
    "captionID",
    "pairID",
    "label1",
    "label2",
    "label3",
    "label4",
    "label5",
]

# ---------------------------------------------------------------- the small world
PEOPLE = {"man": "his", "woman": "her", "boy": "his", "girl": "her"}
ANIMALS = {"dog": "its", "cat": "its", "horse": "its"}
OTHER = {
    "man": "woman",
    "woman": "man",
    "boy": "girl",
    "girl": "boy",
    "dog": "cat",
    "cat": "dog",
    "horse": "dog",
}
HYPERNYM = {**{p: "person" for p in PEOPLE}, **{a: "animal" for a in ANIMALS}}

# action -> its more general phrase (None: no hypernym in this world)
ACTIONS_ANY = {
    "running": "moving",
    "sleeping": "resting",
    "jumping": "moving",
    "eating": None,
    "swimming": "moving",
    "sitting": "resting",
    "walking": "moving",
}
ACTIONS_PEOPLE = {
    "playing a guitar": "playing an instrument",
    "playing a piano": "playing an instrument",
    "playing a violin": "playing an instrument",
    "playing soccer": "playing a sport",
    "playing tennis": "playing a sport",
    "reading a book": "reading",
    "cooking dinner": "cooking",
    "riding a bicycle": "riding",
}
INSIDE = ["in a kitchen", "in a library", "in a classroom", "in a restaurant"]
OUTSIDE = ["in a park", "on a beach", "in a field", "in a garden"]
ADJECTIVES = ["tall", "short", "young", "old", "happy", "tired", "small", "big"]
DETAILS = [
    "with a friend",
    "for fun",
    "in the morning",
    "after lunch",
    "to win a prize",
    "before dinner",
]
BACKGROUND_WHO = [
    "an old woman",
    "a young man",
    "a small child",
    "a brown dog",
    "a group of children",
    "a tall teacher",
]
BACKGROUND_DOING = [
    "is watching from a bench",
    "is reading a newspaper nearby",
    "is laughing loudly",
    "is taking a photo of the sky",
    "is sleeping under a big tree",
    "is drinking coffee nearby",
]
BACKGROUND_WHERE = [
    "near the old stone bridge",
    "by the river",
    "behind a red car",
    "next to the window",
    "under the bright sun",
    "beside a wooden fence",
]


OUTSIDE_ONLY = {"swimming", "playing soccer", "playing tennis", "riding a bicycle", "horse"}


def places_for(subject: str, action: str) -> list[str]:
    return OUTSIDE if {subject, action} & OUTSIDE_ONLY else INSIDE + OUTSIDE


def actions_for(subject: str) -> dict:
    return {**ACTIONS_ANY, **(ACTIONS_PEOPLE if subject in PEOPLE else {})}


def article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def noun_phrase(subject: str, adjective: str | None) -> list[str]:
    head = [adjective, subject] if adjective else [subject]
    return [article(head[0]), *head]


def sentence(words: list[str]) -> list[str]:
    return [w for phrase in words for w in phrase.split()] + ["."]


# ---------------------------------------------------------------- scenes and hypotheses
def make_scene(rng: random.Random) -> dict:
    subject = rng.choice(list(PEOPLE) + list(ANIMALS))
    action = rng.choice(list(actions_for(subject)))
    scene = {
        "subject": subject,
        "adjective": rng.choice(ADJECTIVES) if rng.random() < 0.5 else None,
        "action": action,
        "place": rng.choice(places_for(subject, action)) if rng.random() < 0.7 else None,
        "detail": rng.choice(DETAILS) if rng.random() < 0.3 else None,
        "background": [],
    }
    # A spread of lengths: most scenes short, some long, a few very long (truncation bites).
    r = rng.random()
    clauses = 0 if r < 0.6 else 1 if r < 0.85 else 2 if r < 0.96 else 4
    for who in rng.sample(BACKGROUND_WHO, clauses):
        scene["background"].append(
            " ".join([who, rng.choice(BACKGROUND_DOING), rng.choice(BACKGROUND_WHERE)])
        )
    return scene


def premise(scene: dict) -> list[str]:
    words = [*noun_phrase(scene["subject"], scene["adjective"]), "is", scene["action"]]
    words += [p for p in (scene["place"], scene["detail"]) if p]
    for clause in scene["background"]:
        words += [",", "while", clause]
    return sentence(words)


def clause(subject_words: list[str], action: str, *extra: str | None) -> list[str]:
    return sentence([*subject_words, "is", action, *[e for e in extra if e]])


def entailment(scene: dict, rng: random.Random) -> list[str]:
    s, a, place = scene["subject"], scene["action"], scene["place"]
    general_action = actions_for(s)[a]
    options = ["subject"]
    if general_action:
        options.append("action")
    if scene["adjective"] or scene["detail"] or place:
        options.append("drop")
    how = rng.choice(options)
    if how == "subject":
        return clause([article(HYPERNYM[s]), HYPERNYM[s]], a, place if rng.random() < 0.5 else None)
    if how == "action":
        return clause(noun_phrase(s, None), general_action, place if rng.random() < 0.3 else None)
    keep = [p for p in (place, scene["detail"]) if p and rng.random() < 0.5]
    return clause(noun_phrase(s, scene["adjective"] if rng.random() < 0.5 else None), a, *keep)


def contradiction(scene: dict, rng: random.Random) -> list[str]:
    s, a, place = scene["subject"], scene["action"], scene["place"]
    options = ["action", "action", "subject", "nobody"] + (["place"] * 2 if place else [])
    how = rng.choice(options)
    if how == "action":
        group = {
            x: general or x for x, general in actions_for(s).items()
        }  # "running" and "walking": both moving
        other = rng.choice([x for x in group if group[x] != group[a]])
        return clause(noun_phrase(s, None), other, place if rng.random() < 0.3 else None)
    if how == "place":
        return clause(noun_phrase(s, None), a, rng.choice(OUTSIDE if place in INSIDE else INSIDE))
    if how == "subject":
        if rng.random() < 0.5:
            return clause(noun_phrase(OTHER[s], None), a, place if rng.random() < 0.5 else None)
        other_kind = "animal" if s in PEOPLE else "person"
        if other_kind == "animal" and a in ACTIONS_PEOPLE:
            return clause(noun_phrase(OTHER[s], None), a)
        return clause([article(other_kind), other_kind], a)
    return clause(["nobody"], a, place if rng.random() < 0.3 else None)


def neutral(scene: dict, rng: random.Random) -> list[str]:
    s, a, place = scene["subject"], scene["action"], scene["place"]
    options = ["adjective"] + (["detail"] * 2 if not scene["detail"] else [])
    how = rng.choice(options)
    if how == "adjective":
        new = rng.choice(
            [
                x
                for x in ADJECTIVES
                if x != scene["adjective"]
                and {x, scene["adjective"]}
                not in ({"tall", "short"}, {"young", "old"}, {"small", "big"})
            ]
        )
        return clause(noun_phrase(s, new), a, place if rng.random() < 0.5 else None)
    return clause(
        noun_phrase(s, None), a, place if rng.random() < 0.4 else None, rng.choice(DETAILS)
    )


RULES = {"entailment": entailment, "contradiction": contradiction, "neutral": neutral}


# ---------------------------------------------------------------- SNLI's file format
def binary_parse(tokens: list[str]) -> str:
    """A right-branching binary bracketing: each token once, parentheses balanced."""
    if len(tokens) == 1:
        return tokens[0]
    return f"( {tokens[0]} {binary_parse(tokens[1:])} )"


def penn_parse(tokens: list[str]) -> str:
    tags = {"a": "DT", "an": "DT", "is": "VBZ", ".": ".", ",": ",", "while": "IN", "nobody": "NN"}
    leaves = " ".join(f"({tags.get(t, 'VBG' if t.endswith('ing') else 'NN')} {t})" for t in tokens)
    return f"(ROOT (S {leaves}))"


def surface(tokens: list[str]) -> str:
    text = " ".join(tokens).replace(" .", ".").replace(" ,", ",")
    return text[0].upper() + text[1:]


def row(label: str, p: list[str], h: list[str], caption: str, pair: str, votes: list[str]) -> str:
    p_cap = [p[0].capitalize(), *p[1:]]
    h_cap = [h[0].capitalize(), *h[1:]]
    cols = [
        label,
        binary_parse(p_cap),
        binary_parse(h_cap),
        penn_parse(p_cap),
        penn_parse(h_cap),
        surface(p),
        surface(h),
        caption,
        pair,
        *votes,
    ]
    return "\t".join(cols)


def write_split(split: str, seed: int, out_dir: Path, seen: set) -> None:
    rng = random.Random(f"{seed}-{split}")
    rows, n = ["\t".join(HEADER)], 0
    while n < SPLIT_PREMISES[split]:
        scene = make_scene(rng)
        p = premise(scene)
        key = " ".join(p)
        if key in seen:  # no premise is shared between splits (or repeated)
            continue
        seen.add(key)
        caption = f"{rng.randrange(10**9, 10**10)}.jpg#{rng.randrange(5)}"
        for label, rule in RULES.items():
            h = rule(scene, rng)
            votes = [label] * 5
            for i in rng.sample(
                range(1, 5), rng.choice([0, 0, 1])
            ):  # annotators sometimes disagree
                votes[i] = rng.choice([x for x in RULES if x != label])
            rows.append(row(label, p, h, caption, f"{caption}r{label[0]}", votes))
        if (
            rng.random() < 0.03 and scene["place"]
        ):  # no consensus: annotators split 2/2/1, gold label "-"
            same_kind = INSIDE if scene["place"] in INSIDE else OUTSIDE
            h = clause(
                noun_phrase(scene["subject"], None),
                scene["action"],
                rng.choice([x for x in same_kind if x != scene["place"]]),
            )  # another park? the same?
            rows.append(
                row(
                    "-",
                    p,
                    h,
                    caption,
                    f"{caption}r-",
                    ["neutral", "neutral", "entailment", "entailment", "contradiction"],
                )
            )
        n += 1
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"snli_1.0_{split}.txt").write_text("\n".join(rows) + "\n", encoding="utf-8")


def write_corpus(out_dir: Path = OUT_DIR, seed: int = SEED) -> None:
    seen: set = set()
    for split in ("train", "dev", "test"):
        write_split(split, seed, out_dir, seen)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    write_corpus(args.out, args.seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
