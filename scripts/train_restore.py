"""Train the restore model on CPU, in the background, resumably.

    nohup nice .venv/bin/python scripts/train_restore.py --arch seq2seq > data/restore/train-seq2seq.log 2>&1 &
    .venv/bin/python scripts/train_restore.py --arch seq2seq --export models/restore   # ship the best checkpoint

The run folder (data/restore/run-<arch>/) holds the latest checkpoint (weights and optimizer
state as safetensors, progress in state.json) and the best one by dev accuracy; starting the
script again resumes from it. Training pairs are made on the fly (scripts/restore_data.py):
real English-model OCR pairs, the learned noise model's garbling, stripped, mixed, clean and
ALL-CAPS text. Extra pairs (e.g. reviewers' corrections, `gazette corrections export`) can be
added with --extra-pairs FILE.jsonl ({"noisy": ..., "clean": ...} per line).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import random
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from restore_data import DEFAULT_CORPORA, load_ocr_pairs, load_plan_pairs, load_training_text, pair_stream  # noqa: E402

from pipeline.files import atomic_write_text  # noqa: E402
from pipeline.restore.align import align_tokens  # noqa: E402
from pipeline.restore.candidates import CandidateGenerator  # noqa: E402
from pipeline.restore.model import Batch, RestoreConfig, RestoreModel, TorchRuntime, load_model, save_model  # noqa: E402
from pipeline.restore.restorer import Restorer  # noqa: E402
from pipeline.vietnamese import normalize  # noqa: E402

log = logging.getLogger("train")
MAX_LINE_TOKENS = 40


def save_optimizer(optimizer: torch.optim.Optimizer, path: Path) -> dict:
    """Adam moments as safetensors (no pickle); returns the JSON-able rest of its state."""
    from safetensors.torch import save_file

    state = optimizer.state_dict()
    tensors = {f"{i}.{k}": v.contiguous() for i, s in state["state"].items() for k, v in s.items()}
    tmp = path.with_suffix(".tmp")
    save_file(tensors, str(tmp))
    tmp.replace(path)
    return {"param_groups": state["param_groups"]}


def load_optimizer(optimizer: torch.optim.Optimizer, path: Path, groups: dict) -> None:
    from safetensors.torch import load_file

    tensors = load_file(str(path))
    state: dict[int, dict[str, torch.Tensor]] = {}
    for key, value in tensors.items():
        index, name = key.split(".", 1)
        state.setdefault(int(index), {})[name] = value
    optimizer.load_state_dict({"state": state, "param_groups": groups["param_groups"]})


def load_extra_pairs(path: Path) -> list[tuple[str, str]]:
    """(noisy, clean) from JSON Lines with those keys, e.g. `gazette corrections export`'s pairs.jsonl."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [(row["noisy"], normalize(row["clean"])) for row in rows if row["noisy"].strip() and row["clean"].strip()]


def aligned_pairs(stream, limit: int | None = None):
    """(kind, noisy tokens, clean targets) for pairs the aligner accepts."""
    produced = 0
    for kind, noisy, clean in stream:
        noisy_tokens, clean_tokens = noisy.split(), clean.split()
        if len(noisy_tokens) > MAX_LINE_TOKENS:
            continue  # one very long line would pad the whole batch to its length
        # Most synthetic pairs keep one token per word: no need for the (slow) aligner.
        if len(noisy_tokens) == len(clean_tokens):
            pairs = list(zip(noisy_tokens, clean_tokens, strict=True))
        else:
            pairs = align_tokens(noisy, clean)
        if not pairs:
            continue
        yield kind, [n for n, _ in pairs], [c for _, c in pairs]
        produced += 1
        if limit and produced >= limit:
            return


