"""Restoration as the rest of gazette uses it: lines in, restored lines out; Documents annotated.

The model is loaded once per process (a batch worker restores many files with one load), on
ONNX Runtime: restoring never imports torch or transformers.
"""

from __future__ import annotations

import dataclasses
import logging
import time
import weakref
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from pipeline.labels import opening_label_repairs
from pipeline.restore.calibration import default_calibration
from pipeline.restore.confidence import default_word_right, final_index, line_features, local_posteriors
from pipeline.restore.posterior import lattice_posteriors
from pipeline.restore.restorer import MODEL_DIR, Evidence, RestoredLine, RestoredToken, Restorer
from pipeline.restore.token_right import score_page
from pipeline.restore.tokens import split_token
from pipeline.restore.vie import VIE_NOISE, VieCorrector, correct_page
from pipeline.vietnamese import has_diacritics, normalize, strip_diacritics

if TYPE_CHECKING:  # the pydantic models take a tenth of a second to build: restoring lines needs none
    from pipeline.document import Page, Token

__all__ = [
    "get_restorer",
    "looks_garbled",
    "repair_page_labels",
    "restore_lines",
    "restore_page",
    "restore_page_features",
    "restore_text",
    "set_restore_threads",
    "vie_corrector",
]

log = logging.getLogger(__name__)

_threads: int | None = None  # None: the runtime's default (one per core)


def set_restore_threads(threads: int | None) -> None:
    """Threads of the restorer loaded next by get_restorer (a batch worker runs one: the
    parallelism comes from the workers)."""
    global _threads
    _threads = threads


@lru_cache(maxsize=2)
def get_restorer(directory: Path = MODEL_DIR) -> Restorer:
    started = time.perf_counter()
    restorer = Restorer.load(directory, threads=_threads)
    log.debug("restore model loaded in %.2f s", time.perf_counter() - started)
    return restorer


_correctors: weakref.WeakKeyDictionary[Restorer, VieCorrector] = weakref.WeakKeyDictionary()


def vie_corrector(restorer: Restorer | None = None) -> VieCorrector | None:
    """The vie OCR corrector on the restorer's LM and lexicon (loaded once per restorer), or None
    without an LM or a vie channel (corpora/restore_noise_vie.json)."""
    restorer = restorer or get_restorer()
    if restorer.rescorer is None or not VIE_NOISE.is_file():
        return None
    corrector = _correctors.get(restorer)
    if corrector is None:
        corrector = _correctors[restorer] = VieCorrector.load(restorer.rescorer[0], restorer.generator)
    return corrector


def restore_lines(lines: Sequence[str], restorer: Restorer | None = None, running: bool = False) -> list[RestoredLine]:
    """Restore each line; the output has the same lines, tokens and whitespace as the input.
    `running`: the lines are one text in reading order, read across line ends (Restorer.restore_lines),
    whose misread line-opening labels are repaired from their sequence (`Ill.` → `III.`, `d)` → `đ)`)."""
    restored = (restorer or get_restorer()).restore_lines(list(lines), running)
    if not running:
        return restored
    repairs = opening_label_repairs([[t.source for t in line.tokens] for line in restored])
    for n, label in repairs.items():
        line = restored[n]
        first = RestoredToken(line.tokens[0].source, label, 1.0, "label-fix")
        restored[n] = dataclasses.replace(line, tokens=(first, *line.tokens[1:]))
    return restored


def repair_page_labels(pages: Sequence[Page]) -> list[Page]:
    """The pages of one document with their misread line-opening labels repaired from the sequence
    over the whole document (`H.` → `II.` on a later page than `I.`): the token's text changes, its
    source_text stays, flagged `label-repaired`. The segmenter repairs the plan the same way."""
    where = [(p, n) for p, page in enumerate(pages) for n in range(len(page.lines))]
    repairs = opening_label_repairs([[t.text for t in pages[p].lines[n].tokens] for p, n in where])
    out = list(pages)
    for k, label in repairs.items():
        p, n = where[k]
        lines = list(out[p].lines)
        first, *rest = lines[n].tokens
        flags = [*first.flags, *(f for f in ("restored", "label-repaired") if f not in first.flags)]
        first = first.model_copy(update={"text": label, "flags": flags})
        lines[n] = lines[n].model_copy(update={"tokens": [first, *rest]})
        out[p] = out[p].model_copy(update={"lines": lines})
    return out


