"""The restore network on ONNX Runtime: what restoring runs, without torch or transformers.

scripts/export_restore_onnx.py exports three graphs from the torch model's safetensors weights:
`chars.onnx`, the char CNN, runs on tokens this process has not embedded yet (their vectors are
cached: the same words recur on every page); `encoder.onnx` runs once per batch (the BART
encoder, candidate feature scores and, for seq2seq, the decoder's cross-attention keys and
values, which do not change from step to step); `decoder-step.onnx` runs one step of the
decoder with its self-attention key/value cache as explicit inputs and outputs, scores that
token's candidates and returns the vector of the likeliest, the next step's input. The greedy
loop is here, in numpy, as in RestoreModel.candidate_probs; tests/test_restore_runtime.py checks
that both runtimes agree.

Each graph records the sha256 of the weights it was exported from: a model retrained without
being exported again is refused rather than run stale.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from pipeline.errors import ModelError
from pipeline.restore.modelspec import (
    CHARS_ONNX,
    CONFIG,
    DECODER_ONNX,
    ENCODER_ONNX,
    INT8_ONNX,
    WEIGHTS_SHA256_KEY,
    ArrayBatch,
    RestoreConfig,
    weights_sha256,
)

if TYPE_CHECKING:
    import onnxruntime

__all__ = ["EXPORT_ADVICE", "OnnxRuntime", "session_options"]

EXPORT_ADVICE = "export it again: .venv/bin/python scripts/export_restore_onnx.py"
VECTOR_CACHE_LIMIT = 20_000  # token vectors kept (1 KB each); the cache is emptied when full


def session_options(threads: int | None) -> onnxruntime.SessionOptions:
    """Operators run on `threads` threads (None: onnxruntime's default, one per core). One
    thread (a batch worker) runs them in the calling thread: no pool, nothing spinning on the
    core tesseract needs between files."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.inter_op_num_threads = 1  # the graphs are chains: nothing to run side by side
    if threads is not None:
        options.intra_op_num_threads = threads
    options.log_severity_level = 3  # errors only: its warnings would reach the user's terminal
    return options


def _session(path: Path, options: onnxruntime.SessionOptions, digest: str) -> onnxruntime.InferenceSession:
    import onnxruntime

    if not path.exists():
        raise ModelError(f"restore model's ONNX graph missing ({path.name}); {EXPORT_ADVICE}", path=path.parent)
    try:
        session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own unexported exception classes
        raise ModelError(f"restore model's ONNX graph cannot be loaded ({exc})", path=path) from exc
    recorded = session.get_modelmeta().custom_metadata_map.get(WEIGHTS_SHA256_KEY)
    if recorded != digest:
        raise ModelError(
            f"{path.name} was exported from other weights than model.safetensors "
            f"({(recorded or 'none')[:12]} ≠ {digest[:12]}); {EXPORT_ADVICE}",
            path=path.parent,
        )
    return session


class OnnxRuntime:
    """Candidate probabilities of an ArrayBatch from the exported graphs."""

    def __init__(
        self,
        config: RestoreConfig,
        chars: onnxruntime.InferenceSession,
        encoder: onnxruntime.InferenceSession,
        decoder_step: onnxruntime.InferenceSession | None,
    ) -> None:
        self.config = config
        self.chars = chars
        self.encoder = encoder
        self.decoder_step = decoder_step
        # The ArrayBatch fields the encoder graph reads besides the token vectors (seq2seq's
        # leaves the candidates to the steps).
        self._encoder_inputs = [i.name for i in encoder.get_inputs() if i.name != "token_vectors"]
        self._vectors: dict[bytes, np.ndarray] = {}  # char ids of a token → its vector

    @classmethod
    def load(
        cls, directory: Path, threads: int | None = None, digest: str | None = None, int8: bool = True
    ) -> OnnxRuntime:
        """The graphs of a model folder; `digest` is the weights' sha256 when the caller has it.
        `int8`: the int8 encoder and decoder step when exported (INT8_ONNX), else the float ones."""
        config = RestoreConfig.load(directory / CONFIG)
        digest = digest or weights_sha256(directory)
        options = session_options(threads)

        def graph(name: str) -> onnxruntime.InferenceSession:
            quantised = directory / INT8_ONNX[name]
            return _session(quantised if int8 and quantised.exists() else directory / name, options, digest)

        chars = _session(directory / CHARS_ONNX, options, digest)
        encoder = graph(ENCODER_ONNX)
        decoder = graph(DECODER_ONNX) if config.arch == "seq2seq" else None
        return cls(config, chars, encoder, decoder)

    def token_vectors(self, chars: np.ndarray) -> np.ndarray:
        """[B, T, D] char-CNN vectors of [B, T, W] char ids, the new tokens' computed in one run."""
        b, t, w = chars.shape
        rows = chars.reshape(b * t, w)
        keys = [row.tobytes() for row in rows]
        new = {key: n for n, key in enumerate(keys) if key not in self._vectors}  # one row of each
        if new:
            if len(self._vectors) + len(new) > VECTOR_CACHE_LIMIT:
                self._vectors.clear()
                new = {key: n for n, key in enumerate(keys)}
            (computed,) = self.chars.run(["token_vectors"], {"chars": rows[list(new.values())]})
            self._vectors.update(zip(new, computed, strict=True))
        return np.stack([self._vectors[key] for key in keys]).reshape(b, t, -1)

    def candidate_probs(self, batch: ArrayBatch) -> np.ndarray:
        """[B, T, K] probability of every candidate; for seq2seq, given the greedy choices
        before each token."""
        feeds = {name: getattr(batch, name) for name in self._encoder_inputs}
        feeds["token_vectors"] = self.token_vectors(batch.chars)
        if self.decoder_step is None:
            return self.encoder.run(["probs"], feeds)[0]
        previous, copy_vectors, cand_scores, cross_keys, cross_values, cross_bias = self.encoder.run(
            ["first_input", "copy_vectors", "cand_scores", "cross_keys", "cross_values", "cross_bias"], feeds
        )
        # Per-token inputs time-major ([T, B, …], as the encoder graph gives its own): every step
        # reads contiguous slices. Padding candidates score -1e4, so the step needs no mask.
        cand_ids = np.ascontiguousarray(batch.cand_ids.transpose(1, 0, 2, 3))
        cand_copy = np.ascontiguousarray(batch.cand_copy.transpose(1, 0, 2))
        b, t, k = batch.cand_mask.shape
        layers, _, heads, _, head_dim = cross_keys.shape
        past_keys = past_values = np.zeros((layers, b, heads, 0, head_dim), dtype=np.float32)
        probs = np.empty((b, t, k), dtype=np.float32)
        for i in range(t):
            # The step also picks the greedy choice and returns its vector: the next step's input.
            probs[:, i], previous, past_keys, past_values = self.decoder_step.run(
                ["probs", "chosen", "present_keys", "present_values"],
                {
                    "previous": previous,
                    "past_keys": past_keys,
                    "past_values": past_values,
                    "cross_keys": cross_keys,
                    "cross_values": cross_values,
                    "cross_bias": cross_bias,
                    "cand_ids": cand_ids[i],
                    "cand_copy": cand_copy[i],
                    "copy_vector": copy_vectors[i],
                    "cand_scores": cand_scores[i],
                },
            )
        return probs
