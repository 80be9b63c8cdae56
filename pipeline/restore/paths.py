"""Where the restore model lives, importable without torch (the batch parent never needs it)."""

from __future__ import annotations

from pathlib import Path

__all__ = ["MODEL_DIR", "has_model"]

MODEL_DIR = Path(__file__).resolve().parents[2] / "models" / "restore"


def has_model(directory: Path = MODEL_DIR) -> bool:
    """True when the restore model's weights are there (a checkout without them still converts, unrestored)."""
    return (directory / "model.safetensors").exists()
