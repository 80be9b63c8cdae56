"""The ONNX runtime restoring uses against the torch model it is exported from.

Both runtimes run the shipped model (models/restore) on real English-model OCR: the sample
archive's text file and, when ../shared/seeds is there, the garbled seeds 001 and 004.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pipeline.errors import ModelError
from pipeline.restore import runtime as runtime_module
from pipeline.restore.lattice import rescore_choices
from pipeline.restore.modelspec import (
    CHARS_ONNX,
    DECODER_ONNX,
    ENCODER_ONNX,
    INT8_ONNX,
    WEIGHTS,
    WEIGHTS_SHA256_KEY,
    weights_sha256,
)
from pipeline.restore.paths import MODEL_DIR
from pipeline.restore.restorer import Restorer
from pipeline.restore.runtime import OnnxRuntime
from pipeline.vietnamese import normalize

ROOT = Path(__file__).resolve().parents[1]
OCR_TEXT = ROOT / "samples" / "archive" / "text" / "ke-hoach-2316-ocr-eng.txt"
GRAPHS = (CHARS_ONNX, ENCODER_ONNX, DECODER_ONNX, *INT8_ONNX.values())
SEEDS = ROOT.parent / "shared" / "seeds"  # read there when present, never copied
TOLERANCE = 1e-4  # max abs difference of a candidate's probability


@pytest.fixture(scope="module")
def runtimes() -> dict[str, Restorer]:
    """The float ONNX graphs (what the int8 ones are checked against: test_the_int8_graphs_…)."""
    found = {name: Restorer.load(runtime=name, threads=1) for name in ("onnx", "torch")}
    found["onnx"].runtime = OnnxRuntime.load(MODEL_DIR, threads=1, int8=False)
    return found


def _lines(text: str) -> list[list[str]]:
    return [line.split() for line in normalize(text).splitlines() if line.split()]


def _assert_agree(runtimes: dict[str, Restorer], lines: list[list[str]]) -> None:
    found = {name: r.candidate_probs(lines) for name, r in runtimes.items()}
    tokens = {name: [token for line in lines_found for token in line] for name, lines_found in found.items()}
    assert len(tokens["onnx"]) == len(tokens["torch"]) == sum(map(len, lines))
    pairs = [(a[2], b[2]) for a, b in zip(tokens["onnx"], tokens["torch"], strict=True)]
    assert max(np.abs(a - b).max() for a, b in pairs) < TOLERANCE
    assert [int(a.argmax()) for a, _ in pairs] == [int(b.argmax()) for _, b in pairs]
    # the same choices after the n-gram rescoring (what restoring outputs)
    rescorer = runtimes["onnx"].rescorer
    assert rescorer is not None
    chosen = {name: [c for line in f for c in rescore_choices(*rescorer, line)] for name, f in found.items()}
    assert chosen["onnx"] == chosen["torch"]
    changed = [cands[c].kind != "copy" for (_, cands, _), c in zip(tokens["onnx"], chosen["onnx"], strict=True)]
    assert sum(changed) > len(changed) / 3  # garbled text: much of it is restored


def test_onnx_agrees_with_torch_on_the_sample_ocr_text(runtimes: dict[str, Restorer]) -> None:
    _assert_agree(runtimes, _lines(OCR_TEXT.read_text(encoding="utf-8")))


def test_onnx_agrees_with_torch_on_the_garbled_seeds(runtimes: dict[str, Restorer], seeds_dir: Path) -> None:
    text = "\n".join(next(seeds_dir.glob(f"{n}_*.txt")).read_text(encoding="utf-8") for n in ("001", "004"))
    _assert_agree(runtimes, _lines(text))


@pytest.mark.skipif(not (MODEL_DIR / INT8_ONNX[ENCODER_ONNX]).exists(), reason="no int8 graphs exported")
def test_the_int8_graphs_keep_the_float_graphs_choices(runtimes: dict[str, Restorer]) -> None:
    """The int8 graphs restoring runs (export_restore_onnx.py) choose as the float ones
    after the rescoring, on the sample OCR text and the garbled seeds when present."""
    text = OCR_TEXT.read_text(encoding="utf-8")
    text += "".join("\n" + p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("00[14]_*.txt")))
    lines = _lines(text)
    int8 = Restorer.load(threads=1)
    assert int8.runtime.encoder is not runtimes["onnx"].runtime.encoder
    assert int8.rescorer is not None
    found = {name: r.candidate_probs(lines) for name, r in (("float", runtimes["onnx"]), ("int8", int8))}
    chosen = {name: [c for line in f for c in rescore_choices(*int8.rescorer, line)] for name, f in found.items()}
    same = sum(a == b for a, b in zip(chosen["float"], chosen["int8"], strict=True))
    assert same >= 0.999 * len(chosen["float"])


def test_the_token_vector_cache_changes_no_vector(
    runtimes: dict[str, Restorer], monkeypatch: pytest.MonkeyPatch
) -> None:
    arrays, _ = runtimes["onnx"].encode(_lines(OCR_TEXT.read_text(encoding="utf-8"))[:48])
    b, t, w = arrays.chars.shape
    rows = arrays.chars.reshape(b * t, w)
    fresh = OnnxRuntime.load(MODEL_DIR, threads=1)
    (direct,) = fresh.chars.run(["token_vectors"], {"chars": rows})
    monkeypatch.setattr(runtime_module, "VECTOR_CACHE_LIMIT", 40)  # fewer than the batch's tokens: emptied
    for _ in range(2):  # computed, then from the cache
        np.testing.assert_allclose(fresh.token_vectors(arrays.chars).reshape(b * t, -1), direct, atol=1e-6)
    assert 40 < len(fresh._vectors) == len({row.tobytes() for row in rows})


def test_every_graph_records_the_sha256_of_the_shipped_weights() -> None:
    """Fails when the model is retrained without exporting it again (scripts/export_restore_onnx.py)."""
    import onnxruntime

    digest = weights_sha256(MODEL_DIR)
    for name in (name for name in GRAPHS if (MODEL_DIR / name).exists() or name not in INT8_ONNX.values()):
        session = onnxruntime.InferenceSession(str(MODEL_DIR / name), providers=["CPUExecutionProvider"])
        assert session.get_modelmeta().custom_metadata_map[WEIGHTS_SHA256_KEY] == digest, name


def test_graphs_of_other_weights_are_refused(tmp_path: Path) -> None:
    model = tmp_path / "restore"
    shutil.copytree(MODEL_DIR, model, ignore=shutil.ignore_patterns("ngram"))
    OnnxRuntime.load(model)  # a faithful copy loads
    weights = model / WEIGHTS
    weights.write_bytes(weights.read_bytes() + b" ")  # other weights (a retrained model)
    with pytest.raises(ModelError, match="exported from other weights"):
        OnnxRuntime.load(model)
    with pytest.raises(ModelError, match="exported from other weights"):
        Restorer.load(model)
    (model / ENCODER_ONNX).unlink()
    (model / INT8_ONNX[ENCODER_ONNX]).unlink(missing_ok=True)
    with pytest.raises(ModelError, match="export_restore_onnx"):
        OnnxRuntime.load(model, digest=weights_sha256(MODEL_DIR))


PROBE = """
import json, sys
import pipeline.api, pipeline.cli
light = not any(m in sys.modules for m in ("onnxruntime", "torch", "transformers"))
from pipeline import restore_lines
text = restore_lines(["Cong tac thong tin d6i ngoai nim 2019"])[0].text
{extra}
heavy = sorted(m for m in ("torch", "transformers") if m in sys.modules)
print(json.dumps({{"light": light, "text": text, "heavy": heavy, **extra}}))
"""


def _probe(extra: str = "extra = {}") -> dict:
    run = subprocess.run([sys.executable, "-c", PROBE.format(extra=extra)], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout.splitlines()[-1])


def test_restoring_through_the_public_api_imports_neither_torch_nor_transformers() -> None:
    result = _probe()
    assert result["light"], "importing pipeline.api or pipeline.cli loaded a runtime"
    assert result["text"] == "Công tác thông tin đối ngoại năm 2019"
    assert result["heavy"] == []


def test_a_batch_worker_restores_on_one_onnxruntime_thread(tmp_path: Path) -> None:
    page = tmp_path / "ocr.txt"
    shutil.copy(OCR_TEXT, page)
    extra = f"""
from pipeline.batch.task import prepare_worker
from pipeline.options import Options
from pipeline.restore.api import get_restorer
from pipeline.api import convert
get_restorer.cache_clear()
prepare_worker(Options())
doc = convert({str(page)!r}, Options(restore="always"))
runtime = get_restorer().runtime
sessions = (runtime.chars, runtime.encoder, runtime.decoder_step)
threads = [s.get_session_options().intra_op_num_threads for s in sessions]
restored = sum("restored" in t.flags for p in doc.pages for l in p.lines for t in l.tokens)
extra = {{"threads": threads, "restored": restored}}
"""
    result = _probe(extra)
    assert result["threads"] == [1, 1, 1]
    assert result["restored"] > 100
    assert result["heavy"] == []
