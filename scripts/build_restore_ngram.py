"""Build the restorer's syllable trigram LM from the train corpora (never heldout/), tune its decoder.

    .venv/bin/python scripts/build_restore_ngram.py                     # count, estimate, save
    .venv/bin/python scripts/build_restore_ngram.py --tune-only         # tune the n-gram decoder
    .venv/bin/python scripts/build_restore_ngram.py --tune-only --model data/restore/run-seq2seq/best

Writes data/restore/ngram/lm.npz (the model), build.json (what went in), decoder.json (tuned
weights) and dev.txt.gz: every --dev-every-th corpus line is held back from the counts so the
decoder weights are tuned on text the LM has not seen (stripped and noise-garbled copies of it).
"""

from __future__ import annotations

import argparse
import dataclasses
import gzip
import itertools
import json
import logging
import random
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipeline.restore.candidates import LEXICON, CandidateGenerator  # noqa: E402
from pipeline.restore.lattice import SETTINGS_FILE, DecoderSettings, NgramRestorer, RescoredRestorer  # noqa: E402
from pipeline.restore.ngram import LM_FILE, NGRAM_DIR, SPECIALS, NgramCounts, NgramLM, line_units  # noqa: E402
from pipeline.restore.noise import NoiseModel, strip_accents  # noqa: E402
from pipeline.restore.tokens import split_line, split_token  # noqa: E402
from pipeline.vietnamese import normalize  # noqa: E402

log = logging.getLogger("build_restore_ngram")
NOISE = REPO / "corpora" / "restore_noise.json"


def lexicon_vocab(path: Path = LEXICON) -> list[str]:
    """LM units: the specials, every lexicon entry (the candidate generator's outputs) and the
    single letters, which list items and clauses cite (điểm b, khoản 2) and copies keep."""
    rows = [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines()[1:]]
    return [*SPECIALS, *dict.fromkeys([*(text for text, _count, _kind in rows), *"abcdefghijklmnopqrstuvwxyzđ"])]


def count(
    corpora: Path, vocab: list[str], dev_every: int, limit: int | None, dev_out: Path
) -> tuple[NgramCounts, dict]:
    index = {u: i for i, u in enumerate(vocab)}
    counts = NgramCounts(len(vocab))
    stats: dict = {"files": {}, "tokens": 0, "unk": 0, "dev_lines": 0}
    with gzip.open(dev_out, "wt", encoding="utf-8") as dev:
        for path in sorted(corpora.glob("*.txt.gz")):  # the glob does not descend into heldout/
            started, lines = time.monotonic(), 0
            with gzip.open(path, "rt", encoding="utf-8") as handle:
                for number, raw in enumerate(handle):
                    if limit and number >= limit:
                        break
                    line = normalize(raw.strip())
                    if not line:
                        continue
                    if number % dev_every == dev_every - 1:
                        dev.write(line + "\n")
                        stats["dev_lines"] += 1
                        continue
                    ids = [index.get(u, 0) for u in line_units(line)]
                    counts.add(ids)
                    stats["tokens"] += len(ids)
                    stats["unk"] += ids.count(0)
                    lines += 1
            stats["files"][path.name] = lines
            log.info(
                "%s: %d lines in %.0f s (%d tokens so far)",
                path.name,
                lines,
                time.monotonic() - started,
                stats["tokens"],
            )
    return counts, stats


def dev_pairs(path: Path, n: int, seed: int = 7) -> dict[str, list[tuple[str, str]]]:
    """(noisy, clean) OCR-line-sized pairs from the held-back lines: stripped, noise-garbled,
    garbled with some words kept (mixed) and clean (must stay as it is)."""
    rng = random.Random(seed)
    lines = gzip.open(path, "rt", encoding="utf-8").read().splitlines()
    rng.shuffle(lines)
    noise = NoiseModel.load(NOISE)
    out: dict[str, list[tuple[str, str]]] = {"stripped": [], "garbled": [], "mixed": [], "clean": []}
    for line in lines:
        words = line.split()
        start = rng.randrange(max(1, len(words) - 8))
        clean = " ".join(words[start : start + rng.randint(6, 18)])
        garbled = noise.garble(clean, rng, severity=noise.sample_severity(rng))
        mixed = noise.garble(clean, rng, keep_word_prob=rng.uniform(0.3, 0.8))
        for kind, noisy in (
            ("stripped", strip_accents(clean)),
            ("garbled", garbled),
            ("mixed", mixed),
            ("clean", clean),
        ):
            if len(out[kind]) < n and len(noisy.split()) == len(clean.split()):
                out[kind].append((noisy, clean))
        if min(map(len, out.values())) >= n:
            break
    return out


def accuracy(outputs: list[list[str]], pairs: list[tuple[str, str]]) -> float:
    """Case-insensitive accuracy over the clean side's word tokens (one output per token)."""
    hits = total = 0
    for texts, (_, clean) in zip(outputs, pairs, strict=True):
        for out, ref in zip(texts, clean.split(), strict=True):
            piece = split_token(ref)
            if piece.kind == "word" and piece.core.isalpha():
                total += 1
                hits += split_token(out).core.lower() == piece.core.lower()
    return hits / max(total, 1)


