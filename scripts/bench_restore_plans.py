"""Sections of benchmarks/restore.md on real documents of today (issue 13): the rendered development
plans read by `tesseract -l eng`, per split, and the seeds; the shipped restorer before and after.

Used by scripts/bench_restore.py (`--sections plans`); also runnable alone for a quick look:

    .venv/bin/python scripts/bench_restore_plans.py --model before=data/restore/before --quick

Every OCR line of a plan is scored against the true words it stands for (scripts/plan_restore_data.py:
whole-plan token alignment; lines below 70 % folded similarity to their span, i.e. the two-column
letterhead read across its columns, are left out) with bench_restore.score, the scoring of the
real-OCR rows. Added here: digit-garbled syllables (an OCR token with a digit where the truth has a
word: `d6i`, `1y`, `16 trình`), and casing per class of the true token.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from plan_restore_data import SPLITS, line_pairs, ocr_text, plan_ids  # noqa: E402

from pipeline.restore.tokens import split_token  # noqa: E402
from pipeline.vietnamese import normalize  # noqa: E402

MIN_SIMILARITY = 70.0
_LETTER_DIGIT = re.compile(r"[^\W_]*\d[^\W_]*")


def restorer_runner(directory: Path, runtime: str = "onnx"):
    """The restorer as `gazette restore` runs it (ONNX, its n-gram rescoring), one thread;
    `run(lines, running=True)` reads the lines as one text, as `gazette restore` reads a file."""
    from pipeline.restore.api import restore_lines
    from pipeline.restore.restorer import Restorer

    restorer = Restorer.load(directory, runtime=runtime, threads=1)

    def run(lines: list[str], running: bool = False) -> list[tuple[str, list[str], bool]]:
        return [(r.text, [t.text for t in r.tokens], False) for r in restore_lines(lines, restorer, running)]

    return run


def restore_document(run, text_lines: list[str], picked: list[str]) -> list[tuple[str, list[str], bool]]:
    """The outputs of the `picked` lines (a subsequence of text_lines, in order) when the whole
    text is restored as running text: each scored line keeps the context of its neighbours."""
    outputs = run(text_lines, running=True)
    found, k = [], 0
    for line in picked:
        while text_lines[k] != line:
            k += 1
        found.append(outputs[k])
        k += 1
    return found


def case_class(reference_line: str, token: str) -> str:
    letters = [c for c in reference_line if c.isalpha()]
    if letters and sum(c.isupper() for c in letters) / len(letters) > 0.8:
        return "caps"
    core = split_token(token).core
    return "title" if core[:1].isupper() else "lower"


def extra_score(pairs: list[tuple[str, str]], outputs: list[tuple[str, list[str] | None, bool]]) -> Counter:
    """Digit-garbled syllables fixed and casing per class (true word tokens without digits)."""
    from bench_restore import align

    c: Counter = Counter()
    for (source, reference), (out, _tokens, _crashed) in zip(pairs, outputs, strict=True):
        ins, refs, outs = source.split(), normalize(reference).split(), normalize(out).split()
        to_out, to_in = align(outs, refs), align(ins, refs)
        for j, ref in enumerate(refs):
            piece = split_token(ref)
            if not (piece.kind == "word" and any(ch.isalpha() for ch in piece.core)) or any(ch.isdigit() for ch in ref):
                continue
            o = split_token(outs[to_out[j]]).core if to_out[j] is not None else ""
            i = split_token(ins[to_in[j]]).core if to_in[j] is not None else ""
            right = o.lower() == piece.core.lower()
            if i and any(ch.isdigit() for ch in i) and (_LETTER_DIGIT.fullmatch(i) or i.isdigit()):
                c.update({"digit": 1, "digit_ok": right})
            cls = case_class(reference, ref)
            c.update({f"case_{cls}": 1, f"case_{cls}_ok": o == piece.core, f"case_{cls}_letters": right})
    return c


def evaluate(run, part: str, limit: int | None = None) -> tuple[Counter, dict[str, Counter], dict]:
    """Total and per-plan counters of bench_restore.score + extra_score on a split."""
    from bench_restore import score

    total: Counter = Counter()
    per: dict[str, Counter] = {}
    info = {"plans": 0, "lines": 0, "lines_all": 0, "tokens": 0, "seconds": 0.0}
    for doc_id in plan_ids(part)[:limit]:
        all_pairs = line_pairs(doc_id)
        pairs = line_pairs(doc_id, min_similarity=MIN_SIMILARITY)
        started = time.perf_counter()
        outputs = restore_document(run, normalize(ocr_text(doc_id)).split("\n"), [src for src, _ in pairs])
        info["seconds"] += time.perf_counter() - started
        c = score(pairs, outputs) + extra_score(pairs, outputs)
        per[doc_id] = c
        total += c
        info["plans"] += 1
        info["lines"] += len(pairs)
        info["lines_all"] += len(all_pairs)
        info["tokens"] += sum(len(s.split()) for s, _ in pairs)
    return total, per, info


def pct(a: float, b: float) -> float:
    return 100 * a / b if b else float("nan")


def summary(c: Counter, per: dict[str, Counter]) -> dict[str, float]:
    accs = [pct(x["syl_ci"], x["syl"]) for x in per.values() if x["syl"]]
    return {
        "syllables": pct(c["syl_ci"], c["syl"]),
        "min_plan": min(accs) if accs else float("nan"),
        "max_plan": max(accs) if accs else float("nan"),
        "case_exact": pct(c["syl_cs"], c["syl"]),
        "with_marks": pct(c["dia_ok"], c["dia"]),
        "plain": pct(c["plain_ok"], c["plain"]),
        "cer": pct(c["cer_err"], c["cer_len"]),
        "numbers": pct(c["num_ok"], c["num"]),
        "kept": pct(c["kept"], c["lines"]),
        "digit": pct(c["digit_ok"], c["digit"]),
        "digit_n": c["digit"],
        "syl_n": c["syl"],
        **{f"case_{k}": pct(c[f"case_{k}_ok"], c[f"case_{k}"]) for k in ("caps", "title", "lower")},
        **{f"case_{k}_letters": pct(c[f"case_{k}_letters"], c[f"case_{k}"]) for k in ("caps", "title", "lower")},
        **{f"case_{k}_n": c[f"case_{k}"] for k in ("caps", "title", "lower")},
    }


SEED_GOLD = ROOT / "data" / "restore" / "seed-gold" / "gold.jsonl"  # outside the repository: seed text
START, END = "<!-- issue-13 sections: start -->", "<!-- issue-13 sections: end -->"


def seed_gold() -> dict[tuple[str, int], str]:
    """Our own careful restoration of a sample of seed lines (kept under data/, never committed)."""
    if not SEED_GOLD.exists():
        return {}
    rows = [json.loads(x) for x in SEED_GOLD.read_text(encoding="utf-8").splitlines() if x.strip()]
    return {(r["seed"], r["line"]): r["gold"] for r in rows}


def corpus_sets(n: int) -> dict[str, list[tuple[str, str]]]:
    """The stripped and clean legal+admin lines of bench_restore.py's main tables (same lines)."""
    from bench_restore import GROUPS, text_lines

    from pipeline.restore.noise import strip_accents

    clean = text_lines(GROUPS["legal+admin"], n, seed=1000)
    return {"stripped": [(strip_accents(c), c) for c in clean], "clean": [(c, c) for c in clean]}


