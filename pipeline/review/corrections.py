"""Corrections flowing back: re-exports with the journal applied, and training pairs from it.

`export_outputs` re-writes the outputs of every converted document in OUT_DIR (the
`<input name>.json` files `gazette convert` writes) with the journal's corrections applied.
`export_line_pairs` writes, for every line with at least one correction (a confirmation
counts: a reviewer vouched for the word), the pair (line as read, line as it now stands) as
JSON Lines in the `{"noisy": …, "clean": …}` format
`scripts/train_restore.py --extra-pairs` reads, plus the line's image crop (PNG) and its
ground truth (`.gt.txt`, the tesstrain/Kraken convention) in a folder beside the pairs file.

Both hold the output folder's lock (`OUT_DIR/.gazette/lock`, the one `gazette convert` takes),
so neither runs while a conversion writes the same folder: OutputLockedError instead.

A document whose outputs cannot be made (the source a searchable PDF is made from is gone or
changed, InputError) is skipped and reported, as an unreadable Document JSON is, and the
export goes on: its earlier outputs stay as they were (`write_outputs` replaces none of them
unless every format was made). A full disk or an unwritable folder still stops the export.

documents.jsonl. `gazette convert` keeps each document's line in OUT_DIR/.gazette/jsonl/
(`pipeline.batch.task.jsonl_part`) and a later run rebuilds documents.jsonl from those parts,
so `export_outputs` rewrites the parts with the corrections applied (every part that exists,
whatever the formats asked: a stale part would bring the uncorrected text back on the next
convert) and, with `jsonl`, documents.jsonl as the concatenation of the parts, in the order of
the documents (sorted by path).
"""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from pipeline.document import Document, Line, Page
from pipeline.errors import GazetteError, InputError
from pipeline.export import to_jsonl_line, write_outputs
from pipeline.export.json import from_json
from pipeline.files import atomic_write_bytes, atomic_write_text
from pipeline.review.images import PageImage, crop_box, has_image, page_image, verified_source
from pipeline.review.journal import CorrectionRecord, Journal, OrphanCorrection, journal_name, reapply_journal

__all__ = [
    "ConvertedDocument",
    "ExportSummary",
    "PairsSummary",
    "corrected_documents",
    "export_line_pairs",
    "export_outputs",
    "find_documents",
    "load_document",
]

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from pipeline.batch.manifest import OutputLock

_UNSAFE = re.compile(r"[^\w-]+")  # file names of crops: the document path with '/' and '.' made safe


@dataclass(frozen=True)
class ConvertedDocument:
    """A Document JSON in an output folder, by its output stem: 'scans/a.pdf' for OUT_DIR/scans/a.pdf.json."""

    relative: str
    json_path: Path

    @property
    def stem(self) -> Path:
        return self.json_path.with_name(self.json_path.name.removesuffix(".json"))


@dataclass
class ExportSummary:
    documents: int = 0
    written: list[Path] = field(default_factory=list)
    corrected_tokens: int = 0
    orphans: list[OrphanCorrection] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # JSON files that could not be read, with why
    relatives: list[str] = field(default_factory=list)  # the documents written, by input path


@dataclass
class PairsSummary:
    pairs: int = 0
    crops: int = 0
    lines_folder: Path | None = None
    missing_images: list[str] = field(default_factory=list)
    orphans: list[OrphanCorrection] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def find_documents(out_dir: str | Path) -> list[ConvertedDocument]:
    """The Document JSONs under out_dir, sorted; hidden folders (.gazette) and other JSON files left out."""
    out_dir = Path(out_dir)
    found = []
    for path in sorted(out_dir.rglob("*.json")):
        relative = path.relative_to(out_dir)
        if any(part.startswith(".") for part in relative.parts):
            continue
        try:
            with path.open("rb") as handle:
                head = handle.read(4096)
        except OSError:
            continue
        if b'"schema_version"' in head and b'"sha256"' in head:
            found.append(ConvertedDocument(relative.as_posix().removesuffix(".json"), path))
    return found


def load_document(converted: ConvertedDocument) -> Document:
    try:
        return from_json(converted.json_path.read_text(encoding="utf-8"))
    except (OSError, ValidationError, ValueError) as exc:
        raise InputError(f"not a readable gazette Document JSON ({exc})", path=converted.json_path) from exc


