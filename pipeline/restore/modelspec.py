"""The restore network's contract, importable without torch: its config, how a token becomes
character ids, the numpy batch both runtimes take, and the files of a model folder.

Two runtimes compute the same candidate probabilities from an `ArrayBatch`: ONNX Runtime
(pipeline/restore/runtime.py, what restoring uses) and the torch model it is exported from
(pipeline/restore/model.py, for training and for checking the export). The safetensors
weights are the source of truth; the ONNX files record the sha256 of the weights they were
exported from (scripts/export_restore_onnx.py).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal, Protocol

import numpy as np

__all__ = [
    "CHARS",
    "CHARS_ONNX",
    "CONFIG",
    "DECODER_ONNX",
    "ENCODER_ONNX",
    "INT8_ONNX",
    "N_FEATURES",
    "VOCAB",
    "WEIGHTS",
    "WEIGHTS_SHA256_KEY",
    "ArrayBatch",
    "CandidateScorer",
    "RestoreConfig",
    "char_ids",
    "load_config_and_vocab",
    "model_id",
    "weights_sha256",
]

# Character inventory of the char-aware embeddings: Vietnamese letters, ASCII and the symbols
# English-model OCR puts in their place. Index 0 = padding, 1 = unknown.
CHARS = (
    "aàáảãạăằắẳẵặâầấẩẫậbcdđeèéẻẽẹêềếểễệfghiìíỉĩịjklmnoòóỏõọôồốổỗộơờớởỡợpqrstuùúủũụưừứửữựvwxyỳýỷỹỵz"
    "0123456789&@$%#*+=/\\-_.,:;!?'\"`~^|()[]{}<>«»“”‘’–—…°§©®"
)
_CHAR_INDEX = {c: i + 2 for i, c in enumerate(CHARS)}

PAD, COPY, BOS, UNK = 0, 1, 2, 3  # special ids of the output vocabulary
N_FEATURES = 4  # channel log-prob, prior log-prob, is-copy, is-merge (see Restorer.encode)

# Files of a model folder (models/restore/).
WEIGHTS, CONFIG, VOCAB = "model.safetensors", "config.json", "vocab.txt"
# The ONNX export (scripts/export_restore_onnx.py); the decoder step only for seq2seq.
CHARS_ONNX, ENCODER_ONNX, DECODER_ONNX = "chars.onnx", "encoder.onnx", "decoder-step.onnx"
# The same two graphs with their feed-forward matmuls' weights in int8 (dynamic quantisation,
# export_restore_onnx.py): what restoring runs when they are there.
INT8_ONNX = {ENCODER_ONNX: "encoder-int8.onnx", DECODER_ONNX: "decoder-step-int8.onnx"}
WEIGHTS_SHA256_KEY = "weights_sha256"  # ONNX metadata: the safetensors file the graph was exported from


def char_ids(token: str, width: int) -> list[int]:
    """Lower-cased characters of a token as ids, padded/truncated to `width`."""
    ids = [_CHAR_INDEX.get(c, 1) for c in token.lower()[:width]]
    return ids + [0] * (width - len(ids))


@dataclass
class RestoreConfig:
    arch: Literal["seq2seq", "encoder"] = "seq2seq"
    vocab_size: int = 8000  # output syllables; ids 0..3 are special (PAD, COPY, BOS, UNK)
    d_model: int = 256
    encoder_layers: int = 3
    decoder_layers: int = 1  # the decoder only has to see the outputs chosen so far
    heads: int = 4
    ffn: int = 1024
    char_dim: int = 64
    char_width: int = 16  # characters kept per token
    max_tokens: int = 128  # tokens per line
    dropout: float = 0.1

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=2) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> RestoreConfig:
        return cls(**json.loads(path.read_text(encoding="utf-8")))


@dataclass
class ArrayBatch:
    """B lines of T tokens with K candidates each, S syllables per candidate, as numpy arrays."""

    chars: np.ndarray  # [B, T, W] int64 char ids of the input tokens
    mask: np.ndarray  # [B, T] bool, True for real tokens
    cand_ids: np.ndarray  # [B, T, K, S] int64 output syllable ids (0 = none)
    cand_copy: np.ndarray  # [B, T, K] bool, True where the candidate is the input copied as is
    cand_feats: np.ndarray  # [B, T, K, F] float32 candidate generator scores (channel, prior log-probs, …)
    cand_mask: np.ndarray  # [B, T, K] bool, True for real candidates
    target: np.ndarray | None = None  # [B, T] int64 index of the gold candidate, -100 = ignore (training)


class CandidateScorer(Protocol):
    """What the Restorer needs of a runtime: the config and [B, T, K] candidate probabilities
    (seq2seq: each token's given the greedy choices before it)."""

    config: RestoreConfig

    def candidate_probs(self, batch: ArrayBatch) -> np.ndarray: ...


def weights_sha256(directory: Path) -> str:
    """Hex sha256 of the model's safetensors file (provenance and the ONNX export's check)."""
    return hashlib.sha256((directory / WEIGHTS).read_bytes()).hexdigest()


def model_id(directory: Path, digest: str | None = None) -> str:
    """`restore-<arch>@<first 12 hex of the weights' sha256>`: what provenance records."""
    digest = digest or weights_sha256(directory)
    return f"restore-{RestoreConfig.load(directory / CONFIG).arch}@{digest[:12]}"


def load_config_and_vocab(directory: Path) -> tuple[RestoreConfig, list[str]]:
    """The config and output vocabulary of a model folder; ModelError if missing or inconsistent."""
    from pipeline.errors import ModelError

    try:
        config = RestoreConfig.load(directory / CONFIG)
        vocab = (directory / VOCAB).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError as exc:
        raise ModelError(f"restore model file missing ({exc.filename})", path=directory) from exc
    except (ValueError, TypeError) as exc:
        raise ModelError(f"restore model config cannot be read ({exc})", path=directory) from exc
    if len(vocab) != config.vocab_size:
        raise ModelError(f"vocabulary has {len(vocab)} entries, the config says {config.vocab_size}", path=directory)
    return config, vocab
