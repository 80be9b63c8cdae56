"""Restoring diacritics to text OCR'd with an English model: data, noise model, restorer."""