def restore_text(text: str, restorer: Restorer | None = None) -> list[RestoredLine]:
    """Line-aligned restoration of a whole text: as many lines out as in, blank lines kept; the
    lines of a paragraph are read as running text."""
    return restore_lines(normalize(text).split("\n"), restorer, running=True)


def looks_garbled(text: str, restorer: Restorer | None = None) -> bool:
    """True for Vietnamese that lost its diacritics (English-model OCR, stripped text): few
    words carry a Vietnamese mark, yet most words are Vietnamese syllables once folded. English
    text fails the second test, correct Vietnamese the first."""
    words = [p.core for p in map(split_token, text.split()) if p.kind == "word" and p.core.isalpha()]
    if len(words) < 5:
        return False
    marked = sum(has_diacritics(w) for w in words) / len(words)
    known = (restorer or get_restorer()).generator.skeletons
    vietnamese = sum(strip_diacritics(w).lower() in known for w in words) / len(words)
    return marked < 0.35 and vietnamese > 0.75


def restore_page(
    page: Page,
    below: float | None = None,
    restorer: Restorer | None = None,
    score_words: bool = True,
    correct: bool = False,
) -> Page:
    """A copy of the page with restored tokens: all of them (below=None, for text inputs) or
    only OCR tokens whose confidence is below `below` (vie OCR output). With the word-right
    model (restore/confidence.py) every word token restore scored, changed or not (on a vie page:
    every word, so that a confident tesseract word the channel and the LM doubt is caught), gets
    as restore_confidence the probability that its final text is right; without it, restored
    words get the calibrated network probability and lines with nothing to restore do not go
    through the model.

    `correct` (vie OCR pages, below not None): every word is first corrected in context by the
    vie channel and the LM (restore/vie.py: triến → triển, đữ → dữ), then restored and scored as
    above, so the word-right model judges the text the page ends with."""
    restorer = restorer or get_restorer()
    corrector = vie_corrector(restorer) if correct and below is not None else None
    if corrector is not None:
        page = correct_page(page, corrector)
    model = default_word_right() if restorer.rescorer is not None and score_words else None
    restored, rows = restore_page_features(page, below, restorer, score=model is not None)
    if model is None:
        return restored
    lines = list(restored.lines)
    scored: dict[tuple[int, int], tuple[float, np.ndarray]] = {}
    for way in ("ocr", "text"):
        mine = [(n, i, r) for n, i, w, r in rows if w == way]
        if not mine:
            continue
        probabilities = model(np.array([r for *_, r in mine]), way)
        for (n, i, r), probability in zip(mine, probabilities, strict=True):
            tokens = list(lines[n].tokens)
            tokens[i] = tokens[i].model_copy(update={"restore_confidence": round(float(probability), 4)})
            lines[n] = lines[n].model_copy(update={"tokens": tokens})
            scored[n, i] = (float(probability), r)
    restored = restored.model_copy(update={"lines": lines})
    if below is not None and corrector is None:
        # The token-right model was fitted on vie pages after the correction: there a word the
        # word-right model rules out is rare (the correction changed it; 54 of 79,000 tune words),
        # too rare for the trees to learn, and on an uncorrected page they would rate it right.
        return restored
    # Then every token, scored or not (numbers, codes, punctuation, words OCR split or ran
    # together): the token-right model (restore/token_right.py), when shipped.
    return score_page(restored, scored, restorer.generator.prior)


