"""Labels of headings and items (I., II., 1.2., a)) as OCR reads them, repaired from their
sequence: the one place that knows how Roman numerals come out of tesseract.

Bold capitals fool it in a few systematic ways (seen on rendered plans, benchmarks/segment.md):
II → H, III → HI or IH, I → l, | or 1, II → I1 or Il. LOOKALIKES maps each look-alike back;
a label is repaired only when the repaired value is the one the sequence expects, so a real
"H." stays as it is anywhere else.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = [
    "DATE_START",
    "DIGIT_LOOKALIKES",
    "LETTERS",
    "LOOKALIKES",
    "NUMBER_LINE",
    "ROMAN_TOKEN",
    "arabic_label",
    "as_digits",
    "next_letter",
    "opening_label_repairs",
    "roman_name",
    "roman_value",
]

ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5, "VI": 6, "VII": 7, "VIII": 8, "IX": 9, "X": 10,
         "XI": 11, "XII": 12, "XIII": 13, "XIV": 14, "XV": 15}  # fmt: skip
_NAMES = {value: name for name, value in ROMAN.items()}
# What tesseract writes for the strokes of a Roman numeral in a bold heading.
LOOKALIKES = {"H": "II", "L": "I", "|": "I", "1": "I", "!": "I"}
# A token that may be a Roman numeral as OCR wrote it (letters of numerals and their look-alikes).
# Lower-case v too (Vv. for V.), and l in either case: restore sets an all-capitals heading's
# line in capitals, and the ll. of II. becomes LL.
ROMAN_TOKEN = "(?=[1IVXivxlLH|!]*[IVXivxlLH|!])[1IVXivxlLH|!]{1,5}"
_LOOKALIKE = re.compile("|".join(re.escape(k) for k in LOOKALIKES))

# The letterhead's field labels as OCR writes them: the document number (Số: 310/KH-UBND, on the
# text as read) and the date of issue (ngày 24 tháng 11, on the folded text: no marks, lower case).
# Day and month may come out with l or I for 1 (tháng 1l).
NUMBER_LINE = re.compile(r"^\W*[Ss]\S{0,2}\s*[:.]\s*(?P<num>\d{1,5}\s*/\s*[^\W_]+(?:\s*[-/]\s*[^\W_]+)*)")
DATE_START = re.compile(r"ng[a-z]{1,3}\s+[\dlI|]{1,2}\s+th[a-z]{2,4}")


def roman_value(token: str) -> int | None:
    """The value of a Roman numeral as OCR may have written it (HI. → 3, I1. → 2), or None."""
    if token in ROMAN:
        return ROMAN[token]
    return ROMAN.get(_LOOKALIKE.sub(lambda m: LOOKALIKES[m.group()], token.upper()))


def roman_name(value: int) -> str:
    return _NAMES[value]


# What tesseract writes for the digits of an item label or a date (I. for 1., l.2 for 1.2, 0l/I0).
DIGIT_LOOKALIKES = {"I": "1", "l": "1", "|": "1", "O": "0", "o": "0"}
_TO_DIGITS = str.maketrans(DIGIT_LOOKALIKES)


def as_digits(text: str) -> str:
    """`text` with digit look-alikes read as digits (for text that must be a number)."""
    return text.translate(_TO_DIGITS)


_ARABIC_LOOKALIKE = re.compile(r"^(?P<label>[\dIl|Oo]{1,2}(?:\.[\dIl|Oo]{1,2}){0,3})\s*[.)]\s+(?=\S)")


def arabic_label(text: str) -> tuple[str, int] | None:
    """('1.2', where the text after it starts) for a label OCR wrote with look-alikes (I. → 1.,
    l.2. → 1.2.); None when the line does not open with one. Pure digits are not its business."""
    match = _ARABIC_LOOKALIKE.match(text)
    if not match:
        return None
    label = match["label"]
    if label.replace(".", "").isdigit() or (len(label) > 1 and not any(c.isdigit() for c in label)):
        return None  # plain digits, or II / Il: a Roman numeral more likely than a misread 11
    return as_digits(label), match.end()


# ----------------------------------------------------------------------------- letter items

LETTERS = "abcdđefghijklmnopqrstuvwxyz"  # item letters in order: đ) follows d)


def next_letter(previous: str | None, letter: str) -> str | None:
    """The letter label this one stands for after `previous` (None: the first of a list), or None
    if it breaks the sequence. OCR without Vietnamese letters reads đ) as d): a d) after d) is đ)."""
    if previous is None:
        return letter if letter in "ab" else None
    if letter == previous == "d":
        return "đ"
    gap = LETTERS.index(letter) - LETTERS.index(previous)
    return letter if 1 <= gap <= 2 else None


# ----------------------------------------------------------------------------- line openers

_LETTER_OPENER = re.compile(r"(?P<label>[a-zđ])(?P<rest>\))")
_ROMAN_OPENER = re.compile(r"(?P<label>" + ROMAN_TOKEN + r")(?P<rest>[.:)])")


def _capitals(words: Sequence[str]) -> bool:
    letters = [c for w in words for c in w if c.isalpha()]
    return bool(letters) and sum(c.isupper() for c in letters) >= 0.6 * len(letters)


def opening_label_repairs(lines: Sequence[Sequence[str]]) -> dict[int, str]:
    """Line index → the repaired first token, for the lines of a text (tokens, in reading order)
    whose opening label OCR misread and whose sequence shows what it was:
    - a letter item `d)` after `d)` is `đ)`;
    - a Roman numeral of a heading in capitals written with look-alikes (`HI.`, `Ill.`, `H.`)
      whose value is the next of the headings before it (`I.` starts a sequence again);
    - a numeral that repeats the one before with its last stroke lost (`II.` after `II.` is
      `III.`), unless the next heading shows otherwise; a repeated `I.` only when the next
      heading is `III.`, since `I.` also starts a new part's sequence.
    The segmenter repairs the plan's structure the same way (segment/sections.py, tasks.py);
    this is the text's side, for restore."""
    repairs: dict[int, str] = {}
    letter: str | None = None
    headings: list[tuple[int, str, str, int]] = []  # line, numeral as written, its punctuation, value
    for n, tokens in enumerate(lines):
        if not tokens:
            continue
        if match := _LETTER_OPENER.fullmatch(tokens[0]):
            found = next_letter(letter, match["label"]) or next_letter(None, match["label"])
            if found is not None:
                letter = found
                if found != match["label"]:
                    repairs[n] = found + match["rest"]
            continue
        match = _ROMAN_OPENER.fullmatch(tokens[0])
        value = roman_value(match["label"]) if match and not match["label"].isdigit() else None  # 1. is Arabic
        if match is not None and value is not None and _capitals(tokens[1:]):
            headings.append((n, match["label"], match["rest"], value))
    roman = 0
    for k, (n, written, rest, value) in enumerate(headings):
        after = headings[k + 1][3] if k + 1 < len(headings) else None
        if value == roman and roman + 1 in _NAMES and _NAMES[roman + 1] == _NAMES[roman] + "I":
            if after != roman + 1 and (roman > 1 or after == roman + 2):
                roman += 1
                repairs[n] = roman_name(roman) + rest
                continue
        if value == 1 and written in ("I", "l", "|"):
            roman = 1  # a new sequence (or a part numbering its sections again)
        elif value == roman + 1:
            roman = value
            if written != roman_name(value):
                repairs[n] = roman_name(value) + rest
    return repairs