def evaluate(restorer: Restorer, model: RestoreModel, dev: list[tuple[str, list[str], list[str]]]) -> dict[str, float]:
    """Accuracy over word tokens (exact, case-insensitive, per kind) and oracle coverage."""
    model.eval()
    hits: dict[str, list[int]] = {}
    oracle = total = 0
    for start in range(0, len(dev), 64):
        chunk = dev[start : start + 64]
        arrays, slots = restorer.encode([src for _, src, _ in chunk], [tgt for _, _, tgt in chunk])
        batch = Batch.from_arrays(arrays)
        chosen, _ = model.predict(batch)
        for row, (kind, src, tgt) in enumerate(chunk):
            for j in range(min(len(src), chosen.shape[1])):
                if slots[row][j].piece.kind != "word":
                    continue  # copied verbatim by construction: not a model decision
                gold = batch.target[row, j].item() if batch.target is not None else -100
                slot = slots[row][j]
                candidate = slot.candidates[int(chosen[row, j])]
                restored = slot.piece.output(slot.piece.core if candidate.kind == "copy" else candidate.text)
                correct = normalize(restored).lower() == normalize(tgt[j]).lower()
                hits.setdefault(kind, []).append(int(correct))
                total += 1
                oracle += int(gold >= 0 or normalize(src[j]).lower() == normalize(tgt[j]).lower())
    model.train()
    result = {kind: sum(v) / len(v) for kind, v in hits.items()}
    result["all"] = sum(sum(v) for v in hits.values()) / max(1, sum(len(v) for v in hits.values()))
    result["oracle"] = oracle / max(1, total)
    return result


