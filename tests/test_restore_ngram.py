"""The syllable n-gram LM (restore/ngram.py) and the lattice Viterbi (restore/lattice.py), on a tiny
LM built from sentences written here: no corpora needed."""

from __future__ import annotations

import math
from itertools import product
from pathlib import Path

import numpy as np
import pytest

from pipeline.restore.candidates import Candidate, CandidateGenerator
from pipeline.restore.lattice import DecoderSettings, NgramRestorer, RescoredRestorer, Slot, make_slot, viterbi
from pipeline.restore.ngram import BOS, NONE, SPECIALS, UNK, NgramCounts, NgramLM, line_units, token_units
from pipeline.restore.tokens import split_line

# Written for this test: short admin-style sentences where the accents decide the word.
SENTENCES = [
    "Sở Thông tin và Truyền thông là đơn vị chủ trì.",
    "Đơn vị chủ trì báo cáo kết quả thực hiện năm 2019.",
    "Các sở, ban, ngành phối hợp với đơn vị chủ trì.",
    "Ủy ban nhân dân tỉnh giao Sở Tài chính chủ trì.",
    "Kế hoạch số 12/KH-UBND của Ủy ban nhân dân tỉnh.",
    "Thông tin đối ngoại năm 2019 của tỉnh có nhiều kết quả.",
    "Công tác thông tin đối ngoại được các sở quan tâm.",
    "Năm nay các đơn vị báo cáo kết quả đúng hạn.",
]


def build(sentences: list[str], min3: int = 1) -> NgramLM:
    units = [line_units(s) for s in sentences]
    vocab = [*SPECIALS, *sorted({u for line in units for u in line} - set(SPECIALS))]
    index = {u: i for i, u in enumerate(vocab)}
    counts = NgramCounts(len(vocab), flush_tokens=16)  # tiny flushes exercise the merging
    for line in units:
        counts.add([index[u] for u in line])
    return NgramLM.estimate(counts, vocab, min2=1, min3=min3)


@pytest.fixture(scope="module")
def lm() -> NgramLM:
    return build(SENTENCES)


def test_units_of_tokens() -> None:
    assert token_units("Điều") == ["điều"]
    assert token_units("2019,") == ["<num>", "<,>"]
    assert token_units("12/KH-UBND") == ["<num>"]
    assert token_units("tổ-chức") == ["tổ", "chức"]
    assert token_units("trì:") == ["trì", "<.>"]
    assert token_units("(xem") == ["xem"]
    assert token_units("—") == []
    assert line_units("Sở, ban") == ["sở", "<,>", "ban"]


def test_counts_match_a_direct_count() -> None:
    counts = NgramCounts(10, flush_tokens=3)
    for seq in ([6, 7, 8], [6, 7], [7, 8, 6, 7]):
        counts.add(seq)
    (k1, c1), (k2, c2), (k3, c3) = counts.tables()
    assert dict(zip(k1.tolist(), c1.tolist(), strict=True)) == {6: 3, 7: 4, 8: 2}
    bigrams = dict(zip(k2.tolist(), c2.tolist(), strict=True))
    assert bigrams[6 * 10 + 7] == 3 and bigrams[BOS * 10 + 6] == 2 and bigrams[BOS * 10 + 7] == 1
    assert dict(zip(k3.tolist(), c3.tolist(), strict=True))[(6 * 10 + 7) * 10 + 8] == 1
    assert c3.sum() == 2 + 1 + 3  # trigrams from (<s>, w1, w2) on


def test_distributions_sum_to_one(lm: NgramLM) -> None:
    words = np.arange(lm.size)
    for x, y in [(BOS, lm.index["đơn"]), (lm.index["đơn"], lm.index["vị"]), (NONE, lm.index["sở"]), (NONE, NONE)]:
        probs = np.exp(lm.logprob(np.full(lm.size, x), np.full(lm.size, y), words))
        probs[[BOS, NONE]] = 0  # context-only units
        assert probs.sum() == pytest.approx(1.0, abs=1e-4)


def test_pruned_model_still_normalised_and_prefers_seen_text() -> None:
    pruned = build(SENTENCES, min3=2)
    full = build(SENTENCES)
    assert len(pruned.k3) < len(full.k3)
    words = np.arange(pruned.size)
    x, y = pruned.index["đơn"], pruned.index["vị"]
    probs = np.exp(pruned.logprob(np.full(pruned.size, x), np.full(pruned.size, y), words))
    probs[[BOS, NONE]] = 0
    assert probs.sum() == pytest.approx(1.0, abs=1e-4)
    assert pruned.score(line_units("đơn vị chủ trì")) > pruned.score(line_units("đơn vì chú trị"))


