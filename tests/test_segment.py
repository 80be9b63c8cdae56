"""Segmentation on the project's own sample plan (clean and English-model OCR), debris,
spans, non-plans, and the interfaces: segment_text, convert, `gazette segment`."""

from __future__ import annotations

import io
import json
import random
from pathlib import Path

import jsonschema
import pytest

from pipeline import Options, segment_text
from pipeline.api import convert
from pipeline.cli import main
from pipeline.document import Plan, json_schema
from pipeline.errors import ExitCode
from pipeline.export import to_json
from pipeline.export.json import from_json
from pipeline.lexicon import fold
from pipeline.restore.noise import NoiseModel
from pipeline.segment import detect_language, iter_tasks
from pipeline.segment.scoring import score

ROOT = Path(__file__).resolve().parents[1]
GOLD = json.loads((ROOT / "tests" / "data" / "segment" / "sample-2316.json").read_text(encoding="utf-8"))
OCR_TEXT = ROOT / "samples" / "archive" / "text" / "ke-hoach-2316-ocr-eng.txt"

NOT_PLANS = [
    "",
    "Chiều nay, đoàn công tác của tỉnh đã đến thăm và làm việc tại một số doanh nghiệp trên địa bàn huyện.",
    "QUYẾT ĐỊNH\nVề việc thành lập Tổ công tác\nĐiều 1. Thành lập Tổ công tác gồm các ông, bà có tên sau.\n"
    "Điều 2. Tổ công tác có nhiệm vụ giúp Chủ tịch.\nĐiều 3. Quyết định này có hiệu lực kể từ ngày ký.",
]


@pytest.fixture(scope="module")
def sample_plan(plan_text: str) -> Plan:
    plan = segment_text(plan_text)
    assert plan is not None
    return plan


def _perfect(result: dict) -> None:
    assert result["sections"][0] == result["sections"][1]
    assert result["tasks"].f1 == 1.0 and not result["missing_tasks"]
    assert result["agencies"].f1 == 1.0
    assert result["timelines"][0] == result["timelines"][1]
    assert result["metadata"][0] == result["metadata"][1], result["metadata_wrong"]


def test_sample_plan_structure(sample_plan: Plan) -> None:
    meta = sample_plan.metadata
    assert (meta.number, meta.date, meta.place, meta.province, meta.year) == (
        "2316/KH-UBND", "2025-03-14", "Hòa Bình", "Hòa Bình", 2025,
    )  # fmt: skip
    assert meta.issuing_body == "Ủy ban nhân dân tỉnh Hòa Bình"
    assert meta.signer and (meta.signer.position, meta.signer.on_behalf_of, meta.signer.deputy_for) == (
        "Phó Chủ tịch", "Ủy ban nhân dân", "Chủ tịch",
    )  # fmt: skip
    assert [s.kind for s in sample_plan.sections] == ["purpose", "content", "budget", "implementation", "recipients"]
    assert [s.kind for s in sample_plan.sections[0].subsections] == ["purpose", "requirements"]
    tasks = dict((t.path, t) for _, t in iter_tasks(sample_plan))
    assert list(tasks) == ["1", "1.a", "1.b", "2", "2.a", "2.b", "3"]
    assert [m.canonical for m in tasks["2.a"].partners] == ["Sở Khoa học và Công nghệ", "Viễn thông Hòa Bình"]
    assert tasks["2.a"].timeline and (tasks["2.a"].timeline.start, tasks["2.a"].timeline.end) == ("2025-04", "2025-09")
    assert tasks["1.a"].level == 2 and tasks["1"].subtasks[0] is not None
    assignments = sample_plan.sections[3].assignments
    assert [a.agencies[0].canonical for a in assignments] == [
        "Sở Nội vụ", "Sở Tài chính", "Sở Khoa học và Công nghệ", "Ủy ban nhân dân cấp huyện",
    ]  # fmt: skip
    _perfect(score(sample_plan, GOLD))


def test_spans_point_into_the_text(plan_text: str, sample_plan: Plan) -> None:
    for section in sample_plan.sections:
        assert fold(section.heading) in fold(plan_text[section.span.start : section.span.end])
    for _, task in iter_tasks(sample_plan):
        chunk = plan_text[task.span.start : task.span.end]
        assert chunk.startswith(task.label) and fold(task.title[:20]) in fold(chunk)
        for mention in (*task.leads, *task.partners):
            assert " ".join(plan_text[mention.span.start : mention.span.end].split()) == mention.text


def test_english_model_ocr_of_the_sample_reads_the_same() -> None:
    plan = segment_text(OCR_TEXT.read_text(encoding="utf-8"))
    assert plan is not None and plan.language == "vi"
    _perfect(score(plan, GOLD))
    # II. read for III.: the section keeps its place in the sequence, flagged.
    assert plan.sections[2].label == "III" and "label-repaired" in plan.sections[2].flags


