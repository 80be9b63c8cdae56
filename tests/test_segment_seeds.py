"""The seed documents (../shared/seeds, read as they are; skipped when absent) against the hand
annotations in tests/data/segment: section kinds, task labels, lead/partner agencies,
timelines, metadata. Seeds 001 and 004 are English-model OCR and 000/002 English texts."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest

from pipeline.segment import iter_tasks, segment_text
from pipeline.segment.scoring import score

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
ANNOTATIONS = sorted((ROOT / "tests" / "data" / "segment").glob("[0-9]*.json"))


def _load(path: Path, seeds_dir: Path) -> tuple[str, dict]:
    gold = json.loads(path.read_text(encoding="utf-8"))
    source = seeds_dir / Path(gold["source"]).name
    if not source.is_file():
        pytest.skip(f"{source} is absent")
    return source.read_text(encoding="utf-8"), gold


@pytest.mark.parametrize("annotation", ANNOTATIONS, ids=[p.stem for p in ANNOTATIONS])
def test_seed_against_annotation(annotation: Path, seeds_dir: Path) -> None:
    text, gold = _load(annotation, seeds_dir)
    plan = segment_text(text)
    assert plan is not None and plan.language == gold["language"]
    result = score(plan, gold)
    assert result["section_kinds"] == gold["sections"]
    assert [t.path for _, t in iter_tasks(plan)] == list(gold["tasks"])
    for role in ("leads", "partners", "executors", "assignments", "agencies"):
        assert result[role].f1 in (None, 1.0), role
    assert result["timelines"][0] == result["timelines"][1]
    assert result["metadata_wrong"] == []
    assert result["unknown_flags"][0] == result["unknown_flags"][1]
    assert result["debris"]


def test_thai_binh_2019_details(seeds_dir: Path) -> None:
    """The clean seed, spelt out: what a reader of the plan would check first."""
    text, _ = _load(ROOT / "tests" / "data" / "segment" / "003-thai-binh-2019.json", seeds_dir)
    plan = segment_text(text)
    assert plan is not None
    tasks = {t.path: t for _, t in iter_tasks(plan)}
    assert [m.canonical for m in tasks["4.d"].leads] == [
        "Sở Kế hoạch và Đầu tư", "Sở Ngoại vụ", "Sở Văn hóa, Thể thao và Du lịch",
    ]  # fmt: skip
    assert tasks["1.a"].timeline and tasks["1.a"].timeline.start == "2019-06"
    assert tasks["2"].timeline and (tasks["2"].timeline.kind, tasks["2"].timeline.end) == ("deadline", "2019-04-10")
    assert plan.metadata.recipients is not None and len(plan.metadata.recipients) == 9
    assert plan.metadata.number is None and plan.metadata.signer is None  # the copy has neither


def test_garbled_seed_keeps_running_header_out(seeds_dir: Path) -> None:
    text, _ = _load(ROOT / "tests" / "data" / "segment" / "001-binh-duong-2019.json", seeds_dir)
    plan = segment_text(text)
    assert plan is not None
    (header,) = [d for d in plan.debris if d.kind == "running-header"]
    assert text[header.span.start : header.span.end] == header.text
    for _, task in iter_tasks(plan):
        for mention in (*task.leads, *task.partners, *task.executors):
            assert not (mention.span.start <= header.span.start < mention.span.end)


def test_non_plans_of_the_legal_corpus_are_refused() -> None:
    path = SHARED / "corpora" / "legal-002.txt.gz"
    if not path.is_file():
        pytest.skip("../shared/corpora is absent")
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        lines = handle.read().splitlines()[-5691:]  # the CongBot documents, in source order
    kinds = r"^(KẾ HOẠCH|NGHỊ ĐỊNH|THÔNG TƯ|QUYẾT ĐỊNH|PHÁP LỆNH|NGHỊ QUYẾT|HƯỚNG DẪN)\b"
    starts = [i for i, line in enumerate(lines) if re.match(kinds, line)]
    verdicts = {}
    for a, b in zip(starts, [*starts[1:], len(lines)], strict=True):
        verdicts[a] = (lines[a].startswith("KẾ HOẠCH"), segment_text("\n".join(lines[a:b])) is not None)
    assert len(verdicts) >= 10
    assert all(is_plan == found for is_plan, found in verdicts.values())
