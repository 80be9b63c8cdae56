"""The restore network: a small encoder–decoder (transformers' BART blocks, trained from
scratch) that picks, for every input token, one output from that token's candidate set.

Inputs are tokens, not sub-words: each token is embedded from its characters (a char CNN), so
garbled forms the vocabulary never saw (`ctia`, `S&`, `d6i`) still get a representation.
Outputs are scored only over the token's candidates (the syllables the candidate generator
proposes plus the input itself), so the model can neither invent nor drop a word; the
softmax over the candidates is the token's confidence.

`arch="seq2seq"` decodes left to right, feeding back the embedding of the chosen output;
`arch="encoder"` is the non-autoregressive variant (one pass, each token independently).

This torch model is trained (scripts/train_restore.py), exported to ONNX
(scripts/export_restore_onnx.py) and kept as the reference; restoring runs the export
(pipeline/restore/runtime.py), and `TorchRuntime` runs this model behind the same interface.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from transformers import BartConfig
from transformers.models.bart.modeling_bart import BartDecoder, BartEncoder

from pipeline.restore.modelspec import (
    BOS,
    CHARS,
    CONFIG,
    COPY,
    N_FEATURES,
    PAD,
    UNK,
    VOCAB,
    WEIGHTS,
    ArrayBatch,
    RestoreConfig,
    char_ids,
    load_config_and_vocab,
    model_id,
)

__all__ = [
    "BOS",
    "CHARS",
    "COPY",
    "N_FEATURES",
    "PAD",
    "UNK",
    "Batch",
    "RestoreConfig",
    "RestoreModel",
    "TorchRuntime",
    "char_ids",
    "load_model",
    "model_id",
    "save_model",
]


@dataclass
class Batch:
    """Tensors for B lines of T tokens with K candidates each, S syllables per candidate."""

    chars: torch.Tensor  # [B, T, W] char ids of the input tokens
    mask: torch.Tensor  # [B, T] True for real tokens
    cand_ids: torch.Tensor  # [B, T, K, S] output syllable ids (0 = none)
    cand_copy: torch.Tensor  # [B, T, K] True where the candidate is the input copied as is
    cand_feats: torch.Tensor  # [B, T, K, F] candidate generator scores (channel, prior log-probs, …)
    cand_mask: torch.Tensor  # [B, T, K] True for real candidates
    target: torch.Tensor | None = None  # [B, T] index of the gold candidate, -100 = ignore

    @classmethod
    def from_arrays(cls, arrays: ArrayBatch) -> Batch:
        """The Restorer's numpy batch as tensors (sharing memory, no copy)."""
        target = torch.from_numpy(arrays.target) if arrays.target is not None else None
        parts = (arrays.chars, arrays.mask, arrays.cand_ids, arrays.cand_copy, arrays.cand_feats, arrays.cand_mask)
        return cls(*(torch.from_numpy(a) for a in parts), target=target)


