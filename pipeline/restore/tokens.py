"""How a line is cut for diacritic restoration: whitespace tokens → prefix / core / suffix pieces.

Whitespace is never touched: `split_line` yields one `Piece` per whitespace token and `join` puts
new token texts back between the original whitespace runs. The *core* of a token runs from its
first to its last letter-like character, and OCR garbage that stands for letters counts as
letter-like (`S&`, `S@`, `d6i`, `1y`, `ctia`, `st?`, `|én`), real punctuation does not (`trì:`,
`(Điều`, `"abc"`). Each piece is a `word` (to restore), `protected` (copied verbatim: numbers,
document codes, URLs, headings' Roman numerals, list markers, punctuation) or `code-fix` (a
document code whose type/agency part is garbled in a known way: `368/QP-TTg` → `368/QĐ-TTg`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from pipeline.vietnamese import strip_diacritics

__all__ = [
    "CODE_ABBREVIATIONS",
    "SIGNATURE_ABBREVIATIONS",
    "CasePattern",
    "Kind",
    "Piece",
    "apply_case",
    "case_pattern",
    "core_of",
    "fix_code",
    "join",
    "mostly_upper",
    "render",
    "restore_case",
    "split_line",
    "split_token",
]

Kind = Literal["word", "protected", "code-fix"]
CasePattern = Literal["lower", "title", "upper", "mixed"]

# Real Vietnamese document-type and agency abbreviations, as they appear in document codes
# (1759/KH-UBND, 72/2015/NĐ-CP, 21/CT-TTg, 22/2016/TT-BTTTT, 57/2020/QH14).
CODE_ABBREVIATIONS: frozenset[str] = frozenset(
    # document types
    "QĐ NĐ NQ CT KH TT TTLT CV TB BC TTr HD HĐ QC PL CĐ GP BB ĐA PA CTr KL TC QĐi QyĐ TTHN TTĐN "
    "NQLT QĐLT L LCT SL HDLT GCN GM KHLT "
    # central bodies and ministries
    "CP TTg QH UBTVQH TW BCT BCA BQP BYT BNV BTC BTP BTTTT BGDĐT BKHĐT BKHCN BXD BTNMT "
    "BNNPTNT BLĐTBXH BVHTTDL BGTVT BNG NHNN VPCP TANDTC VKSNDTC KTNN UBDT BCĐ BTGTW BDVTW "
    "TLĐLĐVN MTTQ TWĐTN BCHTW BTCTW BCS BTV ĐU TU HU "
    # provincial and local bodies
    "UBND HĐND VP VPUB STTTT SNgV SNV STC SKHĐT SGDĐT SYT SVHTTDL STNMT SNN SNNPTNT SXD SCT "
    "SLĐTBXH STP SGTVT SKHCN SDL BQL BTĐKT KGVX TTEN ĐT GDĐT GDĐH KTKĐCLGD CNKD NV TCCB TH "
    "KT TTTT VX NC ĐN".split()
)
_LOOKUP = {a.upper(): a for a in CODE_ABBREVIATIONS}
# Signature-block abbreviations (thay mặt, ký thay, thừa lệnh, thừa ủy quyền, quyền).
SIGNATURE_ABBREVIATIONS = frozenset({"TM", "KT", "TL", "TUQ", "Q"})
# What the English OCR model reads Đ as in codes (ND-CP, QP-TTg, NB-CP, BLDTBXH).
_D_GARBLES = "DPB"

# Garbage standing for letters anywhere in a core (ở → & @ ¢, ê → €, ý → ¥, s → $, ư → #).
_GARBLE = set("&@¢€¥$#")
_GARBLE_START = set("|[{")  # l read as | or [, í as {: only when a letter follows
_GARBLE_END = set("?")  # ử/ữ/ứ read as ?: only right after a letter (st? = sử)

_URL = re.compile(r"(?:https?://|www\.)\S+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.IGNORECASE)
_NUMBER = re.compile(r"[+-]?\d+(?:[.,:/-]\d+)*(?:%|‰)?")
# numbers that real OCR pairs show standing for words far more often than not
_CODE = re.compile(r"\d[\w.]*(?:/[\w.&]+)*(?:[/-][\w&]+)*-?")
_ROMAN = re.compile(r"(?=[IVXLC])M*(?:C[MD]|D?C{0,3})(?:X[CL]|L?X{0,3})(?:I[XV]|V?I{0,3})")
_LIST_MARKER = re.compile(r"[a-zđ]\)|[a-zđ]\.|\d+(?:\.\d+)*[.)]")
# digits OCR never produces for letters (2 3 7 9), 3+ digits, U23 / G20, m2: not garbled words
_UNIT = re.compile(r"[A-Z]{1,4}\d{2,}[A-Z\d]*|\d*(?:m2|m3|km2|cm2)|.*[2379].*|.*\d{3}.*")
# a footnote mark glued to a word (quan[1], hiện(2)): punctuation and a number, not letters
_FOOTNOTE = re.compile(r"(?<=[^\W\d_])[\[(]\d{1,3}$")
# capitals and digits joined by - or / (N-NH4, P-PO4, COVID-19): a formula or a code, never a
# garbled syllable, which English OCR writes with lower-case letters or without a separator
_FORMULA = re.compile(r"(?=.*\d)[A-Z\d]+(?:[-/][A-Z\d]+)+")
# capitals English OCR writes for a lower-case letter (Iy for lý): their case says nothing
_CAPITAL_FOR_LOWER = {"I": "l"}
# words after which a small number is a number (Điều 6, ngày 14, Chương II), folded
_NUMBER_CONTEXT = frozenset("dieu khoan chuong muc phan diem so s6 ngay thang lan luc bieu mau quy tap lop".split())


@dataclass(frozen=True)
class Piece:
    """One whitespace token: prefix punctuation, core, suffix punctuation and what to do with it."""

    prefix: str
    core: str
    suffix: str
    kind: Kind
    fixed: str = ""  # the corrected core of a code-fix piece

    @property
    def text(self) -> str:
        return self.prefix + self.core + self.suffix

    def output(self, core: str | None = None) -> str:
        """The token with its core replaced (words), its code fixed, or unchanged (protected)."""
        if self.kind == "code-fix":
            core = self.fixed
        elif self.kind == "protected" or core is None:
            core = self.core
        return self.prefix + core + self.suffix


def _letterish(token: str, i: int) -> bool:
    """Whether token[i] can belong to a core: a letter, digit or letter-standing garbage."""
    char = token[i]
    if char.isalnum() or char in _GARBLE:
        return True
    if char in _GARBLE_START:
        return i + 1 < len(token) and token[i + 1].isalpha()
    if char in _GARBLE_END:
        return i > 0 and token[i - 1].isalpha()
    return False


def _cut(token: str) -> tuple[str, str, str]:
    """prefix, core, suffix of a token; a token without letter-like characters is all core."""
    marks = [_letterish(token, i) for i in range(len(token))]
    if not any(marks):
        return "", token, ""
    start = marks.index(True)
    end = len(token) - marks[::-1].index(True)
    return token[:start], token[start:end], token[end:]


def core_of(token: str) -> str:
    """The core of a token (what split_token would call it), without classifying it."""
    return _cut(token)[1]


def _code_segments(code: str) -> list[str]:
    return [s for s in re.split(r"[/-]", code) if s]


def fix_code(code: str) -> str | None:
    """The code with garbled type/agency segments repaired (ND → NĐ), or None if nothing to fix.

    A segment is repaired only when it is not a known abbreviation and replacing D/P/B by Đ
    makes it one; numeric segments and unknown segments stay as they are.
    """
    parts = re.split(r"([/-])", code)
    changed = False
    for i, part in enumerate(parts):
        if not part or part in "/-" or part.isdigit() or part.upper() in _LOOKUP:
            continue
        head = part.rstrip("0123456789")  # QH14 -> QH + 14
        digits = part[len(head) :]
        if head.upper() in _LOOKUP:
            continue
        for j, char in enumerate(head):
            if char in _D_GARBLES:
                candidate = head[:j] + "Đ" + head[j + 1 :]
                if candidate.upper() in _LOOKUP:
                    parts[i] = _LOOKUP.get(candidate.upper(), candidate) + digits
                    changed = True
                    break
    return "".join(parts) if changed else None


def _is_agency_chain(core: str) -> bool:
    """ND-CP, KH-UBND, QĐ-TTg: abbreviation segments joined by - or / (a code without number)."""
    segments = _code_segments(core)
    if len(segments) < 2 or not re.fullmatch(r"[A-ZĐ][\w&]*(?:[/-][A-ZĐ][\w&]*)+-?", core):
        return False
    fixed = _code_segments(fix_code(core) or core)
    return all(re.sub(r"\d+$", "", s).upper() in _LOOKUP for s in fixed)


def _fold(text: str) -> str:
    return strip_diacritics(text).lower()


def _syllable_slot(
    core: str, prefix: str, suffix: str, first: bool, prev_core: str, next_core: str, prev_suffix: str = ""
) -> bool:
    """Whether a short number stands where a syllable belongs: one or two digits (6 for ở, 16
    for lộ, 14 for là) with nothing around them, between two words (the next in lower case, the
    previous with no punctuation after it: `thực hiện: 6 tháng` is a count), after no word that
    counts (số, ngày, điều …). Such a token gets candidates; the model and the LM then keep a
    real number (có 16 tỉnh, 6 câu hỏi) or read the word (lộ trình, ở cơ sở)."""
    return (
        len(core) <= 2
        and core.isdigit()
        and not (first or prefix or suffix or prev_suffix)
        and prev_core.isalpha()
        and _fold(prev_core) not in _NUMBER_CONTEXT
        and next_core.isalpha()
        and next_core.islower()
    )


def _classify(core: str, suffix: str, first: bool, prev_core: str) -> tuple[Kind, str]:
    """Kind of a core given its neighbours, and the fixed core for code-fix pieces."""
    if not any(_letterish(core, i) for i in range(len(core))):
        return "protected", ""  # punctuation only
    if _URL.fullmatch(core):
        return "protected", ""
    if _NUMBER.fullmatch(core):
        # Numbers are not changed, even those that English OCR makes of a word (6 for ở, 14
        # for là), except a short one in a syllable's place (_syllable_slot), and only when the
        # network is sure (restorer.NUMBER_TO_WORD): a wrong "fix" of a real number is far worse
        # than a word left garbled.
        return "protected", ""
    if any(c.isdigit() for c in core) and "/" in core and _CODE.fullmatch(core):
        fixed = fix_code(core)
        return ("code-fix", fixed) if fixed else ("protected", "")
    if _is_agency_chain(core):
        fixed = fix_code(core)
        return ("code-fix", fixed) if fixed else ("protected", "")
    if _FORMULA.fullmatch(core):
        return "protected", ""
    if _ROMAN.fullmatch(core) and (
        (first and suffix[:1] and suffix[0] in ".)") or _fold(prev_core) in _NUMBER_CONTEXT or suffix.startswith("/")
    ):
        return "protected", ""
    if len(core) >= 3 and _ROMAN.fullmatch(core):
        return "protected", ""  # XIII, VIII: no Vietnamese syllable is spelt so (XIII must not become XII)
    if first and _LIST_MARKER.fullmatch(core + suffix[:1]) and len(core) == 1:
        return "protected", ""
    if core in SIGNATURE_ABBREVIATIONS and suffix.startswith("."):
        return "protected", ""  # TM. (thay mặt), KT. (ký thay), TL., TUQ.: not TÂM, KẾT
    if len(core) > 1 and core in CODE_ABBREVIATIONS and (len(core) > 3 or not set(_fold(core)) & set("aeiouy")):
        return "protected", ""  # CP, TTg, UBND alone (a code broken across lines); not TU, ĐA (từ, đã)
    if re.fullmatch(r"[IVX]+/\d+", core):  # II/2025
        return "protected", ""
    if any(c.isdigit() for c in core) and _UNIT.fullmatch(core):
        return "protected", ""  # U23, m2, 18h00, 37.4.PL.22: not garbled letters
    return "word", ""


def split_token(
    token: str, first: bool = False, prev_core: str = "", next_core: str = "", prev_suffix: str = ""
) -> Piece:
    """One whitespace token as a Piece; first: it opens the line, prev_core / next_core: the
    cores of the tokens around it, prev_suffix: what follows the previous core (a short number
    between two words may be a garbled word)."""
    prefix, core, suffix = _cut(token)
    if footnote := _FOOTNOTE.search(core):  # the mark is copied with the punctuation after it
        core, suffix = core[: footnote.start()], core[footnote.start() :] + suffix
    # a code broken at the line end keeps its hyphen: 368/QP- , 72/2015/ND-
    if suffix.startswith("-") and (("/" in core and _CODE.fullmatch(core + "-")) or _is_agency_chain(core + "-")):
        core, suffix = core + "-", suffix[1:]
    if _syllable_slot(core, prefix, suffix, first, prev_core, next_core, prev_suffix):
        return Piece(prefix, core, suffix, "word", "")
    kind, fixed = _classify(core, suffix, first, prev_core)
    return Piece(prefix, core, suffix, kind, fixed)


def split_line(line: str) -> list[Piece]:
    """One Piece per whitespace token of line, in order."""
    pieces: list[Piece] = []
    previous = Piece("", "", "", "protected", "")
    tokens = line.split()
    for i, token in enumerate(tokens):
        following = core_of(tokens[i + 1]) if i + 1 < len(tokens) else ""
        previous = split_token(token, i == 0, previous.core, following, previous.suffix)
        pieces.append(previous)
    return pieces


def join(line: str, texts: Sequence[str]) -> str:
    """line with its i-th whitespace token replaced by texts[i]; whitespace kept as is."""
    parts = re.split(r"(\s+)", line)
    n = sum(1 for part in parts if part and not part.isspace())
    if n != len(texts):
        raise ValueError(f"{len(texts)} texts for {n} tokens")
    out, k = [], 0
    for part in parts:
        if part and not part.isspace():
            out.append(texts[k])
            k += 1
        else:
            out.append(part)
    return "".join(out)


# ---------------------------------------------------------------------------- casing


@lru_cache(maxsize=1 << 16)  # asked 4-5 times per token (rendering, names, headings)
def case_pattern(token: str) -> CasePattern:
    """lower / title (first letter upper, rest lower) / upper (2+ letters, all upper) / mixed.

    Only letters count, so `S&` is title, `MUC` upper, `d6i` lower; one capital letter is title.
    """
    letters = [c for c in token if c.isalpha()]
    if not letters or all(c.islower() for c in letters):
        return "lower"
    if letters[0].isupper() and all(c.islower() for c in letters[1:]):
        return "title"
    if all(c.isupper() for c in letters):
        return "upper"
    return "mixed"


def apply_case(pattern: CasePattern, text: str) -> str:
    """Lower-case output text in the given pattern (mixed is left lower-case)."""
    if pattern == "upper":
        return text.upper()
    if pattern == "title":
        return text[:1].upper() + text[1:]
    return text


def restore_case(core: str, output: str) -> str:
    """Case output like core: verbatim when output is the core itself (TTg), else by pattern.

    A mixed core (garbled casing such as ThONG) counts as upper when most letters are upper,
    else as title or lower by its first letter.
    """
    if output == core.lower():
        return core
    return apply_case(_resolved(core), output)


def _resolved(core: str) -> CasePattern:
    pattern = case_pattern(core)
    if pattern == "mixed":
        letters = [c for c in core if c.isalpha()]
        upper = sum(c.isupper() for c in letters) * 2 > len(letters)
        pattern = "upper" if upper else "title" if letters[0].isupper() else "lower"
    return pattern


def mostly_upper(pieces: Sequence[Piece]) -> bool:
    """Whether the line's words of two letters or more are mostly upper-case (a heading)."""
    patterns = [case_pattern(p.core) for p in pieces if p.kind == "word" and sum(c.isalpha() for c in p.core) > 1]
    return bool(patterns) and sum(p == "upper" for p in patterns) * 2 > len(patterns)


