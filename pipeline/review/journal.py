"""The corrections journal: every reviewer edit, appended to OUT_DIR/.gazette/corrections.jsonl.

The journal, not the Document JSON, is the record of what reviewers did: outputs are derived
from it (`gazette export`, a re-run of `gazette convert`), so it survives a kernel restart, a
browser reload, a killed server and a re-conversion of the archive.

Format: JSON Lines, one `CorrectionRecord` per line, UTF-8, never rewritten. Each append is
one `os.write` of the whole line on an O_APPEND descriptor, under an exclusive `flock` (two
processes never interleave), followed by `fsync`. A writer killed mid-append leaves a torn last
line; loading skips it with a warning and keeps every completed record, and the next append
first ends the torn fragment with a newline so it can never swallow a complete record.

Which records belong to a document: those with its sha256 (the content that was reviewed,
wherever the file now lives in the archive) or its path relative to OUT_DIR (the same file,
re-scanned). Each record carries the token's `source_text` at edit time; a record whose token
no longer exists, or now reads a different source text (the file was re-scanned or converted
with other settings), is an orphan: reported by `apply_corrections`, never applied to the
wrong word and never removed from the journal.

Conflict rule: records apply in journal order, the last one wins, and nothing is overwritten
silently. Every record stores `previous`, the text its reviewer saw; when it differs from the
token's text at that point of the journal (another reviewer corrected the word meanwhile),
the record is still applied, every correction stays in `Token.corrections`, and the token is
flagged `correction-conflict` (the review widget shows it and queues the word for review).
`open_conflict` is the one predicate for that state: a token's conflict is open while its last
correction was made on a text other than the one the correction before it left. A later
correction made on the current text (a reviewer who saw the disagreement and settled it,
confirming or changing the word) resolves it, and the flag is cleared. The first correction
never conflicts: its `previous` is, by definition, the token's text before review
(`Token.machine_text`).
A record whose text equals its previous text is a confirmation: the word was checked and is
right. Flags: `reviewed` once a token has any correction, `corrected` when its text differs
from the text before review.

Clean text. A record's texts and reviewer name are cleaned (`pipeline.vietnamese.clean_text`)
when it is made and again when it is read, so a control character typed or pasted into the
review app, or left in the journal by an older gazette, never reaches an export (where it
would make the XML ill-formed). The token's source text is compared in its clean form too.
The document's path is kept as it is, except that a name which is not UTF-8 (bytes Python
holds as lone surrogates) is stored with U+FFFD for each such byte (`journal_name`): JSON in
UTF-8 cannot hold it otherwise, and the record still belongs to its document by sha256.
"""

from __future__ import annotations

import fcntl
import logging
import os
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from pipeline.document import Correction, Document, Token
from pipeline.errors import ExportError, ReviewError
from pipeline.files import output_error
from pipeline.vietnamese import clean_text

__all__ = [
    "JOURNAL_PATH",
    "CorrectionRecord",
    "Journal",
    "OrphanCorrection",
    "apply_corrections",
    "belongs_to",
    "correction_conflicts",
    "journal_name",
    "new_record",
    "open_conflict",
    "reapply_journal",
]

log = logging.getLogger(__name__)

JOURNAL_PATH = Path(".gazette") / "corrections.jsonl"  # under OUT_DIR
REVIEW_FLAGS = ("reviewed", "corrected", "correction-conflict")


class CorrectionRecord(BaseModel):
    """One line of the journal: one reviewer's edit of one token."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    edit_id: str = Field(description="Unique id of this edit (uuid4 hex).")
    document_sha256: str
    document: str = Field(description="The document's path under OUT_DIR without '.json', e.g. 'scans/a.pdf'.")
    page: int = Field(ge=1)
    token: str = Field(description="token_id(): 'p2-l14-w3'.")
    source_text: str = Field(description="The token's source_text when it was edited.")
    previous: str = Field(description="The text the reviewer saw before the edit.")
    text: str
    reviewer: str
    time: str = Field(description="ISO 8601 UTC.")

    @field_validator("source_text", "previous", "text", "reviewer", mode="after")
    @classmethod
    def _clean(cls, value: str) -> str:
        return clean_text(value)

    @field_validator("document", mode="after")
    @classmethod
    def _storable(cls, value: str) -> str:
        return journal_name(value)

    def as_correction(self) -> Correction:
        return Correction(
            text=self.text, previous=self.previous, reviewer=self.reviewer, time=self.time, edit_id=self.edit_id
        )


@dataclass(frozen=True)
class OrphanCorrection:
    """A journal record that no longer fits its document: reported, kept in the journal."""

    record: CorrectionRecord
    reason: str


def new_record(
    document: Document, relative: str, token: str, text: str, reviewer: str, previous: str | None = None
) -> CorrectionRecord:
    """A record of `reviewer` setting `token` to `text`; `previous` is the text the reviewer saw
    (default: the token's text in `document`); ReviewError when the document has no such token."""
    found = next(((page, t) for tid, page, _, t in document.tokens() if tid == token), None)
    if found is None:
        raise ReviewError(f"no token {token} in this document", path=relative)
    page, current = found
    return CorrectionRecord(
        edit_id=uuid.uuid4().hex,
        document_sha256=document.sha256,
        document=relative,
        page=page.number,
        token=token,
        source_text=current.source_text,
        previous=current.text if previous is None else previous,
        text=text,
        reviewer=reviewer,
        time=datetime.now(UTC).isoformat(timespec="microseconds"),
    )


class Journal:
    """The append-only corrections journal of one output folder."""

    def __init__(self, out_dir: str | Path) -> None:
        self.out_dir = Path(out_dir)
        self.path = self.out_dir / JOURNAL_PATH

    def append(self, record: CorrectionRecord) -> None:
        """Write one record durably; raises ExportError when the journal cannot be written."""
        line = (record.model_dump_json() + "\n").encode("utf-8")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o666)
        except OSError as exc:
            raise ExportError(f"cannot open the corrections journal ({exc.strerror or exc})", path=self.path) from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                line = b"\n" + line  # end a torn line left by a killed writer
            written = os.write(fd, line)
            if written != len(line):  # a full disk can cut a write short: end it so the next line stays whole
                os.write(fd, b"\n")
                raise OSError(28, "short write (disk full?)")
            os.fsync(fd)
        except OSError as exc:  # a full disk is a DiskFullError, as for every output
            raise output_error(exc, self.path, "the corrections journal") from exc
        finally:
            os.close(fd)  # closing releases the lock

    def load(self) -> list[CorrectionRecord]:
        """Every complete record, in journal order; damaged or torn lines are skipped with a warning."""
        try:
            with self.path.open("rb") as handle:
                fcntl.flock(handle.fileno(), fcntl.LOCK_SH)  # a concurrent append is never seen half-written
                data = handle.read()
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise ExportError(f"cannot read the corrections journal ({exc.strerror or exc})", path=self.path) from exc
        records = []
        chunks = data.split(b"\n")
        for number, chunk in enumerate(chunks, 1):
            if not chunk.strip():
                continue
            try:
                records.append(CorrectionRecord.model_validate_json(chunk))
            except (ValidationError, ValueError):
                torn = number == len(chunks)  # no newline after it: the writer stopped mid-append
                log.warning(
                    "%s: line %d %s; skipped (%d bytes)",
                    self.path,
                    number,
                    "is incomplete (a writer stopped mid-append)" if torn else "is damaged",
                    len(chunk),
                )
        return records

    def records_for(self, document: Document, relative: str) -> list[CorrectionRecord]:
        return [r for r in self.load() if belongs_to(r, document, relative)]