def _f(x: float) -> str:
    return "–" if x != x else f"{x:.2f}"


def _ratio(err: float, base: float) -> str:
    return "–" if base != base or not base else f"{err / base:.2f}"


def sections(models: dict[str, Path], quick: bool = False, corpus_lines: int = 300, runtimes: bool = True) -> list[str]:
    """Markdown of the issue-13 sections: every model of `models` (the first is the baseline)."""
    from bench_restore import score, seed_lines, seed_score, table

    from pipeline.restore.candidates import LEXICON

    limit = 3 if quick else None
    names = list(models)
    base = names[0]
    results: dict[str, dict] = {}
    timing: dict[str, float] = {}
    seeds = seed_lines(60 if quick else None)
    gold = seed_gold()
    lexicon = {x.split("\t")[0] for x in LEXICON.read_text(encoding="utf-8").splitlines()[1:]}
    corpus = corpus_sets(40 if quick else corpus_lines)
    seed_rows, gold_rows, corpus_rows = [], [], []
    for name, directory in models.items():
        run = restorer_runner(directory)
        tokens = seconds = 0.0
        for part in SPLITS:
            c, per, info = evaluate(run, part, limit)
            results[(name, part)] = summary(c, per) | info
            tokens += info["tokens"]
            seconds += info["seconds"]
            print(f"{name} {part}: {results[(name, part)]['syllables']:.2f} %", file=sys.stderr)
        timing[name] = tokens / max(seconds, 1e-9)
        for key, lines in seeds.items():
            seed_rows.append([name, f"{key} ({len(lines)} lines)", *seed_score(lines, run(lines, True), lexicon)])
        if gold:
            picks = [(k, i) for (k, i) in sorted(gold) if k in seeds and i < len(seeds[k])]
            restored = {k: run(lines, True) for k, lines in seeds.items()}
            pairs = [(seeds[k][i], gold[(k, i)]) for k, i in picks]
            c = score(pairs, [restored[k][i] for k, i in picks])
            gold_rows.append((name, len(pairs), c))
        for kind, pairs in corpus.items():
            corpus_rows.append((name, kind, score(pairs, run([src for src, _ in pairs]))))
    md = [START, "", "## Development plans, real English-model OCR (issue 13)", ""]
    info = results[(base, "tune")], results[(base, "heldout")]
    md += [
        f"The development plans (../shared/plans, tests/data/plans) rendered into scans by scripts/render_plans.py and "
        f"read with `tesseract -l eng` (data/plan-scans/archive/*.eng.txt), split by scripts/plan_split.py: "
        f"{info[0]['plans']} tune plans, {info[1]['plans']} held-out plans (never trained on, counted into the LM or "
        "tuned on). Every OCR line is scored against the true words it stands for (scripts/plan_restore_data.py: "
        "the OCR and the true words of a whole plan aligned over folded letters; lines below 70 % folded similarity "
        f"to their span, the letterhead read across its two columns, left out: {info[0]['lines']} of "
        f"{info[0]['lines_all']} tune and {info[1]['lines']} of {info[1]['lines_all']} held-out lines kept) with "
        "the scoring of the tables above. Restorers as `gazette restore` runs them (ONNX, n-gram rescoring, one "
        f"thread): " + ", ".join(f"`{k}` = `{v}`" for k, v in models.items()) + f"; `{base}` is the baseline, "
        "*errors × baseline* the syllable errors of a row over the baseline's in this run.",
        "",
    ]
    head = ["restorer", "split", "plans", "syllables %", "per plan min–max %", "errors × baseline", "case-exact %",
            "with marks %", "plain %", "CER %", "numbers/codes kept %", "lines w/o dropped or invented tokens %",
            "tokens/s"]  # fmt: skip
    rows = []
    for part in SPLITS:
        for name in names:
            r, b = results[(name, part)], results[(base, part)]
            rows.append([name, part, str(r["plans"]), _f(r["syllables"]), f"{_f(r['min_plan'])}–{_f(r['max_plan'])}",
                         _ratio(100 - r["syllables"], 100 - b["syllables"]), _f(r["case_exact"]), _f(r["with_marks"]),
                         _f(r["plain"]), _f(r["cer"]), _f(r["numbers"]), _f(r["kept"]),
                         f"{timing[name]:,.0f}"])  # fmt: skip
    md += table(head, rows)
    md += in_sample_notes(models)
    md += ["", "### Digit-garbled syllables and numbers", "",
           "*Digit-garbled*: true words (no digit) whose OCR token has a digit (`d6i`, `1y`, `16` for lộ): share "
           "restored right. *Numbers/codes kept*: true tokens with a digit that the OCR read right, output "
           "identical (must be 100 %).", ""]  # fmt: skip
    rows = []
    for part in SPLITS:
        for name in names:
            r, b = results[(name, part)], results[(base, part)]
            rows.append([name, part, f"{r['digit_n']:,}", _f(r["digit"]), _ratio(100 - r["digit"], 100 - b["digit"]),
                         _f(r["numbers"])])  # fmt: skip
    md += table(["restorer", "split", "digit-garbled syllables", "fixed %", "errors × baseline",
                 "numbers/codes kept %"], rows)  # fmt: skip
    md += ["", "### Casing", "",
           "Output syllables whose case matches the truth (exact), per class of the true token: in an all-caps line "
           "(headings, letterhead), title case, lower case; *letters right* is the case-insensitive figure of the "
           "same tokens, so their difference is what casing alone costs.", ""]  # fmt: skip
    rows = []
    for part in SPLITS:
        for name in names:
            r = results[(name, part)]
            rows.append([name, part, _f(r["case_exact"]), _f(r["syllables"]),
                         *[f"{_f(r[f'case_{k}'])} / {_f(r[f'case_{k}_letters'])} ({r[f'case_{k}_n']:,})"
                           for k in ("caps", "title", "lower")]])  # fmt: skip
    md += table(["restorer", "split", "case-exact %", "letters right %", "all-caps lines: exact / letters (n)",
                 "title case", "lower case"], rows)  # fmt: skip
    md += ["", "### Seeds 001 and 004 (real English-model OCR, 2019–21)", "",
           "No gold restoration ships with the seeds. Output statistics (as in the seed table above), and the "
           "accuracy on a sample of seed lines (every 10th line of 001, every 5th of 004, of 4+ tokens) that we "
           "restored by hand, kept outside the repository (data/restore/seed-gold/gold.jsonl: the baseline's "
           "output corrected word by word with the neighbouring lines as context — the sample may lean towards "
           "the baseline's choices where both readings are possible).", ""]  # fmt: skip
    md += table(["restorer", "seed", "output words in lexicon %", "tokens changed %", "codes kept %",
                 "lines w/o dropped or invented tokens %", "crashes %"], seed_rows)  # fmt: skip
    if gold_rows:
        md.append("")
        b = next(c for n, _, c in gold_rows if n == base)
        md += table(["restorer", "hand-restored lines", "syllables", "syllables %", "errors × baseline",
                     "numbers/codes kept %"],
                    [[n, str(k), f"{c['syl']:,}", _f(pct(c["syl_ci"], c["syl"])),
                      _ratio(100 - pct(c["syl_ci"], c["syl"]), 100 - pct(b["syl_ci"], b["syl"])),
                      _f(pct(c["num_ok"], c["num"]))] for n, k, c in gold_rows])  # fmt: skip
    md += ["", "### Held-out corpus text, stripped and clean (legal+admin, the lines of the tables above)", ""]
    md += table(["restorer", "set", "syllables %", "tokens unchanged %", "numbers/codes kept %",
                 "lines w/o dropped or invented tokens %"],
                [[n, k, _f(pct(c["syl_ci"], c["syl"])), _f(pct(c["same"], c["tokens"])), _f(pct(c["num_ok"], c["num"])),
                  _f(pct(c["kept"], c["lines"]))] for n, k, c in corpus_rows])  # fmt: skip
    if runtimes:
        md += runtime_section(models[names[-1]], names[-1], limit)
    md += targets_section(names, results, gold_rows, corpus_rows)
    md += ["", END]
    return md


