"""Review: the notebook widget, the corrections journal, and corrections flowing back.

`ReviewWidget` is imported on first use: batch runs use the journal without loading the
widget libraries.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pipeline.review.corrections import export_line_pairs, export_outputs
from pipeline.review.journal import (
    CorrectionRecord,
    Journal,
    OrphanCorrection,
    apply_corrections,
    reapply_journal,
)

if TYPE_CHECKING:
    from pipeline.review.widget import ReviewWidget

__all__ = [
    "CorrectionRecord",
    "Journal",
    "OrphanCorrection",
    "ReviewWidget",
    "apply_corrections",
    "export_line_pairs",
    "export_outputs",
    "reapply_journal",
]


def __getattr__(name: str) -> Any:
    if name == "ReviewWidget":
        from pipeline.review.widget import ReviewWidget

        return ReviewWidget
    raise AttributeError(f"module 'pipeline.review' has no attribute {name!r}")
