"""A learned model of English-model OCR noise on Vietnamese text, for synthetic training pairs.

Fitted on aligned (noisy, clean) lines read by real `tesseract -l eng`, it learns what each
clean character becomes (ô → o/é/6, ủ → i/ti, đ → d, a space → nothing for a merge, a
letter → "x " for a split) in its neighbours' context, plus the observed forms of frequent
words (của → ctia/cua/cia). `garble` replays those statistics on clean text. Saved as JSON.
"""

from __future__ import annotations

import json
import random
import re
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from rapidfuzz.distance import Levenshtein

from pipeline.vietnamese import strip_diacritics

__all__ = ["NoiseModel", "align_chars", "strip_accents"]

FORMAT = "gazette-restore-noise/1"
MIN_CONTEXT_COUNT = 25  # a context needs this many observations to get its own distribution
MIN_CONTEXT_SHIFT = 0.06  # ... and must differ from its backoff by this total variation
MIN_TOKEN_COUNT = 12
MAX_TOKENS = 2500
_TOKEN = re.compile(r"\S+")
_CORE = re.compile(r"[^\W\d_](?:.*[^\W\d_])?")  # first to last letter of a token

Counts = dict[str, int]
# (probability that the character stays itself, other outputs, their cumulative probabilities)
Dist = tuple[float, list[str], list[float]]


@lru_cache(maxsize=4096)
def context_class(char: str) -> str:
    """Context symbol of a neighbour: folded lower-case letter, '0' digit, ' ' gap, '.' other."""
    if not char or char.isspace():
        return " "
    if char.isdigit():
        return "0"
    if char.isalpha():
        folded = strip_diacritics(char).lower()
        return folded if len(folded) == 1 else char
    return "."


def _fold(text: str) -> str:
    """Per-character folded text, same length as text, so alignments map back 1:1."""
    return "".join(context_class(c) if c.isalpha() else c for c in text)


def align_chars(clean: str, noisy: str) -> list[str]:
    """What each character of clean became in noisy ('' if deleted).

    Aligned on folded text so ô meets o (not 6 by chance). Inserted noisy text is attached
    to the neighbour that changed, e.g. của → ctia gives ủ → 'ti', or to the left one.
    """
    outs = [""] * len(clean)
    inserts: list[tuple[int, str]] = []
    for op in Levenshtein.opcodes(_fold(clean), _fold(noisy)):
        if op.tag == "insert":
            inserts.append((op.src_start, noisy[op.dest_start : op.dest_end]))
        elif op.tag in ("equal", "replace"):
            for k in range(op.src_end - op.src_start):
                outs[op.src_start + k] = noisy[op.dest_start + k] if op.dest_start + k < op.dest_end else ""
    same = [o == c for o, c in zip(outs, clean, strict=True)]
    for pos, text in inserts:
        if not clean:
            break
        if pos == 0 or (pos < len(clean) and (clean[pos - 1].isspace() or (same[pos - 1] and not same[pos]))):
            outs[pos] = text + outs[pos]
        else:
            outs[pos - 1] += text
    return outs


def _core_span(token: str) -> tuple[int, int] | None:
    match = _CORE.search(token)
    return (match.start(), match.end()) if match else None


def _tv(p: Counts, q: Counts) -> float:
    """Total variation distance between two count distributions."""
    np_, nq = sum(p.values()), sum(q.values())
    return 0.5 * sum(abs(p.get(k, 0) / np_ - q.get(k, 0) / nq) for k in set(p) | set(q))


def _prune_outputs(counts: Counts) -> Counts:
    """Drop outputs seen once when the character is common: mostly one-off OCR accidents."""
    total = sum(counts.values())
    return {k: v for k, v in counts.items() if v > 1 or total < 50} or counts


def _dist(char: str, counts: Counts) -> Dist:
    total = sum(counts.values())
    others = sorted(((v, k) for k, v in counts.items() if k != char), reverse=True)
    changed = sum(v for v, _ in others)
    cum, acc = [], 0
    for v, _ in others:
        acc += v
        cum.append(acc / changed)
    return 1.0 - changed / total, [k for _, k in others], cum


def _draw(dist: Dist, same: str, rng: random.Random, severity: float) -> str:
    """Sample an output; severity scales the probability of any change."""
    p_same, outs, cum = dist
    p_change = min(1.0, (1.0 - p_same) * severity)
    r = rng.random()
    if r >= p_change or not outs:
        return same
    return outs[bisect_right(cum, r / p_change)]


