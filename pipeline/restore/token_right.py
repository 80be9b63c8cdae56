"""The token-right model: the probability that any token's final text is right, scored or not.

The word-right model (restore/confidence.py) only sees the word tokens restore weighs. Numbers,
codes, punctuation, Roman numerals and list markers are copied, and tokens that OCR split or
merged look like ordinary (or unknown) words to it, so their errors kept tesseract's confidence
and the review queue missed them (benchmarks/review.md, the missed-error breakdown). This model
is a second stage over every token of a restored page:

- the word-right probability where there is one (its logit), else nothing;
- tesseract's confidence of the token and of its neighbours;
- the token's shape: punctuation, number, code, Roman numeral or list marker, letters mixed with
  digits or inner punctuation, casing, length, edge punctuation;
- the lexicon: is the core a syllable, how common, how many syllables are spelt like it but for
  their marks and how it ranks among them (a restored word that is not the commonest of many
  look-alikes is riskier); would joining it with a neighbour make one (a word split in two by
  OCR); does it cut into two syllables (two words run together);
- the page geometry when OCR gave boxes: the gaps to the neighbours and the width per character
  in units of the line height (a split word has a narrow gap, a merged one a wide box), and the
  widest gap of the line (columns read across);
- what happened around it (restore/token_context.py): whether the vie correction or restore
  changed it or its neighbours and how, odd characters and misread punctuation (a stop before a
  lower-case word, an unpaired quote, a speck before a word), the line's length and lowest OCR
  confidence, and its rank on the first page (the letterhead).

Boosted regression trees (kinds of token differ: tesseract's confidence means one thing for a
digit, another for a dash), then an isotonic map of their probability to the share of right
tokens, one per way in (`ocr`, `text`); fitted on the tune split by scripts/fit_word_right.py
and stored as plain lists in word_right.json (`tokens`), evaluated with numpy. Pure: features
need only the tokens and the lexicon's log priors.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import logging
import math
import re
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pipeline.restore.confidence import FEATURES, WORD_RIGHT_FILE
from pipeline.restore.paths import MODEL_DIR
from pipeline.restore.token_context import CLIP, CONTEXT_FEATURES, TokenView, clipped_logit, context_features
from pipeline.restore.tokens import core_of
from pipeline.restore.trees import Trees
from pipeline.vietnamese import strip_diacritics

if TYPE_CHECKING:
    from pipeline.document import Page, Token

__all__ = [
    "CONTEXT_FEATURES",
    "STATIC_FEATURES",
    "TOKEN_FEATURES",
    "TokenRight",
    "TokenView",
    "Trees",
    "default_token_right",
    "line_features",
    "score_page",
]

log = logging.getLogger(__name__)

STATIC_FEATURES = (
    "has_ocr",  # the token was OCR'd
    "ocr_logit",  # tesseract's confidence as a logit, clipped to ±6 (0 without)
    "neighbour_logit",  # the lower OCR logit of the two neighbours (6 at a line's edge or without OCR)
    "punct",  # no letter or digit at all
    "number",  # digits with separators (12, 1.5, 14/3, 20%)
    "code",  # digits with letters or slashes (1759/KH-UBND, U23, d6i), or all capitals beyond three letters
    "marker",  # a Roman numeral or a list marker (II., a), 1.2.)
    "mixed",  # a core of letters with inner punctuation (quả,của) or letter-standing garbage (S&)
    "upper",  # the core is all capitals (two letters or more)
    "inner_upper",  # a capital after a lower-case letter (HIệu, quảCủa)
    "length",  # characters of the core, up to 12, / 12
    "edge_punct",  # punctuation before or after the core
    "known",  # the core (lower case) is a lexicon syllable
    "join_prev",  # the previous core + this core is a lexicon syllable
    "join_next",  # this core + the next core is a lexicon syllable
    "cut_two",  # the core is no syllable but cuts into two
    "changed",  # restore changed the token
    "first",  # the token opens its line
    "last",  # the token ends its line
    "has_box",  # OCR gave a box (the geometry below is 0 without)
    "gap_prev",  # gap to the previous token / line height, clipped to [-1, 3] (3 at the line start)
    "gap_next",  # gap to the next token / line height, clipped likewise
    "width",  # box width per character / line height, clipped to 2
    "line_gap",  # the widest gap between two tokens of the line / line height, up to 8 (columns, tables)
    "in_words",  # digits between two words (a syllable read as a number: nhà 6 for nhà ở)
    "title_mid",  # a capitalised word after a lower-case one, no sentence end between them
    "case_odd",  # not all capitals in a line of capitals, or all capitals in a line of lower case
    "rare_chars",  # characters text seldom has (_ | ~ ^ ` \\ < > { }): specks and rules read as glyphs
    "variants",  # log of the lexicon syllables spelt like the core but for its marks (da: đa đã dạ đà …) / 3
    "prior",  # lexicon log prior of the core / 10, floored at −3 (−3: no syllable)
    "prior_gap",  # its log prior − that of the commonest syllable spelt alike / 10, floored at −3
    *CONTEXT_FEATURES,
)
# The word-right model's probability (as a logit) and its own features (zeros where it did not
# score the token): trees can weigh them differently per kind of token, which one logistic
# regression over all tokens could not.
TOKEN_FEATURES = ("scored", "word_right_logit", *STATIC_FEATURES, *(f"word_{f}" for f in FEATURES))

_NUMBER = re.compile(r"[+-]?\d+(?:[.,:/-]\d+)*(?:%|‰)?")
_MARKER = re.compile(r"(?:[IVXLC]+|[a-zđ]|\d+(?:\.\d+)*)[.)]")
_LEXICAL: dict[int, _Lexical] = {}
_RARE = frozenset("_|~^`\\<>{}")
_SENTENCE_END = tuple(".:;!?")


def _shape(text: str, core: str) -> tuple[float, ...]:
    punct = not any(c.isalnum() for c in text)
    number = not punct and bool(_NUMBER.fullmatch(core))
    digits = any(c.isdigit() for c in core)
    letters = any(c.isalpha() for c in core)
    upper = core.isalpha() and core.isupper() and len(core) > 1
    code = (not number and digits and (letters or "/" in core)) or (upper and len(core) > 3)
    marker = bool(_MARKER.fullmatch(text))
    mixed = letters and not core.isalpha() and not code
    inner = any(a.islower() and b.isupper() for a, b in itertools.pairwise(core))
    return (
        float(punct), float(number), float(code), float(marker), float(mixed), float(upper), float(inner),
    )  # fmt: skip


class _Lexical:
    """What the features read of a lexicon, built once per lexicon (which is not to change after):
    per folded spelling the best log prior and the number of syllables spelt so, and per core
    (lower case) its lexicon features, cached (the same words recur on every page)."""

    def __init__(self, lexicon: Mapping[str, float]) -> None:
        self.lexicon = lexicon
        self.best: dict[str, float] = {}
        self.counts: dict[str, int] = {}
        for text, logp in lexicon.items():
            folded = strip_diacritics(text)
            self.best[folded] = max(self.best.get(folded, -math.inf), logp)
            self.counts[folded] = self.counts.get(folded, 0) + 1
        self.cores: dict[str, tuple[bool, float, float, float, float]] = {}

    def of(self, low: str) -> tuple[bool, float, float, float, float]:
        """(a known syllable, cuts into two, variants, prior, prior gap) of a core in lower case."""
        found = self.cores.get(low)
        if found is None:
            lexicon = self.lexicon
            alpha = low.isalpha()
            is_known = alpha and low in lexicon
            cut = alpha and not is_known and len(low) >= 4 and any(
                low[:k] in lexicon and low[k:] in lexicon for k in range(1, len(low))
            )  # fmt: skip
            folded = strip_diacritics(low)
            found = (
                is_known,
                float(cut),
                math.log(self.counts.get(folded, 0) + 1) / 3,
                max(lexicon.get(low, -30.0), -30.0) / 10,
                max(lexicon[low] - self.best[folded], -30.0) / 10 if is_known else -3.0,
            )
            if len(self.cores) > 200_000:
                self.cores.clear()
            self.cores[low] = found
        return found


def _lexical(lexicon: Mapping[str, float]) -> _Lexical:
    found = _LEXICAL.get(id(lexicon))
    if found is None or found.lexicon is not lexicon:
        found = _LEXICAL[id(lexicon)] = _Lexical(lexicon)
    return found


@lru_cache(maxsize=1 << 16)
def _text(text: str) -> tuple[str, tuple[float, ...], float, float, bool, float]:
    """Of a token's text alone (cached): its core, shape, length, whether the core is not all of
    it, whether the core has digits, whether the text has rare characters."""
    core = core_of(text)
    return (
        core,
        _shape(text, core),
        min(len(core), 12) / 12,
        float(core != text),
        any(c.isdigit() for c in core),
        float(any(c in _RARE for c in text)),
    )


def line_features(line: Sequence[TokenView], lexicon: Mapping[str, float], rank: int | None = None) -> np.ndarray:
    """[tokens, len(STATIC_FEATURES)] of one line; `lexicon`: syllable (lower case) → log prior;
    `rank`: the line's rank among the first page's lines with tokens (None: a later page)."""
    lexical = _lexical(lexicon)
    texts = [_text(t.text) for t in line]
    cores = [t[0] for t in texts]
    lows = [c.lower() for c in cores]
    boxes = [t.box for t in line]
    heights = [b[3] - b[1] for b in boxes if b is not None and b[3] > b[1]]
    # of integers, exact either way: numpy's median cost a tenth of the line's features
    height = float(statistics.median(heights)) if heights else 0.0
    gaps = [b[0] - a[2] for a, b in itertools.pairwise(boxes) if a is not None and b is not None]
    line_gap = min(8.0, max(gaps) / height) if gaps and height > 0 else 0.0
    words = [c for c in cores if c.isalpha() and len(c) > 1]
    capitals = sum(c.isupper() for c in words) / len(words) if words else 0.0
    logits = [None if t.ocr is None else clipped_logit(t.ocr) for t in line]
    rows = []
    for j, token in enumerate(line):
        core, low = cores[j], lows[j]
        _, shape, length, edged, digits, rare = texts[j]
        alpha = low.isalpha()
        neighbours = [logits[k] for k in (j - 1, j + 1) if 0 <= k < len(line) and logits[k] is not None]
        prev_ok = j > 0 and alpha and lows[j - 1].isalpha()
        next_ok = j + 1 < len(line) and alpha and lows[j + 1].isalpha()
        is_known, cut, variants, prior, prior_gap = lexical.of(low)
        prev_alpha = j > 0 and cores[j - 1].isalpha()
        next_alpha = j + 1 < len(line) and cores[j + 1].isalpha()
        title_mid = (
            alpha and core[:1].isupper() and core[1:].islower() and prev_alpha and cores[j - 1].islower()
            and not line[j - 1].text.endswith(_SENTENCE_END)
        )  # fmt: skip
        box = boxes[j]
        geometry = (0.0, 0.0, 0.0, 0.0, 0.0)
        if box is not None and height > 0:
            before = boxes[j - 1] if j > 0 else None
            after = boxes[j + 1] if j + 1 < len(line) else None
            gap_prev = 3.0 if before is None else (box[0] - before[2]) / height
            gap_next = 3.0 if after is None else (after[0] - box[2]) / height
            width = (box[2] - box[0]) / max(len(token.text), 1) / height
            geometry = (1.0, min(3.0, max(-1.0, gap_prev)), min(3.0, max(-1.0, gap_next)), min(2.0, width), line_gap)
        rows.append(
            (
                float(token.ocr is not None),
                0.0 if logits[j] is None else logits[j],
                min(neighbours, default=CLIP),
                *shape,
                length,
                edged,
                float(is_known),
                float(prev_ok and lows[j - 1] + low in lexicon),
                float(next_ok and low + lows[j + 1] in lexicon),
                cut,
                float(token.changed),
                float(j == 0),
                float(j == len(line) - 1),
                *geometry,
                float(digits and prev_alpha and next_alpha),
                float(title_mid),
                float(alpha and len(core) > 1 and (core.isupper() != (capitals > 0.5))),
                rare,
                variants,
                prior,
                prior_gap,
            )
        )
    static = np.array(rows, dtype=float).reshape(len(line), len(STATIC_FEATURES) - len(CONTEXT_FEATURES))
    return np.hstack([static, context_features(line, lexicon, rank)])


def model_inputs(static: np.ndarray, word_right: np.ndarray, word_features: np.ndarray) -> np.ndarray:
    """TOKEN_FEATURES from the static features, the word-right probabilities (NaN: unscored) and
    the word-right features (confidence.FEATURES; rows of unscored tokens are zeros)."""
    static = np.asarray(static, dtype=float).reshape(-1, len(STATIC_FEATURES))
    p = np.asarray(word_right, dtype=float)
    scored = ~np.isnan(p)
    q = np.clip(np.nan_to_num(p, nan=0.5), 1e-3, 1 - 1e-3)
    logit = np.where(scored, np.clip(np.log(q / (1 - q)), -CLIP, CLIP), 0.0)
    words = np.asarray(word_features, dtype=float).reshape(len(static), len(FEATURES))
    return np.column_stack([scored.astype(float), logit, static, words])


@dataclass(frozen=True)
class TokenRight:
    """Boosted trees + an isotonic map of their probability per way in ('ocr', 'text')."""

    trees: dict[str, Trees]
    knots: dict[str, tuple[np.ndarray, np.ndarray]]
    name: str = "none"

    def __call__(self, inputs: np.ndarray, way: str) -> np.ndarray:
        z = self.trees[way].log_odds(inputs)
        return np.interp(1.0 / (1.0 + np.exp(-z)), *self.knots[way])

    @classmethod
    def load_dict(cls, data: dict[str, Any], name: str = "none") -> TokenRight:
        if not set(data["features"]) <= set(TOKEN_FEATURES):
            raise ValueError("token-right model fitted on other features; refit with scripts/fit_word_right.py")
        trees = {way: Trees.load_dict(m) for way, m in data["maps"].items()}
        if tuple(data["features"]) != TOKEN_FEATURES:  # fitted without a newer feature: its columns of TOKEN_FEATURES
            column = np.array([TOKEN_FEATURES.index(f) for f in data["features"]], dtype=np.int64)
            trees = {
                way: dataclasses.replace(t, feature=np.where(t.feature >= 0, column[np.maximum(t.feature, 0)], -1))
                for way, t in trees.items()
            }
        knots = {
            way: (np.array(m["iso_x"], dtype=float), np.array(m["iso_y"], dtype=float))
            for way, m in data["maps"].items()
        }
        return cls(trees, knots, name=name)


@cache
def default_token_right(directory: Path = MODEL_DIR) -> TokenRight | None:
    """The `tokens` part of the shipped word_right.json, or None (tokens keep what they have)."""
    path = directory / WORD_RIGHT_FILE
    if not path.exists():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    if "tokens" not in data:
        return None
    try:
        return TokenRight.load_dict(data["tokens"], name=str(data["id"]))
    except ValueError as exc:
        log.warning("%s: unscored tokens keep their OCR confidence", exc)
        return None


def views(tokens: Sequence[Token]) -> list[TokenView]:
    """TokenViews of a line of Document tokens."""
    return [
        TokenView(
            t.text,
            t.text != t.source_text,
            t.ocr_confidence,
            None if t.box is None else (t.box.x0, t.box.y0, t.box.x1, t.box.y1),
            t.source_text,
            tuple(t.flags),
        )
        for t in tokens
    ]


Scored = dict[tuple[int, int], tuple[float, np.ndarray]]  # (line, token) → word-right probability, features


def page_inputs(page: Page, scored: Scored, lexicon: Mapping[str, float]) -> list[tuple[int, int, str, np.ndarray]]:
    """(line, token, way in, TOKEN_FEATURES) of every token of a page."""
    out = []
    blank = np.zeros(len(FEATURES))
    rank = 0
    for n, line in enumerate(page.lines):
        if not line.tokens:
            continue
        static = line_features(views(line.tokens), lexicon, rank if page.number == 1 else None)
        rank += 1
        found = [scored.get((n, i)) for i in range(len(line.tokens))]
        inputs = model_inputs(
            static,
            np.array([np.nan if f is None else f[0] for f in found]),
            np.array([blank if f is None else f[1] for f in found]),
        )
        for i, token in enumerate(line.tokens):
            out.append((n, i, "ocr" if token.ocr_confidence is not None else "text", inputs[i]))
    return out


def score_page(page: Page, scored: Scored, lexicon: Mapping[str, float], model: TokenRight | None = None) -> Page:
    """The page with every token's restore_confidence the token-right probability: the
    probability that its final text is right (the page as it was without the model)."""
    model = model or default_token_right()
    if model is None:
        return page
    rows = page_inputs(page, scored, lexicon)
    lines = [list(line.tokens) for line in page.lines]
    for way in ("ocr", "text"):
        mine = [(n, i, x) for n, i, w, x in rows if w == way]
        if not mine:
            continue
        for (n, i, _), p in zip(mine, model(np.array([x for *_, x in mine]), way), strict=True):
            lines[n][i] = lines[n][i].model_copy(update={"restore_confidence": round(float(p), 4)})
    return page.model_copy(
        update={"lines": [line.model_copy(update={"tokens": t}) for line, t in zip(page.lines, lines, strict=True)]}
    )