def in_sample_notes(models: dict[str, Path]) -> list[str]:
    """A model whose LM counted the tune plans' text is in-sample on the tune split: say so, with the
    leave-one-plan-out figure its build recorded (scripts/build_restore_ngram.py --tune-plans-weight)."""
    notes = []
    for name, directory in models.items():
        path = directory / "ngram" / "build.json"
        build = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        plans, tuning = build.get("plans"), build.get("plans_weight_tuning", {}).get("results", {})
        if not plans:
            continue
        note = f"`{name}`'s LM counted the tune plans' true text ({plans['weight']} times): its tune row is in-sample."
        chosen = json.loads((directory / "ngram" / "decoder.json").read_text(encoding="utf-8"))["rescore_lm_weight"]
        key, none = f"{plans['weight']}/{chosen}", f"0/{chosen}"
        if key in tuning and none in tuning:
            note += (
                f" Leave-one-plan-out on the tune split (each plan scored by an LM without its own text, "
                f"ngram/build.json): {tuning[key]:.2f} % at its weights, {tuning[none]:.2f} % with no plan text."
            )
        notes.append(note)
    return ["", *notes] if notes else []


def runtime_section(directory: Path, name: str, limit: int | None) -> list[str]:
    """`name` on torch and on ONNX over the tune split: same choices, speed (full figures:
    benchmarks/restore-runtime.md, scripts/bench_restore_runtime.py)."""
    from bench_restore import table

    rows, outs = [], {}
    for runtime in ("torch", "onnx"):
        run = restorer_runner(directory, runtime)
        c, per, info = evaluate(run, "tune", limit)
        outs[runtime] = [
            run([s for s, _ in line_pairs(i, min_similarity=MIN_SIMILARITY)]) for i in plan_ids("tune")[:2]
        ]
        s = summary(c, per)
        rows.append([runtime, _f(s["syllables"]), f"{info['tokens'] / info['seconds']:,.0f}"])
    same = sum(a[0] == b[0] for x, y in zip(outs["torch"], outs["onnx"], strict=True)
               for a, b in zip(x, y, strict=True))  # fmt: skip
    total = sum(len(x) for x in outs["onnx"])
    return ["", f"### Runtimes: `{name}` on torch and on ONNX (tune split)", "",
            "One thread each, in this process (load, fresh-process and memory figures: benchmarks/restore-runtime.md, "
            f"scripts/bench_restore_runtime.py). Same output lines on the first two tune plans: {same} of {total}.",
            "", *table(["runtime", "syllables %", "tokens/s"], rows)]  # fmt: skip


