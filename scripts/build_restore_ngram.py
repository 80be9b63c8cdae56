"""Build the restorer's syllable trigram LM from the train corpora (never heldout/), tune its decoder.

    .venv/bin/python scripts/build_restore_ngram.py                     # count, estimate, save
    .venv/bin/python scripts/build_restore_ngram.py --tune-only         # tune the n-gram decoder
    .venv/bin/python scripts/build_restore_ngram.py --tune-only --model data/restore/run-seq2seq/best

Writes data/restore/ngram/lm.npz (the model), build.json (what went in), decoder.json (tuned
weights) and dev.txt.gz: every --dev-every-th corpus line is held back from the counts so the
decoder weights are tuned on text the LM has not seen (stripped and noise-garbled copies of it).

Counts are cached per corpus file in data/restore/ngram-counts/ (an interrupted count resumes at
the next file; a rebuild with other pruning or plan weights recounts nothing). Recent text (issue
13): the true text of the *tune-split* development plans (scripts/plan_split.py; held-out plans
never) can be counted in, each n-gram --plans-weight times. The weight and the rescoring LM weight
are chosen by leave-one-plan-out on the tune plans' real English-model OCR, then the LM is built:

    .venv/bin/python scripts/build_restore_ngram.py --min2 1 --min3 2 --out data/restore/ngram-plans \\
        --tune-plans-weight models/restore          # → plans-weight.json, decoder.json
    .venv/bin/python scripts/build_restore_ngram.py --min2 1 --min3 2 --out data/restore/ngram-plans \\
        --plans-weight 3 --no-tune                   # → lm.npz, build.json
    .venv/bin/python scripts/build_restore_ngram.py --out data/restore/ngram-plans \\
        --tune-candidates models/restore             # → its decoder.json's candidates, build.json

then copy lm.npz, build.json and decoder.json to models/restore/ngram/ (dev.txt.gz is corpus text: never).
"""

from __future__ import annotations

import argparse
import dataclasses
import gzip
import hashlib
import itertools
import json
import logging
import random
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))

from plan_restore_data import plan_texts  # noqa: E402

from pipeline.restore.candidates import LEXICON, CandidateGenerator  # noqa: E402
from pipeline.restore.lattice import SETTINGS_FILE, DecoderSettings, NgramRestorer, RescoredRestorer  # noqa: E402
from pipeline.restore.ngram import LM_FILE, NGRAM_DIR, SPECIALS, NgramCounts, NgramLM, line_units  # noqa: E402
from pipeline.restore.noise import NoiseModel, strip_accents  # noqa: E402
from pipeline.restore.tokens import split_line, split_token  # noqa: E402
from pipeline.vietnamese import normalize  # noqa: E402

log = logging.getLogger("build_restore_ngram")
NOISE = REPO / "corpora" / "restore_noise.json"
COUNT_CACHE = REPO / "data" / "restore" / "ngram-counts"


def lexicon_vocab(path: Path = LEXICON) -> list[str]:
    """LM units: the specials, every lexicon entry (the candidate generator's outputs) and the
    single letters, which list items and clauses cite (điểm b, khoản 2) and copies keep."""
    rows = [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines()[1:]]
    return [*SPECIALS, *dict.fromkeys([*(text for text, _count, _kind in rows), *"abcdefghijklmnopqrstuvwxyzđ"])]


def _vocab_key(vocab: list[str], dev_every: int, limit: int | None) -> str:
    """What a cached count depends on besides its file: the units and which lines were held back."""
    return hashlib.sha256(json.dumps([vocab, dev_every, limit]).encode()).hexdigest()[:16]