def test_freshly_garbled_sample_still_segments(plan_text: str) -> None:
    noise = NoiseModel.load(ROOT / "corpora" / "restore_noise.json")
    noisy = "\n".join(noise.garble(line, random.Random(3)) for line in plan_text.split("\n"))
    result = score(segment_text(noisy), GOLD)
    assert result["tasks"].f1 == 1.0 and result["agencies"].f1 >= 0.9


def test_debris_is_recorded_not_structured(plan_text: str) -> None:
    header = "CÔNG BÁO/Số 05+06/Ngày 01-7-2025 45"
    anchor = "- Đơn vị chủ trì: Trung tâm Lưu trữ lịch sử tỉnh.\n- Đơn vị phối hợp: Sở Khoa học"
    assert anchor in plan_text
    text = plan_text.replace(anchor, anchor.replace("\n", f"\n\n{header}\n\n"), 1)
    text += "\nLatest news\nA story on something else (29/11/2023 2:38 CH)\n144 online users\n"
    plan = segment_text(text)
    assert plan is not None
    assert [(d.kind, d.text) for d in plan.debris[:1]] == [("running-header", header)]
    assert {d.kind for d in plan.debris} == {"running-header", "web"}
    assert all(text[d.span.start : d.span.end] == d.text for d in plan.debris)
    task = dict((t.path, t) for _, t in iter_tasks(plan))["2.a"]
    assert [m.canonical for m in task.partners] == ["Sở Khoa học và Công nghệ", "Viễn thông Hòa Bình"]
    _perfect(score(plan, GOLD))


def test_label_sequence_is_repaired() -> None:
    text = "\n".join(
        [
            "KẾ HOẠCH", "Tuyên truyền năm 2024", "I. MỤC ĐÍCH", "Nâng cao nhận thức.", "II. NỘI DUNG",
            "a) Việc thứ nhất.", "b) Việc thứ hai.", "c) Việc thứ ba.", "d) Việc thứ tư.", "d) Việc thứ năm.",
            "- Đơn vị chủ trì: Sở Tư pháp.", "II. TỔ CHỨC THỰC HIỆN", "1. Sở Tư pháp: theo dõi.",
        ]
    )  # fmt: skip
    plan = segment_text(text)
    assert plan is not None
    assert [(s.label, s.kind) for s in plan.sections] == [("I", "purpose"), ("II", "content"),
                                                          ("III", "implementation")]  # fmt: skip
    labels = [(t.label, t.flags) for _, t in iter_tasks(plan)]
    assert labels[-1] == ("đ", ["label-repaired"]) and [x for x, _ in labels] == ["a", "b", "c", "d", "đ"]
    assert plan.metadata.number is None and plan.metadata.year == 2024  # nothing invented


@pytest.mark.parametrize("text", NOT_PLANS)
def test_not_a_plan_gives_none(text: str) -> None:
    assert segment_text(text) is None


def test_language_detection(plan_text: str) -> None:
    assert detect_language(plan_text) == "vi"
    assert detect_language(OCR_TEXT.read_text(encoding="utf-8")) == "vi"
    english = "The Plan of the Provincial People's Committee sets out the following goals for the province. " * 3
    assert detect_language(english) == "en"


def test_convert_fills_the_plan_and_flags_non_plans(tmp_path: Path, plan_text: str) -> None:
    (tmp_path / "plan.txt").write_text(plan_text, encoding="utf-8")
    (tmp_path / "note.txt").write_text(NOT_PLANS[1], encoding="utf-8")
    options = Options(restore="never")  # the restore model is another stage's business
    document = convert(tmp_path / "plan.txt", options)
    assert document.language == "vi" and document.plan is not None and document.flags == []
    assert document.plan.metadata.number == "2316/KH-UBND"
    jsonschema.validate(json.loads(to_json(document)), json_schema())
    assert from_json(to_json(document)) == document
    other = convert(tmp_path / "note.txt", options)
    assert other.plan is None and other.flags == ["not-a-plan"]


def test_cli_segment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "plan.json"
    assert main(["segment", str(ROOT / "samples" / "source" / "ke-hoach-mau.txt"), "-o", str(out)]) == ExitCode.ok
    plan = Plan.model_validate_json(out.read_text(encoding="utf-8"))
    assert plan.metadata.number == "2316/KH-UBND"
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(NOT_PLANS[1].encode("utf-8"))))
    assert main(["segment", "-"]) == ExitCode.ok
    captured = capsys.readouterr()
    assert captured.out == "null\n" and "not a plan" in captured.err
    assert main(["segment", str(tmp_path / "missing.txt")]) == ExitCode.input_error
