"""Restore lines with the trained model: tokens → candidates → network → chosen outputs.

`Restorer.encode` turns token lists (and, for training, their targets) into an `ArrayBatch`
of numpy arrays; a runtime turns it into candidate probabilities: ONNX Runtime by default
(pipeline/restore/runtime.py), or the torch model (`runtime="torch"`, training and checks).
`Restorer.restore_lines` is the inference path. Only `word` tokens go through the model;
numbers, codes, URLs and punctuation are copied (or code-fixed) before it, so they cannot
change; every output is one of the token's candidates, so nothing is invented or dropped.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from pipeline.lookalikes import to_letters
from pipeline.restore.candidates import Candidate, CandidateGenerator
from pipeline.restore.lattice import DecoderSettings, rescore_lines
from pipeline.restore.modelspec import (
    N_FEATURES,
    UNK,
    ArrayBatch,
    CandidateScorer,
    char_ids,
    load_config_and_vocab,
    model_id,
    weights_sha256,
)
from pipeline.restore.names import with_names
from pipeline.restore.ngram import LM_FILE, NgramLM
from pipeline.restore.paths import MODEL_DIR  # defined apart: importable without loading anything
from pipeline.restore.tokens import Piece, core_of, render, split_token
from pipeline.vietnamese import normalize, strip_diacritics

__all__ = ["MODEL_DIR", "Evidence", "RestoredLine", "RestoredToken", "Restorer"]

_TOKEN = re.compile(r"\S+")


@dataclass(frozen=True)
class RestoredToken:
    source: str  # the whitespace token as read
    text: str  # the restored token (two words joined by a space where a merge was split)
    confidence: float  # probability of the chosen output (1.0 for copied tokens)
    kind: str  # word | protected | code-fix | label-fix | place | name (a signer's given name, as read)

    @property
    def changed(self) -> bool:
        return self.text != self.source


@dataclass(frozen=True)
class RestoredLine:
    source: str
    tokens: tuple[RestoredToken, ...]

    @property
    def text(self) -> str:
        """The line with each token replaced in place: its whitespace is kept exactly."""
        replacements = iter(self.tokens)
        return _TOKEN.sub(lambda _: next(replacements).text, self.source)


@dataclass(frozen=True)
class Evidence:
    """What the restorer saw of one token (the word-right model's input, restore/confidence.py):
    its piece, its candidates, the network's probability of each and the index chosen."""

    piece: Piece
    candidates: list[Candidate]
    probs: np.ndarray
    choice: int


@dataclass
class _Slot:
    piece: Piece
    candidates: list[Candidate]


def _features(candidate: Candidate) -> list[float]:
    """The generator's view of a candidate, scaled to about -3..0 (log-probs floored at -30)."""
    return [
        max(candidate.channel, -30.0) / 10,
        max(candidate.prior, -30.0) / 10,
        float(candidate.kind == "copy"),
        float(candidate.kind == "merge"),
    ]


# A number in a syllable's place becomes that syllable only when the network alone is this sure:
# numbers must survive, and the LM likes a common word after a common word too much (16 chỗ →
# lỗ chỗ). On 3,000 held-out corpus lines with their marks stripped (791 two-digit numbers
# between words) 0.9 changed none; 0.7 and 0.5 changed one. Single digits (6 for ở) were let in
# after 1,768 of them between words in train-side corpus lines, marks stripped, kept all but one
# at any threshold, while the tune plans' English-model OCR had 94 lone 6s for ở/ô fixed at 0.9.
NUMBER_TO_WORD = 0.9


def _number_kept(slot: _Slot, choice: int, probs: np.ndarray) -> int:
    """The choice, or the copy for a number whose word reading the network is not sure of."""
    if not slot.piece.core.isdigit() or slot.candidates[choice].kind == "copy" or probs[choice] >= NUMBER_TO_WORD:
        return choice
    return next(i for i, c in enumerate(slot.candidates) if c.kind == "copy")


class Restorer:
    def __init__(self, runtime: CandidateScorer, vocab: list[str], generator: CandidateGenerator, k: int = 24) -> None:
        self.runtime = runtime
        self.vocab = vocab
        self.index = {syllable: i for i, syllable in enumerate(vocab)}
        self.generator = generator
        self.k = k
        self._cache: dict[tuple[str, str], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self.model_id = f"restore-{runtime.config.arch} (not saved)"
        self.rescorer: tuple[NgramLM, DecoderSettings] | None = None

    @classmethod
    def load(
        cls,
        directory: Path = MODEL_DIR,
        k: int = 24,
        rescore: bool = True,
        runtime: Literal["onnx", "torch"] = "onnx",
        threads: int | None = None,
    ) -> Restorer:
        """The model of `directory` on `runtime` with `threads` threads (None: the runtime's
        default); with its n-gram LM (`ngram/`) rescoring the choices when present and
        `rescore` is on (the measured best: benchmarks/restore.md)."""
        _, vocab = load_config_and_vocab(directory)
        digest = _weights_digest(directory)
        scorer: CandidateScorer
        if runtime == "onnx":
            from pipeline.restore.runtime import OnnxRuntime

            scorer = OnnxRuntime.load(directory, threads, digest)
        else:
            from pipeline.restore.model import TorchRuntime  # torch and transformers: seconds to import

            scorer = TorchRuntime.load(directory, threads)
        restorer = cls(scorer, vocab, CandidateGenerator.load(), k)
        restorer.model_id = model_id(directory, digest)
        ngram = directory / "ngram"
        if rescore and (ngram / LM_FILE).exists():
            restorer.rescorer = (NgramLM.load(ngram / LM_FILE), DecoderSettings.load(ngram / "decoder.json"))
            restorer.model_id += "+ngram"
        return restorer

    # --- encoding ---------------------------------------------------------------------------

    def slots(self, tokens: Sequence[str]) -> list[_Slot]:
        out = []
        previous = Piece("", "", "", "protected", "")
        for position, token in enumerate(tokens):
            # Neighbours decide some kinds: "I." opening a line, a number after "Điều"/"ngày",
            # a short number between two words (16 trình: lộ trình).
            following = core_of(tokens[position + 1]) if position + 1 < len(tokens) else ""
            piece = split_token(token, position == 0, previous.core, following, previous.suffix)
            previous = piece
            if piece.kind == "word" and piece.core.isdigit():
                # A number in a syllable's place may only become the syllable its digits draw
                # (16 → lộ, 14 → là), never another word (số): else it stays the number.
                drawn = to_letters(piece.core)
                candidates = [
                    c for c in self.generator.candidates(piece.core, self.k)
                    if c.kind == "copy" or strip_diacritics(c.text) == drawn
                ]  # fmt: skip
            elif piece.kind == "word":
                candidates = self.generator.candidates(piece.core, self.k)
            else:
                candidates = [Candidate(piece.core.lower(), 0.0, 0.0, "copy")]
            out.append(_Slot(piece, candidates))
        return out

    def _arrays(self, slot: _Slot) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Syllable ids [n, 2], features [n, F] and copy flags [n] of a slot's candidates (cached:
        the same garbled words recur on every page)."""
        key = (slot.piece.kind, slot.piece.core)
        cached = self._cache.get(key)
        if cached is None:
            ids = [[self.index.get(s, UNK) for s in c.text.split()[:2]] for c in slot.candidates]
            cached = (
                np.array([row + [0] * (2 - len(row)) for row in ids], dtype=np.int64),
                np.array([_features(c) for c in slot.candidates], dtype=np.float32),
                np.array([c.kind == "copy" for c in slot.candidates], dtype=bool),
            )
            if len(self._cache) > 200_000:
                self._cache.clear()
            self._cache[key] = cached
        return cached

    def encode(
        self, lines: Sequence[Sequence[str]], targets: Sequence[Sequence[str]] | None = None
    ) -> tuple[ArrayBatch, list[list[_Slot]]]:
        """Arrays for lines of whitespace tokens; targets (training) are the clean tokens."""
        config = self.runtime.config
        all_slots = [self.slots(tokens[: config.max_tokens]) for tokens in lines]
        b = len(lines)
        t = max(1, max(len(s) for s in all_slots))
        k = max(1, max((len(slot.candidates) for s in all_slots for slot in s), default=1))
        chars = np.zeros((b, t, config.char_width), dtype=np.int64)
        mask = np.zeros((b, t), dtype=bool)
        cand_ids = np.zeros((b, t, k, 2), dtype=np.int64)
        cand_copy = np.zeros((b, t, k), dtype=bool)
        cand_feats = np.zeros((b, t, k, N_FEATURES), dtype=np.float32)
        cand_mask = np.zeros((b, t, k), dtype=bool)
        # Every token's arrays written at once (per token, the slice assignments cost more than the rest).
        at = [(i, j) for i, line_slots in enumerate(all_slots) for j in range(len(line_slots))]
        found = [self._arrays(slot) for line_slots in all_slots for slot in line_slots]
        if at:
            rows, cols = np.array(at, dtype=np.int64).T
            mask[rows, cols] = True
            cores = [slot.piece.core or slot.piece.text for line_slots in all_slots for slot in line_slots]
            chars[rows, cols] = [char_ids(core, config.char_width) for core in cores]
            counts = np.array([len(ids) for ids, _, _ in found])
            token = np.repeat(np.arange(len(found)), counts)
            where = (rows[token], cols[token], np.arange(len(token)) - np.repeat(np.cumsum(counts) - counts, counts))
            cand_ids[where] = np.concatenate([ids for ids, _, _ in found])
            cand_feats[where] = np.concatenate([feats for _, feats, _ in found])
            cand_copy[where] = np.concatenate([copy for _, _, copy in found])
            cand_mask[where] = True
        if targets is None:
            return ArrayBatch(chars, mask, cand_ids, cand_copy, cand_feats, cand_mask), all_slots
        target = np.full((b, t), -100, dtype=np.int64)
        for i, line_slots in enumerate(all_slots):
            for j, slot in enumerate(line_slots):
                if slot.piece.kind == "word":
                    gold = split_token(targets[i][j]).core.lower()
                    target[i, j] = next((c for c, cand in enumerate(slot.candidates) if cand.text == gold), -100)
        return ArrayBatch(chars, mask, cand_ids, cand_copy, cand_feats, cand_mask, target=target), all_slots

    # --- inference --------------------------------------------------------------------------

    def restore_tokens(
        self,
        lines: Sequence[Sequence[str]],
        batch_lines: int = 64,
        evidence: list[list[Evidence]] | None = None,
        runs: Sequence[int] | None = None,
    ) -> list[list[RestoredToken]]:
        """Restored tokens of each line; `evidence`, when given (an empty list), receives per line
        one Evidence per token (a hook for the word-right model: the decoding is the same).

        `runs`: a run id per line; consecutive lines with the same id are running text, rescored
        by the LM as one sequence, so a word at a line end is read with the next line's first
        word (hệ / thống, cộng / đồng). A line without tokens ends a run. None: every line alone."""
        with _collector_paused():
            return self._restore_tokens(lines, batch_lines, evidence, runs)

    def _restore_tokens(
        self,
        lines: Sequence[Sequence[str]],
        batch_lines: int,
        evidence: list[list[Evidence]] | None,
        runs: Sequence[int] | None,
    ) -> list[list[RestoredToken]]:
        width = self.runtime.config.max_tokens
        # Long lines go through the network in windows of max_tokens; similar lengths are batched.
        windows = [
            (n, list(tokens[s : s + width])) for n, tokens in enumerate(lines) for s in range(0, len(tokens), width)
        ]
        scored: list[list[tuple[Piece, list[Candidate], np.ndarray]]] = [[] for _ in windows]
        window_slots: list[list[_Slot]] = [[] for _ in windows]
        order = sorted(range(len(windows)), key=lambda w: len(windows[w][1]))
        for start in range(0, len(order), batch_lines):
            ids = order[start : start + batch_lines]
            batch, slots = self.encode([windows[w][1] for w in ids])
            probs = self.runtime.candidate_probs(batch)
            for row, w in enumerate(ids):
                window_slots[w] = slots[row]
                scored[w] = [
                    (x.piece, x.candidates, probs[row, j, : len(x.candidates)]) for j, x in enumerate(slots[row])
                ]
        choices = self._choices(scored, _run_groups([n for n, _ in windows], runs))
        out: list[list[RestoredToken]] = [[] for _ in lines]
        line_pieces: list[list[Piece]] = [[] for _ in lines]
        if evidence is not None:
            evidence[:] = [[] for _ in lines]
        for w, (n, tokens) in enumerate(windows):
            kept = [
                _number_kept(x, c, p) for x, c, (_, _, p) in zip(window_slots[w], choices[w], scored[w], strict=True)
            ]
            out[n].extend(self._outputs(tokens, window_slots[w], kept, [p for _, _, p in scored[w]]))
            line_pieces[n].extend(slot.piece for slot in window_slots[w])
            if evidence is not None:
                found = zip(window_slots[w], kept, scored[w], strict=True)
                evidence[n].extend(Evidence(x.piece, x.candidates, p, c) for x, c, (_, _, p) in found)
        return with_names(line_pieces, out)

    def _choices(
        self, scored: list[list[tuple[Piece, list[Candidate], np.ndarray]]], groups: list[list[int]]
    ) -> list[list[int]]:
        """The chosen candidate of every token of every window: the network's best, or with the LM
        the best sequence over each group of windows (running text)."""
        if self.rescorer is None:
            return [[int(p.argmax()) for _, _, p in window] for window in scored]
        choices: list[list[int]] = [[] for _ in scored]
        texts = [[token for w in group for token in scored[w]] for group in groups]
        for group, path in zip(groups, rescore_lines(*self.rescorer, texts), strict=True):  # decoded together
            for w in group:
                choices[w], path = path[: len(scored[w])], path[len(scored[w]) :]
        return choices

    def _outputs(
        self, tokens: Sequence[str], slots: Sequence[_Slot], choices: Sequence[int], probs: Sequence[np.ndarray]
    ) -> list[RestoredToken]:
        """The line's restored tokens: each word's chosen candidate, cased by the line (render)."""
        pieces = [slot.piece for slot in slots]
        chosen = [
            slot.candidates[c].text if slot.piece.kind == "word" and slot.candidates[c].kind != "copy"
            else slot.piece.core.lower() if slot.piece.kind == "word" else None
            for slot, c in zip(slots, choices, strict=True)
        ]  # fmt: skip
        texts = render(pieces, chosen)
        out = []
        for token, piece, text, choice, p in zip(tokens, pieces, texts, choices, probs, strict=True):
            if piece.kind != "word":
                out.append(RestoredToken(token, text, 1.0, piece.kind))
            else:
                out.append(RestoredToken(token, normalize(text), round(float(p[choice]), 4), "word"))
        return out

    def restore_lines(self, lines: Sequence[str], running: bool = False) -> list[RestoredLine]:
        """Restore each line; `running`: the lines are one text in reading order (the LM reads
        across line ends, blank lines end paragraphs), else each line is restored alone."""
        tokens = [_TOKEN.findall(line) for line in lines]
        restored = self.restore_tokens(tokens, runs=[0] * len(lines) if running else None)
        return [RestoredLine(line, tuple(r)) for line, r in zip(lines, restored, strict=True)]

    def candidate_probs(
        self, lines: Sequence[Sequence[str]], batch_lines: int = 64
    ) -> list[list[tuple[Piece, list[Candidate], np.ndarray]]]:
        """Per token of each line: its piece, its candidates and the model's probability of each
        (seq2seq: given the greedy choices before it), for rescoring with a language model."""
        width = self.runtime.config.max_tokens
        windows = [(n, list(t[s : s + width])) for n, t in enumerate(lines) for s in range(0, len(t), width)]
        found: list[list[tuple[Piece, list[Candidate], np.ndarray]]] = [[] for _ in windows]
        order = sorted(range(len(windows)), key=lambda w: len(windows[w][1]))  # similar lengths batched
        for start in range(0, len(order), batch_lines):
            ids = order[start : start + batch_lines]
            batch, slots = self.encode([windows[w][1] for w in ids])
            probs = self.runtime.candidate_probs(batch)
            for row, w in enumerate(ids):
                p = probs[row]
                found[w] = [(x.piece, x.candidates, p[j, : len(x.candidates)]) for j, x in enumerate(slots[row])]
        out: list[list[tuple[Piece, list[Candidate], np.ndarray]]] = [[] for _ in lines]
        for (n, _), tokens in zip(windows, found, strict=True):
            out[n].extend(tokens)
        return out


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off for the block (unless it was off already). Restoring
    makes hundreds of thousands of short-lived objects (pieces, candidates, lattice lists) and no
    reference cycles to speak of, yet they set the collector off some 350 times over 4,600 tokens
    of OCR, three of them full passes over the loaded lexicon and the caches: 0.11 s of a 1.24 s
    cold pass (gc.callbacks). What the block leaves is collected as usual afterwards."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _run_groups(window_lines: Sequence[int], runs: Sequence[int] | None) -> list[list[int]]:
    """Windows (given the line of each, in order) grouped into runs of running text: consecutive
    lines with the same run id (a line without tokens has no window, so it ends a run); the
    windows of one long line always go together."""
    groups: list[list[int]] = []
    previous = -1
    for w, n in enumerate(window_lines):
        joined = n == previous or (
            runs is not None and previous >= 0 and n == previous + 1 and runs[n] == runs[previous]
        )
        if groups and joined:
            groups[-1].append(w)
        else:
            groups.append([w])
        previous = n
    return groups


def _weights_digest(directory: Path) -> str:
    from pipeline.errors import ModelError

    try:
        return weights_sha256(directory)
    except FileNotFoundError as exc:
        raise ModelError(f"restore model file missing ({exc.filename})", path=directory) from exc