def count_file(
    path: Path, vocab: list[str], dev_every: int, limit: int | None, cache: Path
) -> tuple[list[tuple[np.ndarray, np.ndarray]], list[str], dict]:
    """Count tables, held-back dev lines and stats of one corpus file, cached in `cache` (one
    .npz per file, written when the file is done: an interrupted build resumes at the next file)."""
    stat = path.stat()
    key = f"{path.name}-{stat.st_size}-{int(stat.st_mtime)}-{_vocab_key(vocab, dev_every, limit)}"
    cached = cache / f"{key}.npz"
    if cached.exists():
        with np.load(cached, allow_pickle=False) as data:
            tables = [(data[f"k{n}"], data[f"c{n}"]) for n in (1, 2, 3)]
            meta = json.loads(str(data["meta"]))
        log.info("%s: cached (%d lines)", path.name, meta["lines"])
        return tables, meta.pop("dev"), meta
    index = {u: i for i, u in enumerate(vocab)}
    counts = NgramCounts(len(vocab))
    meta: dict = {"lines": 0, "tokens": 0, "unk": 0, "dev": []}
    started = time.monotonic()
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for number, raw in enumerate(handle):
            if limit and number >= limit:
                break
            line = normalize(raw.strip())
            if not line:
                continue
            if number % dev_every == dev_every - 1:
                meta["dev"].append(line)
                continue
            ids = [index.get(u, 0) for u in line_units(line)]
            counts.add(ids)
            meta["tokens"] += len(ids)
            meta["unk"] += ids.count(0)
            meta["lines"] += 1
    tables = counts.tables()
    cache.mkdir(parents=True, exist_ok=True)
    arrays = {f"{a}{n}": t[i] for n, t in zip((1, 2, 3), tables, strict=True) for i, a in enumerate("kc")}
    tmp = cached.with_suffix(".tmp.npz")
    np.savez(tmp, meta=np.array(json.dumps(meta, ensure_ascii=False)), **arrays)
    tmp.replace(cached)
    log.info("%s: %d lines, %d tokens in %.0f s", path.name, meta["lines"], meta["tokens"], time.monotonic() - started)
    return tables, meta.pop("dev"), meta


def count(
    corpora: Path, vocab: list[str], dev_every: int, limit: int | None, dev_out: Path, cache: Path
) -> tuple[NgramCounts, dict]:
    counts = NgramCounts(len(vocab))
    stats: dict = {"files": {}, "tokens": 0, "unk": 0, "dev_lines": 0}
    with gzip.open(dev_out, "wt", encoding="utf-8") as dev:
        for path in sorted(corpora.glob("*.txt.gz")):  # the glob does not descend into heldout/
            tables, dev_lines, meta = count_file(path, vocab, dev_every, limit, cache)
            counts.add_tables(tables)
            dev.writelines(line + "\n" for line in dev_lines)
            stats["dev_lines"] += len(dev_lines)
            stats["files"][path.name] = meta["lines"]
            stats["tokens"] += meta["tokens"]
            stats["unk"] += meta["unk"]
    return counts, stats


def plan_tables(
    vocab: list[str], exclude: frozenset[str] = frozenset()
) -> tuple[list[tuple[np.ndarray, np.ndarray]], int]:
    """Count tables of the true text of the *tune-split* development plans (never held-out ones),
    minus `exclude` (the fold being scored when the weight is tuned); and their token count."""
    index = {u: i for i, u in enumerate(vocab)}
    counts = NgramCounts(len(vocab))
    tokens = 0
    for doc_id, text in plan_texts("tune").items():
        if doc_id in exclude:
            continue
        for line in text.splitlines():
            ids = [index.get(u, 0) for u in line_units(line)]
            if ids:
                counts.add(ids)
                tokens += len(ids)
    return counts.tables(), tokens


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


