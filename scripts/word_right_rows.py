"""The word-right and token-right models' training rows (scripts/fit_word_right.py): the stored
conversions of the rendered development plans restored again as `gazette convert` restores them
now (bench_review.restored_again), every token aligned with the true text, cached in
DATA/word-right-features-<signature>.npz. The signature covers the features and a digest of the
code, data and models they come from (pipeline_digest), so a changed pipeline is never fitted
on the rows of an older one.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from bench_review import ANNOTATIONS, WAYS, restored_again, right_or_wrong, truth_words  # noqa: E402

from pipeline.document import Document  # noqa: E402
from pipeline.restore.api import get_restorer  # noqa: E402
from pipeline.restore.confidence import FEATURES, WORD_RIGHT_FILE  # noqa: E402
from pipeline.restore.paths import MODEL_DIR  # noqa: E402
from pipeline.restore.token_right import TokenView, line_features  # noqa: E402
from pipeline.vietnamese import normalize  # noqa: E402

__all__ = ["cached_features", "collect", "pipeline_digest", "static_features", "token_views"]


def cached_features(data: Path, fresh: bool = False, extra: Path | None = None) -> dict[str, np.ndarray]:
    """collect(data, extra), from its cache when the features, the pipeline and the extra
    documents are the same."""
    extra_ids = [doc_id for doc_id, _ in extra_documents(extra)] if extra else []
    key = [FEATURES, "token views", pipeline_digest(), extra_ids]
    signature = hashlib.sha256(json.dumps(key).encode()).hexdigest()[:12]
    cache = data / f"word-right-features-{signature}.npz"
    if cache.is_file() and not fresh:
        return dict(np.load(cache))
    found = collect(data, extra)
    np.savez_compressed(cache, **found)
    return found


def extra_documents(extra: Path) -> list[tuple[str, Path]]:
    """(id, true text) of the complete documents of scripts/render_corpus_pages.py in `extra`."""
    return [(p.stem, p) for p in sorted((extra / "truth").glob("*.txt"))]


def collect(data: Path, extra: Path | None = None) -> dict[str, np.ndarray]:
    """Word rows (every word restore scored): features, right/wrong, way in ('ocr' 1 / 'text'
    0), split (tune 1 / heldout 0), file way ('.pdf.json' 1 / '.eng.txt.json' 0), document,
    extra (a corpus document of `extra`, trained on as tune but never scored as a plan).
    Token rows (every token of a restored page, scored or not): the index of its word row (-1:
    unscored), right/wrong, way in, split, file way, document and extra; and its view (raw_*: final
    text, text as read, flags, OCR confidence, box, line and page number) for the static features."""
    restorer = get_restorer()
    words: dict[str, list] = {k: [] for k in ("features", "right", "ocr", "tune", "scan", "doc", "extra")}
    tokens: dict[str, list] = {k: [] for k in ("row", "right", "ocr", "tune", "scan", "doc", "extra")}
    # the token views themselves, so that static features can be computed again without restoring
    raw: dict[str, list] = {k: [] for k in ("text", "source", "flags", "conf", "box", "line", "page")}
    lines_seen = 0
    # (id, tune, extra, folder of its conversions, true words)
    documents: list[tuple[str, bool, bool, Path, Callable[[], list[str]]]] = []
    for path in sorted(ANNOTATIONS.glob("plan-*.json")):
        gold = json.loads(path.read_text(encoding="utf-8"))
        doc_id = Path(gold["source"]).stem
        documents.append((doc_id, gold["split"] == "tune", False, data, partial(truth_words, doc_id)))
    for doc_id, truth in extra_documents(extra) if extra else []:
        documents.append((doc_id, True, True, extra, partial(_text_words, truth)))
    for number, (doc_id, tune, is_extra, folder, true_words) in enumerate(documents):
        for suffix in WAYS.values():
            converted = folder / "out" / f"{doc_id}{suffix}"
            if not converted.is_file():
                continue
            started = time.perf_counter()
            document, rows = restored_again(Document.model_validate_json(converted.read_text("utf-8")), restorer)
            found = [token for *_, token in document.tokens()]
            ok = right_or_wrong([normalize(t.text) for t in found], true_words())
            row_of = {}
            for index, way, features in rows:
                row_of[index] = len(words["right"])
                for key, value in zip(words, (features, ok[index], way == "ocr", tune, suffix == ".pdf.json",
                                               number, is_extra), strict=True):  # fmt: skip
                    words[key].append(value)
            for page in document.pages:
                for line in page.lines:
                    for t in line.tokens:
                        box = (-1, -1, -1, -1) if t.box is None else (t.box.x0, t.box.y0, t.box.x1, t.box.y1)
                        conf = np.nan if t.ocr_confidence is None else t.ocr_confidence
                        values = (t.text, t.source_text, "|".join(t.flags), conf, box, lines_seen, page.number)
                        for key, value in zip(raw, values, strict=True):
                            raw[key].append(value)
                    lines_seen += bool(line.tokens)
            for index, token in enumerate(found):
                values = (row_of.get(index, -1), ok[index], token.ocr_confidence is not None, tune,
                          suffix == ".pdf.json", number, is_extra)  # fmt: skip
                for key, value in zip(tokens, values, strict=True):
                    tokens[key].append(value)
            print(f"{doc_id}{suffix}: {len(rows)} scored, {time.perf_counter() - started:.1f} s", flush=True)
    out = {key: np.array(value) for key, value in words.items()}
    out.update({f"token_{key}": np.array(value) for key, value in tokens.items()})
    out.update({f"raw_{key}": np.array(value) for key, value in raw.items()})
    return out


def _text_words(path: Path) -> list[str]:
    return normalize(path.read_text(encoding="utf-8")).split()


def token_views(found: dict[str, np.ndarray]) -> list[list[TokenView]]:
    """The cached tokens as lines of TokenViews (collect stores them flat, with a line number)."""
    lines: list[list[TokenView]] = []
    last = -1
    for text, source, flags, conf, box, line in zip(
        found["raw_text"], found["raw_source"], found["raw_flags"], found["raw_conf"], found["raw_box"],
        found["raw_line"], strict=True,
    ):  # fmt: skip
        if line != last:
            lines.append([])
            last = line
        lines[-1].append(
            TokenView(
                str(text),
                str(text) != str(source),
                None if np.isnan(conf) else float(conf),
                None if box[0] < 0 else (int(box[0]), int(box[1]), int(box[2]), int(box[3])),
                source=str(source),
                flags=tuple(str(flags).split("|")) if flags else (),
            )
        )
    return lines


def static_features(found: dict[str, np.ndarray], lexicon: Mapping[str, float]) -> np.ndarray:
    """The token-right static features of every cached token, from its views; a line's rank is
    counted within its file's first page (caches without page numbers: within the file, which
    is the same for the first ten lines of any first page that has them)."""
    starts = np.flatnonzero(np.r_[True, found["raw_line"][1:] != found["raw_line"][:-1]])
    files = found["token_doc"] * 2 + found["token_scan"]
    pages = found["raw_page"] if "raw_page" in found else np.ones(len(files), dtype=int)
    rows, rank, last = [], 0, None
    for start, line in zip(starts, token_views(found), strict=True):
        rank = rank + 1 if files[start] == last else 0
        last = files[start]
        rows.append(line_features(line, lexicon, rank if pages[start] == 1 else None))
    return np.vstack(rows)


def pipeline_digest() -> str:
    """sha256 of what the cached features come from: gazette's code, the restore data and models
    (not word_right.json, which this fit writes) and the bench that restores the stored pages
    again. A cache keyed by the feature names alone once fed a fit the features of an older
    pipeline."""
    digest = hashlib.sha256()
    files = [
        *sorted((ROOT / "pipeline").rglob("*.py")),
        *sorted((ROOT / "corpora").glob("*.tsv")),
        *sorted((ROOT / "corpora").glob("*.json")),
        *sorted(p for p in MODEL_DIR.rglob("*") if p.is_file() and p.name not in {WORD_RIGHT_FILE, "MODEL_CARD.md"}),
        ROOT / "scripts" / "bench_review.py",
    ]
    for path in files:
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:16]