class CharEncoder(nn.Module):
    """Token vector from its characters: embeddings, two convolution widths, max-pool."""

    def __init__(self, config: RestoreConfig) -> None:
        super().__init__()
        self.embed = nn.Embedding(len(CHARS) + 2, config.char_dim, padding_idx=0)
        self.position = nn.Parameter(torch.zeros(config.char_width, config.char_dim))
        self.convs = nn.ModuleList(nn.Conv1d(config.char_dim, config.d_model // 2, k, padding=k // 2) for k in (3, 5))
        self.out = nn.Linear(config.d_model, config.d_model)

    def forward(self, chars: torch.Tensor) -> torch.Tensor:
        b, t, w = chars.shape
        x = (self.embed(chars.view(b * t, w)) + self.position[:w]).transpose(1, 2)
        pad = (chars.view(b * t, w) == 0).unsqueeze(1)
        pooled = [conv(x).masked_fill(pad, -1e4).amax(dim=2) for conv in self.convs]
        return self.out(torch.relu(torch.cat(pooled, dim=1))).view(b, t, -1)


class RestoreModel(nn.Module):
    def __init__(self, config: RestoreConfig) -> None:
        super().__init__()
        self.config = config
        bart = BartConfig(
            vocab_size=4,  # the embedding tables inside BART are unused: we pass inputs_embeds
            d_model=config.d_model,
            encoder_layers=config.encoder_layers,
            decoder_layers=config.decoder_layers,
            encoder_attention_heads=config.heads,
            decoder_attention_heads=config.heads,
            encoder_ffn_dim=config.ffn,
            decoder_ffn_dim=config.ffn,
            max_position_embeddings=config.max_tokens + 2,
            dropout=config.dropout,
            attention_dropout=config.dropout,
            scale_embedding=False,
        )
        self.chars = CharEncoder(config)
        self.encoder = BartEncoder(bart)
        self.decoder = BartDecoder(bart) if config.arch == "seq2seq" else None
        self.syllables = nn.Embedding(config.vocab_size, config.d_model, padding_idx=PAD)
        self.copy_proj = nn.Linear(config.d_model, config.d_model)
        self.features = nn.Linear(N_FEATURES, 1)
        self.query = nn.Linear(config.d_model, config.d_model)
        # Start as the noisy-channel baseline (channel + prior log-probs; features are scaled
        # by 1/10 in Restorer.encode) with the network's own term at zero: training then only
        # has to learn what context adds, instead of first rediscovering the prior.
        with torch.no_grad():
            self.features.weight.copy_(torch.tensor([[10.0, 10.0, 0.0, 0.0]]))
            self.features.bias.zero_()
            self.query.weight.zero_()
            self.query.bias.zero_()

    # --- pieces ---------------------------------------------------------------------------

    def encode(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
        """Contextual token states [B, T, D] and the char vectors of the inputs [B, T, D]."""
        token_vectors = self.chars(batch.chars)
        states = self.encoder(inputs_embeds=token_vectors, attention_mask=batch.mask.long()).last_hidden_state
        return states, token_vectors

    def candidate_vectors(self, batch: Batch, token_vectors: torch.Tensor) -> torch.Tensor:
        """[B, T, K, D]: mean of the candidate's syllable embeddings; the copy candidate adds
        a projection of the input token's own char vector (it has no vocabulary entry)."""
        ids = batch.cand_ids
        emb = self.syllables(ids)  # [B, T, K, S, D]
        count = (ids != PAD).sum(-1, keepdim=True).clamp(min=1)
        vectors = emb.sum(-2) / count
        copy = self.copy_proj(token_vectors).unsqueeze(2)  # [B, T, 1, D]
        return vectors + batch.cand_copy.unsqueeze(-1) * copy

    def score(self, states: torch.Tensor, cand_vectors: torch.Tensor, batch: Batch) -> torch.Tensor:
        """Logits [B, T, K] over each token's candidates (padding candidates at -inf)."""
        logits = torch.einsum("btd,btkd->btk", self.query(states), cand_vectors) / self.config.d_model**0.5
        logits = logits + self.features(batch.cand_feats).squeeze(-1)
        return logits.masked_fill(~batch.cand_mask, -1e4)

    def _decode_states(self, enc: torch.Tensor, prev: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        assert self.decoder is not None
        return self.decoder(
            inputs_embeds=prev, encoder_hidden_states=enc, encoder_attention_mask=mask.long()
        ).last_hidden_state

    def _shift(self, chosen: torch.Tensor) -> torch.Tensor:
        """Decoder inputs: BOS, then the vectors of the outputs chosen at 0..T-2."""
        bos = self.syllables.weight[BOS].expand(chosen.shape[0], 1, -1)
        return torch.cat([bos, chosen[:, :-1]], dim=1)

    # --- training and inference -------------------------------------------------------------

    def forward(self, batch: Batch) -> torch.Tensor:
        """Logits [B, T, K] with teacher forcing (the gold outputs fed back)."""
        states, token_vectors = self.encode(batch)
        cands = self.candidate_vectors(batch, token_vectors)
        if self.decoder is not None:
            assert batch.target is not None
            gold = batch.target.clamp(min=0)  # ignored positions feed back candidate 0 (the copy)
            chosen = cands.gather(2, gold[..., None, None].expand(-1, -1, 1, cands.shape[-1])).squeeze(2)
            states = self._decode_states(states, self._shift(chosen), batch.mask)
        return self.score(states, cands, batch)

    def loss(self, batch: Batch) -> torch.Tensor:
        assert batch.target is not None
        logits = self.forward(batch)
        return nn.functional.cross_entropy(logits.flatten(0, 1), batch.target.flatten(), ignore_index=-100)

    @torch.no_grad()
    def predict(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
        """Chosen candidate index [B, T] and its probability [B, T] (greedy for seq2seq)."""
        best = self.candidate_probs(batch).max(-1)
        return best.indices, best.values

    @torch.no_grad()
    def candidate_probs(self, batch: Batch) -> torch.Tensor:
        """[B, T, K] probability of every candidate; for seq2seq, given the greedy choices
        before each token (what a language model may rescore)."""
        states, token_vectors = self.encode(batch)
        cands = self.candidate_vectors(batch, token_vectors)
        if self.decoder is None:
            return self.score(states, cands, batch).softmax(-1)
        b, t, k, d = cands.shape
        inputs = self.syllables.weight[BOS].expand(b, 1, d)
        all_probs = torch.zeros(b, t, k)
        past = None
        for i in range(t):
            out = self.decoder(
                inputs_embeds=inputs,
                encoder_hidden_states=states,
                encoder_attention_mask=batch.mask.long(),
                past_key_values=past,
                use_cache=True,
            )
            past = out.past_key_values
            sub = Batch(
                chars=batch.chars[:, i : i + 1],
                mask=batch.mask[:, i : i + 1],
                cand_ids=batch.cand_ids[:, i : i + 1],
                cand_copy=batch.cand_copy[:, i : i + 1],
                cand_feats=batch.cand_feats[:, i : i + 1],
                cand_mask=batch.cand_mask[:, i : i + 1],
            )
            all_probs[:, i] = self.score(out.last_hidden_state, cands[:, i : i + 1], sub).softmax(-1)[:, 0]
            inputs = cands[torch.arange(b), i, all_probs[:, i].argmax(-1)].unsqueeze(1)
        return all_probs


# --- the torch runtime: the Restorer's numpy batches in, numpy probabilities out -----------


class TorchRuntime:
    """The torch model behind the Restorer's runtime interface (the ONNX runtime's reference:
    pipeline/restore/runtime.py is checked against it)."""

    def __init__(self, model: RestoreModel) -> None:
        self.model = model
        self.config = model.config

    @classmethod
    def load(cls, directory: Path, threads: int | None = None) -> TorchRuntime:
        if threads is not None:
            torch.set_num_threads(threads)  # process-wide: torch has no per-model thread pool
        model, _ = load_model(directory)
        return cls(model)

    def candidate_probs(self, batch: ArrayBatch) -> np.ndarray:
        return self.model.candidate_probs(Batch.from_arrays(batch)).numpy()


# --- persistence: safetensors only, never pickle ---------------------------------------------


def save_model(model: RestoreModel, vocab: list[str], directory: Path, metadata: dict[str, str] | None = None) -> None:
    """Weights (safetensors), config (JSON) and output vocabulary (one syllable per line)."""
    from safetensors.torch import save_model as save_tensors

    from pipeline.files import atomic_write_text

    directory.mkdir(parents=True, exist_ok=True)
    tmp = directory / f".{WEIGHTS}.tmp"
    save_tensors(model, str(tmp), metadata=metadata or {})
    tmp.chmod(0o644)
    tmp.replace(directory / WEIGHTS)
    model.config.save(directory / CONFIG)
    atomic_write_text(directory / VOCAB, "\n".join(vocab) + "\n")


def load_model(directory: Path) -> tuple[RestoreModel, list[str]]:
    """The model in eval mode and its vocabulary; ModelError if anything is missing or broken."""
    from safetensors import SafetensorError
    from safetensors.torch import load_model as load_tensors

    from pipeline.errors import ModelError

    config, vocab = load_config_and_vocab(directory)
    try:
        model = RestoreModel(config)
        load_tensors(model, str(directory / WEIGHTS))
    except FileNotFoundError as exc:
        raise ModelError(f"restore model file missing ({exc.filename})", path=directory) from exc
    except (SafetensorError, RuntimeError, ValueError, TypeError, KeyError) as exc:
        raise ModelError(f"restore model cannot be loaded ({exc})", path=directory) from exc
    return model.eval(), vocab
