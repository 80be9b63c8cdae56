"""The rendered development plans as restore data: true text, English-model OCR, aligned pairs.

scripts/render_plans.py rendered every development plan (../shared/plans and tests/data/plans)
into scans and read them with real `tesseract -l eng` (data/plan-scans/archive/<id>.eng.txt).
The truth is the rendered plan body (render_plans.plan_body), NFC with classic tone placement.
Which plans may be learned from is fixed by scripts/plan_split.py: only the *tune* split is
ever counted into the LM, trained on or tuned on; the held-out split is only scored.

`line_pairs` gives, for every OCR line, the span of the true text it stands for: the OCR and the
true words of a whole plan are aligned token by token over folded letters (the alignment of
scripts/bench_restore.py), and each OCR line gets the true words from the first to the last one
aligned with its tokens. Lines with no aligned word (letterhead debris, page numbers) are dropped.
Nothing of the plans' text is ever written into the repository.
"""

from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path

from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from plan_split import split  # noqa: E402
from render_plans import COLLECTIONS, plan_body  # noqa: E402

from pipeline.restore.align import folded  # noqa: E402
from pipeline.vietnamese import normalize, strip_diacritics  # noqa: E402

ARCHIVE = ROOT / "data" / "plan-scans" / "archive"
SPLITS = ("tune", "heldout")

__all__ = ["ARCHIVE", "SPLITS", "line_pairs", "ocr_text", "plan_ids", "plan_texts"]


@lru_cache(maxsize=1)
def _splits() -> dict[str, tuple[str, Path]]:
    """id → (split, source file), every collection split on its own as plan_split.py does."""
    out = {}
    for folder in COLLECTIONS:
        ids = sorted(p.stem for p in folder.glob("*.txt"))
        for doc_id, part in split(ids).items():
            out[doc_id] = (part, folder / f"{doc_id}.txt")
    return out


def plan_ids(part: str, archive: Path = ARCHIVE) -> list[str]:
    """Ids of the split's plans that have an English-model OCR text."""
    assert part in SPLITS, part
    return [i for i, (p, _) in sorted(_splits().items()) if p == part and (archive / f"{i}.eng.txt").is_file()]


def plan_texts(part: str) -> dict[str, str]:
    """id → the rendered body of each plan of the split (normalised: NFC, classic tone placement)."""
    assert part in SPLITS, part
    return {
        i: normalize(plan_body(src.read_text(encoding="utf-8")))
        for i, (p, src) in sorted(_splits().items())
        if p == part
    }


def ocr_text(doc_id: str, archive: Path = ARCHIVE) -> str:
    return (archive / f"{doc_id}.eng.txt").read_text(encoding="utf-8")


def _key(token: str) -> str:
    return "".join(c for c in folded(token) if c.isalnum()) or token


def line_pairs(doc_id: str, archive: Path = ARCHIVE, min_similarity: float = 0.0) -> list[tuple[str, str]]:
    """(OCR line, true words it stands for) of every OCR line of the plan with an aligned word;
    lines whose folded similarity to their span is below min_similarity (0-100) are dropped."""
    truth_text = plan_texts(_splits()[doc_id][0])[doc_id]
    truth = truth_text.split()
    lines = [x for x in normalize(ocr_text(doc_id, archive)).split("\n") if x.strip()]
    tokens = [(n, t) for n, line in enumerate(lines) for t in line.split()]
    aligned: list[int | None] = [None] * len(tokens)
    for op in Levenshtein.opcodes([_key(t) for _, t in tokens], [_key(t) for t in truth]):
        if op.tag == "equal":
            for k in range(op.src_end - op.src_start):
                aligned[op.src_start + k] = op.dest_start + k
        elif op.tag == "replace":
            for k in range(min(op.src_end - op.src_start, op.dest_end - op.dest_start)):
                aligned[op.src_start + k] = op.dest_start + k
    spans: dict[int, list[int]] = {}
    for (n, _), j in zip(tokens, aligned, strict=True):
        if j is not None:
            spans.setdefault(n, []).append(j)
    out = []
    for n, line in enumerate(lines):
        js = spans.get(n)
        if not js:
            continue
        reference = " ".join(truth[min(js) : max(js) + 1])
        if min_similarity and _similarity(line, reference) < min_similarity:
            continue
        out.append((line, reference))
    return out


def _similarity(noisy: str, clean: str) -> float:
    return fuzz.ratio(strip_diacritics(noisy).lower(), strip_diacritics(clean).lower())
