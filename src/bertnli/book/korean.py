"""Korean particles for generated text: ``josa("max_len=128", "을/를")`` -> ``"max_len=128을"``.

A Korean particle depends on how the word before it *sounds*: 을/이/은/과/으로 after a final
consonant, 를/가/는/와/로 after a vowel, and 로 (not 으로) after ㄹ. Messages that glue a
particle to a number or a code name (``f"{n}를"``) get it wrong for half the values, so every
generated Korean message picks its particle here, or is phrased so that no particle follows.

How a word is read, from its last character:

- a Hangul syllable: its final consonant, by Unicode arithmetic (``(code - 0xAC00) % 28``);
- a number: its Sino-Korean reading, which ends in the last non-zero digit (3 삼, 6 육, 7 칠,
  8 팔 ...) or, for round numbers, in the place word (10 십, 100 백, 1000 천, 10⁴ 만, 10⁸ 억);
  after a decimal point digits are read one by one (0.786 영 점 칠팔육), and ``0`` is 영;
- Latin letters: short all-capital acronyms and letter runs without a vowel are spelled out
  (GPU 지피유, MLM 엠엘엠, lr 엘알); other words are read as English and transcribed the way
  Korean technical writing does (model 모델, token 토큰, vocab 보캡, base 베이스, dataset 데이터셋);
  for a code name only the part after the last ``.``, ``_`` or lower-to-upper change counts
  (``max_len`` ends in *len* 렌, ``BERTModel`` in *Model* 모델);
- a call reads as its function's name (``grade(...)`` as *grade*), closing brackets, quotes,
  backticks and final punctuation are skipped; ``%`` reads 퍼센트.

When the reading is unknown (a symbol, an empty string) both forms are written, ``을(를)``,
the convention of Korean software messages. The English reading is a heuristic: for a
new code name in a message, check the result once (``final_sound``) or rephrase.
"""

from __future__ import annotations

import re

_HANGUL_FIRST, _HANGUL_LAST = 0xAC00, 0xD7A3
_FINALS = (
    "",
    "ㄱ",
    "ㄲ",
    "ㄳ",
    "ㄴ",
    "ㄵ",
    "ㄶ",
    "ㄷ",
    "ㄹ",
    "ㄺ",
    "ㄻ",
    "ㄼ",
    "ㄽ",
    "ㄾ",
    "ㄿ",
    "ㅀ",
    "ㅁ",
    "ㅂ",
    "ㅄ",
    "ㅅ",
    "ㅆ",
    "ㅇ",
    "ㅈ",
    "ㅊ",
    "ㅋ",
    "ㅌ",
    "ㅍ",
    "ㅎ",
)

# Final sound of each digit's Sino-Korean reading: 영 일 이 삼 사 오 육 칠 팔 구.
_DIGIT_FINAL = {
    "0": "ㅇ",
    "1": "ㄹ",
    "2": "",
    "3": "ㅁ",
    "4": "",
    "5": "",
    "6": "ㄱ",
    "7": "ㄹ",
    "8": "ㄹ",
    "9": "",
}
# A round number ends in its place word: 십 백 천 below 10⁴; from there in 만 억 조 경 (백만 ends in 만).
_PLACE_FINAL = {1: "ㅂ", 2: "ㄱ", 3: "ㄴ"}
_MYRIAD_FINAL = {1: "ㄴ", 2: "ㄱ", 3: "", 4: "ㅇ"}

# Letters spelled out: A 에이, B 비, ... L 엘, M 엠, N 엔, R 알, ...
_LETTER_FINAL = {c: "" for c in "abcdefghijopqstuvwxyz"} | {
    "l": "ㄹ",
    "m": "ㅁ",
    "n": "ㄴ",
    "r": "ㄹ",
    "k": "",
}