def journal_name(relative: str) -> str:
    """A document's path as the journal stores it: U+FFFD for each lone surrogate (a byte of a
    name that is not UTF-8), so the line is valid UTF-8 JSON."""
    return "".join("\ufffd" if "\ud800" <= c <= "\udfff" else c for c in relative)


def belongs_to(record: CorrectionRecord, document: Document, relative: str) -> bool:
    return record.document_sha256 == document.sha256 or record.document == journal_name(relative)


def correction_conflicts(corrections: list[Correction]) -> list[bool]:
    """For each correction, whether it was made on a text other than the one the correction
    before it left (another reviewer changed the word meanwhile); the first never is."""
    return [i > 0 and c.previous != corrections[i - 1].text for i, c in enumerate(corrections)]


def open_conflict(token: Token) -> bool:
    """The token's conflict is open: its last correction conflicts (see the module docstring);
    a later correction made on the current text resolves it."""
    return bool(token.corrections) and correction_conflicts(token.corrections)[-1]


def apply_corrections(document: Document, records: list[CorrectionRecord]) -> tuple[Document, list[OrphanCorrection]]:
    """A copy of `document` with the records applied in order, and the records that no longer fit.

    Records already present in a token's history (a Document JSON exported with corrections)
    are not applied twice, so applying the whole journal again is harmless.
    """
    document = document.model_copy(deep=True)
    tokens = {tid: token for tid, _, _, token in document.tokens()}
    orphans: list[OrphanCorrection] = []
    touched: dict[str, Token] = {}
    for record in records:
        token = tokens.get(record.token)
        if token is None:
            orphans.append(OrphanCorrection(record, f"token {record.token} no longer exists"))
            continue
        if clean_text(token.source_text) != record.source_text:
            orphans.append(
                OrphanCorrection(
                    record,
                    f"token {record.token} now reads {token.source_text!r}, "
                    f"the correction was made on {record.source_text!r}",
                )
            )
            continue
        if any(c.edit_id == record.edit_id for c in token.corrections):
            continue
        token.corrections = [*token.corrections, record.as_correction()]
        token.text = record.text
        touched[record.token] = token
    for token in touched.values():
        flags = _with_flag(token.flags, "reviewed")
        flags = _set_flag(flags, "corrected", token.text != token.machine_text)
        token.flags = _set_flag(flags, "correction-conflict", open_conflict(token))
    if touched:  # the plan is rebuilt from the corrected text, so its spans and names follow it
        from pipeline.api import resegment

        document = resegment(document)
    return document, orphans


def reapply_journal(
    document: Document, out_dir: str | Path, relative: str, records: list[CorrectionRecord] | None = None
) -> tuple[Document, list[OrphanCorrection]]:
    """After (re-)converting a file: its journal records applied, orphans reported (logged).

    `relative` is the file's output stem under out_dir ('scans/a.pdf' for out/scans/a.pdf.json).
    Batch runs call this before writing outputs, so corrections survive a re-run of convert.
    `records`: the whole journal, already loaded (an export of many documents reads it once);
    default, read it now. Only the document's own records are applied.
    """
    if records is None:
        records = Journal(out_dir).load()
    records = [r for r in records if belongs_to(r, document, relative)]
    if not records:
        return document, []
    document, orphans = apply_corrections(document, records)
    for orphan in orphans:
        log.warning(
            "%s: correction %s by %s not applied: %s",
            relative,
            orphan.record.edit_id,
            orphan.record.reviewer,
            orphan.reason,
        )
    return document, orphans


def _with_flag(flags: list[str], flag: str) -> list[str]:
    return flags if flag in flags else [*flags, flag]


def _set_flag(flags: list[str], flag: str, on: bool) -> list[str]:
    return _with_flag(flags, flag) if on else [f for f in flags if f != flag]