def targets_section(names: list[str], results: dict, gold_rows: list, corpus_rows: list) -> list[str]:
    from bench_restore import table

    rows = []
    for name in names:
        held, tune = results[(name, "heldout")], results[(name, "tune")]
        g = next((c for n, _, c in gold_rows if n == name), None)
        corpus = {k: c for n, k, c in corpus_rows if n == name}
        numbers = min(held["numbers"], tune["numbers"])
        kept = min(held["kept"], tune["kept"])
        seeds = pct(g["syl_ci"], g["syl"]) if g else float("nan")
        stripped = pct(corpus["stripped"]["syl_ci"], corpus["stripped"]["syl"])
        clean = pct(corpus["clean"]["same"], corpus["clean"]["tokens"])
        checks = [(held["syllables"], held["syllables"] >= 97.5), (seeds, seeds >= 98), (stripped, stripped >= 98.5),
                  (clean, clean >= 99.9), (numbers, numbers == 100), (kept, kept == 100)]  # fmt: skip
        rows.append([name, _f(tune["syllables"])] + [f"{_f(v)} {'✅' if ok else '❌'}" for v, ok in checks])
    return ["", "### Targets (issue 13)", "", *table(
        ["restorer", "tune plans (not a target)", "held-out plans ≥ 97.5", "seeds (hand-restored sample) ≥ 98",
         "stripped legal+admin ≥ 98.5", "clean unchanged ≥ 99.9", "numbers/codes 100",
         "lines w/o dropped or invented 100"], rows)]  # fmt: skip


def write_sections(path: Path, md: list[str]) -> None:
    """Replace the issue-13 sections of `path` (or append them), keeping everything else."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    block = "\n".join(md) + "\n"
    if START in text and END in text:
        text = text[: text.index(START)] + block + text[text.index(END) + len(END) + 1 :]
    else:
        text = text.rstrip("\n") + "\n\n" + block
    path.write_text(text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", action="append", default=[], help="name=DIR (repeatable; the first is the baseline)")
    parser.add_argument("--quick", action="store_true", help="3 plans per split, 60 seed lines, 40 corpus lines")
    parser.add_argument("--no-runtimes", action="store_true")
    parser.add_argument("--out", type=Path, default=None, help="write the sections into this markdown file")
    args = parser.parse_args()
    models = {m.split("=", 1)[0]: Path(m.split("=", 1)[1]) for m in args.model} or {"shipped": ROOT / "models/restore"}
    md = sections(models, args.quick, runtimes=not args.no_runtimes)
    print("\n".join(md))
    if args.out:
        write_sections(args.out, md)


if __name__ == "__main__":
    main()
