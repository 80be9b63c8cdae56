from __future__ import annotations

from pipeline.errors import CorruptInputError, ExitCode, GazetteError, InputError, MissingDependencyError


def test_message_names_file_problem_and_advice() -> None:
    exc = CorruptInputError("not a readable PDF", path="archive/a.pdf")
    assert isinstance(exc, InputError) and isinstance(exc, GazetteError)
    assert exc.message.startswith("[E101] archive/a.pdf: not a readable PDF.")
    assert "qpdf" in exc.message
    assert exc.exit_code == ExitCode.input_error


def test_record_for_errors_jsonl() -> None:
    record = MissingDependencyError("tesseract is not installed").to_record()
    assert record["error"] == "MissingDependencyError"
    assert record["exit_code"] == ExitCode.missing_dependency
    assert "apt-get install" in str(record["message"])