# Words whose usual Korean transcription the ending rules below get wrong.
_WORD_FINAL = {
    "dataset": "ㅅ",
    "set": "ㅅ",
    "subset": "ㅅ",
    "input": "ㅅ",
    "output": "ㅅ",
    "dropout": "ㅅ",
    "layout": "ㅅ",
    "shortcut": "ㅅ",
    "checkpoint": "",
    "check": "",
    "bit": "",
    "epoch": "ㄱ",
    "cache": "",
    "bash": "",
    "lab": "ㅂ",
    "jupyterlab": "ㅂ",
    "colab": "ㅂ",
    "web": "ㅂ",
    "vocab": "ㅂ",
    "adam": "ㅁ",
    "numpy": "",
    "pytorch": "",
    "torch": "",
    "wordpiece": "",
    "sample": "ㄹ",
    "gib": "",
    "mib": "",
    "kib": "",  # 기비바이트
    "name": "ㅁ",
    "out": "ㅅ",
    "file": "ㄹ",
    "root": "",
    "float": "",  # NAME 네임, OUT 아웃
}

_PAIRS = {  # (after a final consonant, after a vowel)
    "을/를": ("을", "를"),
    "이/가": ("이", "가"),
    "은/는": ("은", "는"),
    "과/와": ("과", "와"),
    "으로/로": ("으로", "로"),
    "이나/나": ("이나", "나"),
    "이라/라": ("이라", "라"),
    "이다/다": ("이다", "다"),
    "으로서/로서": ("으로서", "로서"),
    "으로써/로써": ("으로써", "로써"),
    "이랑/랑": ("이랑", "랑"),
}
for _pair, _forms in list(_PAIRS.items()):  # either order: "를/을" as well as "을/를"
    _PAIRS["/".join(reversed(_pair.split("/")))] = _forms

_SKIP_AT_END = " \t\n)]}>'\"`’”»」』.,:;!?/"
_CALL = re.compile(r"([A-Za-z_][\w.]*)\([^()]*\)$")  # f(x, y): read the function's name
_VOWELS = set("aeiouy")


