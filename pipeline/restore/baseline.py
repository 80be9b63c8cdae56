"""The unigram restorer: every word token becomes its most probable candidate, context-free.

It is the reference the neural restorer must beat and its fallback when no model is installed.
Protected tokens (numbers, codes, URLs) are copied, code-fix tokens repaired (368/QP-TTg →
368/QĐ-TTg), and the chosen lower-case text is cased like the input token (MUC → MỤC).
"""

from __future__ import annotations

from pipeline.restore.candidates import Candidate, CandidateGenerator
from pipeline.restore.tokens import Piece, join, render, split_line

__all__ = ["UnigramRestorer"]

CHANNEL_WEIGHT = 1.0  # weight of log P(noisy | text) against log P(text) when choosing


class UnigramRestorer:
    """Picks, for each word token, the candidate with the best channel + prior score."""

    def __init__(self, generator: CandidateGenerator | None = None, k: int = 24) -> None:
        self.generator = generator or CandidateGenerator.load()
        self.k = k

    def choose(self, core: str) -> Candidate:
        """The best candidate for one core."""
        cands = self.generator.candidates(core, self.k)
        return max(cands, key=lambda c: CHANNEL_WEIGHT * c.channel + c.prior)

    def restore_pieces(self, pieces: list[Piece]) -> list[str]:
        """New text of every token."""
        return render(pieces, [self.choose(p.core).text if p.kind == "word" else None for p in pieces])

    def restore_line(self, line: str) -> str:
        """The line with diacritics restored; whitespace and protected tokens unchanged."""
        pieces = split_line(line)
        return join(line, self.restore_pieces(pieces)) if pieces else line
