"""The restore network and restorer: guarantees that hold for any weights, and persistence."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch

from pipeline.errors import ModelError
from pipeline.restore.candidates import CandidateGenerator
from pipeline.restore.model import RestoreConfig, RestoreModel, TorchRuntime, load_model, model_id, save_model
from pipeline.restore.restorer import Restorer

VOCAB = ["<pad>", "<copy>", "<bos>", "<unk>", "của", "đơn", "vị", "sở", "thông", "tin", "và", "truyền", "năm"]
LINES = [
    "  Pon vi chu tri: S& Thong tin va Truyén thong",
    "",
    "Thuc hién 1759/KH-UBND ngay 22/4/2019 (xem https://example.vn/a) ctia nim 2019.",
    "KE HOACH\tS6 368/QP-TTg",
]


@pytest.fixture(scope="module")
def generator() -> CandidateGenerator:
    return CandidateGenerator.load()


@pytest.fixture(scope="module", params=["seq2seq", "encoder"])
def untrained(request: pytest.FixtureRequest, generator: CandidateGenerator) -> Restorer:
    torch.manual_seed(0)
    config = RestoreConfig(arch=request.param, vocab_size=len(VOCAB), d_model=64, ffn=128, encoder_layers=1)
    return Restorer(TorchRuntime(RestoreModel(config).eval()), VOCAB, generator, k=8)


def test_any_weights_keep_lines_tokens_whitespace_and_codes(untrained: Restorer) -> None:
    restored = untrained.restore_lines(LINES)
    assert len(restored) == len(LINES)
    for source, line in zip(LINES, restored, strict=True):
        assert len(line.tokens) == len(source.split())
        # the line is the input's own whitespace (leading spaces, tabs) around the token outputs
        gaps = re.split(r"\S+", source)
        assert line.text == gaps[0] + "".join(t.text + gap for t, gap in zip(line.tokens, gaps[1:], strict=True))
        for token in line.tokens:
            assert 0.0 <= token.confidence <= 1.0
    words = {t.source: t for line in restored for t in line.tokens}
    for protected in ("1759/KH-UBND", "22/4/2019", "(xem", "https://example.vn/a)", "2019.", "2019"):
        if protected in words and words[protected].kind == "protected":
            assert words[protected].text == protected
    assert words["1759/KH-UBND"].text == "1759/KH-UBND"
    assert words["368/QP-TTg"].text == "368/QĐ-TTg"
    assert restored[1].text == "" and restored[1].tokens == ()


def test_outputs_come_only_from_candidates(untrained: Restorer, generator: CandidateGenerator) -> None:
    for line in untrained.restore_lines(LINES[:1]):
        for token in line.tokens:
            if token.kind == "word":
                core = token.text.strip(":").lower()
                allowed = {c.text for c in generator.candidates(token.source.strip(":"), 8)}
                assert core in allowed


def test_save_load_round_trip_with_safetensors(tmp_path: Path, untrained: Restorer) -> None:
    trained = untrained.runtime.model
    save_model(trained, VOCAB, tmp_path / "m")
    model, vocab = load_model(tmp_path / "m")
    assert vocab == VOCAB and model.config == trained.config
    for name, tensor in trained.state_dict().items():
        assert torch.equal(tensor, model.state_dict()[name]), name
    assert model_id(tmp_path / "m").startswith(f"restore-{model.config.arch}@")
    assert not list((tmp_path / "m").glob("*.bin")) and not list((tmp_path / "m").glob("*.pt"))


def test_broken_or_missing_model_is_a_model_error(tmp_path: Path, untrained: Restorer) -> None:
    with pytest.raises(ModelError, match="missing"):
        load_model(tmp_path / "nothing")
    save_model(untrained.runtime.model, VOCAB, tmp_path / "m")
    weights = tmp_path / "m" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])
    with pytest.raises(ModelError, match="cannot be loaded"):
        load_model(tmp_path / "m")


def test_the_numpy_batch_trains_the_torch_model(untrained: Restorer) -> None:
    """What scripts/train_restore.py does: Restorer.encode's arrays as tensors, a loss, gradients."""
    from pipeline.restore.model import Batch

    lines = [["Pon", "vi", "chu", "tri:"], ["Thong", "tin", "va"]]
    targets = [["Đơn", "vị", "chủ", "trì:"], ["Thông", "tin", "và"]]
    arrays, _ = untrained.encode(lines, targets)
    assert arrays.target is not None and (arrays.target >= 0).sum() >= 5  # gold candidates found
    model = untrained.runtime.model
    loss = model.loss(Batch.from_arrays(arrays))
    loss.backward()
    assert torch.isfinite(loss) and model.query.weight.grad is not None
    model.zero_grad()


def test_encode_writes_each_tokens_arrays_where_a_token_by_token_fill_does(untrained: Restorer) -> None:
    """Restorer.encode fills the batch at once; the reference writes each token's slices in turn."""
    import numpy as np

    from pipeline.restore.modelspec import char_ids

    lines = [line.split() for line in LINES] + [["d6i", "ngoai"], ["S&", "16", "trình", "Pon", "vi", "chu", "tri:"]]
    targets = [[token.lower() for token in line] for line in lines]
    for gold in (None, targets):
        arrays, slots = untrained.encode(lines, gold)
        width = untrained.runtime.config.char_width
        expected = {name: np.zeros_like(getattr(arrays, name)) for name in ("chars", "mask", "cand_ids", "cand_copy")}
        feats, cand_mask = np.zeros_like(arrays.cand_feats), np.zeros_like(arrays.cand_mask)
        for i, line_slots in enumerate(slots):
            for j, slot in enumerate(line_slots):
                ids, features, copy = untrained._arrays(slot)
                n = len(ids)
                expected["chars"][i, j] = char_ids(slot.piece.core or slot.piece.text, width)
                expected["mask"][i, j] = True
                expected["cand_ids"][i, j, :n], feats[i, j, :n], expected["cand_copy"][i, j, :n] = ids, features, copy
                cand_mask[i, j, :n] = True
        for name, array in expected.items():
            assert np.array_equal(getattr(arrays, name), array), name
        assert np.array_equal(arrays.cand_feats, feats) and np.array_equal(arrays.cand_mask, cand_mask)
        assert (arrays.target is None) == (gold is None)


def test_runs_join_consecutive_lines_with_tokens_and_the_windows_of_one_line() -> None:
    from pipeline.restore.restorer import _run_groups

    windows = [0, 1, 3, 3, 4, 5]  # line 2 has no tokens; line 3 is long: two windows
    assert _run_groups(windows, None) == [[0], [1], [2, 3], [4], [5]]
    assert _run_groups(windows, [0] * 6) == [[0, 1], [2, 3, 4, 5]]
    assert _run_groups(windows, [0, 0, 0, 0, 1, 1]) == [[0, 1], [2, 3], [4, 5]]
