"""Writing the archival formats next to the other outputs, from the API and from `gazette convert`."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from pydantic import ValidationError

from pipeline.cli import main
from pipeline.document import Document
from pipeline.errors import ExitCode
from pipeline.export import output_files, write_outputs
from pipeline.options import Options

ALL_FORMATS = ("json", "txt", "alto", "page", "hocr", "pdf")


def test_every_format_is_written_next_to_the_stem(
    scan_document: Document, tmp_path: Path, valid_alto, valid_page
) -> None:
    stem = tmp_path / "scans" / "page-1.png"
    written = write_outputs(scan_document, stem, ALL_FORMATS)
    names = [p.name for p in written]
    assert names == [
        "page-1.png.json", "page-1.png.txt", "page-1.png.alto.xml", "page-1.png.p0001.page.xml",
        "page-1.png.hocr", "page-1.png.pdf",
    ]  # fmt: skip
    assert all(p.stat().st_size > 0 for p in written)
    assert (tmp_path / "scans" / "page-1.png.pdf").read_bytes().startswith(b"%PDF-")
    assert sorted(output_files(stem)) == sorted(written)
    assert not list((tmp_path / "scans").glob(".*.tmp"))  # atomic writes leave no temp files
    valid_alto((tmp_path / "scans" / "page-1.png.alto.xml").read_text(encoding="utf-8"))
    valid_page((tmp_path / "scans" / "page-1.png.p0001.page.xml").read_text(encoding="utf-8"))


def test_text_input_skips_page_and_pdf_with_a_warning(
    text_document: Document, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    stem = tmp_path / "plan.txt"
    with caplog.at_level(logging.WARNING, logger="pipeline.export"):
        written = write_outputs(text_document, stem, ALL_FORMATS)
    assert [p.name for p in written] == ["plan.txt.json", "plan.txt.txt", "plan.txt.alto.xml", "plan.txt.hocr"]
    assert "no searchable PDF for a text input" in caplog.text and "no PAGE XML for page(s) [1]" in caplog.text


def test_convert_command_accepts_the_archival_formats(tmp_path: Path, valid_alto) -> None:
    archive, out = tmp_path / "in", tmp_path / "out"
    archive.mkdir()
    (archive / "plan.txt").write_text("KẾ HOẠCH\nSố hóa tài liệu lưu trữ\n", encoding="utf-8")
    code = main(["convert", str(archive), "-o", str(out), "-f", ",".join(ALL_FORMATS), "--restore", "never"])
    assert code == ExitCode.ok
    assert len(valid_alto((out / "plan.txt.alto.xml").read_text(encoding="utf-8")).findall(".//{*}String")) == 8
    assert 'id="p1-l2-w6">trữ</span>' in (out / "plan.txt.hocr").read_text(encoding="utf-8")
    assert not (out / "plan.txt.pdf").exists()


def test_options_know_the_formats() -> None:
    assert Options(formats="alto,page,hocr,pdf").formats == ("alto", "page", "hocr", "pdf")
    with pytest.raises(ValidationError, match="unknown output format"):
        Options(formats="alto,tiff")
