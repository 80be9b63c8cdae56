"""Fit the vie OCR channel (issue 12): what `tesseract -l vie` makes of each letter, learned from
its real output on the *tune* development plans → corpora/restore_noise_vie.json.

The stored conversions (data/plan-scans/out/<id>.pdf.json, scripts/render_plans.py) hold every
token as tesseract read it (`source_text`). Their words are aligned with the true text of the
plan (scripts/bench_review.truth_words) in two steps: difflib over whole words (equal runs are
read right and count as identity), then restore/align.align_tokens inside each differing run
(one OCR token per true word, a run-together pair, punctuation debris). The pairs are fitted by
NoiseModel.fit, which aligns characters within them (ổ → ố, d → đ, a lost space): the same
format as corpora/restore_noise.json, lower-cased (the channel pools cases), plus a "channel"
block of the settings the vie channel reads it with (restore/vie.py). Held-out plans are never
read.

    .venv/bin/python scripts/fit_vie_channel.py [--data data/plan-scans]
    .venv/bin/python scripts/fit_vie_channel.py --tune data/restore/ngram-vie-base/lm.npz

--tune then chooses the decoder weights (channel weight, LM weight, identity prior, <unk>
penalty) by coordinate search on the tune plans: fewest wrong words while at most
MAX_CORRECT_CHANGED of the words tesseract read right are changed. Tune with an LM that never
counted the plans' text (build_restore_ngram.py --out data/restore/ngram-vie-base, no
--plans-weight): the shipped LM counted the tune plans, so on them it would look surer than it is.
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, replace
from pathlib import Path

from rapidfuzz.distance import Levenshtein

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from bench_review import ANNOTATIONS, right_or_wrong, truth_words  # noqa: E402

from pipeline.document import Document  # noqa: E402
from pipeline.restore.align import align_tokens, folded  # noqa: E402
from pipeline.restore.candidates import CandidateGenerator  # noqa: E402
from pipeline.restore.ngram import NgramLM  # noqa: E402
from pipeline.restore.noise import NoiseModel  # noqa: E402
from pipeline.restore.vie import CHANNEL_SETTINGS, VIE_NOISE, VieCorrector, VieSettings, vie_channel  # noqa: E402
from pipeline.vietnamese import normalize, strip_diacritics  # noqa: E402

MAX_FOLDED_DISTANCE = 0.34  # a word pair whose letters differ more is a misalignment, not a misreading
RUN = 400  # words per identity pair (NoiseModel.fit reads pairs as lines)
MAX_CORRECT_CHANGED = 0.0005  # of the words read right, at most this share changed (issue 12: ≤ 0.1 %)
GRID = {
    "identity_prior": (0.0, 1.0, 2.0, 3.0),
    "channel_weight": (0.75, 1.0, 1.25, 1.5),
    "lm_weight": (0.75, 1.0, 1.25, 1.5, 2.0),
    "unk_penalty": (-4.0, -7.0, -10.0, -14.0),
    "candidates": (3, 5, 8),
    "margin": (8.0, 12.0, 16.0),
    "running": (False, True),
}


def tune_documents(data: Path) -> Iterator[tuple[str, list[str], list[str]]]:
    """(id, OCR words as read, true words) of every tune plan with a stored conversion."""
    for path in sorted(ANNOTATIONS.glob("plan-*.json")):
        gold = json.loads(path.read_text(encoding="utf-8"))
        doc_id = Path(gold["source"]).stem
        converted = data / "out" / f"{doc_id}.pdf.json"
        if gold["split"] != "tune" or not converted.is_file():
            continue  # held-out plans are never read here
        document = Document.model_validate_json(converted.read_text(encoding="utf-8"))
        words = [w for *_, t in document.tokens() for w in normalize(t.source_text).split()]
        yield doc_id, words, truth_words(doc_id)


def bare_words(data: Path, doc_id: str) -> list[str]:
    """The words bare `tesseract -l vie` read on the same scans (scripts/bench_ocr_plans.py's cache,
    DATA/bare/<id>.json), or none: a second real reading of the tune pages, without gazette's clean-up."""
    cached = data / "bare" / f"{doc_id}.json"
    return normalize(json.loads(cached.read_text(encoding="utf-8"))["text"]).split() if cached.is_file() else []


