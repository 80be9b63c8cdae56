"""Corpus lines and (noisy, clean) line pairs for training and benchmarking the restorer.

Shared by scripts/train_restore.py and scripts/bench_restore.py. Reads ../shared/corpora
(never committed); training reads only the train files, the benchmark only heldout/.
"""

from __future__ import annotations

import gzip
import json
import random
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.restore.noise import NoiseModel, strip_accents  # noqa: E402
from pipeline.vietnamese import normalize  # noqa: E402

DEFAULT_CORPORA = ROOT.parent / "shared" / "corpora"
NOISE_MODEL = ROOT / "corpora" / "restore_noise.json"
OCR_SHARDS = ROOT / "data" / "restore" / "ocr"

# How often each kind of input appears in training: the real archives' garbling first, then
# text that must come out unchanged or only gain accents.
MIX = {"ocr": 0.25, "garbled": 0.35, "stripped": 0.15, "mixed": 0.10, "clean": 0.10, "caps": 0.05}
DOMAIN_WEIGHTS = {"legal": 0.55, "admin": 0.10, "news": 0.30, "wiki": 0.05}


def read_lines(path: Path, limit: int | None = None, every: int = 1) -> list[str]:
    """Normalised lines of a .txt.gz corpus file (every n-th line, up to limit)."""
    lines = []
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for number, line in enumerate(handle):
            if number % every:
                continue
            line = normalize(line.strip())
            if line:
                lines.append(line)
            if limit and len(lines) >= limit:
                break
    return lines


def chunks(line: str, rng: random.Random, low: int = 6, high: int = 22) -> Iterator[str]:
    """Cut a paragraph into OCR-line-sized pieces of low..high words."""
    words = line.split()
    start = 0
    while start < len(words):
        size = rng.randint(low, high)
        yield " ".join(words[start : start + size])
        start += size


def load_training_text(corpora: Path, per_domain: int, seed: int = 0) -> dict[str, list[str]]:
    """A sample of train lines per domain (heldout/ is never read here)."""
    out: dict[str, list[str]] = {}
    for domain in DOMAIN_WEIGHTS:
        files = sorted(corpora.glob(f"{domain}-*.txt.gz"))
        lines: list[str] = []
        for path in files:
            lines += read_lines(path, limit=per_domain // len(files) + 1, every=3)
        random.Random(seed).shuffle(lines)
        out[domain] = lines[:per_domain]
    return out


def load_ocr_pairs(min_sim: float = 80.0, shards: Path = OCR_SHARDS) -> list[tuple[str, str]]:
    """Real English-model OCR pairs built by scripts/build_restore_data.py."""
    pairs = []
    for shard in sorted(shards.glob("shard-*.jsonl")):
        for line in shard.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            if record.get("sim", 100) >= min_sim:
                pairs.append((record["noisy"], normalize(record["clean"])))
    return pairs


def load_plan_pairs(
    exclude: frozenset[str] = frozenset(), min_sim: float = 80.0, only: frozenset[str] | None = None
) -> list[tuple[str, str]]:
    """Real English-model OCR of the rendered *tune-split* development plans (all but `exclude`, or
    `only` those), each line paired with the true words it stands for (scripts/plan_restore_data.py);
    held-out plans are never read."""
    from plan_restore_data import line_pairs, plan_ids

    return [
        (noisy, normalize(clean))
        for doc_id in plan_ids("tune")
        if doc_id not in exclude and (only is None or doc_id in only)
        for noisy, clean in line_pairs(doc_id, min_similarity=min_sim)
    ]


def make_pair(kind: str, clean: str, noise: NoiseModel, rng: random.Random) -> tuple[str, str]:
    """(noisy, clean) for one synthetic kind of input."""
    if kind == "garbled":
        return noise.garble(clean, rng, severity=noise.sample_severity(rng)), clean
    if kind == "stripped":
        return strip_accents(clean), clean
    if kind == "mixed":
        return noise.garble(clean, rng, keep_word_prob=rng.uniform(0.3, 0.8)), clean
    if kind == "caps":
        upper = clean.upper()
        return noise.garble(upper, rng), upper
    return clean, clean


def pair_stream(
    text: dict[str, list[str]], ocr_pairs: list[tuple[str, str]], seed: int
) -> Iterator[tuple[str, str, str]]:
    """Endless (kind, noisy, clean) pairs following MIX and DOMAIN_WEIGHTS."""
    rng = random.Random(seed)
    noise = NoiseModel.load(NOISE_MODEL)
    kinds, kind_weights = zip(*MIX.items(), strict=True)
    domains, domain_weights = zip(*DOMAIN_WEIGHTS.items(), strict=True)
    while True:
        kind = rng.choices(kinds, kind_weights)[0]
        if kind == "ocr" and ocr_pairs:
            noisy, clean = rng.choice(ocr_pairs)
            yield kind, noisy, clean
            continue
        if kind == "ocr":
            kind = "garbled"
        domain = rng.choices(domains, domain_weights)[0]
        paragraph = rng.choice(text[domain])
        for clean in chunks(paragraph, rng):
            noisy, target = make_pair(kind, clean, noise, rng)
            yield kind, noisy, target