def test_seen_order_scores_better(lm: NgramLM) -> None:
    assert lm.score(line_units("đơn vị chủ trì")) > lm.score(line_units("trì chủ vị đơn"))
    assert lm.score(["thông", "tin", "đối", "ngoại"]) > lm.score(["thông", "tin", "đội", "ngoại"])
    assert lm.logprob(np.array([NONE]), np.array([NONE]), np.array([UNK]))[0] < 0


def test_save_and_load_round_trip(lm: NgramLM, tmp_path: Path) -> None:
    path = tmp_path / "lm.npz"
    lm.save(path)
    loaded = NgramLM.load(path)
    assert loaded.vocab == lm.vocab
    x, y, w = (np.array([lm.index[u]]) for u in ("đơn", "vị", "chủ"))
    assert np.array_equal(loaded.k3, lm.k3)  # keys exact
    assert loaded.logprob(x, y, w)[0] == pytest.approx(lm.logprob(x, y, w)[0], abs=0.01)  # float16 on disk
    assert not list(tmp_path.glob("*.tmp*"))


def test_the_keys_are_mapped_from_a_plain_npz(lm: NgramLM, tmp_path: Path) -> None:
    path = tmp_path / "lm.npz"
    lm.save(path)
    loaded = NgramLM.load(path)
    for keys in (loaded.k2, loaded.k3):  # read-only views of the file, not copies read into memory
        assert not keys.flags.writeable and not keys.flags.owndata and keys.flags.aligned
        assert isinstance(keys.base, np.memmap)
    with np.load(path, allow_pickle=False) as data:  # still an npz any numpy reads
        assert np.array_equal(data["k2"], lm.k2) and data["vocab"].tolist() == lm.vocab


def test_an_lm_in_the_deflated_delta_format_still_loads(lm: NgramLM, tmp_path: Path) -> None:
    path = tmp_path / "old.npz"
    arrays = {"vocab": np.array(lm.vocab), "lp1": lm.lp1, "bow1": lm.bow1}
    for name in ("k2", "k3"):
        delta = np.diff(getattr(lm, name), prepend=0)
        wide = delta >= 2**16
        arrays[name + "_delta16"] = np.where(wide, 0, delta).astype(np.uint16)
        arrays[name + "_wide_at"] = np.flatnonzero(wide).astype(np.int64)
        arrays[name + "_wide"] = delta[wide].astype(np.int64)
    arrays.update(lp2=lm.lp2.astype(np.float16), bow2=lm.bow2.astype(np.float16), lp3=lm.lp3.astype(np.float16))
    np.savez_compressed(path, **arrays)
    loaded = NgramLM.load(path)
    assert np.array_equal(loaded.k2, lm.k2) and np.array_equal(loaded.k3, lm.k3)
    assert loaded.k3.flags.owndata or not isinstance(loaded.k3.base, np.memmap)
    assert np.allclose(loaded.lp3, lm.lp3, atol=0.01)


def _slot_for(lm: NgramLM, options: list[tuple[str, float]]) -> Slot:
    return make_slot(lm, [lm.ids(line_units(text)) for text, _ in options], [score for _, score in options])


def brute_force(lm: NgramLM, lattice: list[list[tuple[str, float]]], start: int) -> tuple[int, ...]:
    """Best path by enumerating every combination (the Viterbi must find the same)."""
    best, best_path = -math.inf, ()
    for path in product(*(range(len(options)) for options in lattice)):
        texts = " ".join(lattice[i][c][0] for i, c in enumerate(path))
        score = sum(lattice[i][c][1] for i, c in enumerate(path)) + lm.score(line_units(texts), start)
        if score > best:
            best, best_path = score, path
    return best_path


def test_viterbi_picks_the_fluent_reading(lm: NgramLM) -> None:
    # "Don vi chu tri" read without marks: every reading gets the same channel score
    lattice = [
        [("đơn", 0.0), ("dồn", 0.0), ("don", 0.0)],
        [("vị", 0.0), ("vì", 0.0), ("vi", 0.0)],
        [("chủ", 0.0), ("chú", 0.0), ("chu", 0.0)],
        [("trì.", 0.0), ("trí.", 0.0), ("tri.", 0.0)],
    ]
    path = viterbi(lm, [_slot_for(lm, options) for options in lattice], start=BOS)
    assert [lattice[i][c][0] for i, c in enumerate(path)] == ["đơn", "vị", "chủ", "trì."]


def test_viterbi_equals_brute_force_with_merges_and_fixed_tokens(lm: NgramLM) -> None:
    lattice = [
        [("sở", -0.5), ("số", -0.2), ("so", -1.0)],
        [("thông tin", -1.0), ("thong", -0.1)],  # a merge candidate: two units
        [("và", -0.3), ("va", 0.0)],
        [("2019,", 0.0)],  # a protected token
        [("—", 0.0)],  # no units at all
        [("đối", -2.0), ("đội", -0.1), ("đồi", -0.5)],
        [("ngoại", 0.0), ("ngoài", -0.2)],
    ]
    slots = [_slot_for(lm, options) for options in lattice]
    for start in (BOS, NONE):
        assert tuple(viterbi(lm, slots, start=start, beam=10_000)) == brute_force(lm, lattice, start)


