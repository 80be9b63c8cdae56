"""Vietnamese text conventions, documented in one place.

gazette writes Unicode NFC everywhere and puts tone marks in the **classic placement**
(hòa, hóa, thủy, ủy, khỏe), which dominates the corpora (about 94 % of legal text and
over 99.9 % of news). Input in the new placement (hoà, hoá, thuỷ, uỷ, khoẻ) is normalised to
it: in an open syllable whose nucleus is *oa*, *oe* or *uy* (not after *q*, where *u* belongs
to the onset: quý, quả), the tone goes on the first vowel. Syllables with a final consonant
(hoàng, thuyền, toán) are the same in both conventions and are left alone.

Clean text (`clean_text`). Text that enters gazette (text files, PDF text layers, reviewers'
corrections) holds no character that no archivist means and that XML 1.0 forbids or
discourages, so every export can write it:

- C0 controls other than tab and line feed, DEL, and C1 controls are removed; those Python
  reads as a line end (CR, CR LF, VT, FF, the separators FS/GS/RS, NEL) become a line feed and
  the unit separator US, which it reads as a space, becomes a space, so a text keeps the lines
  and words (and so the token ids) it was read with;
- non-characters (U+FDD0–U+FDEF and the last two code points of every plane, U+FFFE, U+FFFF,
  U+1FFFE …) and lone surrogates (a decoding error, never a letter) are removed;
- the result is NFC, composed again after a removal (a control between a letter and its mark).
"""

from __future__ import annotations

import re
import unicodedata

__all__ = [
    "TONE_MARKS",
    "classic_tones",
    "clean_text",
    "has_diacritics",
    "is_unclean",
    "nfc",
    "normalize",
    "strip_diacritics",
]

# Combining tone marks: grave, acute, hook above, tilde, dot below.
TONE_MARKS = "\u0300\u0301\u0309\u0303\u0323"

_NEW_STYLE = re.compile(
    r"(?<![qQ\w])(?P<pre>[^\W\d_]*?)(?<![qQ])(?P<first>[oOuU])(?P<second>[àáảãạèéẻẽẹỳýỷỹỵÀÁẢÃẠÈÉẺẼẸỲÝỶỸỴ])(?![^\W\d_])"
)
_PAIRS = {("o", "a"), ("o", "e"), ("u", "y")}


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


_LINE_ENDS = frozenset("\r\x0b\x0c\x1c\x1d\x1e\x85")  # str.splitlines ends a line at each
_SPACES = frozenset("\x1f")  # str.split, alone, takes it for a space
_NON_CHARACTERS = "".join(chr(plane << 16 | low) for plane in range(17) for low in (0xFFFE, 0xFFFF))
_UNWANTED = re.compile(f"\r\n|[\x00-\x08\x0b-\x1f\x7f-\x9f\ufdd0-\ufdef\ud800-\udfff{_NON_CHARACTERS}]")


def clean_text(text: str, *, keep: str = "", compose: bool = True) -> str:
    """`text` without controls, non-characters and lone surrogates, in NFC (see the module
    docstring); `keep`: controls to leave in place (ingest keeps the form feeds that separate
    a text file's pages until it has split them); `compose=False` leaves the normalization form
    as it is, for strings that are not text but names (a file name in NFD names another file)."""

    def replace(match: re.Match[str]) -> str:
        found = match[0]  # one character, or CR LF
        if found[0] in keep:
            return found
        if found[0] in _LINE_ENDS:
            return "\n"
        return " " if found in _SPACES else ""

    cleaned = _UNWANTED.sub(replace, text)
    return nfc(cleaned) if compose else cleaned


def is_unclean(character: str) -> bool:
    """True for a character `clean_text` removes or replaces (tab and line feed are clean)."""
    return _UNWANTED.fullmatch(character) is not None


def _move_tone(match: re.Match[str]) -> str:
    first, second = match["first"], match["second"]
    base, *marks = unicodedata.normalize("NFD", second)
    if (first.lower(), base.lower()) not in _PAIRS:
        return match[0]
    tone = "".join(m for m in marks if m in TONE_MARKS)
    rest = "".join(m for m in marks if m not in TONE_MARKS)
    return match["pre"] + nfc(first + tone) + nfc(base + rest)


def classic_tones(text: str) -> str:
    """hoà → hòa, thuỷ → thủy, khoẻ → khỏe, uỷ → ủy; quý, hoàng, thuyền unchanged."""
    return _NEW_STYLE.sub(_move_tone, nfc(text))


def normalize(text: str) -> str:
    """NFC plus classic tone placement: the one form gazette stores and compares."""
    return classic_tones(text)


def strip_diacritics(text: str) -> str:
    """Remove every Vietnamese mark, đ → d: the 'folded' form used for fuzzy comparison."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return nfc("".join(c for c in decomposed if not unicodedata.combining(c)))


def has_diacritics(word: str) -> bool:
    return strip_diacritics(word) != word
