"""The same per-file task on a Dask cluster (a LocalCluster here): the same outputs as the
process pool, byte for byte once the timings are set aside."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from PIL import Image

from pipeline.batch import BatchOptions, convert_many
from pipeline.errors import ClusterError, ExitCode
from pipeline.options import Options
from pipeline.synth import Degradation, Para, degrade, render_pages

ROOT = Path(__file__).resolve().parents[1]
OPTIONS = Options(formats=("json", "txt", "jsonl"))  # restore on: the model runs in the workers


def _without_timings(text: str) -> str:
    document = json.loads(text)
    if "provenance" in document:  # not in errors.jsonl records
        document["provenance"].pop("timings")
    return json.dumps(document, ensure_ascii=False, indent=2)


def _outputs(out: Path) -> dict[str, str]:
    """Every output, with the timings taken out of the JSON ones."""
    found = {}
    for path in sorted(out.rglob("*")):
        relative = str(path.relative_to(out))
        if not path.is_file() or (relative.startswith(".gazette/") and not relative.endswith(".jsonl")):
            continue
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".json":
            found[relative] = _without_timings(text)
        elif path.suffix == ".jsonl":
            found[relative] = "\n".join(_without_timings(line) for line in text.splitlines())
        else:
            found[relative] = text
    return found


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    root = tmp_path / "archive"
    (root / "text").mkdir(parents=True)
    # English-model OCR text: restored whole by the model, on whichever worker gets it.
    garbled = (ROOT / "samples" / "archive" / "text" / "ke-hoach-2316-ocr-eng.txt").read_text(encoding="utf-8")
    (root / "text" / "ocr-eng.txt").write_text("\n".join(garbled.splitlines()[:15]) + "\n", encoding="utf-8")
    (root / "text" / "plan.txt").write_text("Đơn vị chủ trì: Sở Nội vụ.\n", encoding="utf-8")
    page = render_pages([Para("KẾ HOẠCH TẬP HUẤN"), Para("Đơn vị chủ trì: Sở Nội vụ.")])[0].image
    image: Image.Image = degrade(page, Degradation(skew_deg=0.5, blur=0.5, noise=5, seed=4))
    image.save(root / "scan.png", dpi=(300, 300))
    (root / "empty.pdf").touch()
    return root


@pytest.mark.slow  # ~25 s: the restore model loads in every worker
def test_dask_local_writes_the_pool_outputs(tmp_path: Path, archive: Path) -> None:
    pool = convert_many([archive], tmp_path / "pool", OPTIONS, BatchOptions(jobs=2, progress="none"))
    dask = convert_many([archive], tmp_path / "dask", OPTIONS, BatchOptions(jobs=2, dask="local", progress="none"))
    assert (dask.converted, dask.failed) == (pool.converted, pool.failed) == (3, 1)
    pool_outputs, dask_outputs = _outputs(tmp_path / "pool"), _outputs(tmp_path / "dask")
    assert "scan.png.json" in pool_outputs and "documents.jsonl" in pool_outputs
    assert dask_outputs == pool_outputs
    again = convert_many([archive], tmp_path / "dask", OPTIONS, BatchOptions(jobs=2, dask="local", progress="none"))
    assert (again.converted, again.skipped, again.failed_before) == (0, 3, 1)


def test_dask_local_text_files_match_the_inline_run(tmp_path: Path) -> None:
    """The light Dask test of the default run: text files only, no model."""
    root = tmp_path / "archive"
    (root / "sub").mkdir(parents=True)
    (root / "plan.txt").write_text("Đơn vị chủ trì: Sở Nội vụ.\n", encoding="utf-8")
    (root / "sub" / "other.txt").write_text("Thời gian: Quý II/2025.\n", encoding="utf-16")
    (root / "empty.pdf").touch()
    options = Options(restore="never", formats=("json", "txt", "jsonl"))
    inline = convert_many([root], tmp_path / "inline", options, BatchOptions(jobs=0, progress="none"))
    dask = convert_many([root], tmp_path / "dask", options, BatchOptions(jobs=1, dask="local", progress="none"))
    assert (dask.converted, dask.failed) == (inline.converted, inline.failed) == (2, 1)
    assert _outputs(tmp_path / "dask") == _outputs(tmp_path / "inline")


def test_unreachable_scheduler_is_a_cluster_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pipeline.batch.cluster as cluster

    def refused(address: str, timeout: str) -> None:
        raise OSError(f"Timed out trying to connect to {address} after {timeout}")

    monkeypatch.setattr(cluster, "Client", refused)
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text("Sở Nội vụ.\n", encoding="utf-8")
    batch = BatchOptions(dask="tcp://127.0.0.1:9", progress="none")
    with pytest.raises(ClusterError, match=re.escape("cannot reach the Dask scheduler at tcp://127.0.0.1:9")) as info:
        convert_many([tmp_path / "in"], tmp_path / "out", Options(restore="never"), batch)
    assert info.value.exit_code == ExitCode.cluster_error == 9 and "dask scheduler" in info.value.message


@pytest.mark.slow
def test_dask_worker_loss_retries_the_file(tmp_path: Path) -> None:
    from test_batch_faults import _letters, dies_once_on_b

    root = _letters(tmp_path / "in")
    summary = convert_many(
        [root], tmp_path / "out", Options(restore="never"), BatchOptions(jobs=2, dask="local", progress="none"),
        task=dies_once_on_b,
    )  # fmt: skip
    assert (summary.converted, summary.failed) == (5, 0)
    assert (tmp_path / "died-on-b.txt").exists()
