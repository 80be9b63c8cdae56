"""One fingerprint of everything that shapes an output, in two parts.

- **text**: what produces a document's words: gazette's version, tesseract's, the restore
  model's files, the data restore reads (corpora/restore_*) and every option that changes
  outputs. When it changes, a file is converted again (OCR included).
- **plan**: what turns the words into a Plan: the segmenter's and the lexicon's code and the
  lexicon's data (corpora/agencies.tsv, corpora/agency_history.tsv). When only this changes, the
  plan is rebuilt from the stored text (`gazette resegment`, or `gazette convert` doing the
  same for files whose text is current); no page is read again.

The key `gazette convert` stores per file is `<text>+<plan>`; documents carry both in
Provenance.fingerprints.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any

from pipeline import __version__
from pipeline.errors import GazetteError
from pipeline.ingest import sha256_of
from pipeline.options import Options
from pipeline.restore.paths import MODEL_DIR, has_model

__all__ = ["fingerprints", "plan_fingerprint", "split_key", "text_fingerprint"]

PACKAGE = Path(__file__).resolve().parent
CORPORA = PACKAGE.parent / "corpora"
# Code and data that decide the plan of a given text.
PLAN_SOURCES = (
    PACKAGE / "segment",
    PACKAGE / "lexicon.py",
    PACKAGE / "agency_text.py",
    PACKAGE / "lookalikes.py",
    PACKAGE / "labels.py",
    PACKAGE / "signature.py",
    PACKAGE / "vietnamese.py",
    CORPORA / "agencies.tsv",
    CORPORA / "agency_history.tsv",
    CORPORA / "restore_noise.json",  # the OCR channel the look-alike table is derived from
)
# Data restore reads besides the model (its code is covered by gazette's version).
RESTORE_DATA = (
    CORPORA / "restore_lexicon.tsv",
    CORPORA / "restore_noise.json",
    CORPORA / "restore_noise_vie.json",  # the vie OCR channel and decoder weights (restore/vie.py)
    CORPORA / "place_names.tsv",
    CORPORA / "surnames.tsv",
)
_IGNORED = {"MODEL_CARD.md", "metrics.json"}  # documentation, not what shapes an output


def _digest(paths: tuple[Path, ...]) -> str:
    """sha256 over the files (folders: their .py/.tsv/.json files), by path and content."""
    digest = hashlib.sha256()
    files = []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in {".py", ".tsv", ".json"})
        elif path.is_file():
            files.append(path)
    for path in files:
        if path.name in _IGNORED or "__pycache__" in path.parts:
            continue
        name = path.relative_to(PACKAGE.parent) if path.is_relative_to(PACKAGE.parent) else path
        digest.update(str(name).encode() + b"\0" + sha256_of(path).encode() + b"\n")
    return digest.hexdigest()[:16]


@cache
def _model_fingerprint() -> str | None:
    if not has_model(MODEL_DIR):
        return None
    return _digest(tuple(p for p in sorted(MODEL_DIR.rglob("*")) if p.is_file()))


@cache
def _restore_data() -> str:
    return _digest(RESTORE_DATA)


@cache
def plan_fingerprint() -> str:
    """The plan part: segmenter and lexicon code and data."""
    return _digest(PLAN_SOURCES)


def text_fingerprint(options: Options) -> tuple[str, dict[str, Any]]:
    """(key, what it is made of) of the text part."""
    from pipeline.ocr import probe

    try:
        tesseract: str | None = probe(options.language)
    except GazetteError:
        tesseract = None  # text-only archives convert without it; image files will say so
    parts = {
        "gazette": __version__,
        "tesseract": tesseract,
        "restore_model": _model_fingerprint() if options.restore != "never" else None,
        "restore_data": _restore_data() if options.restore != "never" else None,
        # Formats only decide which outputs exist (manifest rows record theirs), and the time
        # limit whether a file finishes at all: neither changes what an output says.
        "options": options.model_dump(mode="json", exclude={"formats", "file_timeout"}),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16], parts


def fingerprints(options: Options) -> tuple[str, dict[str, Any]]:
    """The key `<text>+<plan>` and everything it is made of."""
    text, parts = text_fingerprint(options)
    plan = plan_fingerprint()
    return f"{text}+{plan}", {**parts, "plan": plan}


def split_key(key: str) -> tuple[str, str | None]:
    """(text, plan) of a stored key; keys written before the split have no plan part."""
    text, _, plan = key.partition("+")
    return text, plan or None