def build_vocab(lexicon: Path = ROOT / "corpora" / "restore_lexicon.tsv", min_count: int = 3) -> list[str]:
    """Output vocabulary: the special ids of pipeline.restore.model, then the lexicon's syllables."""
    syllables = []
    for line in lexicon.read_text(encoding="utf-8").splitlines()[1:]:  # text, count, kind
        word, count, _kind = line.split("\t")
        if int(count) >= min_count:
            syllables.extend(word.split())
    return ["<pad>", "<copy>", "<bos>", "<unk>", *sorted(set(syllables))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--arch", choices=("seq2seq", "encoder"), default="seq2seq")
    parser.add_argument("--run", type=Path, help="run folder (default data/restore/run-ARCH)")
    parser.add_argument("--corpora", type=Path, default=DEFAULT_CORPORA)
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--batch-lines", type=int, default=48)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--warmup", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--eval-every", type=int, default=500)
    parser.add_argument("--per-domain", type=int, default=150_000, help="corpus lines sampled per domain")
    parser.add_argument("--extra-pairs", type=Path, action="append", default=[])
    parser.add_argument(
        "--export", type=Path, help="copy the best checkpoint here (e.g. models/restore), export it to ONNX and exit"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--init", type=Path, help="start a new run from these weights (fine-tuning)")
    parser.add_argument(
        "--plan-pairs",
        action="store_true",
        help="add the tune-split development plans' real English-model OCR pairs to the OCR pairs",
    )
    parser.add_argument(
        "--plan-dev",
        default="",
        help="comma-separated tune-split plan ids kept out of the plan pairs (to judge the fine-tuned model on)",
    )
    args = parser.parse_args()
    run = args.run or ROOT / "data" / "restore" / f"run-{args.arch}"
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    if args.export:
        model, vocab = load_model(run / "best")
        state = json.loads((run / "best" / "metrics.json").read_text())
        save_model(model, vocab, args.export, metadata={"arch": args.arch, "step": str(state["step"])})
        atomic_write_text(args.export / "metrics.json", json.dumps(state, indent=2) + "\n")
        log.info("exported %s (step %s, dev %s) → %s", run / "best", state["step"], state["dev"], args.export)
        from export_restore_onnx import export_onnx  # the graphs restoring runs, from these weights

        export_onnx(args.export)
        return

    state_file = run / "state.json"
    if state_file.exists():
        model, vocab = load_model(run / "last")
    elif args.init:
        model, vocab = load_model(args.init)
        log.info("fine-tuning from %s", args.init)
    else:
        vocab = build_vocab()
        model = RestoreModel(RestoreConfig(arch=args.arch, vocab_size=len(vocab)))
    generator = CandidateGenerator.load()
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    step, best = 0, -1.0
    if state_file.exists():
        state = json.loads(state_file.read_text())
        load_optimizer(optimizer, run / "last" / "optimizer.safetensors", state["optimizer"])
        step, best = state["step"], state["best"]
        log.info("resumed at step %d (best dev %.4f)", step, best)
    restorer = Restorer(TorchRuntime(model), vocab, generator)
    model.train()

    log.info("loading corpora from %s", args.corpora)
    text = load_training_text(args.corpora, args.per_domain, seed=args.seed)
    ocr = load_ocr_pairs()
    # Dev: the last 600 real OCR pairs and 200 lines per domain, kept out of training.
    dev_text = {d: lines[-200:] for d, lines in text.items()}
    train_text = {d: lines[:-200] for d, lines in text.items()}
    dev = list(aligned_pairs(pair_stream(dev_text, ocr[-600:], seed=12345), limit=1200))
    ocr = ocr[:-600]
    for extra in args.extra_pairs:  # added after the dev split: reviewers' pairs are for training
        ocr += load_extra_pairs(extra)
    plan_dev = frozenset(filter(None, args.plan_dev.split(",")))
    if plan_dev:  # tune-split plans kept out of training judge the checkpoints too
        dev += list(aligned_pairs(("plans", n, c) for n, c in load_plan_pairs(only=plan_dev)))
    if args.plan_pairs:  # the tune split only (plan_restore_data); held-out plans are never read
        plans = load_plan_pairs(plan_dev)
        log.info("%d development-plan OCR pairs (tune split)", len(plans))
        ocr += plans
    log.info(
        "%d OCR pairs, %d dev lines, vocab %d, %d parameters",
        len(ocr),
        len(dev),
        len(vocab),
        sum(p.numel() for p in model.parameters()),
    )
    stream = aligned_pairs(pair_stream(train_text, ocr, seed=args.seed + step))

    def lr_at(s: int) -> float:
        if s < args.warmup:
            return args.lr * (s + 1) / args.warmup
        progress = (s - args.warmup) / max(1, args.steps - args.warmup)
        return args.lr * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))

    tokens = 0
    started = time.perf_counter()
    losses: list[float] = []
    while step < args.steps:
        examples = [next(stream) for _ in range(args.batch_lines)]
        arrays, _ = restorer.encode([src for _, src, _ in examples], [tgt for _, _, tgt in examples])
        batch = Batch.from_arrays(arrays)
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step)
        loss = model.loss(batch)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        step += 1
        losses.append(loss.item())
        tokens += int(batch.mask.sum())
        if step % 50 == 0:
            rate = tokens / (time.perf_counter() - started)
            log.info("step %d loss %.4f lr %.2e %.0f tokens/s", step, sum(losses) / len(losses), lr_at(step), rate)
            losses.clear()
        if step % args.eval_every == 0 or step == args.steps:
            dev_scores = evaluate(restorer, model, dev)
            log.info("step %d dev %s", step, {k: round(v, 4) for k, v in dev_scores.items()})
            metrics = {"step": step, "dev": dev_scores, "arch": args.arch}
            if args.init:  # a fine-tuning run: what it started from and what it added
                metrics["finetune"] = {
                    "init": str(args.init),
                    "plan_pairs": args.plan_pairs,
                    "plan_dev": sorted(plan_dev),
                }
            if dev_scores["all"] > best:
                best = dev_scores["all"]
                save_model(model, vocab, run / "best")
                atomic_write_text(run / "best" / "metrics.json", json.dumps(metrics, indent=2) + "\n")
            save_model(model, vocab, run / "last")
            groups = save_optimizer(optimizer, run / "last" / "optimizer.safetensors")
            state = {"step": step, "best": best, "optimizer": groups, "seconds": time.perf_counter() - started}
            atomic_write_text(state_file, json.dumps(state) + "\n")
    log.info("done: %d steps, best dev %.4f", step, best)


if __name__ == "__main__":
    random.seed(0)
    main()
