"""The restore network: a small encoder–decoder (transformers' BART blocks, trained from
scratch) that picks, for every input token, one output from that token's candidate set.

Inputs are tokens, not sub-words: each token is embedded from its characters (a char CNN), so
garbled forms the vocabulary never saw (`ctia`, `S&`, `d6i`) still get a representation.
Outputs are scored only over the token's candidates (the syllables the candidate generator
proposes plus the input itself), so the model can neither invent nor drop a word; the
softmax over the candidates is the token's confidence.

`arch="seq2seq"` decodes left to right, feeding back the embedding of the chosen output;
`arch="encoder"` is the non-autoregressive variant (one pass, each token independently).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import torch
from torch import nn
from transformers import BartConfig
from transformers.models.bart.modeling_bart import BartDecoder, BartEncoder

__all__ = ["CHARS", "Batch", "RestoreConfig", "RestoreModel", "char_ids", "load_model", "model_id", "save_model"]

# Character inventory of the char-aware embeddings: Vietnamese letters, ASCII and the symbols
# English-model OCR puts in their place. Index 0 = padding, 1 = unknown.
CHARS = (
    "aàáảãạăằắẳẵặâầấẩẫậbcdđeèéẻẽẹêềếểễệfghiìíỉĩịjklmnoòóỏõọôồốổỗộơờớởỡợpqrstuùúủũụưừứửữựvwxyỳýỷỹỵz"
    "0123456789&@$%#*+=/\\-_.,:;!?'\"`~^|()[]{}<>«»“”‘’–—…°§©®"
)
_CHAR_INDEX = {c: i + 2 for i, c in enumerate(CHARS)}


def char_ids(token: str, width: int) -> list[int]:
    """Lower-cased characters of a token as ids, padded/truncated to `width`."""
    ids = [_CHAR_INDEX.get(c, 1) for c in token.lower()[:width]]
    return ids + [0] * (width - len(ids))


@dataclass
class RestoreConfig:
    arch: Literal["seq2seq", "encoder"] = "seq2seq"
    vocab_size: int = 8000  # output syllables; ids 0..3 are special (see RestoreModel)
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
class Batch:
    """Tensors for B lines of T tokens with K candidates each, S syllables per candidate."""

    chars: torch.Tensor  # [B, T, W] char ids of the input tokens
    mask: torch.Tensor  # [B, T] True for real tokens
    cand_ids: torch.Tensor  # [B, T, K, S] output syllable ids (0 = none)
    cand_copy: torch.Tensor  # [B, T, K] True where the candidate is the input copied as is
    cand_feats: torch.Tensor  # [B, T, K, F] candidate generator scores (channel, prior log-probs, …)
    cand_mask: torch.Tensor  # [B, T, K] True for real candidates
    target: torch.Tensor | None = None  # [B, T] index of the gold candidate, -100 = ignore


PAD, COPY, BOS, UNK = 0, 1, 2, 3
N_FEATURES = 4  # channel log-prob, prior log-prob, is-copy, is-merge (see Restorer.encode)


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


# --- persistence: safetensors only, never pickle ---------------------------------------------

WEIGHTS, CONFIG, VOCAB = "model.safetensors", "config.json", "vocab.txt"


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


def model_id(directory: Path) -> str:
    """`restore-<arch>@<first 12 hex of the weights' sha256>`: what provenance records."""
    import hashlib

    digest = hashlib.sha256((directory / WEIGHTS).read_bytes()).hexdigest()[:12]
    return f"restore-{RestoreConfig.load(directory / CONFIG).arch}@{digest}"


def load_model(directory: Path) -> tuple[RestoreModel, list[str]]:
    """The model in eval mode and its vocabulary; ModelError if anything is missing or broken."""
    from safetensors import SafetensorError
    from safetensors.torch import load_model as load_tensors

    from pipeline.errors import ModelError

    try:
        config = RestoreConfig.load(directory / CONFIG)
        vocab = (directory / VOCAB).read_text(encoding="utf-8").splitlines()
        model = RestoreModel(config)
        load_tensors(model, str(directory / WEIGHTS))
    except FileNotFoundError as exc:
        raise ModelError(f"restore model file missing ({exc.filename})", path=directory) from exc
    except (SafetensorError, RuntimeError, ValueError, TypeError, KeyError) as exc:
        raise ModelError(f"restore model cannot be loaded ({exc})", path=directory) from exc
    if len(vocab) != config.vocab_size:
        raise ModelError(f"vocabulary has {len(vocab)} entries, the config says {config.vocab_size}", path=directory)
    return model.eval(), vocab
