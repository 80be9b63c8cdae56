"""Benchmark diacritic restoration on held-out text: every restorer on the same lines, in one run.

    .venv/bin/python scripts/bench_restore.py --model seq2seq=data/restore/run-seq2seq/best

Sets come from ../shared/corpora/heldout/ (never trained on), for legal+admin and for news:
`stripped` (every mark removed), `ocr` (pages rendered in several fonts and read by real
`tesseract -l eng`, lines aligned back), `noise` (the learned noise model) and `clean` (must
come back unchanged). They are built once and cached in data/restore/bench/. Rows: do-nothing,
the most-frequent-form unigram, pyvi's ViUtils.add_accents (pip install pyvi; crashes count as
failures), the n-gram model alone and each --model, alone and rescored by the n-gram LM. The
two real seeds 001 and 004 have no hand restoration: what can be measured without one is
reported, 20 restored lines are printed to the console and only ≤ 8-token excerpts reach the
markdown (seed sentences are never copied into the repository). A model folder with an ONNX export
runs on ONNX Runtime (as restoring does), a training checkpoint on torch; both on one thread. The
runtimes side by side (load, tokens/s, memory): scripts/bench_restore_runtime.py.

`--sections plans` measures only the issue-13 sections (scripts/bench_restore_plans.py: the
rendered development plans read by real `tesseract -l eng`, tune and held-out split; digit-garbled
syllables and numbers; casing; the seeds against a hand-restored sample kept under data/; stripped
and clean held-out text; torch and ONNX), for each --plans-model, the first being the baseline,
and rewrites only that block of the markdown; `--sections corpora` (the default) keeps the block.

    .venv/bin/python scripts/bench_restore.py --sections plans --plans-model before=data/restore/before \\
        --plans-model shipped=models/restore            # add --quick for 3 plans per split
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import random
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import onnxruntime
import torch
from rapidfuzz.distance import Levenshtein

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import bench_restore_plans as plans_bench  # noqa: E402
import build_restore_data as ocr_data  # noqa: E402
from build_restore_ngram import dev_pairs, tune_rescoring  # noqa: E402
from restore_data import chunks, read_lines  # noqa: E402

from pipeline.restore.align import folded  # noqa: E402
from pipeline.restore.baseline import UnigramRestorer  # noqa: E402
from pipeline.restore.candidates import LEXICON, CandidateGenerator  # noqa: E402
from pipeline.restore.lattice import SETTINGS_FILE, DecoderSettings, NgramRestorer, RescoredRestorer  # noqa: E402
from pipeline.restore.modelspec import ENCODER_ONNX  # noqa: E402
from pipeline.restore.ngram import LM_FILE, NGRAM_DIR, NgramLM  # noqa: E402
from pipeline.restore.noise import NoiseModel, strip_accents  # noqa: E402
from pipeline.restore.restorer import Restorer  # noqa: E402
from pipeline.restore.tokens import join, split_line, split_token  # noqa: E402
from pipeline.vietnamese import has_diacritics, normalize  # noqa: E402

HELDOUT = REPO.parent / "shared" / "corpora" / "heldout"
SEEDS = REPO.parent / "shared" / "seeds"
CACHE = REPO / "data" / "restore" / "bench"
NOISE = REPO / "corpora" / "restore_noise.json"
GROUPS = {"legal+admin": ("legal", "admin"), "news": ("news",)}
KINDS = ("stripped", "ocr", "noise", "clean")
Output = tuple[str, list[str] | None, bool]  # restored line, per-token outputs if known, crashed
Restore = Callable[[list[str]], list[Output]]


# ----------------------------------------------------------------------------- data


def text_lines(domains: tuple[str, ...], n: int, seed: int) -> list[str]:
    """n OCR-line-sized pieces (6-22 words) of held-out paragraphs; admin gets a fifth."""
    rng = random.Random(seed)
    out: list[str] = []
    for d, domain in enumerate(domains):
        pieces = [
            c for line in read_lines(HELDOUT / f"{domain}-000.txt.gz") for c in chunks(line, rng) if len(c.split()) > 3
        ]
        rng.shuffle(pieces)
        share = n if len(domains) == 1 else (n - n // 5 if d == 0 else n // 5)
        out += pieces[:share]
    rng.shuffle(out)
    return out


def ocr_pairs(group: str, domains: tuple[str, ...], n: int) -> list[dict]:
    """Held-out pages rendered (random font, size, DPI, degradation) and read with -l eng; cached."""
    path = CACHE / f"ocr-{group.replace('+', '-')}.jsonl"
    records = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []
    pages = len({r["page"] for r in records})
    pool = None
    while len(records) < n:
        pool = pool or {d: b for d, b in ocr_data.load_pool(HELDOUT, seed=101).items() if d in domains}
        job = ocr_data.sample_job(random.Random(f"bench:{group}:{pages}"), pool)
        page, _ = ocr_data.page_records(job, f"{group}-{pages:03d}")
        records += page
        pages += 1
        print(f"  {group}: OCR page {pages} ({job.style.font}), {len(records)} lines", file=sys.stderr)
        ocr_data.write_atomic(path, records)
    return records[:n]


def build_sets(n: int) -> dict[str, dict[str, list[tuple[str, str]]]]:
    """(input, reference) pairs per group and kind; cached per n."""
    path = CACHE / f"sets-{n}.json"
    if path.exists():
        return json.loads(path.read_text(encoding="utf-8"))
    CACHE.mkdir(parents=True, exist_ok=True)
    noise = NoiseModel.load(NOISE)
    sets: dict[str, dict[str, list[tuple[str, str]]]] = {}
    for g, (group, domains) in enumerate(GROUPS.items()):
        clean = text_lines(domains, n, seed=1000 + g)
        rng = random.Random(2000 + g)
        sets[group] = {
            "stripped": [(strip_accents(c), c) for c in clean],
            "ocr": [(r["noisy"], r["clean"]) for r in ocr_pairs(group, domains, n)],
            "noise": [(noise.garble(c, rng, severity=noise.sample_severity(rng)), c) for c in clean],
            "clean": [(c, c) for c in clean],
        }
    path.write_text(json.dumps(sets, ensure_ascii=False), encoding="utf-8")
    return sets


def ocr_summary(n: int) -> str:
    """Fonts and domains of the cached OCR lines actually used."""
    parts = []
    for group in GROUPS:
        path = CACHE / f"ocr-{group.replace('+', '-')}.jsonl"
        records = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()[:n]]
        fonts = Counter(r["font"] for r in records)
        domains = Counter(r["source"] for r in records)
        pages = len({r["page"] for r in records})
        parts.append(f"{group}: {pages} pages, fonts {dict(fonts)}, sources {dict(domains)}")
    return "; ".join(parts)


def train_overlap(lines: list[str], domains: tuple[str, ...], n: int = 6) -> float:
    """Share of the lines' word n-grams that also occur in the train files of those domains
    (legal text repeats boilerplate: the held-out split is by file, not by sentence)."""

    def grams(words: list[str]) -> list[tuple[str, ...]]:
        return [tuple(words[i : i + n]) for i in range(len(words) - n + 1)]

    wanted = {g for line in lines for g in grams(normalize(line).lower().split())}
    found: set[tuple[str, ...]] = set()
    for domain in domains:
        for path in sorted(HELDOUT.parent.glob(f"{domain}-*.txt.gz")):
            for line in read_lines(path):
                found.update(g for g in grams(line.lower().split()) if g in wanted)
    return len(found) / max(len(wanted), 1)


def seed_lines(limit: int | None) -> dict[str, list[str]]:
    out = {}
    for prefix in ("001", "004"):
        path = next(SEEDS.glob(f"{prefix}_*.txt"), None)
        if path is not None:
            out[prefix] = [x for x in normalize(path.read_text(encoding="utf-8")).splitlines() if x.strip()][:limit]
    return out


# ----------------------------------------------------------------------------- restorers


def per_line(restore_pieces: Callable[[list], list[str]]) -> Restore:
    def run(lines: list[str]) -> list[Output]:
        out = []
        for line in lines:
            pieces = split_line(line)
            texts = restore_pieces(pieces) if pieces else []
            out.append((join(line, texts) if pieces else line, texts, False))
        return out

    return run


def pyvi_runner() -> Restore:
    from pyvi import ViUtils

    def run(lines: list[str]) -> list[Output]:
        out: list[Output] = []
        for line in lines:
            try:
                out.append((ViUtils.add_accents(line), None, False))
            except Exception:  # any crash is a failure of the row, counted
                out.append((line, None, True))
        return out

    return run


def runtime_of(directory: Path) -> str:
    """ONNX where the model was exported (what restoring runs), torch for a training checkpoint."""
    return "onnx" if (directory / ENCODER_ONNX).exists() else "torch"


def neural_runner(directory: Path) -> Restore:
    restorer = Restorer.load(directory, rescore=False, runtime=runtime_of(directory), threads=1)

    def run(lines: list[str]) -> list[Output]:
        return [(r.text, [t.text for t in r.tokens], False) for r in restorer.restore_lines(lines)]

    return run


def rescored_runner(directory: Path, ngram: Path, settings: DecoderSettings) -> Restore:
    restorer = Restorer.load(directory, rescore=False, runtime=runtime_of(directory), threads=1)
    rescorer = RescoredRestorer(restorer, NgramLM.load(ngram / LM_FILE), settings)

    def run(lines: list[str]) -> list[Output]:
        texts = rescorer.restore_tokens([x.split() for x in lines])
        return [(join(x, t) if t else x, t, False) for x, t in zip(lines, texts, strict=True)]

    return run


def runners(models: dict[str, Path], ngram: Path, tuned: dict[str, DecoderSettings]) -> dict[str, tuple[Callable, str]]:
    """Name → (factory of the restore function, code that loads it in a fresh interpreter)."""
    load_ngram = f"from pipeline.restore.lattice import NgramRestorer as N; N.load(Path({str(ngram)!r}))"
    rows: dict[str, tuple[Callable[[], Restore], str]] = {
        "do-nothing": (lambda: lambda lines: [(x, x.split(), False) for x in lines], "pass"),
        "unigram (most frequent form)": (
            lambda: per_line(UnigramRestorer(CandidateGenerator.load()).restore_pieces),
            "from pipeline.restore.baseline import UnigramRestorer as U; U()",
        ),
        "pyvi add_accents": (pyvi_runner, "from pyvi import ViUtils; ViUtils.add_accents('xin chao')"),
        "n-gram alone": (lambda: per_line(NgramRestorer.load(ngram).restore_pieces), load_ngram),
    }
    for name, d in models.items():
        load_model = (
            "from pipeline.restore.restorer import Restorer as R; "
            f"R.load(Path({str(d)!r}), runtime={runtime_of(d)!r}, threads=1)"
        )
        load_lm = f"from pipeline.restore.ngram import NgramLM as L; L.load(Path({str(ngram / LM_FILE)!r}))"
        rows[name] = (lambda d=d: neural_runner(d), load_model)
        rows[f"{name} + n-gram"] = (
            lambda d=d, t=tuned[name]: rescored_runner(d, ngram, t),
            f"{load_model}; {load_lm}",
        )
    return rows


def cold_start(code: str) -> float:
    """Seconds to import and load in a fresh interpreter (what a CLI call pays), best of two."""
    program = f"import time; t = time.perf_counter(); from pathlib import Path; {code}; print(time.perf_counter() - t)"
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    runs = [subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, env=env, check=True)]
    runs.append(subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, env=env, check=True))
    return min(float(r.stdout.split()[-1]) for r in runs)


# ----------------------------------------------------------------------------- metrics


def align(hyp: list[str], ref: list[str]) -> list[int | None]:
    """For each ref token, the hyp token aligned to it (token edit script over folded letters, so
    `CSVC,` meets `CSVC` and `ctia` meets `của`'s place as a substitution)."""
    out: list[int | None] = [None] * len(ref)
    keys = [["".join(c for c in folded(t) if c.isalnum()) or t for t in side] for side in (hyp, ref)]
    for op in Levenshtein.opcodes(*keys):
        if op.tag in ("equal", "replace"):
            for k in range(min(op.src_end - op.src_start, op.dest_end - op.dest_start)):
                out[op.dest_start + k] = op.src_start + k
    return out


def kept(inputs: list[str], outputs: list[str], tokens: list[str] | None) -> bool:
    """No token invented or dropped: one output per input token (a split merge gives two words)."""
    if tokens is None:
        return len(outputs) == len(inputs)
    return len(tokens) == len(inputs) and all(1 <= len(t.split()) <= 2 for t in tokens)


def score(pairs: list[tuple[str, str]], outputs: list[Output]) -> Counter:
    c: Counter = Counter()
    for (source, reference), (out, tokens, crashed) in zip(pairs, outputs, strict=True):
        ins, refs, outs = source.split(), normalize(reference).split(), normalize(out).split()
        to_out, to_in = align(outs, refs), align(ins, refs)
        for j, ref in enumerate(refs):
            o = outs[to_out[j]] if to_out[j] is not None else ""
            piece = split_token(ref)
            if piece.kind == "word" and any(ch.isalpha() for ch in piece.core) and not any(ch.isdigit() for ch in ref):
                core = split_token(o).core if o else ""
                right = core.lower() == piece.core.lower()
                group = "dia" if has_diacritics(piece.core) else "plain"
                c.update({"syl": 1, "syl_ci": right, "syl_cs": core == piece.core, group: 1, f"{group}_ok": right})
            if any(ch.isdigit() for ch in ref) and to_in[j] is not None and ins[to_in[j]] == ref:
                c.update({"num": 1, "num_ok": o == ref})
        if tokens is not None and len(tokens) == len(ins):
            same = sum(t == i for t, i in zip(tokens, ins, strict=True))
        else:
            same = sum(i is not None and outs[i] == t for i, t in zip(align(outs, ins), ins, strict=True))
        cer = Levenshtein.distance(" ".join(outs), " ".join(refs))
        c.update({"lines": 1, "kept": kept(ins, outs, tokens), "crash": crashed, "tokens": len(ins), "same": same})
        c.update({"cer_err": cer, "cer_len": len(" ".join(refs))})
    return c


def pct(a: float, b: float) -> str:
    return f"{100 * a / b:.2f}" if b else "–"


def row(name: str, c: Counter, speed: float, load: float, cold: float) -> list[str]:
    return [
        name,
        pct(c["syl_ci"], c["syl"]),
        pct(c["syl_cs"], c["syl"]),
        pct(c["dia_ok"], c["dia"]),
        pct(c["plain_ok"], c["plain"]),
        pct(c["cer_err"], c["cer_len"]),
        pct(c["num_ok"], c["num"]),
        pct(c["kept"], c["lines"]),
        pct(c["same"], c["tokens"]),
        f"{speed:,.0f}",
        f"{load:.2f} / {cold:.2f}",
    ]


def seed_score(lines: list[str], outputs: list[Output], lexicon: set[str]) -> list[str]:
    c: Counter = Counter()
    for line, (out, tokens, crashed) in zip(lines, outputs, strict=True):
        ins, outs = line.split(), out.split()
        per = tokens if tokens is not None and len(tokens) == len(ins) else None
        mapped = align(outs, ins)
        for i, piece in enumerate(split_line(line)):
            o = per[i] if per is not None else (outs[mapped[i]] if mapped[i] is not None else "")
            c.update({"tokens": 1, "changed": o != ins[i]})
            if piece.kind != "word" and any(ch.isdigit() for ch in piece.core):
                c.update({"codes": 1, "codes_ok": o == piece.output()})
        for o in outs:
            p = split_token(o)
            if p.kind == "word" and p.core.isalpha():
                c.update({"words": 1, "valid": p.core.lower() in lexicon})
        c.update({"lines": 1, "kept": kept(ins, outs, tokens), "crash": crashed})
    return [pct(c["valid"], c["words"]), pct(c["changed"], c["tokens"]), pct(c["codes_ok"], c["codes"]),
            pct(c["kept"], c["lines"]), pct(c["crash"], c["lines"])]  # fmt: skip


def excerpt(line: str, n: int = 8) -> str:
    words = line.split()
    return " ".join(words[:n]).replace("|", "\\|") + (" …" if len(words) > n else "")


# ----------------------------------------------------------------------------- report


def machine() -> str:
    cpu = next((x.split(":", 1)[1].strip() for x in open("/proc/cpuinfo") if x.startswith("model name")), "?")
    tess = subprocess.run(["tesseract", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    load = os.getloadavg()
    busy = " (other work was running on the same cores: speeds are pessimistic)" if load[0] > 1.3 else ""
    return (
        f"{platform.machine()}, {os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, "
        f"torch {torch.__version__} and onnxruntime {onnxruntime.__version__} with 1 thread, {tess}; "
        f"load average at the end {', '.join(f'{x:.1f}' for x in load)}{busy}"
    )


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|",
    ]
    return lines + ["| " + " | ".join(r) + " |" for r in rows]


COLUMNS = ["restorer", "syllables %", "case-exact %", "with marks %", "plain %", "CER %", "numbers/codes kept %",
           "lines w/o dropped or invented tokens %", "tokens unchanged %", "tokens/s",
           "load s (in process / fresh)"]  # fmt: skip


def targets(name: str, scores: dict, speed: float, _load: float, load: float) -> list[str]:
    mine = scores[name]
    acc = {key: 100 * c["syl_ci"] / max(c["syl"], 1) for key, c in mine.items()}
    clean = min(100 * mine[(g, "clean")]["same"] / max(mine[(g, "clean")]["tokens"], 1) for g in GROUPS)
    nums = sum(c["num_ok"] for c in mine.values()) / max(sum(c["num"] for c in mine.values()), 1)
    lines_kept = sum(c["kept"] for c in mine.values()) / max(sum(c["lines"] for c in mine.values()), 1)
    rivals = [r for r in scores if r.startswith(("pyvi", "unigram"))]
    ahead = all(acc[k] > 100 * scores[r][k]["syl_ci"] / max(scores[r][k]["syl"], 1) for r in rivals for k in acc)
    checks = [
        (f"{acc[('legal+admin', 'ocr')]:.2f}", acc[("legal+admin", "ocr")] >= 97),
        (f"{acc[('legal+admin', 'stripped')]:.2f}", acc[("legal+admin", "stripped")] >= 98.5),
        (f"{clean:.2f}", clean >= 99.9),
        (f"{100 * nums:.2f}", nums == 1),
        (f"{100 * lines_kept:.2f}", lines_kept == 1),
        (f"{speed:,.0f}", speed >= 2000),
        (f"{load:.2f}", load <= 2),
        ("yes" if ahead else "no", ahead),
    ]
    return [name] + [f"{v} {'✅' if ok else '❌'}" for v, ok in checks]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", action="append", default=[], help="name=DIR of a restore model (repeatable)")
    parser.add_argument("--ngram", type=Path, default=NGRAM_DIR)
    parser.add_argument("--lines", type=int, default=300, help="lines per set")
    parser.add_argument("--quick", action="store_true", help="40 lines per set, 60 seed lines, no markdown")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "restore.md")
    parser.add_argument(
        "--shipped-settings",
        action="store_true",
        help="rescore with the n-gram folder's decoder.json (what Restorer.load uses) instead of tuning per model",
    )
    parser.add_argument(
        "--sections",
        default="corpora",
        help="comma-separated: corpora (the held-out corpus tables and seeds), plans (the issue-13 block)",
    )
    parser.add_argument(
        "--plans-model",
        action="append",
        default=[],
        help="name=DIR of a restorer for the plans sections (repeatable; the first is the baseline; default: "
        "before=data/restore/before if present, shipped=models/restore)",
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    wanted = set(args.sections.split(","))
    if "plans" in wanted:
        plan_models = {m.split("=", 1)[0]: Path(m.split("=", 1)[1]) for m in args.plans_model}
        if not plan_models:
            before = REPO / "data" / "restore" / "before"
            plan_models = ({"before": before} if (before / "model.safetensors").exists() else {}) | {
                "shipped": REPO / "models" / "restore"
            }
        block = plans_bench.sections(plan_models, args.quick)
        command = (
            f"Command: `.venv/bin/python scripts/bench_restore.py {' '.join(sys.argv[1:])}` — {datetime.date.today()}"
        )
        block[1:1] = ["", command, "", f"Machine: {machine()}."]
        print("\n".join(block))
        if not args.quick:
            plans_bench.write_sections(args.out, block)
            print(f"wrote {args.out}", file=sys.stderr)
    if "corpora" not in wanted:
        return
    n = 40 if args.quick else args.lines
    models = {m.split("=", 1)[0] if "=" in m else Path(m).name: Path(m.split("=", 1)[-1]) for m in args.model}
    if not args.model:  # whatever is there: the training runs' best checkpoints and the shipped model
        found = {"seq2seq": "data/restore/run-seq2seq/best", "encoder": "data/restore/run-encoder/best"}
        found["shipped"] = "models/restore"
        models = {k: REPO / v for k, v in found.items() if (REPO / v / "model.safetensors").exists()}
    sets = build_sets(n)
    seeds = seed_lines(60 if args.quick else None)
    dev = dev_pairs(args.ngram / "dev.txt.gz", 300)
    base = DecoderSettings.load(args.ngram / SETTINGS_FILE)
    lm = NgramLM.load(args.ngram / LM_FILE)
    if args.shipped_settings:
        tuned = dict.fromkeys(models, base)
    else:  # tuned on train-side dev lines, never on heldout
        tuned = {name: tune_rescoring(lm, d, dev, base) for name, d in models.items()}
    lexicon = {x.split("\t")[0] for x in LEXICON.read_text(encoding="utf-8").splitlines()[1:]}
    scores: dict[str, dict[tuple[str, str], Counter]] = {}
    refs = sorted({ref for kind in KINDS for _, ref in sets["legal+admin"][kind]})
    overlap = 0.0 if args.quick else train_overlap(refs, GROUPS["legal+admin"])
    seed_rows, seed_out, timing = [], {}, {}
    for name, (factory, code) in runners(models, args.ngram, tuned).items():
        started = time.perf_counter()
        restore = factory()
        load = time.perf_counter() - started
        seconds = tokens = 0.0
        scores[name] = {}
        for group, kinds in sets.items():
            for kind in KINDS:
                pairs = [tuple(p) for p in kinds[kind]]
                started = time.perf_counter()
                outputs = restore([src for src, _ in pairs])
                seconds += time.perf_counter() - started
                tokens += sum(len(src.split()) for src, _ in pairs)
                scores[name][(group, kind)] = score(pairs, outputs)
        timing[name] = (tokens / seconds, load, cold_start(code))
        seed_out[name] = {k: restore(v) for k, v in seeds.items()}
        seed_rows += [
            [name, f"{k} ({len(v)} lines)", *seed_score(v, seed_out[name][k], lexicon)] for k, v in seeds.items()
        ]
        print(
            f"{name}: load {load:.2f} s (fresh {timing[name][2]:.2f} s), {tokens / seconds:,.0f} tokens/s",
            file=sys.stderr,
        )
    # console: 20 seed lines side by side
    picks = [(k, i) for k, v in seeds.items() for i in range(len(v)) if len(v[i].split()) >= 6]
    picks = picks[:: max(1, len(picks) // 20)][:20]
    featured = [r for r in scores if r not in ("do-nothing", "unigram (most frequent form)", "pyvi add_accents")]
    for k, i in picks:
        print(f"\n[{k}:{i}] IN  {seeds[k][i]}")
        for r in featured:
            print(f"  {r:>24}: {seed_out[r][k][i][0]}")
    if args.quick:
        return
    md = [
        "# Diacritic restoration benchmark",
        "",
        f"Command: `.venv/bin/python scripts/bench_restore.py {' '.join(sys.argv[1:])}` — "
        f"{datetime.date.today().isoformat()}",
        "",
        f"Machine: {machine()}.",
        "",
        f"Data: {n} lines per set from `../shared/corpora/heldout/` (legal+admin: 4/5 legal, 1/5 admin; news). "
        "`stripped`: all marks removed; `ocr`: pages rendered in random fonts "
        f"({', '.join(sorted(ocr_data.FONTS))}), sizes, DPI and degradations, read by `tesseract -l eng` and aligned "
        "line by line (lines below 70 % folded similarity dropped); `noise`: the learned noise model "
        "(`corpora/restore_noise.json`); `clean`: the reference itself. Models: "
        + (", ".join(f"`{k}` = `{v}`" for k, v in models.items()) or "none found")
        + f". n-gram LM: `{args.ngram / LM_FILE}` ({lm.describe()}); rescoring weights (LM weight, copy bonus) "
        + ("from its decoder.json, as shipped: " if args.shipped_settings else "tuned on held-back *train* lines: ")
        + f"{ {n: (t.rescore_lm_weight, t.rescore_copy_bonus) for n, t in tuned.items()} or '—' }.",
        "",
        f"OCR lines: {ocr_summary(n)}. Held-out is split by file, not by sentence: "
        f"{100 * overlap:.0f} % of the distinct word 6-grams of the legal+admin reference lines also occur in the "
        "legal/admin *train* files (boilerplate), so legal+admin scores are partly in-domain memory; news is the "
        "harder, less repetitive set.",
        "",
        "Syllables = reference word tokens (numbers and codes excluded), compared case-insensitively after "
        "aligning output to reference tokens; *with marks* / *plain* split them by whether the reference carries a "
        "diacritic (plain = over-correction). CER over whole lines. *Numbers/codes kept*: reference tokens with a "
        "digit that the input already had right, output identical. *Tokens unchanged*: output token = input "
        "token (the target for `clean`). tokens/s = input whitespace tokens over the whole benchmark, single "
        "process, cold caches; load = constructing the restorer (lexicon, noise model, weights, LM) in this "
        "process / in a fresh interpreter including its imports (onnxruntime or torch, pyvi's CRF), best of two — "
        "the target is checked on the latter. Models: "
        + ", ".join(f"`{k}` on {runtime_of(v)}" for k, v in models.items())
        + " (the runtimes side by side: benchmarks/restore-runtime.md).",
    ]
    for group in GROUPS:
        for kind in KINDS:
            md += ["", f"## {group} — {kind}", ""]
            rows = [row(r, scores[r][(group, kind)], *timing[r]) for r in scores]
            md += table(COLUMNS, rows)
            crashes = scores["pyvi add_accents"][(group, kind)]
            md.append(f"\npyvi crashed on {pct(crashes['crash'], crashes['lines'])} % of lines (output = input).")
    md += ["", "## Real seeds 001 and 004 (no hand restoration: what can be measured)", ""]
    md += table(["restorer", "seed", "output words in lexicon %", "tokens changed %", "codes kept %",
                 "lines w/o dropped or invented tokens %", "crashes %"], seed_rows)  # fmt: skip
    show = featured[-1]
    md += [
        "",
        f"Excerpts (first ≤ 8 tokens) of 20 seed lines, n-gram alone and `{show}`; full lines on the console:",
        "",
    ]
    md += table(["line", "input", "n-gram alone", show],
                [[f"{k}:{i}", excerpt(seeds[k][i]), excerpt(seed_out["n-gram alone"][k][i][0]),
                  excerpt(seed_out[show][k][i][0])] for k, i in picks])  # fmt: skip
    md += ["", "## Targets (issue 4)", ""]
    md += table(["restorer", "ocr legal+admin ≥ 97", "stripped legal+admin ≥ 98.5", "clean unchanged ≥ 99.9",
                 "numbers/codes 100", "no dropped/invented 100", "≥ 2,000 tokens/s", "fresh load ≤ 2 s",
                 "ahead of pyvi and unigram on every set"],
                [targets(r, scores, *timing[r]) for r in featured])  # fmt: skip
    old = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
    if plans_bench.START in old and plans_bench.END in old and "plans" not in wanted:  # keep the issue-13 block
        md += ["", old[old.index(plans_bench.START) : old.index(plans_bench.END) + len(plans_bench.END)]]
    args.out.write_text("\n".join(md) + "\n", encoding="utf-8")
    if "plans" in wanted:
        plans_bench.write_sections(args.out, block)
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
