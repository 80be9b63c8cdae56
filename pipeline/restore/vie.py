"""Contextual correction of `tesseract -l vie` output, every word token (issue 12).

vie OCR keeps its letters but swaps marks it is sure of: triển → triến, để → đế, chi → chỉ,
dữ → đữ. Each word token gets candidates from the vie channel (corpora/restore_noise_vie.json,
learned from real vie OCR of the tune plans by scripts/fit_vie_channel.py) over the restore
lexicon: the word as read, words with the same letters and other marks (đ counts as d), and two
words for one token that ran together (quảcủa → quả của). The syllable LM then picks the line's
best reading by Viterbi (restore/lattice.py). What the corrector may not do is built into the
lattice, not checked after it:

- one output per token: no word is invented or dropped;
- numbers, codes, acronyms, mixed-case words (IoT, TTg) and any token with a digit have one
  candidate, themselves; a mixed-case word that spells a known term once its marks are dropped
  is that term (restore/terms.py: IơT → IoT);
- a word's letters never change, only its marks (and a lost space), so a correct word stays
  unless the context makes a mark swap far likelier than tesseract's own reading: the copy
  carries the channel's identity probability plus an identity prior, tuned on the tune plans
  so that almost no correct word changes;
- casing follows the input token (tokens.restore_case), except where the line shows vie OCR
  read a short word in the wrong case (case_repairs: `cơ SỞ.` → cơ sở).

The channel's reading settings and the decoder weights live in the same JSON as the table.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.restore.candidates import MERGE_MIN_LEN, CandidateGenerator
from pipeline.restore.channel import Channel, ChannelSettings, skeleton
from pipeline.restore.lattice import Slot, make_slot, viterbi_lines
from pipeline.restore.ngram import BOS, NONE, UNK, NgramLM, token_units
from pipeline.restore.noise import NoiseModel
from pipeline.restore.terms import TERMS, Terms
from pipeline.restore.tokens import Piece, core_of, restore_case, split_token
from pipeline.vietnamese import TONE_MARKS, normalize

if TYPE_CHECKING:
    from pipeline.document import Page

__all__ = ["CHANNEL_SETTINGS", "VIE_NOISE", "VieChannel", "VieCorrector", "VieSettings", "correct_page", "vie_channel"]

VIE_NOISE = Path(__file__).resolve().parents[2] / "corpora" / "restore_noise_vie.json"

# How the vie table is read (written into the JSON by scripts/fit_vie_channel.py): tesseract -l vie
# does not drop marks wholesale (no plain-stripping share), and a mark change never seen on the
# tune plans is rarer than the English channel's floor assumes.
CHANNEL_SETTINGS: dict[str, float | bool] = {
    "strip_share": 0.0,
    "identity_floor": 0.9,
    "vietnamese_identity": 0.9,
    "similar_floor": math.log(3e-4),
}
FLAG = "in-context"  # with "restored": a word the vie corrector changed


@dataclass(frozen=True)
class VieSettings:
    """Decoder weights (tuned on the tune plans by scripts/fit_vie_channel.py --tune)."""

    channel_weight: float = 1.0  # × log P(read | candidate) under the vie channel
    lm_weight: float = 1.0  # × the syllable LM
    identity_prior: float = 2.0  # nats added to the word as read: tesseract's reading is mostly right
    unk_penalty: float = -10.0  # per <unk> LM unit (đữ is no word)
    candidates: int = 5  # best alternatives per token kept in the lattice, besides the word as read
    running: bool = False  # a page's consecutive lines decoded as one text (context across line ends)
    margin: float = 12.0  # nats the LM could give at most: alternatives further below the word as read are dropped
    beam: int = 48


class VieChannel(Channel):
    """The channel with a pooled estimate for a mark change the tune plans never showed on that
    letter: P(tone read | tone) over all vowels × P(letter form read | form) (ô/ơ/o, ă/â/a, đ/d)
    over all tones. tesseract confuses the hỏi and sắc glyphs whatever vowel carries them, so ủ → ú
    is about as likely as the ổ → ố it did show; the flat floor would call it near impossible."""

    def __init__(self, noise: NoiseModel, settings: ChannelSettings) -> None:
        super().__init__(noise, settings)
        tones: dict[str, Counter[str]] = defaultdict(Counter)
        forms: dict[str, Counter[str]] = defaultdict(Counter)
        for char, contexts in noise.chars.items():
            if len(char) != 1 or not char.isalpha():
                continue
            form, tone = _marks(char.lower())
            for out, n in contexts.get("", {}).items():
                out = out.lower()
                if len(out) == 1 and skeleton(out) == skeleton(char):
                    read_form, read_tone = _marks(out)
                    tones[tone][read_tone] += n
                    forms[form][read_form] += n
                else:  # another letter, a lost letter: counts in the totals only
                    tones[tone]["\0"] += n
                    forms[form]["\0"] += n
        self._tones = {t: {o: n / c.total() for o, n in c.items()} for t, c in tones.items()}
        self._forms = {f: {o: n / c.total() for o, n in c.items()} for f, c in forms.items()}

    def logp(self, char: str, piece: str) -> float:
        lp = self._table(char).get(piece)
        if lp is not None or len(piece) != 1 or skeleton(piece) != skeleton(char):
            return super().logp(char, piece)
        (form, tone), (read_form, read_tone) = _marks(char), _marks(piece)
        p = self._tones.get(tone, {}).get(read_tone, 0.0) * self._forms.get(form, {}).get(read_form, 0.0)
        return max(math.log(p), self.settings.similar_floor) if p > 0 else self.settings.similar_floor


def _marks(char: str) -> tuple[str, str]:
    """(the letter with its hat, horn or breve, its tone mark): ổ → (ô, hỏi), đ → (đ, '')."""
    parts = unicodedata.normalize("NFD", char)
    tone = "".join(c for c in parts if c in TONE_MARKS)
    return unicodedata.normalize("NFC", "".join(c for c in parts if c not in TONE_MARKS)), tone


def vie_channel(noise: NoiseModel, block: dict[str, float | bool]) -> Channel:
    """The channel a JSON "channel" block describes: its ChannelSettings, and "pooled_marks" for VieChannel."""
    known = {f.name for f in fields(ChannelSettings)}
    settings = ChannelSettings(**{k: float(v) for k, v in block.items() if k in known})
    return VieChannel(noise, settings) if block.get("pooled_marks") else Channel(noise, settings)


@dataclass(frozen=True)
class _Slot:
    texts: tuple[str, ...]  # lower-case candidate texts, the word as read first
    lattice: Slot  # their scores and LM units


class VieCorrector:
    """vie channel candidates + syllable LM, one Viterbi per line."""

    def __init__(
        self,
        lm: NgramLM,
        generator: CandidateGenerator,
        settings: VieSettings | None = None,
        name: str = "vie-channel",
        terms: Terms | None = None,
    ) -> None:
        self.lm, self.generator = lm, generator
        self.settings = settings or VieSettings()
        self.terms = terms if terms is not None else Terms.load() if TERMS.exists() else Terms(())
        self.name = name  # what provenance records: vie-channel-<sha256 of the JSON, 12 hex>
        self._cache: dict[Piece, _Slot] = {}

    @classmethod
    def load(cls, lm: NgramLM, lexicon: CandidateGenerator, path: Path = VIE_NOISE) -> VieCorrector:
        """From the vie channel JSON; `lexicon` is a generator whose lexicon is shared (the restorer's)."""
        raw = Path(path).read_bytes()
        data = json.loads(raw)
        channel = vie_channel(NoiseModel.load(path), data["channel"])
        settings = VieSettings(**data.get("decoder", {}))
        return cls(lm, lexicon.with_channel(channel), settings, f"vie-channel-{hashlib.sha256(raw).hexdigest()[:12]}")

    def with_settings(self, **changes: float) -> VieCorrector:
        """The same corrector with other decoder weights (tuning); candidate sets are recomputed."""
        settings = VieSettings(**{**asdict(self.settings), **changes})
        return VieCorrector(self.lm, self.generator, settings, self.name, self.terms)

    # ------------------------------------------------------------------ candidates

    def alternatives(self, key: str) -> list[tuple[str, float]]:
        """Other readings of a lower-case core with their channel log-probability: lexicon words
        with its letters and other marks (vie OCR keeps letters), and for a core the lexicon lacks,
        two words run together (quảcủa → quả của); best first, at most `candidates`, none so far
        below the word as read that no context could pay for it (`margin`)."""
        channel, s = self.generator.channel, self.settings
        read = tuple(key)
        copy = channel.aligned(key, read)
        found = [
            (t, channel.aligned(t, read)) for t in self.generator.same_letters(key) if t != key and len(t) == len(key)
        ]
        if len(key) >= MERGE_MIN_LEN and not self.generator.known(key):
            found += [
                (c.text, c.channel)
                for c in self.generator.candidates(key, 24)
                if c.kind == "merge" and skeleton(c.text.replace(" ", "")) == skeleton(key)
            ]
        floor = copy - (s.margin + s.identity_prior) / s.channel_weight
        found = sorted((f for f in found if f[1] >= floor), key=lambda f: -f[1])
        return found[: s.candidates]

    def _slot(self, piece: Piece) -> _Slot:
        cached = self._cache.get(piece)
        if cached is not None:
            return cached
        s, lm = self.settings, self.lm
        key = normalize(piece.core).lower()
        texts, channel = [key], [0.0]
        if _correctable(piece):
            channel = [self.generator.channel.aligned(key, tuple(key))]
            for text, logp in self.alternatives(key):
                texts.append(text)
                channel.append(logp)
        units = [tuple(lm.text_ids(piece.prefix + t + piece.suffix)) if piece.kind == "word" else
                 tuple(lm.ids(token_units(piece.output()))) for t in texts]  # fmt: skip
        scores = [
            s.channel_weight * (c - channel[0]) + s.identity_prior * (i == 0) + s.unk_penalty * u.count(UNK)
            for i, (c, u) in enumerate(zip(channel, units, strict=True))
        ]
        slot = _Slot(tuple(texts), make_slot(lm, units, scores))
        if len(self._cache) > 100_000:
            self._cache.clear()
        self._cache[piece] = slot
        return slot

    # ------------------------------------------------------------------ decoding

    def correct_tokens(self, tokens: Sequence[str]) -> list[str]:
        """New text of every whitespace token of one line (the token itself where nothing changes)."""
        return self.correct_lines([tokens])[0]

    def correct_lines(self, lines: Sequence[Sequence[str]]) -> list[list[str]]:
        """correct_tokens of several lines (a page's, in reading order), decoded together; with
        `running`, consecutive lines with tokens are one text, read across line ends."""
        out = [list(tokens) for tokens in lines]
        groups: list[list[tuple[int, list[Piece], list[_Slot]]]] = []
        previous = -2
        for n, tokens in enumerate(lines):
            pieces = _pieces(tokens)
            if not pieces:
                continue
            slots = [self._slot(p) for p in pieces]
            if self.settings.running and groups and n == previous + 1:
                groups[-1].append((n, pieces, slots))
            else:
                groups.append([(n, pieces, slots)])
            previous = n
        groups = [g for g in groups if any(len(slot.texts) > 1 for _, _, slots in g for slot in slots)]
        if groups:
            self._decode(groups, out)
        return [case_repairs(self.terms.repair(tokens), self.generator.known) for tokens in out]

    def _decode(self, groups: list[list[tuple[int, list[Piece], list[_Slot]]]], out: list[list[str]]) -> None:
        """The groups' lines decoded together by Viterbi; a word chosen other than as read goes into out."""
        lattices = [[slot.lattice for _, _, slots in g for slot in slots] for g in groups]
        starts = [_start(g[0][1]) for g in groups]
        paths = viterbi_lines(self.lm, lattices, self.settings.lm_weight, starts, self.settings.beam)
        for group, path in zip(groups, paths, strict=True):
            for n, pieces, slots in group:
                here, path = path[: len(slots)], path[len(slots) :]
                for i, (piece, slot, choice) in enumerate(zip(pieces, slots, here, strict=True)):
                    if choice:  # the word as read (choice 0) stays exactly as read: its case, its spelling
                        out[n][i] = piece.output(restore_case(piece.core, slot.texts[choice]))


# Letters whose capital has the shape of their lower case, only larger: alone, their case is a
# guess for OCR (b/C for b/c).
_ONE_SHAPE = frozenset("cosvwxz")
_PAIR = re.compile(r"(?<![^\W\d_])[a-zđ]/(?P<b>[A-Z])(?![^\W\d_])")  # b/c, t/h: one letter each side, read b/C


def case_repairs(tokens: Sequence[str], known: Callable[[str], bool]) -> list[str]:
    """One line's tokens with the casing vie OCR got wrong made right; its letters stay:
    - a syllable in capitals alone in running lower-case text (`cơ SỞ.`, `địa PHƯƠNG của`) is
      lower case, title case before a title-case word (`các SỞ Y tế` → Sở); a capitalised word
      next to another (acronyms, names) and a line's first word stay as read;
    - a lower-case syllable that goes on in capitals (`tẾ`) is lower case;
    - a pair of one-letter abbreviations whose second letter has one shape (`b/C`) is lower case.
    Only a word with a marked vowel is recased, which no acronym has (AI, CP, HĐND stay), and
    `known` must hold for it in lower case (a lexicon word)."""
    cores = [core_of(t) for t in tokens]
    words = [i for i, c in enumerate(cores) if c.isalpha()]
    out = list(tokens)
    for k, i in enumerate(words):
        core = cores[i]
        lower = core.lower()
        new = core
        if core.isupper() and _marked_vowel(core) and k and known(lower) and cores[words[k - 1]].islower():
            after = cores[words[k + 1]] if k + 1 < len(words) and words[k + 1] == i + 1 else ""
            if not (after.isupper() and len(after) > 1):  # Y of Sở Y tế is title case
                new = lower[:1].upper() + lower[1:] if after[:1].isupper() else lower
        elif core[:1].islower() and not core.islower() and known(lower) and _marked_vowel(core):
            new = lower
        if new != core:
            out[i] = tokens[i].replace(core, new, 1)
    for i, token in enumerate(out):
        match = _PAIR.search(token)
        if match and skeleton(match["b"]) in _ONE_SHAPE:
            out[i] = token[: match.start("b")] + match["b"].lower() + token[match.end("b") :]
    return out


def _marked_vowel(word: str) -> bool:
    return any(skeleton(c) in "aeiouy" and c.lower() != skeleton(c) for c in word)


def _start(pieces: Sequence[Piece]) -> int:
    """<s> before a text opening with a capital (likely a sentence start), else no context."""
    words = [p for p in pieces if p.kind == "word"]
    return BOS if words and words[0].core[:1].isupper() else NONE


def _pieces(tokens: Sequence[str]) -> list[Piece]:
    pieces, previous = [], ""
    for i, token in enumerate(tokens):
        following = core_of(tokens[i + 1]) if i + 1 < len(tokens) else ""
        piece = split_token(token, first=i == 0, prev_core=previous, next_core=following)
        pieces.append(piece)
        previous = piece.core
    return pieces


def _correctable(piece: Piece) -> bool:
    """A word whose marks may be read wrong: letters only, lower, title or upper case, and a vowel
    (an acronym's D is no đ to guess: DN, TP); everything else is copied."""
    core = piece.core
    if piece.kind != "word" or not core.isalpha():
        return False
    if not (core.islower() or core.isupper() or (core[0].isupper() and core[1:].islower())):
        return False
    return any(skeleton(c) in "aeiouy" for c in core)


def _flags(text: str) -> list[str]:
    """A run-together pair read as two words stays one token, flagged "split" as restore does."""
    return ["restored", FLAG, "split"] if " " in text else ["restored", FLAG]


def correct_page(page: Page, corrector: VieCorrector) -> Page:
    """A copy of a vie OCR page with every word token corrected in its line's context; a changed
    token is flagged "restored" and FLAG, its OCR confidence kept."""
    texts = corrector.correct_lines([[t.text for t in line.tokens] for line in page.lines])
    lines = []
    for line, new in zip(page.lines, texts, strict=True):
        if all(a == t.text for a, t in zip(new, line.tokens, strict=True)):
            lines.append(line)
            continue
        tokens = [
            t if a == t.text else t.model_copy(update={"text": a, "flags": [*t.flags, *_flags(a)]})
            for t, a in zip(line.tokens, new, strict=True)
        ]
        lines.append(line.model_copy(update={"tokens": tokens}))
    return page.model_copy(update={"lines": lines})