def tune_candidates(model: Path, sets: dict[str, list[tuple[str, str]]], counts: list[int]) -> tuple[int, dict]:
    """How many of the network's best candidates per token the rescoring keeps: the shipped restorer
    (ONNX, as `gazette restore` runs) on the held-back lines of each kind; the best mean accuracy,
    the smallest count of equal ones."""
    from pipeline.restore.restorer import Restorer

    restorer = Restorer.load(model, threads=1)
    if restorer.rescorer is None:
        raise SystemExit(f"{model} has no n-gram LM ({model / 'ngram'}): nothing to tune")
    lm, base = restorer.rescorer
    results: dict[str, dict[str, float]] = {}
    for k in counts:
        restorer.rescorer = (lm, dataclasses.replace(base, candidates=k))
        scores = {}
        for kind, pairs in sets.items():
            outputs = restorer.restore_lines([noisy for noisy, _ in pairs])
            scores[kind] = round(100 * accuracy([[t.text for t in o.tokens] for o in outputs], pairs), 3)
        results[str(k)] = scores | {"mean": round(sum(scores.values()) / len(scores), 3)}
        log.info("candidates %d: %s", k, results[str(k)])
    best = max(counts, key=lambda k: (results[str(k)]["mean"], -k))
    return best, results


def tune_plans_weight(
    corpus_counts: NgramCounts,
    vocab: list[str],
    model: Path,
    base: DecoderSettings,
    weights: list[int],
    lm_weights: list[float],
    min2: int,
    min3: int,
) -> tuple[int, float, dict]:
    """Leave-one-plan-out over the tune split (never held-out plans): for every tune plan, an LM of
    the corpora plus the *other* tune plans' text counted `weight` times rescores the model's
    candidate probabilities on that plan's real English-model OCR; the weight (and LM weight of
    the rescoring) with the best syllable accuracy summed over the plans wins."""
    from bench_restore import score
    from plan_restore_data import line_pairs, plan_ids

    from pipeline.restore.restorer import Restorer
    from pipeline.restore.tokens import join

    restorer = Restorer.load(model, rescore=False, threads=1)
    ids = plan_ids("tune")
    pairs = {i: line_pairs(i, min_similarity=70.0) for i in ids}
    probs = {i: restorer.candidate_probs([src.split() for src, _ in pairs[i]]) for i in ids}
    base_tables = corpus_counts.tables()
    results: dict = {}
    shared_lm = None
    for weight in weights:
        hits = dict.fromkeys(lm_weights, 0)
        total = 0
        for doc_id in ids:
            if weight == 0:
                shared_lm = shared_lm or NgramLM.estimate(_with(base_tables, vocab), vocab, min2, min3)
                lm = shared_lm
            else:
                counts = _with(base_tables, vocab)
                counts.add_tables(plan_tables(vocab, frozenset({doc_id}))[0], weight)
                lm = NgramLM.estimate(counts, vocab, min2, min3)
            for lm_weight in lm_weights:
                rescorer = RescoredRestorer(restorer, lm, dataclasses.replace(base, rescore_lm_weight=lm_weight))
                outputs = []
                for (src, _), line in zip(pairs[doc_id], probs[doc_id], strict=True):
                    texts = rescorer.decode(line)
                    outputs.append((join(src, texts) if texts else src, texts, False))
                c = score(pairs[doc_id], outputs)
                hits[lm_weight] += c["syl_ci"]
                total += c["syl"] if lm_weight == lm_weights[0] else 0
        for lm_weight, h in hits.items():
            results[f"{weight}/{lm_weight}"] = round(100 * h / max(total, 1), 3)
            log.info("plans weight %d, rescore LM weight %.2f: tune leave-one-plan-out %.3f %%",
                     weight, lm_weight, 100 * h / max(total, 1))  # fmt: skip
    best = max(results, key=results.get)
    weight, lm_weight = best.split("/")
    return int(weight), float(lm_weight), results


