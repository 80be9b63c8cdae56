"""Segmentation of the real development plans (../shared/plans), scored against the
annotations in tests/data/segment/plan-*.json (conventions v2, GUIDE.md).

The tune split is what the rules were written on; the held-out split was annotated before
tuning and is never tuned on. Floors here are set below the measured figures
(benchmarks/segment.md) so a regression fails, without demanding perfection from documents
whose phrasings the rules never saw. Skips when ../shared/plans is absent.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.segment import segment_text
from pipeline.segment.scoring import Counts, score

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
ANNOTATIONS = sorted((ROOT / "tests" / "data" / "segment").glob("plan-*.json"))


def _pooled(split: str) -> dict[str, Counts]:
    if not (SHARED / "plans").is_dir():
        pytest.skip("../shared/plans is absent")
    totals = {key: Counts() for key in ("tasks", "leads", "assignments")}
    for path in ANNOTATIONS:
        gold = json.loads(path.read_text(encoding="utf-8"))
        source = SHARED / gold["source"] if gold["source"].startswith("plans/") else ROOT / gold["source"]
        if gold.get("split") != split or not gold.get("plan", True) or not source.is_file():
            continue
        result = score(segment_text(source.read_text(encoding="utf-8")), gold)
        assert result["plan"], f"{path.name}: not recognised as a plan"
        for key, counts in totals.items():
            counts.add(result[key])
    return totals


@pytest.mark.parametrize(("split", "floors"), [
    ("tune", {"tasks": 0.8, "leads": 0.42, "assignments": 0.65}),
    ("heldout", {"tasks": 0.9, "leads": 0.6, "assignments": 0.55}),
])  # fmt: skip
def test_real_plans_reach_their_measured_floors(split: str, floors: dict[str, float]) -> None:
    totals = _pooled(split)
    for key, floor in floors.items():
        assert totals[key].f1 is not None and totals[key].f1 >= floor, (key, totals[key])


def test_lettered_items_and_prose_roles_on_a_real_plan() -> None:
    path = SHARED / "plans" / "0a97eb9c3c536047.txt"
    if not path.is_file():
        pytest.skip("../shared/plans is absent")
    plan = segment_text(path.read_text(encoding="utf-8"))
    assert plan is not None
    meta = plan.metadata
    assert (meta.number, meta.date, meta.province, meta.year) == ("1026/KH-UBND", "2025-11-26", "Nghệ An", 2025)
    assert meta.issuing_body == "Ủy ban nhân dân tỉnh Nghệ An"
    assert meta.signer and (meta.signer.on_behalf_of, meta.signer.deputy_for, meta.signer.position) == (
        "Ủy ban nhân dân", "Chủ tịch", "Phó Chủ tịch",
    )  # fmt: skip
    leads = {m.canonical for section in plan.sections for task in section.tasks for m in task.leads}
    assert leads, "the agencies heading the items of the task section lead them"
    assert all(m.kind != "catch-all" for section in plan.sections for t in section.tasks for m in t.partners)