def corrected_documents(
    out_dir: str | Path, records: list[CorrectionRecord] | None = None
) -> Iterator[tuple[ConvertedDocument, Document | GazetteError, list[OrphanCorrection]]]:
    """Each converted document with the journal applied, or the error that stopped it being read."""
    records = Journal(out_dir).load() if records is None else records
    for converted in find_documents(out_dir):
        try:
            document = load_document(converted)
        except GazetteError as exc:
            yield converted, exc, []
            continue
        document, orphans = reapply_journal(document, out_dir, converted.relative, records)
        yield converted, document, orphans


def unclaimed(records: list[CorrectionRecord], documents: list[tuple[str, str]]) -> list[OrphanCorrection]:
    """Records of no document in the folder (sha256, relative): the file was removed or changed."""
    shas = {sha for sha, _ in documents}
    paths = {journal_name(relative) for _, relative in documents}
    return [
        OrphanCorrection(r, f"no document {r.document} (sha256 {r.document_sha256[:12]}…) in the output folder")
        for r in records
        if r.document_sha256 not in shas and r.document not in paths
    ]


def output_lock(out_dir: Path) -> OutputLock:
    """The lock `gazette convert` holds on the output folder (OutputLockedError while it runs)."""
    from pipeline.batch.manifest import OutputLock  # the batch machinery, loaded only here
    from pipeline.batch.task import STATE_DIR

    return OutputLock(out_dir / STATE_DIR / "lock", out_dir)


def export_outputs(out_dir: str | Path, formats: tuple[str, ...]) -> ExportSummary:
    """Re-write the chosen outputs of every converted document with the journal's corrections
    applied, and its documents.jsonl part (see the module docstring), under the output lock."""
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        raise InputError("no such output folder", path=out_dir, advice="Pass the folder `gazette convert -o` wrote.")
    with output_lock(out_dir):
        return _export_outputs(out_dir, formats)


def resegment_outputs(out_dir: str | Path) -> ExportSummary:
    """Rebuild every converted document's plan from its stored text (corrections applied) with
    the current segmenter and lexicon, without OCR; rewrite the JSON (and documents.jsonl when
    the folder has it) and mark the files current in the batch manifest."""
    from pipeline.batch.manifest import Manifest
    from pipeline.batch.task import STATE_DIR
    from pipeline.fingerprint import plan_fingerprint, split_key

    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        raise InputError("no such output folder", path=out_dir, advice="Pass the folder `gazette convert -o` wrote.")
    formats = ("json", "jsonl") if (out_dir / "documents.jsonl").exists() else ("json",)
    with output_lock(out_dir):
        summary = _export_outputs(out_dir, formats, replan=True)
        manifest_path = out_dir / STATE_DIR / "manifest.sqlite"
        if manifest_path.exists():
            manifest = Manifest(manifest_path)
            try:
                plan = plan_fingerprint()
                rows = manifest.rows()
                done = {r.relative: f"{split_key(r.version)[0]}+{plan}" for r in rows.values() if r.status == "done"}
                manifest.restamp({relative: done[relative] for relative in summary.relatives if relative in done})
            finally:
                manifest.close()
    return summary


def _export_outputs(out_dir: Path, formats: tuple[str, ...], replan: bool = False) -> ExportSummary:
    from pipeline.api import resegment
    from pipeline.batch.task import jsonl_part

    records = Journal(out_dir).load()
    summary = ExportSummary()
    seen: list[tuple[str, str]] = []
    parts: list[Path] = []
    for converted, document, orphans in corrected_documents(out_dir, records):
        if isinstance(document, GazetteError):
            summary.skipped.append(document.message)
            continue
        seen.append((document.sha256, converted.relative))
        summary.orphans += orphans
        part = out_dir / jsonl_part(Path(converted.relative))
        if replan:
            document = resegment(document)
        try:
            summary.written += write_outputs(document, converted.stem, formats)
        except InputError as exc:  # the source of its pdf is gone: this document only
            summary.skipped.append(exc.message)
            if part.exists():
                parts.append(part)  # documents.jsonl still describes every document
            continue
        summary.relatives.append(converted.relative)
        summary.documents += 1
        summary.corrected_tokens += sum(1 for *_, t in document.tokens() if "corrected" in t.flags)
        if "jsonl" in formats or part.exists():
            atomic_write_text(part, to_jsonl_line(document))
            summary.written.append(part)
            parts.append(part)
    if "jsonl" in formats:
        atomic_write_bytes(out_dir / "documents.jsonl", b"".join(part.read_bytes() for part in parts))
        summary.written.append(out_dir / "documents.jsonl")
    summary.orphans += unclaimed(records, seen)
    return summary


