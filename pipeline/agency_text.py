"""How agency names are written, for matching: the folded comparison form (abbreviations spelt
out, no marks, OCR look-alikes mapped back), the head-word penalty, and the pieces of a list of
names. Pure text functions; pipeline/lexicon.py does the matching.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from pipeline.lookalikes import letter_for, to_letters
from pipeline.vietnamese import normalize, strip_diacritics

__all__ = [
    "COLLECTIVE",
    "HEAD_PENALTY",
    "LEVEL_WORDS",
    "PLACE_TAILS",
    "VERBS",
    "fold",
    "head_penalty",
    "pieces",
    "segments",
]

# Sở/Bộ, Sở/Báo differ in one letter of the head word but are different bodies.
HEAD_PENALTY = 20.0
# Abbreviations spelt out before folding (whole tokens, as written in capitals).
_ABBREVIATIONS = {
    "UBND": "ủy ban nhân dân", "HĐND": "hội đồng nhân dân", "UBMTTQ": "ủy ban mặt trận tổ quốc",
    "MTTQ": "mặt trận tổ quốc", "BCĐ": "ban chỉ đạo", "BQL": "ban quản lý", "KCN": "khu công nghiệp",
    "KKT": "khu kinh tế", "TTĐT": "thông tin điện tử", "TT&TT": "thông tin và truyền thông",
    "TTTT": "thông tin và truyền thông", "KH&ĐT": "kế hoạch và đầu tư", "KHĐT": "kế hoạch và đầu tư",
    "PT-TH": "phát thanh và truyền hình", "PTTH": "phát thanh và truyền hình", "GD&ĐT": "giáo dục và đào tạo",
    "GDĐT": "giáo dục và đào tạo", "VH,TT&DL": "văn hóa thể thao và du lịch", "VHTTDL": "văn hóa thể thao và du lịch",
    "VH&TT": "văn hóa và thể thao", "LĐ-TB&XH": "lao động thương binh và xã hội",
    "LĐTBXH": "lao động thương binh và xã hội", "TN&MT": "tài nguyên và môi trường", "TNMT": "tài nguyên và môi trường",
    "NN&PTNT": "nông nghiệp và phát triển nông thôn", "NN&MT": "nông nghiệp và môi trường",
    "KH&CN": "khoa học và công nghệ", "KHCN": "khoa học và công nghệ", "GTVT": "giao thông vận tải",
    "BCHQS": "bộ chỉ huy quân sự", "CHQS": "chỉ huy quân sự", "BĐBP": "bộ đội biên phòng",
    "TTXVN": "thông tấn xã việt nam", "VP": "văn phòng", "LHPN": "liên hiệp phụ nữ", "CCB": "cựu chiến binh",
    "LĐLĐ": "liên đoàn lao động", "VHNT": "văn học nghệ thuật", "ĐBQH": "đại biểu quốc hội",
    "BHXH": "bảo hiểm xã hội", "BTV": "ban thường vụ", "CA": "công an",
}  # fmt: skip
_ABBR_RE = re.compile(
    r"(?<![\w&])(" + "|".join(re.escape(a) for a in sorted(_ABBREVIATIONS, key=len, reverse=True)) + r")(?![\w&])"
)
_WORD = re.compile(r"[^\s,;:.()/\-–—'\"’‘“”!?]+")


@lru_cache(maxsize=1 << 16)
def fold(text: str) -> str:
    """The comparison form: abbreviations spelt out, no marks, lower case, OCR look-alikes mapped."""
    text = _ABBR_RE.sub(lambda m: f" {_ABBREVIATIONS[m[1]]} ", normalize(text))
    words = []
    for word in _WORD.findall(strip_diacritics(text).lower()):
        # Look-alikes (pipeline/lookalikes.py) inside words: S& → so, d6i → doi, $6 → so; a
        # number stays a number, and a lone glyph (a table rule `|`) is debris, not a letter.
        lookalike = len(word) > 1 and any(c in letter_for() and not c.isdigit() for c in word)
        if lookalike or any(c.isalpha() for c in word):
            word = to_letters(word)
        word = re.sub(r"[^a-z0-9]", "", word)
        if word:
            words.append(word)
    if words[:1] == ["the"]:
        words = words[1:]
    # English OCR models garble or drop the vowel of a short head word: S Tai chinh, Sé, Sd (Sở);
    # B Thong tin, Bé (Bộ). No other agency name starts with a one- or two-letter word in s/b.
    if len(words) > 1 and len(words[0]) <= 2 and words[0][0] in "sb":
        words[0] = words[0][0] + "o"
    return " ".join(words)


_QUANTIFIERS = re.compile(r"^(?:(?:cac|mot so|nhung|moi|tat ca)\s+)+")


def _first_letter_penalty(a: str, b: str) -> float:
    if not a or not b or a[0] == b[0]:
        return 0.0
    # Đ is read as B, D or P by English OCR models (Đơn vị → Pon vi, Đài → Pai).
    return 3.0 if a[0] in "bdp" and b[0] in "bdp" else HEAD_PENALTY


def head_penalty(a: str, b: str) -> float:
    """Different head words cost HEAD_PENALTY; leading quantifiers (các, một số) do not count."""
    return min(_first_letter_penalty(a, b), _first_letter_penalty(_QUANTIFIERS.sub("", a), _QUANTIFIERS.sub("", b)))


def pieces(text: str, separators: str) -> Iterable[tuple[int, int]]:
    start = 0
    for match in re.finditer(f"[{re.escape(separators)}]", text):
        yield start, match.start()
        start = match.end()
    yield start, len(text)


_SOFT = re.compile(r",|\s+(?:và|va|Và|and)\s+")
_TRIM = " \t\n\r.;:,-–•*+"


def segments(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Pieces between ',' / 'và' separators, as trimmed spans."""
    cuts = [start]
    for match in _SOFT.finditer(text, start, end):
        i = match.start()
        # VH,TT&DL is one abbreviation, not two names.
        if match.group() == "," and 0 < i < len(text) - 1 and text[i - 1].isupper() and text[i + 1].isupper():
            continue
        cuts += [match.start(), match.end()]
    cuts.append(end)
    segments = []
    for a, b in zip(cuts[::2], cuts[1::2], strict=True):
        while a < b and text[a] in _TRIM:
            a += 1
        while b > a and text[b - 1] in _TRIM:
            b -= 1
        if a < b:
            segments.append((a, b))
    return segments