@dataclass
class NoiseModel:
    """Character confusions in context (trigram → bigram → unigram backoff) and word forms."""

    chars: dict[str, dict[str, Counts]] = field(default_factory=dict)  # char -> context -> counts
    tokens: dict[str, tuple[int, Counts]] = field(default_factory=dict)  # word -> (other, forms)
    stats: dict[str, int] = field(default_factory=dict)
    severity: list[float] = field(default_factory=lambda: [1.0])  # quantiles of line severity

    def __post_init__(self) -> None:
        self._compile()

    # ------------------------------------------------------------------ fitting

    @classmethod
    def fit(cls, pairs: Iterable[tuple[str, str]]) -> NoiseModel:
        """Estimate the model from (noisy, clean) line pairs."""
        raw: dict[str, dict[str, Counter]] = defaultdict(lambda: defaultdict(Counter))
        words: dict[str, Counter] = defaultdict(Counter)
        n_pairs = n_chars = 0
        changes: list[tuple[str, int]] = []  # (clean line, changed characters) for severity
        for noisy, clean in pairs:
            outs = align_chars(clean, noisy)
            n_pairs, n_chars = n_pairs + 1, n_chars + len(clean)
            changes.append((clean, sum(o != c for o, c in zip(outs, clean, strict=True))))
            classes = [" ", *(context_class(c) for c in clean), " "]
            for i, (char, out) in enumerate(zip(clean, outs, strict=True)):
                prev, nxt = classes[i], classes[i + 2]
                for key in ("", "<" + prev, ">" + nxt, "=" + prev + nxt):
                    raw[char][key][out] += 1
            for match in _TOKEN.finditer(clean):
                span = _core_span(match.group())
                if span:
                    a, b = match.start() + span[0], match.start() + span[1]
                    words[clean[a:b]]["".join(outs[a:b])] += 1
        chars = {c: cls._prune_contexts({k: dict(v) for k, v in ctx.items()}) for c, ctx in raw.items()}
        stats = {"pairs": n_pairs, "chars": n_chars}
        severity = _severity_quantiles(changes, chars)
        return cls(chars=chars, tokens=cls._word_table(words), stats=stats, severity=severity)

    @staticmethod
    def _prune_contexts(contexts: dict[str, Counts]) -> dict[str, Counts]:
        """Keep a context only if it is frequent and behaves differently from its backoff."""
        kept = {"": _prune_outputs(contexts[""])}
        for side in "<>=":
            for key, counts in contexts.items():
                if not key.startswith(side) or sum(counts.values()) < MIN_CONTEXT_COUNT:
                    continue
                backoff = kept[""]
                if side == "=":  # a trigram backs off to the bigram garble() would use
                    backoff = kept.get(">" + key[2], kept.get("<" + key[1], kept[""]))
                if _tv(counts, backoff) >= MIN_CONTEXT_SHIFT:
                    kept[key] = _prune_outputs(counts)
        return kept

    @staticmethod
    def _word_table(words: dict[str, Counter]) -> dict[str, tuple[int, Counts]]:
        """Observed noisy forms of frequent words; rare forms are left to the character model."""
        frequent = sorted((w for w in words if words[w].total() >= MIN_TOKEN_COUNT), key=lambda w: -words[w].total())
        table = {}
        for word in frequent[:MAX_TOKENS]:
            forms = {f: n for f, n in words[word].items() if n >= 2}
            table[word] = (words[word].total() - sum(forms.values()), forms)
        return table

    # ------------------------------------------------------------------ persistence

    def save(self, path: str | Path) -> None:
        data = {
            "format": FORMAT,
            "stats": self.stats,
            "severity": self.severity,
            "chars": self.chars,
            "tokens": self.tokens,
        }
        Path(path).write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> NoiseModel:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if data.get("format") != FORMAT:
            raise ValueError(f"{path}: not a {FORMAT} file")
        tokens = {w: (int(other), forms) for w, (other, forms) in data["tokens"].items()}
        return cls(data["chars"], tokens, data.get("stats", {}), data.get("severity", [1.0]))

    # ------------------------------------------------------------------ garbling

    def _compile(self) -> None:
        """Turn counts into sampling tables keyed for fast lookup."""
        self._uni: dict[str, Dist] = {}
        self._ctx: dict[tuple[str, str], Dist] = {}
        for char, contexts in self.chars.items():
            for key, counts in contexts.items():
                if key == "":
                    self._uni[char] = _dist(char, counts)
                else:
                    self._ctx[(key, char)] = _dist(char, counts)
        self._words: dict[str, tuple[float, Dist]] = {}
        for word, (other, forms) in self.tokens.items():
            total = other + sum(forms.values())
            if forms:  # the 'other' share goes to the character model
                self._words[word] = (other / total, _dist(word, forms))

    def _char_dist(self, prev: str, char: str, nxt: str) -> Dist | None:
        ctx = self._ctx
        return (
            ctx.get(("=" + prev + nxt, char))
            or ctx.get((">" + nxt, char))
            or ctx.get(("<" + prev, char))
            or self._uni.get(char)
        )

    def _garble_chars(self, text: str, start: int, end: int, rng: random.Random, severity: float, protect: bool) -> str:
        """Character model over text[start:end]; protect keeps ASCII (codes, numbers) intact."""
        out = []
        for i in range(start, end):
            char = text[i]
            if char.isdigit() or (protect and char.isascii()):
                out.append(char)
                continue
            prev = context_class(text[i - 1]) if i else " "
            nxt = context_class(text[i + 1]) if i + 1 < len(text) else " "
            dist = self._char_dist(prev, char, nxt)
            if dist:
                out.append(_draw(dist, char, rng, severity))
            else:  # an unseen letter (rare capital, ỹ...) is read as its bare ASCII letter
                out.append(strip_diacritics(char) if rng.random() < severity else char)
        return "".join(out)

    def _garble_token(self, text: str, start: int, end: int, rng: random.Random, severity: float) -> str:
        token = text[start:end]
        if any(c.isdigit() for c in token):  # 1759/KH-UBND, 22/4/2019: never invent digits
            return self._garble_chars(text, start, end, rng, severity, protect=True)
        span = _core_span(token)
        entry = self._words.get(token[span[0] : span[1]]) if span else None
        if entry is None or rng.random() < entry[0]:
            return self._garble_chars(text, start, end, rng, severity, protect=False)
        a, b = start + span[0], start + span[1]
        core = _draw(entry[1], text[a:b], rng, severity)
        return (
            self._garble_chars(text, start, a, rng, severity, False)
            + core
            + self._garble_chars(text, b, end, rng, severity, False)
        )

    def sample_severity(self, rng: random.Random) -> float:
        """A line severity drawn from the fitted spread (clean-ish lines to badly read ones)."""
        q = self.severity
        x = rng.random() * (len(q) - 1)
        i = min(int(x), len(q) - 2) if len(q) > 1 else 0
        return q[i] + (q[min(i + 1, len(q) - 1)] - q[i]) * (x - i)

    def garble(self, text: str, rng: random.Random, severity: float = 1.0, keep_word_prob: float = 0.0) -> str:
        """Noisy version of clean text; keep_word_prob leaves some words correct ('mixed')."""
        out, pos = [], 0
        for match in _TOKEN.finditer(text):
            out.append(self._garble_chars(text, pos, match.start(), rng, severity, False))  # merges
            if keep_word_prob and rng.random() < keep_word_prob:
                out.append(match.group())
            else:
                out.append(self._garble_token(text, match.start(), match.end(), rng, severity))
            pos = match.end()
        out.append(self._garble_chars(text, pos, len(text), rng, severity, False))
        return "".join(out)

    # ------------------------------------------------------------------ reporting

    def top_confusions(self, n: int = 20, beyond_stripping: bool = False) -> list[tuple[str, str, int, float]]:
        """Most frequent (clean char, output, count, P(output | char)) changes, contexts pooled.

        beyond_stripping skips the plain mark losses (ấ → a, đ → d) to show the OCR-specific ones.
        """
        rows = []
        for char, contexts in self.chars.items():
            counts = contexts[""]
            total = sum(counts.values())
            trivial = {char, strip_diacritics(char)} if beyond_stripping else {char}
            rows += [(char, out, k, k / total) for out, k in counts.items() if out not in trivial]
        return sorted(rows, key=lambda r: -r[2])[:n]

    def merge_split_rates(self) -> tuple[float, float]:
        """P(a space disappears) and P(a non-space character gains a space): merges, splits."""
        spaces = self.chars.get(" ", {}).get("", {})
        merge = sum(v for k, v in spaces.items() if " " not in k) / max(1, sum(spaces.values()))
        gained = total = 0
        for char, contexts in self.chars.items():
            if char != " ":
                counts = contexts[""]
                total += sum(counts.values())
                gained += sum(v for k, v in counts.items() if " " in k)
        return merge, gained / max(1, total)


def _severity_quantiles(changes: list[tuple[str, int]], chars: dict[str, dict[str, Counts]]) -> list[float]:
    """Quantiles (0, 5, ..., 100 %) of observed / expected changes per line (1.0 = average)."""
    p_change = {c: 1.0 - _dist(c, ctx[""])[0] for c, ctx in chars.items()}
    ratios = []
    for clean, changed in changes:
        expected = sum(p_change.get(c, 0.0) for c in clean)
        if expected >= 1.0:  # lines with almost nothing to garble say little about severity
            ratios.append(changed / expected)
    if not ratios:
        return [1.0]
    ratios.sort()
    return [round(ratios[min(len(ratios) - 1, round(k * (len(ratios) - 1) / 20))], 3) for k in range(21)]


def strip_accents(text: str, rng: random.Random | None = None, keep_word_prob: float = 0.0) -> str:
    """Plain noise: every mark removed (đ → d); with rng, keep_word_prob of words stay correct."""
    if rng is None or not keep_word_prob:
        return strip_diacritics(text)
    return "".join(
        w if w.isspace() or rng.random() < keep_word_prob else strip_diacritics(w) for w in re.split(r"(\s+)", text)
    )