def tune_ngram(lm: NgramLM, sets: dict[str, list[tuple[str, str]]], base: DecoderSettings) -> DecoderSettings:
    """Grid search of the n-gram decoder's weights for the best mean accuracy over the kinds."""
    generator = CandidateGenerator.load()
    best, best_acc = base, -1.0
    for channel, unk, bonus in itertools.product((0.8, 1.0, 1.25), (-10.0, -14.0), (0.0, 3.0, 6.0, 10.0)):
        settings = dataclasses.replace(base, channel_weight=channel, unk_penalty=unk, copy_bonus=bonus)
        restorer = NgramRestorer(lm, generator, settings)
        scores = {
            kind: accuracy([restorer.restore_pieces(split_line(n)) for n, _ in pairs], pairs)
            for kind, pairs in sets.items()
        }
        mean = sum(scores.values()) / len(scores)
        rounded = {k: round(v, 4) for k, v in scores.items()}
        log.info("channel %.2f unk %.0f copy %.0f: %s mean %.4f", channel, unk, bonus, rounded, mean)
        if mean > best_acc:
            best, best_acc = settings, mean
    return best


def tune_rescoring(
    lm: NgramLM, model: Path, sets: dict[str, list[tuple[str, str]]], base: DecoderSettings
) -> DecoderSettings:
    """Grid search of the LM weight and copy bonus used to rescore a neural model (mean accuracy over kinds)."""
    from pipeline.restore.restorer import Restorer

    # The torch runtime: training checkpoints have no ONNX export.
    restorer = Restorer.load(model, rescore=False, runtime="torch", threads=1)
    probs = {kind: restorer.candidate_probs([n.split() for n, _ in pairs]) for kind, pairs in sets.items()}
    best, best_acc = base, -1.0
    for weight, bonus in itertools.product((0.7, 1.0, 1.4, 2.0), (0.0, 2.0, 4.0, 8.0)):
        settings = dataclasses.replace(base, rescore_lm_weight=weight, rescore_copy_bonus=bonus)
        rescorer = RescoredRestorer(restorer, lm, settings)
        scores = {kind: accuracy([rescorer.decode(line) for line in probs[kind]], sets[kind]) for kind in sets}
        mean = sum(scores.values()) / len(scores)
        rounded = {k: round(v, 4) for k, v in scores.items()}
        log.info("rescore lm weight %.1f copy %.0f: %s mean %.4f", weight, bonus, rounded, mean)
        if mean > best_acc:
            best, best_acc = settings, mean
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpora", type=Path, default=REPO.parent / "shared" / "corpora")
    parser.add_argument("--out", type=Path, default=NGRAM_DIR)
    parser.add_argument("--min2", type=int, default=2, help="keep bigrams seen at least this often")
    parser.add_argument("--min3", type=int, default=3, help="keep trigrams seen at least this often")
    parser.add_argument("--dev-every", type=int, default=500)
    parser.add_argument("--limit", type=int, default=None, help="lines per file (quick builds)")
    parser.add_argument("--tune-only", action="store_true", help="skip counting, tune the existing LM")
    parser.add_argument("--no-tune", action="store_true")
    parser.add_argument("--model", type=Path, default=None, help="also tune LM rescoring of this neural model")
    parser.add_argument("--dev-lines", type=int, default=600, help="dev lines per kind for tuning")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    args.out.mkdir(parents=True, exist_ok=True)
    if not args.tune_only:
        started = time.monotonic()
        vocab = lexicon_vocab()
        counts, stats = count(args.corpora, vocab, args.dev_every, args.limit, args.out / "dev.txt.gz")
        lm = NgramLM.estimate(counts, vocab, args.min2, args.min3)
        lm.save(args.out / LM_FILE)
        stats |= {
            "min2": args.min2,
            "min3": args.min3,
            "model": lm.describe(),
            "bytes": (args.out / LM_FILE).stat().st_size,
            "seconds": round(time.monotonic() - started),
        }
        (args.out / "build.json").write_text(json.dumps(stats, indent=2) + "\n", encoding="utf-8")
        log.info("saved %s: %s, %.1f MB", args.out / LM_FILE, lm.describe(), stats["bytes"] / 1e6)
    if args.no_tune:
        return
    lm = NgramLM.load(args.out / LM_FILE)
    sets = dev_pairs(args.out / "dev.txt.gz", args.dev_lines)
    settings = DecoderSettings.load(args.out / SETTINGS_FILE)
    if args.model is None:
        settings = tune_ngram(lm, sets, settings)
    else:
        settings = tune_rescoring(lm, args.model, sets, settings)
    (args.out / SETTINGS_FILE).write_text(json.dumps(dataclasses.asdict(settings), indent=2) + "\n", encoding="utf-8")
    log.info("decoder settings: %s", settings)


if __name__ == "__main__":
    main()
