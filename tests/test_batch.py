from __future__ import annotations

import json
import os
from pathlib import Path

from pipeline.batch import convert_many, find_inputs
from pipeline.export.json import from_json
from pipeline.options import Options


def _archive(root: Path) -> Path:
    (root / "a" / "b").mkdir(parents=True)
    (root / "a" / "plan.txt").write_text("Đơn vị chủ trì: Sở Nội vụ.\n", encoding="utf-8")
    (root / "a" / "b" / "other.txt").write_text("Thời gian: Quý II/2025.\n", encoding="utf-16")
    (root / "a" / "b" / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj garbage")
    (root / "a" / "empty.png").touch()
    (root / "a" / "notes.docx").write_bytes(b"PK\x03\x04")  # not an input gazette reads
    (root / "a" / ".hidden.txt").write_text("x")
    os.symlink(root / "a", root / "a" / "b" / "loop")
    return root


def test_walks_tree_sorted_skipping_loops_hidden_and_unknown(tmp_path: Path) -> None:
    root = _archive(tmp_path / "in")
    relatives = [str(item.relative) for item in find_inputs([root])]
    assert relatives == ["a/empty.png", "a/plan.txt", "a/b/broken.pdf", "a/b/other.txt"]


def test_bad_files_never_stop_the_batch(tmp_path: Path) -> None:
    root = _archive(tmp_path / "in")
    out = tmp_path / "out"
    summary = convert_many([root], out, Options(formats=("json", "txt", "jsonl")))
    assert (summary.converted, summary.failed) == (2, 2)
    assert from_json((out / "a" / "plan.txt.json").read_text()).pages[0].text == "Đơn vị chủ trì: Sở Nội vụ."
    assert (out / "a" / "b" / "other.txt.txt").read_text(encoding="utf-8") == "Thời gian: Quý II/2025.\n"
    errors = [json.loads(line) for line in (out / "errors.jsonl").read_text().splitlines()]
    assert {(Path(e["path"]).name, e["error"]) for e in errors} == {
        ("broken.pdf", "CorruptInputError"),
        ("empty.png", "EmptyInputError"),
    }
    documents = (out / "documents.jsonl").read_text().splitlines()
    assert [Path(json.loads(line)["source_path"]).name for line in documents] == ["plan.txt", "other.txt"]
    assert not list(out.rglob("*.tmp"))
