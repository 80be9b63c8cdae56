"""Which words a reviewer should look at, and how doubtful each one is.

A token's confidence is the lower of its OCR and restore confidences (either may be absent:
a text file has no OCR confidence, an unrestored word no restore confidence). Levels, the
colour scale of the review widget:

- `low`       below LOW (0.6, the OCR `low-confidence` threshold) or flagged `low-confidence`
- `doubtful`  below DOUBTFUL (0.85): shown, not queued
- `ok`        at or above DOUBTFUL, or no confidence at all (text that was typed, not read)

A word is queued for review when it is `low`, lies inside an agency mention the lexicon could
not match (`unknown`), or carries a correction conflict; it leaves the queue once reviewed
(corrected or confirmed), except for a conflict, which stays until someone reviews it again.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from pipeline.document import AgencyMention, Document, Section, Task, token_id
from pipeline.review.journal import original_text

__all__ = ["DOUBTFUL", "LOW", "TokenReview", "review_states", "unknown_agency_tokens"]

LOW = 0.6
DOUBTFUL = 0.85

Level = Literal["low", "doubtful", "ok"]


@dataclass(frozen=True)
class TokenReview:
    id: str
    confidence: float | None
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
        """Flagged and not yet reviewed (a conflict stays pending until reviewed after it arose)."""
        return self.flagged and (not self.reviewed or self.conflict)


def review_states(document: Document) -> dict[str, TokenReview]:
    """Every token's review state by token id, in reading order."""
    agencies = unknown_agency_tokens(document)
    states = {}
    for tid, _, _, token in document.tokens():
        present = [c for c in (token.ocr_confidence, token.restore_confidence) if c is not None]
        confidence = min(present) if present else None
        if "low-confidence" in token.flags or (confidence is not None and confidence < LOW):
            level: Level = "low"
        elif confidence is not None and confidence < DOUBTFUL:
            level = "doubtful"
        else:
            level = "ok"
        states[tid] = TokenReview(
            id=tid,
            confidence=confidence,
            level=level,
            agency=agencies.get(tid),
            conflict=_open_conflict(token.corrections),
            reviewed="reviewed" in token.flags,
        )
    return states


def _open_conflict(corrections: list) -> bool:
    """The last correction was made on a text that another correction had already changed."""
    if len(corrections) < 2:
        return False
    return corrections[-1].previous != corrections[-2].text


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
    """Each token's [start, end) in the text that was segmented: Document.text before any correction."""
    offset = 0
    for pi, page in enumerate(document.pages):
        offset += pi > 0  # the form feed between pages
        for li, line in enumerate(page.lines, 1):
            offset += li > 1  # the newline between lines
            for wi, token in enumerate(line.tokens, 1):
                offset += wi > 1  # the space between words
                text = original_text(token)
                yield token_id(page.number, li, wi), offset, offset + len(text)
                offset += len(text)


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