def restore_page_features(
    page: Page, below: float | None, restorer: Restorer, score: bool = True
) -> tuple[Page, list[tuple[int, int, str, np.ndarray]]]:
    """restore_page without the word-right model: the restored page (calibrated network
    probabilities) and, when `score`, the word-right features of every word token scored:
    (line index, token index, way in: 'ocr' or 'text', features)."""
    calibration = default_calibration()
    score = score and restorer.rescorer is not None

    def eligible(token: Token) -> bool:
        return below is None or (token.ocr_confidence is not None and token.ocr_confidence < below)

    todo = [
        n for n, line in enumerate(page.lines)
        if line.tokens and (score or any(eligible(t) for t in line.tokens))
    ]  # fmt: skip
    evidence: list[list[Evidence]] = []
    runs = [n - m for m, n in enumerate(todo)]  # consecutive lines of the page: one run of text
    restored = restorer.restore_tokens(
        [[t.text for t in page.lines[n].tokens] for n in todo], evidence=evidence, runs=runs
    )
    lines = list(page.lines)
    rows: list[tuple[int, int, str, np.ndarray]] = []
    # the lines to score: (index of their evidence, line index, final candidates, restore results)
    pending: list[tuple[int, int, list[int], Sequence[RestoredToken]]] = []
    for m, (n, results) in enumerate(zip(todo, restored, strict=True)):
        tokens, finals = [], []
        for i, (token, result) in enumerate(zip(lines[n].tokens, results, strict=True)):
            ev = evidence[m][i]
            kept = not eligible(token) or result.kind == "name"
            finals.append(final_index(ev, ev.piece.core if kept else _core(ev, result.text)))
            if not eligible(token) or result.kind == "protected":
                tokens.append(token)
                continue
            flags = list(token.flags)
            if result.kind == "code-fix":  # 368/QP-TTg → 368/QĐ-TTg: a rule on a known code, not a guess
                update = {"text": result.text, "restore_confidence": 1.0, "flags": [*flags, "restored", "code-fixed"]}
                tokens.append(token.model_copy(update=update))
                continue
            if result.kind == "name":  # a signer's given name, left as read for a person to check
                update = {"restore_confidence": result.confidence, "flags": [*flags, "personal-name"]}
                tokens.append(token.model_copy(update=update))
                continue
            if result.text != token.text:
                # A merged OCR word restored as two ("véindi" → "với nội") stays one token, flagged.
                flags += ["restored", "split"] if " " in result.text else ["restored"]
            confidence = calibration(result.confidence, changed=result.text != token.text)
            update = {"text": result.text, "restore_confidence": confidence, "flags": flags}
            tokens.append(token.model_copy(update=update))
        lines[n] = lines[n].model_copy(update={"tokens": tokens})
        if score:
            pending.append((m, n, finals, results))
    if not pending:
        return page.model_copy(update={"lines": lines}), rows
    assert restorer.rescorer is not None
    # The lattice marginals of the page's lines together (one forward–backward, as rescoring decodes them)
    lattices = lattice_posteriors(*restorer.rescorer, [evidence[m] for m, *_ in pending], [f for _, _, f, _ in pending])
    for (m, n, finals, results), lattice in zip(pending, lattices, strict=True):
        posteriors = local_posteriors(*restorer.rescorer, evidence[m], finals)
        features = line_features(
            evidence[m],
            finals,
            posteriors,
            [t.ocr_confidence for t in page.lines[n].tokens],
            [r.kind == "name" for r in results],
            [r.kind == "place" for r in results],
            lattice,
        )
        for i, (token, result) in enumerate(zip(page.lines[n].tokens, results, strict=True)):
            if evidence[m][i].piece.kind == "word" and result.kind in ("word", "name", "place"):
                rows.append((n, i, "ocr" if token.ocr_confidence is not None else "text", features[i]))
    return page.model_copy(update={"lines": lines}), rows


def _core(evidence: Evidence, text: str) -> str:
    """The core of a restored token's text (its prefix and suffix punctuation cut off)."""
    piece = evidence.piece
    if piece.prefix and text.startswith(piece.prefix):
        text = text[len(piece.prefix) :]
    if piece.suffix and text.endswith(piece.suffix):
        text = text[: len(text) - len(piece.suffix)]
    return text
