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
  candidate, themselves;
- a word's letters never change, only its marks (and a lost space), so a correct word stays
  unless the context makes a mark swap far likelier than tesseract's own reading: the copy
  carries the channel's identity probability plus an identity prior, tuned on the tune plans
  so that almost no correct word changes;
- casing follows the input token (tokens.restore_case).

The channel's reading settings and the decoder weights live in the same JSON as the table.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.restore.candidates import Candidate, CandidateGenerator
from pipeline.restore.channel import Channel, ChannelSettings, skeleton
from pipeline.restore.lattice import make_slot, viterbi
from pipeline.restore.ngram import BOS, NONE, UNK, NgramLM, token_units
from pipeline.restore.noise import NoiseModel
from pipeline.restore.tokens import Piece, restore_case, split_token
from pipeline.vietnamese import normalize

if TYPE_CHECKING:
    from pipeline.document import Page

__all__ = ["CHANNEL_SETTINGS", "VIE_NOISE", "VieCorrector", "VieSettings", "correct_page"]

VIE_NOISE = Path(__file__).resolve().parents[2] / "corpora" / "restore_noise_vie.json"

# How the vie table is read (written into the JSON by scripts/fit_vie_channel.py): tesseract -l vie
# does not drop marks wholesale (no plain-stripping share), and a mark change never seen on the
# tune plans is rarer than the English channel's floor assumes.
CHANNEL_SETTINGS: dict[str, float] = {
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
    candidates: int = 8  # best alternatives per token kept in the lattice, besides the word as read
    beam: int = 48


@dataclass(frozen=True)
class _Slot:
    texts: tuple[str, ...]  # lower-case candidate texts, the word as read first
    units: tuple[tuple[int, ...], ...]
    scores: tuple[float, ...]


class VieCorrector:
    """vie channel candidates + syllable LM, one Viterbi per line."""

    def __init__(
        self, lm: NgramLM, generator: CandidateGenerator, settings: VieSettings | None = None, name: str = "vie-channel"
    ) -> None:
        self.lm, self.generator = lm, generator
        self.settings = settings or VieSettings()
        self.name = name  # what provenance records: vie-channel-<sha256 of the JSON, 12 hex>
        self._cache: dict[Piece, _Slot] = {}

    @classmethod
    def load(cls, lm: NgramLM, lexicon: CandidateGenerator, path: Path = VIE_NOISE) -> VieCorrector:
        """From the vie channel JSON; `lexicon` is a generator whose lexicon is shared (the restorer's)."""
        raw = Path(path).read_bytes()
        data = json.loads(raw)
        known = {f.name for f in fields(ChannelSettings)}
        channel = Channel(
            NoiseModel.load(path), ChannelSettings(**{k: v for k, v in data["channel"].items() if k in known})
        )
        settings = VieSettings(**data.get("decoder", {}))
        return cls(lm, lexicon.with_channel(channel), settings, f"vie-channel-{hashlib.sha256(raw).hexdigest()[:12]}")

    def with_settings(self, **changes: float) -> VieCorrector:
        """The same corrector with other decoder weights (tuning); candidate sets are recomputed."""
        return VieCorrector(self.lm, self.generator, VieSettings(**{**asdict(self.settings), **changes}), self.name)

    # ------------------------------------------------------------------ candidates

    def alternatives(self, core: str) -> list[Candidate]:
        """The generator's candidates for a core that differ from it in marks only, or by one lost
        space (a merge): vie OCR keeps letters, so other letters are no reading of it."""
        key = normalize(core).lower()
        bare = skeleton(key)
        out = []
        for c in self.generator.candidates(core, 24):
            if c.kind == "copy" or c.text == key:
                continue
            if skeleton(c.text.replace(" ", "")) == bare and (c.kind == "word" or c.kind == "merge"):
                out.append(c)
        return out[: self.settings.candidates]

    def _slot(self, piece: Piece) -> _Slot:
        cached = self._cache.get(piece)
        if cached is not None:
            return cached
        s, lm = self.settings, self.lm
        key = normalize(piece.core).lower()
        texts, channel = [key], [0.0]
        if _correctable(piece):
            copy = self.generator.score(piece.core, key)
            texts, channel = [key], [copy.channel]
            for c in self.alternatives(piece.core):
                texts.append(c.text)
                channel.append(c.channel)
        units = [tuple(lm.text_ids(piece.prefix + t + piece.suffix)) if piece.kind == "word" else
                 tuple(lm.ids(token_units(piece.output()))) for t in texts]  # fmt: skip
        scores = [
            s.channel_weight * (c - channel[0]) + s.identity_prior * (i == 0) + s.unk_penalty * u.count(UNK)
            for i, (c, u) in enumerate(zip(channel, units, strict=True))
        ]
        slot = _Slot(tuple(texts), tuple(units), tuple(scores))
        if len(self._cache) > 100_000:
            self._cache.clear()
        self._cache[piece] = slot
        return slot

    # ------------------------------------------------------------------ decoding

    def correct_tokens(self, tokens: Sequence[str]) -> list[str]:
        """New text of every whitespace token of one line (the token itself where nothing changes)."""
        pieces = _pieces(tokens)
        if not any(_correctable(p) for p in pieces):
            return list(tokens)
        slots = [self._slot(p) for p in pieces]
        lattice = [make_slot(self.lm, s.units, s.scores) for s in slots]
        words = [p for p in pieces if p.kind == "word"]
        start = BOS if words and words[0].core[:1].isupper() else NONE
        path = viterbi(self.lm, lattice, self.settings.lm_weight, start, self.settings.beam)
        out = []
        for token, piece, slot, choice in zip(tokens, pieces, slots, path, strict=True):
            # the word as read stays exactly as read (its case, its spelling)
            out.append(token if choice == 0 else piece.output(restore_case(piece.core, slot.texts[choice])))
        return out


def _pieces(tokens: Sequence[str]) -> list[Piece]:
    pieces, previous = [], ""
    for i, token in enumerate(tokens):
        following = split_token(tokens[i + 1]).core if i + 1 < len(tokens) else ""
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


def correct_page(page: Page, corrector: VieCorrector) -> Page:
    """A copy of a vie OCR page with every word token corrected in its line's context; a changed
    token is flagged "restored" and FLAG, its OCR confidence kept."""
    lines = []
    for line in page.lines:
        texts = corrector.correct_tokens([t.text for t in line.tokens]) if line.tokens else []
        if all(new == t.text for new, t in zip(texts, line.tokens, strict=True)):
            lines.append(line)
            continue
        tokens = [
            t if new == t.text else t.model_copy(update={"text": new, "flags": [*t.flags, "restored", FLAG]})
            for t, new in zip(line.tokens, texts, strict=True)
        ]
        lines.append(line.model_copy(update={"tokens": tokens}))
    return page.model_copy(update={"lines": lines})
