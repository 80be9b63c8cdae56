"""Fit the restore noise model on the OCR pair shards built so far and report what it learned.

    .venv/bin/python scripts/fit_noise_model.py            # writes corpora/restore_noise.json

The JSON holds character statistics and word-form counts only, no corpus sentences.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipeline.restore.noise import NoiseModel  # noqa: E402
from pipeline.vietnamese import normalize  # noqa: E402

_FORMULAIC = re.compile(r"\(?Điều \d")  # Pháp điển article ids and citations: not plan-like
SHOW_WORDS = ("của", "đối", "năm", "Sở", "Đơn", "với", "được", "thông", "Dương", "lý")


def read_pairs(shards: Path, min_sim: float) -> Iterator[tuple[str, str]]:
    """(noisy, clean) from every finished shard whose alignment score is at least min_sim."""
    for path in sorted(shards.glob("shard-*.jsonl")):
        with open(path, encoding="utf-8") as handle:
            for row in map(json.loads, handle):
                if row.get("sim", 100.0) >= min_sim:
                    yield row["noisy"], row["clean"]


def sample_corpus_lines(corpora: Path, n: int, seed: int) -> list[str]:
    """A few short legal/admin training lines to show garbling on (never heldout/)."""
    rnd = random.Random(seed)
    lines = []
    for path in sorted(corpora.glob("admin-*.txt.gz")) + sorted(corpora.glob("legal-00[02].txt.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            lines += [s for s in (line.strip() for line in handle) if 40 <= len(s) <= 90 and not _FORMULAIC.match(s)]
    return [normalize(s) for s in rnd.sample(lines, min(n, len(lines)))]


def report(model: NoiseModel, examples: list[str], seed: int) -> None:
    """Print top confusions, merge/split rates, common word forms and garbled examples."""
    print(f"fitted on {model.stats}; {len(model.tokens)} word entries")
    print("\ntop confusions (clean -> ocr, count, P):")
    for char, out, count, prob in model.top_confusions(20):
        print(f"  {char!r:6} -> {out!r:8} {count:7d}  {prob:.3f}")
    print("\ntop confusions beyond plain mark loss:")
    for char, out, count, prob in model.top_confusions(20, beyond_stripping=True):
        print(f"  {char!r:6} -> {out!r:8} {count:7d}  {prob:.3f}")
    merge, split = model.merge_split_rates()
    print(f"\nmerge rate (space lost) {merge:.4f}; split rate (space gained per char) {split:.4f}")
    print("\nword forms:")
    for word in SHOW_WORDS:
        if word in model.tokens:
            other, forms = model.tokens[word]
            top = sorted(forms.items(), key=lambda kv: -kv[1])[:6]
            print(f"  {word}: " + ", ".join(f"{f!r} {n}" for f, n in top) + f", other {other}")
    rng = random.Random(seed)
    print("\nexamples (clean | garbled):")
    for line in examples:
        print(f"  {line}\n  {model.garble(line, rng)}\n")


def benchmark(model: NoiseModel, lines: list[str]) -> float:
    """Lines garbled per second."""
    rng, start, n = random.Random(0), time.perf_counter(), 0
    while time.perf_counter() - start < 1.0:
        for line in lines:
            model.garble(line, rng)
        n += len(lines)
    return n / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shards", type=Path, default=REPO / "data" / "restore" / "ocr")
    parser.add_argument("--out", type=Path, default=REPO / "corpora" / "restore_noise.json")
    parser.add_argument("--corpora", type=Path, default=REPO.parent / "shared" / "corpora")
    parser.add_argument("--min-sim", type=float, default=75.0)
    parser.add_argument("--examples", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    model = NoiseModel.fit(read_pairs(args.shards, args.min_sim))
    if not model.stats["pairs"]:
        sys.exit(f"no pairs in {args.shards}/shard-*.jsonl")
    model.save(args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KiB)")
    examples = sample_corpus_lines(args.corpora, args.examples, args.seed) if args.corpora.is_dir() else []
    report(model, examples, args.seed)
    if examples:
        print(f"garble speed: {benchmark(model, examples):.0f} lines/s")


if __name__ == "__main__":
    main()
