"""Restore data from today's documents (issue 13): weighted n-gram counts, the resumable count
cache, the plan split that keeps held-out plans out of every training input, and the benchmark
block that is rewritten without touching the rest of benchmarks/restore.md."""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

import numpy as np
import pytest

from pipeline.restore.ngram import SPECIALS, NgramCounts, NgramLM, line_units

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

import bench_restore_plans  # noqa: E402
import build_restore_ngram  # noqa: E402
import plan_restore_data  # noqa: E402
from plan_split import split  # noqa: E402

PLANS = ROOT.parent / "shared" / "plans"
LINES = ["Sở Thông tin và Truyền thông chủ trì.", "Các sở, ban, ngành phối hợp thực hiện.", "Năm 2025 chuyển đổi số."]


def _vocab() -> list[str]:
    return [*SPECIALS, *sorted({u for line in LINES for u in line_units(line)} - set(SPECIALS))]


def _ids(vocab: list[str], line: str) -> list[int]:
    index = {u: i for i, u in enumerate(vocab)}
    return [index[u] for u in line_units(line)]


def test_weighted_tables_count_as_the_text_repeated() -> None:
    vocab = _vocab()
    once = NgramCounts(len(vocab), flush_tokens=4)
    for line in LINES:
        once.add(_ids(vocab, line))
    repeated = NgramCounts(len(vocab), flush_tokens=4)
    repeated.add(_ids(vocab, LINES[0]))
    for _ in range(3):
        for line in LINES[1:]:
            repeated.add(_ids(vocab, line))
    weighted = NgramCounts(len(vocab), flush_tokens=4)
    weighted.add(_ids(vocab, LINES[0]))
    extra = NgramCounts(len(vocab))
    for line in LINES[1:]:
        extra.add(_ids(vocab, line))
    weighted.add_tables(extra.tables(), weight=3)
    for (ka, ca), (kb, cb) in zip(repeated.tables(), weighted.tables(), strict=True):
        assert ka.tolist() == kb.tolist() and ca.tolist() == cb.tolist()
    lm = NgramLM.estimate(weighted, vocab, min2=1, min3=1)
    assert np.isfinite(lm.score(line_units(LINES[2])))


def test_count_cache_resumes_with_the_same_tables(tmp_path: Path) -> None:
    corpus = tmp_path / "legal-000.txt.gz"
    with gzip.open(corpus, "wt", encoding="utf-8") as handle:
        handle.write("\n".join(LINES * 4) + "\n")
    vocab = _vocab()
    cache = tmp_path / "cache"
    first, dev, meta = build_restore_ngram.count_file(corpus, vocab, 5, None, cache)
    assert len(list(cache.glob("*.npz"))) == 1 and len(dev) == 2 and meta["lines"] == 10
    again, dev_again, meta_again = build_restore_ngram.count_file(corpus, vocab, 5, None, cache)
    assert dev_again == dev and meta_again == meta
    for (ka, ca), (kb, cb) in zip(first, again, strict=True):
        assert ka.tolist() == kb.tolist() and ca.tolist() == cb.tolist()
    other, _, _ = build_restore_ngram.count_file(corpus, vocab, 3, None, cache)  # other dev lines: recounted
    assert len(list(cache.glob("*.npz"))) == 2 and other[0][1].sum() != first[0][1].sum()


@pytest.mark.skipif(not PLANS.is_dir(), reason="../shared/plans absent")
def test_training_and_lm_text_never_come_from_held_out_plans() -> None:
    held = {i for i, part in split([p.stem for p in PLANS.glob("*.txt")]).items() if part == "heldout"}
    held |= {i for i, p in split([p.stem for p in (ROOT / "tests/data/plans").glob("*.txt")]).items() if p == "heldout"}
    tune = plan_restore_data.plan_texts("tune")
    assert tune and not held & set(tune)
    assert set(plan_restore_data.plan_texts("heldout")) == held


def test_sections_block_is_replaced_and_the_rest_kept(tmp_path: Path) -> None:
    md = tmp_path / "restore.md"
    md.write_text("# Benchmark\n\n| a | b |\n", encoding="utf-8")
    start, end = bench_restore_plans.START, bench_restore_plans.END
    bench_restore_plans.write_sections(md, [start, "first", end])
    bench_restore_plans.write_sections(md, [start, "second", end])
    text = md.read_text(encoding="utf-8")
    assert text.startswith("# Benchmark\n\n| a | b |\n") and "second" in text and "first" not in text
    assert text.count(start) == 1


def test_corpus_documents_are_consecutive_held_back_lines_rendered_in_copies(tmp_path: Path) -> None:
    import render_corpus_pages

    words = "Sở Thông tin và Truyền thông chủ trì phối hợp".split()  # ten words a line
    lines = [" ".join(words)] * 7 + ["Ngắn quá."] + [" ".join(words * 40)]  # a title and a table dump are left out
    dev = tmp_path / "dev.txt.gz"
    with gzip.open(dev, "wt", encoding="utf-8") as handle:
        handle.writelines(line + "\n" for line in lines)
    found = render_corpus_pages.documents(dev, None, copies=2)
    assert render_corpus_pages.WORDS_PER_DOCUMENT > 70  # seven usable lines do not fill one document: none is made
    assert found == []
    with gzip.open(dev, "wt", encoding="utf-8") as handle:
        handle.writelines(" ".join(words * 20) + "\n" for _ in range(5))  # 200 words a line
    found = render_corpus_pages.documents(dev, None, copies=2)
    assert [doc_id for doc_id, _ in found] == ["corpus-000", "corpus-000-1"]  # 800 words, then a short rest
    assert found[0][1] == found[1][1] and len(found[0][1]) == 4