_SYLLABLE = re.compile(r"[aeiouy]", re.IGNORECASE)  # a Vietnamese syllable has a vowel; an acronym may not


def render(pieces: Sequence[Piece], chosen: Sequence[str | None]) -> list[str]:
    """New text of every token from the lower-case output chosen for each word piece (None for
    the others), cased by the line, not token by token:

    - in an all-caps line (a heading) a word OCR read in lower case, or as one capital and
      glyphs, is upper case too (CỘNG HÒA XÃ HỘI CHỦ NGHĨA, not CHỦ nghĩa; S& NOI VU → SỞ NỘI
      VỤ); a title-case word there is a name and stays so (PHÓ CHỦ TỊCH Bùi Thanh An);
    - elsewhere each word keeps its own pattern (title, lower, an acronym verbatim), except an
      all-caps word standing alone among lower- and title-case words whose output is a
      syllable, not the input itself: English OCR reads ở, ộ as O, so `SO`, `BO` in running text
      are Sở, Bộ, not SỞ, BỘ (an output with no vowel is an acronym: HDND → HĐND); and a
      capital I that stood for an l inside the line is lower case (`quan Iy` → quản lý).
    """
    upper_line = mostly_upper(pieces)
    words = [i for i, p in enumerate(pieces) if p.kind == "word"]
    caps = {i for i in words if sum(c.isalpha() for c in pieces[i].core) > 1 and _resolved(pieces[i].core) == "upper"}
    out = []
    for i, (piece, text) in enumerate(zip(pieces, chosen, strict=True)):
        if piece.kind != "word" or text is None:
            out.append(piece.output())
            continue
        letters = sum(c.isalpha() for c in piece.core)
        if upper_line and letters and (letters == 1 or case_pattern(piece.core) in ("lower", "mixed")):
            # CHỦ nghĩa, S& (one capital and a glyph: SỞ): OCR lost the capitals; a title-case
            # word of several letters is a name and stays so (Bùi Thanh An).
            text = text.upper()
        elif i in caps and text != piece.core.lower():
            position = words.index(i)
            neighbours = words[max(0, position - 1) : position] + words[position + 1 : position + 2]
            alone = not caps & set(neighbours) and _SYLLABLE.search(strip_diacritics(text))
            text = text[:1].upper() + text[1:] if alone else text.upper()  # HDND → HĐND, not Hđnd
        elif i != words[0] and _CAPITAL_FOR_LOWER.get(piece.core[:1]) == text[:1] and piece.core[1:].islower():
            text = restore_case(piece.core.lower(), text)  # quan Iy: a misread l, not a capital (quản lý)
        else:
            text = restore_case(piece.core, text)
        out.append(piece.output(text))
    return out
