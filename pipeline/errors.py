"""Exit codes and the one exception hierarchy of gazette.

Every error names the file, the problem and what the user can do about it. The CLI maps
them to exit codes, the batch runner records them per file and carries on, and the API lets
them propagate so a notebook sees real exceptions.
"""

from __future__ import annotations

from enum import IntEnum
from pathlib import Path

__all__ = [
    "CorruptInputError",
    "EmptyInputError",
    "EncodingError",
    "EncryptedInputError",
    "ExitCode",
    "ExportError",
    "GazetteError",
    "InputError",
    "InputTooLargeError",
    "MissingDependencyError",
    "ModelError",
    "OcrError",
    "UnsupportedInputError",
]


class ExitCode(IntEnum):
    """Process exit codes of the `gazette` command (documented in the README)."""

    ok = 0
    some_files_failed = 1
    bad_args = 2
    input_error = 3
    missing_dependency = 4
    ocr_error = 5
    model_error = 6
    export_error = 7
    internal_error = 15
    interrupted = 130


class GazetteError(Exception):
    """Base of every error gazette raises on purpose."""

    exit_code = ExitCode.internal_error
    code = "E000"
    advice = ""

    def __init__(self, problem: str, *, path: str | Path | None = None, advice: str | None = None):
        self.problem = problem
        self.path = str(path) if path is not None else None
        self.advice = advice if advice is not None else type(self).advice
        super().__init__(self.message)

    @property
    def message(self) -> str:
        where = f"{self.path}: " if self.path else ""
        tail = f" {self.advice}" if self.advice else ""
        return f"[{self.code}] {where}{self.problem.rstrip('.')}.{tail}"

    def to_record(self) -> dict[str, str | int | None]:
        """What batch runs write into errors.jsonl."""
        return {
            "path": self.path,
            "error": type(self).__name__,
            "code": self.code,
            "exit_code": int(self.exit_code),
            "message": self.message,
        }


class InputError(GazetteError):
    exit_code = ExitCode.input_error
    code = "E100"
    advice = "Check the file; gazette reads PDF, PNG, JPEG, TIFF and text files."


class CorruptInputError(InputError):
    code = "E101"
    advice = "The file is damaged or truncated; re-scan or re-export it (qpdf --check file.pdf tells more)."


class UnsupportedInputError(InputError):
    code = "E102"
    advice = "Convert it to PDF, PNG, JPEG, TIFF or UTF-8 text first."


class InputTooLargeError(InputError):
    code = "E103"
    advice = "Raise --max-image-pixels if the image is genuine, or downscale it first."


class EmptyInputError(InputError):
    code = "E104"
    advice = "Nothing to convert; remove the file from the archive or replace it."


class EncodingError(InputError):
    code = "E105"
    advice = "Re-save the file as UTF-8, or pass --encoding (utf-8, utf-16, cp1258, vni, tcvn3)."


class EncryptedInputError(InputError):
    code = "E106"
    advice = "Remove the password first (qpdf --decrypt --password=... in.pdf out.pdf)."


class OcrError(GazetteError):
    exit_code = ExitCode.ocr_error
    code = "E200"
    advice = "Run with -v to see tesseract's own messages."


class MissingDependencyError(GazetteError):
    exit_code = ExitCode.missing_dependency
    code = "E201"
    advice = (
        "Install it: apt-get install tesseract-ocr tesseract-ocr-vie tesseract-ocr-eng "
        "poppler-utils (or run `make run`, which does every set-up step)."
    )


class ModelError(GazetteError):
    exit_code = ExitCode.model_error
    code = "E300"
    advice = "The model files in models/ are missing or damaged; restore them from git (git checkout models/)."


class ExportError(GazetteError):
    exit_code = ExitCode.export_error
    code = "E400"
    advice = "Check that the output folder exists, is writable and has free space."
