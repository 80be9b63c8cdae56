"""Restoration as the rest of gazette uses it: lines in, restored lines out; Documents annotated.

The model is loaded once per process (a batch worker restores many files with one load), on
ONNX Runtime: restoring never imports torch or transformers.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.restore.calibration import default_calibration
from pipeline.restore.restorer import MODEL_DIR, RestoredLine, Restorer
from pipeline.restore.tokens import split_token
from pipeline.vietnamese import has_diacritics, normalize, strip_diacritics

if TYPE_CHECKING:  # the pydantic models take a tenth of a second to build: restoring lines needs none
    from pipeline.document import Page, Token

__all__ = ["get_restorer", "looks_garbled", "restore_lines", "restore_page", "restore_text", "set_restore_threads"]

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


def restore_lines(lines: Sequence[str], restorer: Restorer | None = None) -> list[RestoredLine]:
    """Restore each line; the output has the same lines, tokens and whitespace as the input."""
    return (restorer or get_restorer()).restore_lines(list(lines))


def restore_text(text: str, restorer: Restorer | None = None) -> list[RestoredLine]:
    """Line-aligned restoration of a whole text: as many lines out as in, blank lines kept."""
    return restore_lines(normalize(text).split("\n"), restorer)


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


def restore_page(page: Page, below: float | None = None, restorer: Restorer | None = None) -> Page:
    """A copy of the page with restored tokens: all of them (below=None, for text inputs) or
    only OCR tokens whose confidence is below `below` (vie OCR output). Lines with nothing to
    restore do not go through the model."""
    restorer = restorer or get_restorer()
    calibration = default_calibration()

    def eligible(token: Token) -> bool:
        return below is None or (token.ocr_confidence is not None and token.ocr_confidence < below)

    todo = [n for n, line in enumerate(page.lines) if any(eligible(t) for t in line.tokens)]
    restored = restorer.restore_tokens([[t.text for t in page.lines[n].tokens] for n in todo])
    lines = list(page.lines)
    for n, results in zip(todo, restored, strict=True):
        tokens = []
        for token, result in zip(lines[n].tokens, results, strict=True):
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
    return page.model_copy(update={"lines": lines})