def word_pairs(ocr: list[str], truth: list[str], stats: Counter) -> Iterator[tuple[str, str]]:
    """(noisy, clean) lower-case pairs: runs read right, then token pairs inside the runs that differ."""
    matcher = difflib.SequenceMatcher(a=ocr, b=truth, autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            stats["words right"] += a2 - a1
            for s in range(a1, a2, RUN):
                text = " ".join(ocr[s : min(a2, s + RUN)]).lower()
                yield text, text
            continue
        if op != "replace":
            stats[f"words {op}"] += max(a2 - a1, b2 - b1)
            continue
        pairs = align_tokens(" ".join(ocr[a1:a2]), " ".join(truth[b1:b2]))
        if pairs is None:
            stats["runs not aligned"] += 1
            stats["words in runs not aligned"] += a2 - a1
            continue
        for noisy, clean in pairs:
            if not clean or not any(c.isalpha() for c in clean):
                continue  # debris, numbers: nothing about letters
            a, b = folded(noisy), folded(clean.replace(" ", ""))
            if Levenshtein.normalized_distance(a.replace(" ", ""), b) > MAX_FOLDED_DISTANCE:
                stats["pairs too far"] += 1
                continue
            if noisy.lower() == clean.lower():
                stats["words differing in case only"] += 1
            kind = "merge" if " " in clean else "word"
            stats[f"{kind} pairs"] += 1
            if kind == "word" and strip_diacritics(noisy.lower()) == strip_diacritics(clean.lower()):
                stats["mark-only pairs"] += 1
            yield noisy.lower(), clean.lower()


def tune_lines(data: Path) -> list[tuple[list[list[list[str]]], list[str]]]:
    """(OCR pages: lines of tokens as read, true words) of every tune plan."""
    out = []
    for path in sorted(ANNOTATIONS.glob("plan-*.json")):
        gold = json.loads(path.read_text(encoding="utf-8"))
        doc_id = Path(gold["source"]).stem
        converted = data / "out" / f"{doc_id}.pdf.json"
        if gold["split"] != "tune" or not converted.is_file():
            continue
        document = Document.model_validate_json(converted.read_text(encoding="utf-8"))
        pages = [[[t.source_text for t in line.tokens] for line in page.lines] for page in document.pages]
        out.append((pages, truth_words(doc_id)))
    return out


def evaluate(corrector: VieCorrector, plans: list[tuple[list[list[list[str]]], list[str]]]) -> dict[str, int]:
    """Wrong words after correction (page by page, as convert), and words read right that it changed."""
    wrong = right = changed_right = changed = 0
    for pages, truth in plans:
        read = [normalize(w) for lines in pages for line in lines for w in line]
        corrected = [normalize(w) for lines in pages for line in corrector.correct_lines(lines) for w in line]
        ok = right_or_wrong(read, truth)
        words = [w for token in corrected for w in token.split()]
        wrong += len(words) - sum(right_or_wrong(words, truth))
        right += sum(ok)
        for before, after, was_right in zip(read, corrected, ok, strict=True):
            changed += before != after
            changed_right += before != after and was_right
    return {"wrong": wrong, "changed": changed, "changed_right": changed_right, "right_before": right}


def tune(lm_path: Path, data: Path, noise: Path) -> VieSettings:
    """Coordinate search over GRID from the current settings (see the module doc)."""
    plans = tune_lines(data)
    corrector = VieCorrector.load(NgramLM.load(lm_path), CandidateGenerator.load(), noise)

    def cost(settings: VieSettings) -> tuple[bool, int, int]:
        """Within the bound on correct words changed, fewest wrong words; on a tie, fewest correct changed."""
        result = evaluate(corrector.with_settings(**asdict(settings)), plans)
        over = result["changed_right"] > MAX_CORRECT_CHANGED * result["right_before"]
        print(f"  {settings}: {result}", flush=True)
        return over, result["wrong"], result["changed_right"]

    best = corrector.settings
    best_cost = cost(best)
    for _ in range(2):  # two sweeps over the coordinates
        moved = False
        for name, values in GRID.items():
            for value in values:
                if value == getattr(best, name):
                    continue
                trial = replace(best, **{name: value})
                trial_cost = cost(trial)
                if trial_cost < best_cost:
                    best, best_cost, moved = trial, trial_cost, True
        if not moved:
            break
    print(f"best: {best} ({best_cost})")
    return best


def leave_one_plan_out(lm_path: Path, data: Path, noise: Path) -> None:
    """The channel judged on plans it never saw: for each tune plan, a channel fitted on the other
    tune plans corrects it (decoder weights as in the JSON); flat floor against pooled marks."""
    current = json.loads(noise.read_text(encoding="utf-8"))
    lm, lexicon = NgramLM.load(lm_path), CandidateGenerator.load()
    settings = VieSettings(**current.get("decoder", {}))
    plans, pairs, bare = [], [], []
    for (doc_id, ocr, truth), lines in zip(tune_documents(data), tune_lines(data), strict=True):
        plans.append(lines)
        pairs.append(list(word_pairs(ocr, truth, Counter())))
        bare.append(list(word_pairs(bare_words(data, doc_id), truth, Counter())))
    for pooled, with_bare in ((False, False), (True, False), (False, True)):
        total: Counter = Counter()
        for k, plan in enumerate(plans):
            found = [p for j, f in enumerate(pairs) if j != k for p in f]
            found += [p for j, f in enumerate(bare) if j != k for p in f] if with_bare else []
            channel = vie_channel(NoiseModel.fit(found), {**current["channel"], "pooled_marks": pooled})
            corrector = VieCorrector(lm, lexicon.with_channel(channel), settings)
            total.update(evaluate(corrector, [plan]))
        print(f"pooled marks {pooled}, bare tesseract pairs too {with_bare}: {dict(total)}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT / "data" / "plan-scans")
    parser.add_argument("-o", "--output", type=Path, default=VIE_NOISE)
    parser.add_argument("--tune", type=Path, metavar="LM", help="tune the decoder weights with this LM (lm.npz)")
    parser.add_argument("--with-bare", action="store_true", help="also fit bare tesseract's reading of the tune pages")
    parser.add_argument("--lopo", type=Path, metavar="LM", help="judge the channel leave-one-plan-out with this LM")
    args = parser.parse_args()
    if args.lopo:
        leave_one_plan_out(args.lopo, args.data, args.output)
        return 0
    if args.tune:
        settings = tune(args.tune, args.data, args.output)
        data = json.loads(args.output.read_text(encoding="utf-8"))
        data["decoder"] = asdict(settings)
        args.output.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True) + "\n")
        print(f"wrote the decoder weights into {args.output}")
        return 0
    stats: Counter = Counter()
    pairs: list[tuple[str, str]] = []
    plans = []
    for doc_id, ocr, truth in tune_documents(args.data):
        plans.append(doc_id)
        pairs += word_pairs(ocr, truth, stats)
        if args.with_bare:
            pairs += word_pairs(bare_words(args.data, doc_id), truth, Counter())
    if not plans:
        raise SystemExit(f"no stored conversions of tune plans in {args.data}/out: run scripts/render_plans.py")
    model = NoiseModel.fit(pairs)
    model.stats |= {"plans": len(plans), **{k.replace(" ", "_").replace("-", "_"): v for k, v in sorted(stats.items())}}
    # refitting the table keeps the tuned decoder weights
    decoder = json.loads(args.output.read_text(encoding="utf-8")).get("decoder", {}) if args.output.is_file() else {}
    model.save(args.output)
    # The channel block: read by restore/vie.py, so the settings travel with the table they fit.
    data = json.loads(args.output.read_text(encoding="utf-8"))
    data["channel"] = CHANNEL_SETTINGS
    data["decoder"] = decoder
    args.output.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True) + "\n")
    print(f"{len(plans)} tune plans; {dict(sorted(stats.items()))}")
    print("top confusions (clean -> vie OCR, count, P):")
    for char, out, count, prob in model.top_confusions(40):
        print(f"  {char!r:6} -> {out!r:8} {count:6d}  {prob:.4f}")
    merge, split = model.merge_split_rates()
    print(f"merge rate (space lost) {merge:.5f}; split rate (space gained per char) {split:.5f}")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