def _number_final(number: str) -> str:
    """Final sound of a number's Korean reading: ``"128"`` (백이십팔) -> ``"ㄹ"``."""
    digits = number.replace(",", "").replace("_", "")
    whole, _, fraction = digits.partition(".")
    if fraction:  # read digit by digit after the point: 0.786 영 점 칠팔육
        return _DIGIT_FINAL[fraction[-1]]
    digits = whole
    stripped = digits.rstrip("0")
    if not stripped:
        return _DIGIT_FINAL["0"]
    zeros = len(digits) - len(stripped)
    if zeros == 0:
        return _DIGIT_FINAL[digits[-1]]
    if zeros < 4:  # 10 십, 100 백, 1000 천
        return _PLACE_FINAL[zeros]
    return _MYRIAD_FINAL.get(zeros // 4, "")  # 120000 십이만, 1000000 백만, 10**8 일억


def _last_word(text: str) -> str:
    """The last word of a code name: after ``.``, ``_``, ``-``, ``/`` or a lower-to-upper change."""
    tail = re.split(r"[^A-Za-z]", text)[-1]
    parts = re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+", tail)
    return parts[-1] if parts else tail


def _english_final(word: str) -> str:
    """Final sound of an English word as Korean technical writing transcribes it."""
    w = word.lower()
    if w in _WORD_FINAL:
        return _WORD_FINAL[w]
    if len(word) <= 4 and word.isupper() or not (set(w) & _VOWELS):
        return _LETTER_FINAL[w[-1]]  # spelled out: GPU 지피유, MLM 엠엘엠, lr 엘알
    for suffix, final in (
        ("ine", "ㄴ"),
        ("one", "ㄴ"),
        ("ane", "ㄴ"),
        ("une", "ㄴ"),
        ("ame", "ㅁ"),
        ("ime", "ㅁ"),
        ("ome", "ㅁ"),
        ("ume", "ㅁ"),
        ("le", "ㄹ"),
        ("ng", "ㅇ"),
        ("out", "ㅅ"),
        ("ck", "ㄱ"),
    ):
        if w.endswith(suffix):
            return final
    last, before = w[-1], (w[-2] if len(w) > 1 else "")
    if last in "lmn":  # model 모델, adam 아담, token 토큰
        return {"l": "ㄹ", "m": "ㅁ", "n": "ㄴ"}[last]
    if last in "kpb" and before in _VOWELS - {"y"}:  # block 블록, zip 집, vocab 보캡
        return {"k": "ㄱ", "p": "ㅂ", "b": "ㅂ"}[last]
    if (
        last == "t" and before in "aeiou" and (len(w) < 3 or w[-3] not in _VOWELS)
    ):  # plot 플롯, budget 버짓
        return "ㅅ"
    return ""  # vowels, silent e, and consonants transcribed with ㅡ: base 베이스, test 테스트, bert 버트


def final_sound(word: object) -> str | None:
    """The final consonant of how ``word`` is read aloud in Korean: ``""`` after a vowel,
    a jamo such as ``"ㄹ"`` or ``"ㄴ"``, or ``None`` when the reading is unknown."""
    text = str(word).rstrip(_SKIP_AT_END.replace(")", ""))
    call = _CALL.search(text)
    if call:  # grade(x) reads as "grade", load_pretrained('bert.base') as "load_pretrained"
        text = call.group(1)
    text = text.rstrip(_SKIP_AT_END)
    if not text:
        return None
    last = text[-1]
    if _HANGUL_FIRST <= ord(last) <= _HANGUL_LAST:
        return _FINALS[(ord(last) - _HANGUL_FIRST) % 28]
    if last == "%":
        return ""  # 퍼센트
    if last.isdigit():
        number = re.search(r"\d[\d,_]*(?:\.\d+)?$", text)
        return _number_final(number.group(0)) if number else _DIGIT_FINAL[last]
    if last.isascii() and last.isalpha():
        return _english_final(_last_word(text))
    return None


def particle(word: object, pair: str) -> str:
    """The particle of ``pair`` (``"을/를"``, ``"이/가"``, ``"은/는"``, ``"과/와"``, ``"으로/로"`` ...)
    that follows ``word``; ``"을(를)"`` when the reading of ``word`` is unknown."""
    if pair not in _PAIRS:
        raise ValueError(f"unknown particle pair {pair!r}; use one of {sorted(set(_PAIRS))}")
    after_consonant, after_vowel = _PAIRS[pair]
    final = final_sound(word)
    if final is None:
        return f"{after_consonant}({after_vowel})"
    if after_consonant.startswith("으로") and final == "ㄹ":
        return after_vowel  # ㄹ takes 로: 서울로, 7(칠)로
    return after_consonant if final else after_vowel


def josa(word: object, pair: str) -> str:
    """``word`` followed by the right particle of ``pair``: ``josa(128, "을/를") == "128을"``."""
    return f"{word}{particle(word, pair)}"


# A particle right after a number, not followed by more Hangul (so 2가지, 3개, 128이며 are not
# particles); 으로/로 may carry 는/도/서/써 (128로는).
_NUMBER_PARTICLE = re.compile(
    r"(?<![\w.])(\d[\d,]*(?:\.\d+)?)(으로|로|을|를|이|가|은|는|과|와)((?<=로)(?:는|도|서|써))?(?![가-힣])"
)
_PAIR_OF = {
    "을": "을/를",
    "를": "을/를",
    "이": "이/가",
    "가": "이/가",
    "은": "은/는",
    "는": "은/는",
    "과": "과/와",
    "와": "과/와",
    "으로": "으로/로",
    "로": "으로/로",
}


def wrong_particles(text: str) -> list[str]:
    """Every ``number + particle`` in ``text`` whose particle does not match the number's
    reading, written as ``"128를 -> 128을"``."""
    found = []
    for match in _NUMBER_PARTICLE.finditer(text):
        number, used, rest = match.group(1), match.group(2), match.group(3) or ""
        right = particle(number, _PAIR_OF[used])
        if right != used:
            found.append(f"{number}{used}{rest} -> {number}{right}{rest}")
    return found