def export_line_pairs(
    out_dir: str | Path, target: str | Path, *, source_root: str | Path | None = None
) -> PairsSummary:
    """Write (read, corrected) line pairs to `target` and line crops + .gt.txt to '<target stem>-lines/',
    under the output folder's lock. Crops come only from the very file that was converted (its
    sha256 is checked once per document); otherwise the pair is written without an image."""
    out_dir, target = Path(out_dir), Path(target)
    with output_lock(out_dir):
        return _export_line_pairs(out_dir, target, source_root)


def _export_line_pairs(out_dir: Path, target: Path, source_root: str | Path | None) -> PairsSummary:
    lines_folder = target.with_name(target.stem + "-lines")
    records = Journal(out_dir).load()
    summary = PairsSummary(lines_folder=lines_folder)
    rows: list[str] = []
    written: set[str] = set()
    seen: list[tuple[str, str]] = []
    for converted, document, orphans in corrected_documents(out_dir, records):
        if isinstance(document, GazetteError):
            summary.skipped.append(document.message)
            continue
        seen.append((document.sha256, converted.relative))
        summary.orphans += orphans
        images: dict[int, PageImage | None] = {}
        source: list[Path | None] = []  # the verified source file, looked up on the first crop
        for page, number, line in _corrected_lines(document):
            name = _crop_name(converted.relative, page.number, number, written, document.sha256)
            row = {
                "noisy": line.source_text,
                "clean": line.text,
                "document": converted.relative,
                "sha256": document.sha256,
                "page": page.number,
                "line": number,
                "reviewers": sorted({c.reviewer for t in line.tokens for c in t.corrections}),
                "image": None,
            }
            if line.box is not None and has_image(document):
                if page.number not in images:
                    images[page.number] = _page_image_or_none(document, page.number, source_root, source, summary)
                image = images[page.number]
                if image is not None:
                    crop = crop_box(image, line.box).convert("L")  # line images for OCR training are grey
                    png = io.BytesIO()
                    crop.save(png, format="PNG")
                    atomic_write_bytes(lines_folder / f"{name}.png", png.getvalue())
                    atomic_write_text(lines_folder / f"{name}.gt.txt", line.text + "\n")
                    row["image"] = (lines_folder / f"{name}.png").relative_to(target.parent).as_posix()
                    written.add(name)
                    summary.crops += 1
            rows.append(json.dumps(row, ensure_ascii=False) + "\n")
    atomic_write_text(target, "".join(rows))
    summary.pairs = len(rows)
    summary.orphans += unclaimed(records, seen)
    _remove_stale_crops(lines_folder, written)
    return summary


def _corrected_lines(document: Document) -> Iterator[tuple[Page, int, Line]]:
    for page in document.pages:
        for number, line in enumerate(page.lines, 1):
            if any(token.corrections for token in line.tokens):
                yield page, number, line


def _crop_name(relative: str, page: int, line: int, taken: set[str], sha256: str) -> str:
    name = f"{_UNSAFE.sub('_', relative)}-p{page}-l{line}"
    return f"{name}-{sha256[:8]}" if name in taken else name


def _page_image_or_none(
    document: Document, number: int, source_root: str | Path | None, source: list[Path | None], summary: PairsSummary
) -> PageImage | None:
    """`source` caches the document's verified source file ([None]: missing or changed)."""
    try:
        if not source:
            source.append(None)
            source[0] = verified_source(document, source_root)
        if source[0] is None:
            return None  # reported on the first page already
        return page_image(document, number, source=source[0])
    except GazetteError as exc:
        log.warning("no line images for page %d: %s", number, exc.message)
        summary.missing_images.append(f"page {number}: {exc.message}")
        return None


def _remove_stale_crops(folder: Path, written: set[str]) -> None:
    """Crops of lines that are no longer corrected (a re-converted document) would train on stale truth."""
    if not folder.is_dir():
        return
    for path in folder.iterdir():
        stem = path.name.removesuffix(".gt.txt").removesuffix(".png")
        if path.name.endswith((".png", ".gt.txt")) and stem not in written:
            log.info("removing stale %s", path)
            path.unlink(missing_ok=True)
