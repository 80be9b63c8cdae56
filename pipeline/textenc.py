"""Decode the bytes of an archived text file into NFC Unicode, or refuse it with a typed error.

UTF-8/16/32 are recognised by strict validity and byte-order marks; the legacy Vietnamese
encodings (Windows-1258, VNI-Windows, TCVN3/ABC) by how many words of each reading are valid
Vietnamese syllables. A reading is accepted only when it clearly wins: never silent mojibake.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from pipeline.errors import CorruptInputError, EmptyInputError, EncodingError
from pipeline.vietnamese import nfc

__all__ = ["ENCODINGS", "MIN_LEAD", "MIN_VALID", "decode_text", "encode_text", "is_syllable"]

ENCODINGS = ("utf-8", "utf-8-sig", "utf-16", "utf-32", "cp1258", "vni", "tcvn3")
MIN_VALID = 0.80  # share of the winner's evidence words that must be valid syllables
MIN_LEAD = 0.20  # how far the winner's share must exceed the runner-up's
_ALIASES = {
    "utf8": "utf-8",
    "utf-8-bom": "utf-8-sig",
    "utf16": "utf-16",
    "utf32": "utf-32",
    "windows-1258": "cp1258",
    "vni-windows": "vni",
    "tcvn": "tcvn3",
    "abc": "tcvn3",
}
_TONES = "\u0301\u0300\u0309\u0303\u0323"  # sắc, huyền, hỏi, ngã, nặng (combining)
_STOP_TONES = "\u0301\u0323"  # the only tones a syllable ending in p, t, c, ch may carry
_FOREIGN = "\ufffd"  # stands, while scoring, for a letter that the reading cannot produce

# TCVN 5712:1993 VN3 (ABC, the .Vn fonts): byte -> letter. Tones in VN3 order: huyền hỏi ngã sắc nặng.
_TCVN3 = dict(
    zip(
        bytes.fromhex(
            "a1a2a3a4a5a6a7a8a9aaabacadae"
            "b5b6b7b8b9bbbcbdbec6c7c8c9cacbcccecfd0d1d2d3d4d5d6d7d8dcddde"
            "dfe1e2e3e4e5e6e7e8e9eaebecedeeeff1f2f3f4f5f6f7f8f9fafbfcfdfe"
        ),
        "ĂÂÊÔƠƯĐăâêôơưđàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ",
        strict=True,
    )
)
_TCVN3_LOWER = frozenset(c for c in _TCVN3.values() if c.islower())
_TCVN3_ENCODE = {v: k for k, v in _TCVN3.items()}
_CAPS_HINT = re.compile(rf"[{''.join(sorted(_TCVN3_LOWER))}][^\W\d_]*[A-ZĂÂÊÔƠƯĐ]|[A-ZĂÂÊÔƠƯĐ][^\W\d_]*[A-ZĂÂÊÔƠƯĐ]")

# Bytes 0x80-0x9F as the Windows fonts show them (cp1252); the five it leaves undefined stay C1.
_CP1252_C1 = {b: bytes([b]).decode("cp1252") for b in range(0x80, 0xA0) if b not in b"\x81\x8d\x8f\x90\x9d"}
# TCVN3 reading; while scoring, letters the encoding does not define count as foreign.
_TCVN3_TABLE = {**_CP1252_C1, **_TCVN3}
_TCVN3_SCORE = {
    **_CP1252_C1,
    **{b: _FOREIGN for b in range(0x80, 0x100) if _CP1252_C1.get(b, chr(b)).isalpha()},
    **_TCVN3,
}


def _vni_tables() -> tuple[dict[str, str], dict[str, str]]:
    """VNI-Windows: (decode table incl. mixed-case variants, canonical letter -> VNI string)."""
    canon: dict[str, str] = {"ô": "ơ", "ö": "ư", "ñ": "đ", "î": "ỵ"}  # single-byte letters
    canon.update({m: nfc("i" + t) for m, t in zip("íìæóò", _TONES, strict=True)})
    for base, uni in (("a", "a"), ("e", "e"), ("o", "o"), ("u", "u"), ("y", "y"), ("ô", "ơ"), ("ö", "ư")):
        for mark, tone in zip("ùøûõï", _TONES, strict=True):
            if base + mark != "yï":  # ỵ has its own byte
                canon[base + mark] = nfc(uni + tone)
    for base, mod, marks in (
        ("a", "\u0302", "âáàåãä"),
        ("e", "\u0302", "âáàåãä"),
        ("o", "\u0302", "âáàåãä"),
        ("a", "\u0306", "êéèúüë"),
    ):
        canon[base + marks[0]] = nfc(base + mod)
        for mark, tone in zip(marks[1:], _TONES, strict=True):
            canon[base + mark] = nfc(base + mod + tone)
    canon.update({k.upper(): v.upper() for k, v in list(canon.items())})
    decode = dict(canon)
    for k, v in canon.items():
        if len(k) == 2:  # tolerate a mark typed in the other case than its letter
            decode.setdefault(k[0] + k[1].swapcase(), v)
    return decode, {v: k for k, v in canon.items()}


_VNI_DECODE, _VNI_ENCODE = _vni_tables()
_VNI_RE = re.compile("[aeouyôöAEOUYÔÖ][âáàåãäêéèúüëùøûõïÂÁÀÅÃÄÊÉÈÚÜËÙØÛÕÏ]|[^\x00-\x7f]")

# A Vietnamese syllable without its tone: onset + (medial) vowel nucleus + coda.
_SYLLABLE = re.compile(
    r"""
    (?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdđghklmnprstvx])?
    (?: [ou]?a(?:ch|ng|nh|[cimnoptuy])? | [ou]?ă(?:ng|[cmnpt]) | u?â(?:ng|[cmnptuy])
      | o?e(?:ng|[cmnopt])? | u?ê(?:ch|nh|[mnptu])? | i(?:ch|nh|[amnptu])?
      | (?:i|u?y)ê(?:ng|[cmnptu]) | o(?:ng|oc|ong|[cimnpt])? | ô(?:ng|[cimnpt])? | u?ơ[imnpt]?
      | u(?:ng|[acimnpt]|ô(?:ng|[cimnt])|y(?:ch|nh|[aptu])?)? | ư(?:ng|[acimntu]|ơ(?:ng|[cimnptu]))?
      | y(?:ch|nh|[aptu])? )
    """,
    re.VERBOSE,
)
_WORD_SPLIT = re.compile(r"[\s!-@\[-`{-~«»\u2000-\u206f]+")


@lru_cache(maxsize=1 << 16)
def is_syllable(word: str) -> bool:
    """True if `word` (any case, NFC or NFD) is a well-formed Vietnamese syllable with at most one tone."""
    letters = unicodedata.normalize("NFD", word.lower())
    tones = [c for c in letters if c in _TONES]
    base = nfc("".join(c for c in letters if c not in _TONES))
    if len(tones) > 1 or not _SYLLABLE.fullmatch(base):
        return False
    return not base.endswith(("p", "t", "c", "ch")) or (bool(tones) and tones[0] in _STOP_TONES)


def _score(text: str) -> tuple[int, int]:
    """(valid, total) over the words whose reading depends on the encoding: those with a non-ASCII letter."""
    words = [w for w in _WORD_SPLIT.split(text) if not w.isascii()]
    return sum(map(is_syllable, words)), len(words)


def _cp1258(data: bytes, scoring: bool = False) -> str:
    """Windows-1258 stores most tones as combining marks after the letter: compose them."""
    return nfc(data.decode("cp1258"))


def _vni(data: bytes, scoring: bool = False) -> str:
    """VNI-Windows: a letter and one mark byte (tone, hat or both), seen through cp1252."""

    def one(ch: str) -> str:
        return _VNI_DECODE.get(ch) or (_FOREIGN if scoring and ch.isalpha() else ch)

    def pair(m: re.Match[str]) -> str:
        return _VNI_DECODE.get(m[0]) or "".join(map(one, m[0]))

    return _VNI_RE.sub(pair, data.decode("latin-1").translate(_CP1252_C1))


def _tcvn3(data: bytes, scoring: bool = False) -> str:
    """TCVN3/ABC, with heading words typed in the uppercase (.VnTimeH) fonts restored to capitals."""
    table = _TCVN3_SCORE if scoring else _TCVN3_TABLE
    return "\n".join(_tcvn3_caps(line) for line in data.decode("latin-1").translate(table).split("\n"))


_LEGACY = {"cp1258": _cp1258, "vni": _vni, "tcvn3": _tcvn3}


def _caps_level(word: str) -> int:
    """2: an all-caps word typed with lowercase TCVN3 codes; 1: maybe (one capital, then codes); 0: no."""
    fixed = [c for c in word if c not in _TCVN3_LOWER]
    if not fixed or len(fixed) == len(word) or any(c.islower() for c in fixed):
        return 0
    return 2 if len(fixed) >= 2 or word[0] in _TCVN3_LOWER else 1


def _tcvn3_caps(line: str) -> str:
    """Uppercase words like 'TØNH' (TỈNH), and 'Kõ' before 'HO¹CH' (KẾ HOẠCH); 'Tõ' alone stays 'Từ'."""
    if not _CAPS_HINT.search(line):
        return line
    parts = re.split(r"([\W\d_]+)", line)  # words at even indexes, separators between them
    levels = [_caps_level(p) if i % 2 == 0 else 0 for i, p in enumerate(parts)]
    for i in range(0, len(parts), 2):
        near = [levels[j] for j in (i - 2, i + 2) if 0 <= j < len(parts) and parts[(i + j) // 2].isspace()]
        if levels[i] == 2 or (levels[i] == 1 and 2 in near):
            parts[i] = parts[i].upper()
    return "".join(parts)


def _canonical(encoding: str, path: str | None) -> str:
    name = encoding.strip().lower().replace("_", "-")
    name = _ALIASES.get(name, name)
    if name not in ENCODINGS:
        raise EncodingError(f"unknown encoding {encoding!r}; choose one of {', '.join(ENCODINGS)}", path=path)
    return name


def _utf16_pattern(data: bytes) -> str | None:
    """'utf-16-le'/'-be' when NUL bytes sit in one column of byte pairs, as in mostly-ASCII UTF-16."""
    if len(data) < 4 or len(data) % 2:
        return None
    n, even, odd = len(data) // 2, data[0::2].count(0), data[1::2].count(0)
    if odd >= 0.3 * n and even <= 0.1 * n:
        return "utf-16-le"
    if even >= 0.3 * n and odd <= 0.1 * n:
        return "utf-16-be"
    return None


_CONTROLS = bytes(b for b in range(0x20) if b not in b"\t\n\x0b\x0c\r\x1a") + b"\x7f"


def _check_binary(text: str | bytes, path: str | None) -> None:
    """Refuse NUL bytes and more than 1 % (at least 3) other control characters."""
    raw = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    controls = len(raw) - len(raw.translate(None, _CONTROLS))
    if b"\x00" in raw or (controls >= 3 and controls > len(raw) / 100):
        raise CorruptInputError("binary data, not text", path=path)


def _decode_as(data: bytes, name: str, path: str | None) -> str:
    """Decode with one named encoding, raising EncodingError when the bytes do not fit it."""
    if name in _LEGACY:
        _check_binary(data, path)
    elif name == "utf-16" and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        name = _utf16_pattern(data) or "utf-16-le"
    elif name == "utf-32" and not data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        name = "utf-32-be" if data[:1] == b"\x00" else "utf-32-le"
    try:
        return _LEGACY[name](data) if name in _LEGACY else data.decode(name)
    except UnicodeDecodeError as e:
        raise EncodingError(f"not valid {name}: {e.reason} at byte {e.start}", path=path) from e


def _detect_legacy(data: bytes, path: str | None) -> tuple[str, str]:
    """Score each legacy reading by its share of valid syllables; accept only a clear winner."""
    scores: dict[str, tuple[float, int, int]] = {}
    for name, decode in _LEGACY.items():
        try:
            valid, total = _score(decode(data, scoring=True))
        except UnicodeDecodeError:
            continue
        scores[name] = (valid / total if total else 0.0, valid, total)
    ranked = sorted(scores, key=lambda k: scores[k][:2], reverse=True)
    best, runner = ranked[0], (ranked[1] if len(ranked) > 1 else None)
    share, valid, _ = scores[best]
    lead = share - (scores[runner][0] if runner else 0.0)
    if share >= MIN_VALID and lead >= MIN_LEAD:
        return _LEGACY[best](data), best
    if valid == 0 and scores.get("cp1258", (0, 0, 1))[2] == 0:
        return _cp1258(data), "cp1258"  # ASCII text with a few Windows symbols, no letters to misread
    tried = ", ".join(f"{k} {v[1]}/{v[2]} valid words" for k, v in scores.items())
    raise EncodingError(
        f"not UTF-8 and no legacy Vietnamese encoding clearly fits ({tried}; need ≥ {MIN_VALID:.0%} "
        f"and a lead of {MIN_LEAD:.0%} over the runner-up)",
        path=path,
    )


def decode_text(data: bytes, *, path: str | None = None, encoding: str | None = None) -> tuple[str, str]:
    """Return (text in NFC, encoding detected).

    The encoding is one of 'utf-8', 'utf-8-sig', 'utf-16', 'utf-32', 'cp1258', 'vni', 'tcvn3'.
    """
    if not data.strip():
        raise EmptyInputError("the file is empty or holds only whitespace", path=path)
    if encoding is not None:
        name = _canonical(encoding, path)
        text = _decode_as(data, name, path)
    elif data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        name, text = "utf-32", _decode_as(data, "utf-32", path)
    elif data.startswith(b"\xef\xbb\xbf"):
        name, text = "utf-8-sig", _decode_as(data, "utf-8-sig", path)
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")) or _utf16_pattern(data):
        name, text = "utf-16", _decode_as(data, "utf-16", path)
    else:
        _check_binary(data, path)
        try:
            name, text = "utf-8", data.decode("utf-8")
        except UnicodeDecodeError:
            text, name = _detect_legacy(data, path)
    _check_binary(text, path)
    text = nfc(text.removeprefix("\ufeff"))
    if not text.strip():
        raise EmptyInputError("the file holds only whitespace", path=path)
    return text, name


def encode_text(text: str, encoding: str) -> bytes:
    """Encode text as the named encoding stores Vietnamese (cp1258 with combining tones; TCVN3 capitals
    with lowercase codes, as the .VnTimeH fonts did). For tests and for writing legacy files."""
    name = _canonical(encoding, None)
    text = nfc(text)
    if name not in _LEGACY:
        return text.encode(name)
    out = bytearray()
    for ch in text:
        piece: str | None = ch
        if name == "vni" and not ch.isascii():
            piece = _VNI_ENCODE.get(ch, None if ch.isalpha() else ch)
        elif name == "tcvn3" and not ch.isascii():
            code = _TCVN3_ENCODE.get(ch) or _TCVN3_ENCODE.get(ch.lower())
            raw = ch.encode("cp1252", "ignore")  # a symbol whose byte TCVN3 uses for a letter cannot be kept
            piece = chr(code) if code else None if ch.isalpha() or (raw[:1] and raw[0] in _TCVN3) else ch
        elif name == "cp1258":  # split the tone off as a combining mark
            nfd = unicodedata.normalize("NFD", ch)
            piece = nfc("".join(c for c in nfd if c not in _TONES)) + "".join(c for c in nfd if c in _TONES)
        try:
            if piece is None:
                raise UnicodeEncodeError(name, ch, 0, 1, "no code for this letter")
            out += piece.encode("cp1258" if name == "cp1258" else "cp1252")
        except UnicodeEncodeError as e:
            raise EncodingError(f"{ch!r} cannot be written in {name}") from e
    return bytes(out)