def _with(tables: list[tuple[np.ndarray, np.ndarray]], vocab: list[str]) -> NgramCounts:
    counts = NgramCounts(len(vocab))
    counts.add_tables(tables)
    return counts


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
    parser.add_argument("--cache", type=Path, default=COUNT_CACHE, help="per-file count tables (resumable)")
    parser.add_argument("--count-only", action="store_true", help="fill the count cache, build nothing")
    parser.add_argument(
        "--plans-weight",
        type=int,
        default=0,
        help="also count the tune-split development plans' true text, each n-gram this many times (0: not)",
    )
    parser.add_argument(
        "--tune-plans-weight",
        type=Path,
        default=None,
        metavar="MODEL",
        help="choose --plans-weight (and the rescoring LM weight) for MODEL by leave-one-plan-out on the tune split",
    )
    parser.add_argument(
        "--plans-exclude", default="", help="comma-separated tune plan ids left out (an LM to judge a model on them)"
    )
    parser.add_argument(
        "--tune-candidates",
        type=Path,
        default=None,
        metavar="MODEL",
        help="choose how many network candidates per token MODEL's rescoring keeps, on the held-back lines in --out",
    )
    parser.add_argument("--candidate-counts", default="10,16,24,32", help="grid of --tune-candidates")
    parser.add_argument("--plans-weights", default="0,3,10,30,100", help="grid of --tune-plans-weight")
    parser.add_argument("--lm-weights", default="0.8,1.0,1.25", help="grid of the rescoring LM weight")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    args.out.mkdir(parents=True, exist_ok=True)
    if args.tune_candidates:
        counts_grid = [int(x) for x in args.candidate_counts.split(",")]
        best, results = tune_candidates(
            args.tune_candidates, dev_pairs(args.out / "dev.txt.gz", args.dev_lines), counts_grid
        )
        ngram = args.tune_candidates / "ngram"
        settings = dataclasses.replace(DecoderSettings.load(ngram / SETTINGS_FILE), candidates=best)
        (ngram / SETTINGS_FILE).write_text(json.dumps(dataclasses.asdict(settings), indent=2) + "\n", encoding="utf-8")
        build = json.loads((ngram / "build.json").read_text(encoding="utf-8"))
        build["candidates_tuning"] = {"best": best, "dev_lines_per_kind": args.dev_lines, "results": results}
        (ngram / "build.json").write_text(json.dumps(build, indent=2) + "\n", encoding="utf-8")
        log.info("candidates kept per token: %d", best)
        return
    if not args.tune_only:
        started = time.monotonic()
        vocab = lexicon_vocab()
        counts, stats = count(args.corpora, vocab, args.dev_every, args.limit, args.out / "dev.txt.gz", args.cache)
        if args.count_only:
            return
        if args.tune_plans_weight:
            base = DecoderSettings.load(args.tune_plans_weight / "ngram" / SETTINGS_FILE)
            weight, lm_weight, results = tune_plans_weight(
                counts,
                vocab,
                args.tune_plans_weight,
                base,
                [int(x) for x in args.plans_weights.split(",")],
                [float(x) for x in args.lm_weights.split(",")],
                args.min2,
                args.min3,
            )
            (args.out / "plans-weight.json").write_text(
                json.dumps({"best": [weight, lm_weight], "results": results}, indent=1) + "\n", encoding="utf-8"
            )
            tuned = dataclasses.replace(base, rescore_lm_weight=lm_weight)
            (args.out / SETTINGS_FILE).write_text(
                json.dumps(dataclasses.asdict(tuned), indent=2) + "\n", encoding="utf-8"
            )
            log.info("best plans weight %d, rescore LM weight %.2f", weight, lm_weight)
            return
        if args.plans_weight:
            tables, tokens = plan_tables(vocab, frozenset(filter(None, args.plans_exclude.split(","))))
            counts.add_tables(tables, args.plans_weight)
            stats["plans"] = {"split": "tune", "tokens": tokens, "weight": args.plans_weight}
            if args.plans_exclude:
                stats["plans"]["excluded"] = sorted(args.plans_exclude.split(","))
            tuning = args.out / "plans-weight.json"  # written by --tune-plans-weight into the same folder
            if tuning.exists():
                stats["plans_weight_tuning"] = json.loads(tuning.read_text(encoding="utf-8"))
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