def test_channel_weight_can_overrule_the_lm(lm: NgramLM) -> None:
    lattice = [[("đơn", 0.0)], [("vị", 0.0)], [("chủ", -50.0), ("chú", 0.0)]]
    path = viterbi(lm, [_slot_for(lm, options) for options in lattice], start=BOS)
    assert path == [0, 0, 1]
    assert viterbi(lm, [], start=BOS) == []


# ----------------------------------------------------------------------------- restorers


@pytest.fixture(scope="module")
def generator() -> CandidateGenerator:
    return CandidateGenerator.load()  # the committed lexicon and noise model, not the corpora


def test_ngram_restorer_restores_words_and_keeps_the_rest(lm: NgramLM, generator: CandidateGenerator) -> None:
    restorer = NgramRestorer(lm, generator, DecoderSettings(unk_penalty=-8.0))
    line = "  Pon vi chu tri:  S& Thong tin va Truyén thong, 12/KH-UBND ngay 2019."
    out = restorer.restore_line(line)
    assert out.startswith("  Đơn vị chủ trì:  Sở Thông tin và Truyền thông, 12/KH-UBND ")
    assert out.endswith(" 2019.")
    assert len(out.split()) == len(line.split())
    assert restorer.restore_line("") == ""
    assert restorer.restore_line("KE HOACH") == "KẾ HOẠCH"


def test_copy_bonus_keeps_lines_written_in_vietnamese(lm: NgramLM, generator: CandidateGenerator) -> None:
    plain, keeping = (NgramRestorer(lm, generator, DecoderSettings(copy_bonus=b)) for b in (0.0, 30.0))
    line = "Sở Tài chính chủ trị."  # already Vietnamese, though the tiny LM has only seen 'chủ trì'
    assert plain.restore_line(line) == "Sở Tài chính chủ trì."
    assert keeping.restore_line(line) == line
    # English-model OCR cannot write ư ơ ạ ...: no bonus for its lines, which restore as before
    assert keeping.restore_line("So Tai chinh chu tri.") == "Sở Tài chính chủ trì."


def test_rescoring_lets_the_lm_overrule_an_unsure_model(lm: NgramLM) -> None:
    pieces = split_line("Don vi chu tri 2019")
    options = [["đơn", "don"], ["vì", "vị"], ["chủ", "chú"], ["trị", "trì"], ["2019"]]
    probs = [[0.9, 0.1], [0.55, 0.45], [0.6, 0.4], [0.51, 0.49], [1.0]]  # the model alone: đơn vì chủ trị
    line = [
        (piece, [Candidate(t, 0.0, 0.0, "word") for t in texts], np.array(p))
        for piece, texts, p in zip(pieces, options, probs, strict=True)
    ]
    rescorer = RescoredRestorer(None, lm, DecoderSettings(rescore_lm_weight=0.0))  # type: ignore[arg-type]
    assert rescorer.decode(line) == ["Đơn", "vì", "chủ", "trị", "2019"]
    rescorer.settings = DecoderSettings(rescore_lm_weight=1.0)
    assert rescorer.decode(line) == ["Đơn", "vị", "chủ", "trì", "2019"]


def test_restorer_candidate_probs_match_its_choices(generator: CandidateGenerator) -> None:
    torch = pytest.importorskip("torch")
    from pipeline.restore.model import RestoreConfig, RestoreModel, TorchRuntime
    from pipeline.restore.restorer import Restorer

    vocab = ["<pad>", "<copy>", "<bos>", "<unk>", "đơn", "vị", "chủ", "trì", "sở", "thông", "tin"]
    lines = [["Pon", "vi", "chu", "tri:", "S&", "Thong", "tin"], ["12/KH-UBND", "ngay"]]
    for arch in ("seq2seq", "encoder"):
        torch.manual_seed(0)
        config = RestoreConfig(arch=arch, vocab_size=len(vocab), d_model=32, ffn=64, encoder_layers=1, max_tokens=4)
        restorer = Restorer(TorchRuntime(RestoreModel(config).eval()), vocab, generator, k=6)
        found = restorer.candidate_probs(lines)
        restored = restorer.restore_tokens(lines)
        assert [len(x) for x in found] == [len(x) for x in lines]  # windows of max_tokens joined back
        for line_probs, line_out in zip(found, restored, strict=True):
            for (piece, cands, probs), token in zip(line_probs, line_out, strict=True):
                assert len(probs) == len(cands) and probs.sum() == pytest.approx(1.0, abs=1e-4)
                if piece.kind == "word":
                    assert token.confidence == pytest.approx(float(probs.max()), abs=1e-3)
        assert "score" not in vars(restorer.runtime.model)
