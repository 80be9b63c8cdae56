"""Which words a reviewer should look at, and how doubtful each one is.

A token's `risk` is the probability that its text is right. In a document restored with the
word-right model (pipeline/restore/confidence.py; `provenance.models["restore_calibration"]`
starts with `word-right`) that is its `restore_confidence`: for words restore weighs, the OCR
confidence combined with the restore network, the channel and the language model; for every
token of a restored page, scored or not (numbers, codes, punctuation, words OCR split or ran
together), the token-right model's probability on top of it (pipeline/restore/token_right.py).
A token without one falls back to its OCR confidence. In older documents it is the lower of the
OCR and restore confidences (either may be absent: a text file has no OCR confidence, an
unrestored word no restore confidence). It is the confidence the exports write (ALTO WC, hOCR
x_wconf, PAGE conf: `Token.machine_confidence`) for word-right documents. Levels, the colour
scale of the review widget:

- `low`       risk below `low` (LOW: per way in, OCR'd words and words of a text input) or, in older
              documents, flagged `low-confidence` by convert
- `doubtful`  below DOUBTFUL: shown, not queued
- `ok`        at or above DOUBTFUL, or no confidence at all (text that was typed, not read)

A word is queued for review when it is `low`, lies inside an agency mention the lexicon could
not match (`unknown`), or carries an open correction conflict (`journal.open_conflict`); it
leaves the queue once reviewed (corrected or confirmed), except for a conflict, which stays
until a later correction resolves it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from pipeline.document import AgencyMention, Document, Section, Task, Token, token_id
from pipeline.review.journal import open_conflict

__all__ = ["DOUBTFUL", "LOW", "Low", "TokenReview", "review_states", "unknown_agency_tokens"]


@dataclass(frozen=True)
class Low:
    """The review threshold per way in: words OCR read (a confidence from tesseract: the scans)
    and words of a text input (the restored English-model OCR, a text file)."""

    ocr: float
    text: float

    def of(self, token: Token) -> float:
        return self.ocr if token.ocr_confidence is not None else self.text


# The risk is the probability that the token is right (the word-right and token-right models,
# fitted and checked for calibration on the rendered plans: benchmarks/review.md). LOW is, per
# way in, the largest threshold that queues at most 3 tokens per wrong word on the tune split
# (vie scans; restored English-model OCR), every token counted, read from the out-of-fold sweep
# of scripts/fit_word_right.py in steps of 0.001 (five folds of tune documents: 0.964 queues 2.99
# per wrong word on the scans and finds 89.8 % of them, 0.942 queues 2.94 on the restored text and
# finds 84.0 %). The budget is the same and the probabilities are calibrated on both, but the two
# ways spend it at different probabilities: one threshold for both (the fit before this one) queued
# 2.5 per wrong word on the scans and found 4 points fewer. DOUBTFUL is the next step of the scale.
LOW = Low(ocr=0.964, text=0.942)
DOUBTFUL = 0.98

Level = Literal["low", "doubtful", "ok"]


@dataclass(frozen=True)
class TokenReview:
    id: str
    risk: float | None  # the probability that the word is right: what the level is decided on
    level: Level
    agency: AgencyMention | None  # the unknown agency mention the token is part of
    conflict: bool
    reviewed: bool

    @property
    def flagged(self) -> bool:
        """Worth a reviewer's look, whether or not someone has looked already."""
        return self.level == "low" or self.agency is not None or self.conflict

    @property
    def pending(self) -> bool:
        """Flagged and not yet reviewed (an open conflict stays pending until a correction resolves it)."""
        return self.flagged and (not self.reviewed or self.conflict)


def review_states(document: Document, low: float | Low = LOW) -> dict[str, TokenReview]:
    """Every token's review state by token id, in reading order; `low`: the review threshold,
    per way in or one for every token."""
    low = low if isinstance(low, Low) else Low(low, low)
    agencies = unknown_agency_tokens(document)
    word_right = document.provenance.models.get("restore_calibration", "").startswith("word-right")
    states = {}
    for tid, _, _, token in document.tokens():
        if word_right:
            risk = token.restore_confidence if token.restore_confidence is not None else token.ocr_confidence
            flagged_low = "low-confidence" in token.flags and token.restore_confidence is None
        else:
            present = [c for c in (token.ocr_confidence, token.restore_confidence) if c is not None]
            risk = min(present) if present else None
            flagged_low = "low-confidence" in token.flags
        if flagged_low or (risk is not None and risk < low.of(token)):
            level: Level = "low"
        elif risk is not None and risk < DOUBTFUL:
            level = "doubtful"
        else:
            level = "ok"
        states[tid] = TokenReview(
            id=tid,
            risk=risk,
            level=level,
            agency=agencies.get(tid),
            conflict=open_conflict(token),
            reviewed="reviewed" in token.flags,
        )
    return states


def unknown_agency_tokens(document: Document) -> dict[str, AgencyMention]:
    """Token id → the `unknown` agency mention whose span covers it (spans index Document.text)."""
    mentions = [m for m in _agency_mentions(document) if m.status == "unknown" and m.span is not None]
    if not mentions:
        return {}
    found: dict[str, AgencyMention] = {}
    for tid, start, end in _token_offsets(document):
        for mention in mentions:
            assert mention.span is not None
            if start < mention.span.end and end > mention.span.start:
                found[tid] = mention
                break
    return found


def _token_offsets(document: Document) -> Iterator[tuple[str, int, int]]:
    """Each token's [start, end) in the text that was segmented: Document.text, corrections
    included (a correction rebuilds the plan from the corrected text).

    Walks pages and lines by hand, not Document.tokens(): empty lines and pages count too
    (a newline, a form feed), and tokens() skips them."""
    offset = 0
    for pi, page in enumerate(document.pages):
        offset += pi > 0  # the form feed between pages
        for li, line in enumerate(page.lines, 1):
            offset += li > 1  # the newline between lines
            for wi, token in enumerate(line.tokens, 1):
                offset += wi > 1  # the space between words
                yield token_id(page.number, li, wi), offset, offset + len(token.text)
                offset += len(token.text)


def _agency_mentions(document: Document) -> Iterator[AgencyMention]:
    if document.plan is None:
        return
    yield from _section_mentions(document.plan.sections)


def _section_mentions(sections: list[Section]) -> Iterator[AgencyMention]:
    for section in sections:
        for assignment in section.assignments:
            yield from assignment.agencies
        yield from _task_mentions(section.tasks)
        yield from _section_mentions(section.subsections)


def _task_mentions(tasks: list[Task]) -> Iterator[AgencyMention]:
    for task in tasks:
        yield from task.leads
        yield from task.partners
        yield from task.executors
        yield from _task_mentions(task.subtasks)