# Patterns on folded names.
PLACE_TAILS = re.compile(
    r"\s+(?:cua tinh|tren dia ban tinh|trong tinh|cap tinh|tinh|thuoc uy ban nhan dan tinh|cac cap"
    r"|of the province|in the province)$"
)
# A name that says its level or place (tỉnh, huyện, Việt Nam, Trung ương …). One that does not, in a
# province's own plan, is the province's body (Hội Nông dân → Hội Nông dân tỉnh).
LEVEL_WORDS = re.compile(
    r"\b(?:tinh|thanh pho|huyen|quan|thi xa|xa|phuong|thi tran|dac khu|trung uong|viet nam|cap|vung|khu vuc"
    r"|province|city|district|national|central)\b"
)
COLLECTIVE = re.compile(
    r"^(?:(?!cuc\b)c[a-z]{1,2}c|mot so|nhung|moi|tat ca|toan the|concerned|relevant|related|other|all)\s"
    r"|^(?:co quan|don vi|agencies|units|departments|branches|localities)\b.*\b(?:lien quan|concerned)$"
)
# Verbs: a "collective" containing them is a sentence, not a list of bodies.
VERBS = re.compile(r"\b(?:phoi hop|thuc hien|trien khai|chu tri|bao cao|xay dung|tham muu|huong dan|cung cap)\b")
