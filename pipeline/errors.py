"""Exit codes and the one exception hierarchy of gazette.

Every error names the file, the problem and what the user can do about it. The CLI maps
them to exit codes, the batch runner records them per file and carries on, and the API lets
them propagate so a notebook sees real exceptions.
"""

from __future__ import annotations

from enum import IntEnum
from pathlib import Path

from pipeline.filenames import display_path

__all__ = [
    "ClusterError",
    "CorruptInputError",
    "DiskFullError",
    "EmptyInputError",
    "EncodingError",
    "EncryptedInputError",
    "ExitCode",
    "ExportError",
    "FileTimeoutError",
    "GazetteError",
    "InputError",
    "InputTooLargeError",
    "InternalError",
    "MissingDependencyError",
    "ModelError",
    "OcrError",
    "OutputConflictError",
    "OutputLockedError",
    "PortInUseError",
    "ReviewError",
    "SourceMissingError",
    "UnsupportedInputError",
    "WorkerLostError",
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
    output_locked = 8
    cluster_error = 9
    internal_error = 15
    interrupted = 130
    terminated = 143


class GazetteError(Exception):
    """Base of every error gazette raises on purpose."""

    exit_code = ExitCode.internal_error
    code = "E000"
    advice = ""

    def __init__(self, problem: str, *, path: str | Path | None = None, advice: str | None = None):
        self.problem = problem
        # Shown and recorded as text: a name that is not UTF-8 would break every output.
        self.path = display_path(path) if path is not None else None
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
    advice = "The file is damaged or truncated; re-scan or re-export it (for a PDF, qpdf --check FILE tells more)."


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


class SourceMissingError(InputError):
    """Page images (review, crops, searchable PDF) are read again from the converted source."""

    code = "E107"
    advice = (
        "Put the archive back where it was converted from (a relative source path is read from the "
        "folder you run gazette in), or re-run `gazette convert` on it where it is now."
    )


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


class PortInUseError(GazetteError):
    exit_code = ExitCode.bad_args
    code = "E500"
    advice = "Pass another --port, or stop the program that uses it."


class OutputConflictError(GazetteError):
    """The command line asks for outputs that would overwrite each other or the inputs."""

    exit_code = ExitCode.bad_args
    code = "E501"
    advice = "Convert these inputs into separate output folders (-o), outside the input folders."


class DiskFullError(ExportError):
    code = "E401"
    advice = (
        "Free space on the output disk (or choose another output folder) and run the same command "
        "again; files already converted are skipped."
    )


class OutputLockedError(GazetteError):
    exit_code = ExitCode.output_locked
    code = "E402"
    advice = "Wait for that run to finish (or stop it), or convert into another output folder."


class ClusterError(GazetteError):
    """The Dask scheduler given with --dask cannot be reached (or the local cluster cannot start)."""

    exit_code = ExitCode.cluster_error
    code = "E600"
    advice = "Start it with `dask scheduler` and pass the tcp://host:8786 address it prints, or run without --dask."


class WorkerLostError(GazetteError):
    """A worker process died (killed, out of memory, a crash inside a library) while converting the file."""

    code = "E601"
    advice = (
        "Out of memory or a crash inside a library, most likely. Check the file; "
        "`gazette convert FILE -o OUT --jobs 0 -v` converts it alone, in the foreground."
    )


class FileTimeoutError(GazetteError):
    """A file took longer than the per-file time limit of a batch; its worker was freed for the next."""

    code = "E602"
    advice = (
        "The file may be huge or stuck (a damaged PDF that makes a library loop). Raise the limit "
        "(--file-timeout) if it is merely long, or convert it alone: `gazette convert FILE -o OUT --jobs 0 -v`."
    )


class InternalError(GazetteError):
    """An exception gazette did not expect: a bug, recorded for the file so the batch goes on."""

    code = "E001"
    advice = "This is a bug in gazette; please report it with the file (or a copy of it) attached."


class ReviewError(GazetteError):
    """A review request the output folder cannot answer: no such document, page or word, an empty word."""

    exit_code = ExitCode.bad_args
    code = "E502"
    advice = "Reload the review (the output folder may have been re-converted meanwhile)."
