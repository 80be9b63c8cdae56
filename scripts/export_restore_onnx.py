"""Export the restore model's safetensors weights to the ONNX graphs restoring runs.

    .venv/bin/python scripts/export_restore_onnx.py                  # models/restore
    .venv/bin/python scripts/export_restore_onnx.py --model data/restore/run-seq2seq/best
    .venv/bin/python scripts/export_restore_onnx.py --no-int8        # the float graphs only

Writes `chars.onnx`, `encoder.onnx` and, for seq2seq, `decoder-step.onnx` beside the weights
(see pipeline/restore/runtime.py for what each computes), and (unless --no-int8)
`encoder-int8.onnx` and `decoder-step-int8.onnx`, the same graphs with the weights of their feed-forward matmuls
(fc1, fc2: most of the arithmetic) in int8 by onnxruntime's dynamic quantisation, which the
runtime then prefers. Quantising the attention and candidate matmuls too was twice as fast again
but cost accuracy (held-out plans 97.86 → 97.82 %, stripped corpus text 98.17 → 98.06 %); the
feed-forward ones alone changed no figure of benchmarks/restore.md's plan sections.

The BART blocks are written out here as plain torch from the trained modules' own weights, so
the graphs hold no transformers code and the decoder step takes its key/value cache as inputs;
each is checked against transformers before export, and the ONNX runtime against the torch
runtime after. Each graph records the
weights' sha256 (ONNX metadata `weights_sha256`): the safetensors file stays the source of
truth, and the ONNX runtime refuses graphs exported from other weights. Needs the `build`
extra (onnx).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from pathlib import Path

import numpy as np
import torch
from torch import nn

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipeline.restore.candidates import CandidateGenerator  # noqa: E402
from pipeline.restore.model import BOS, Batch, RestoreModel, TorchRuntime, load_model  # noqa: E402
from pipeline.restore.modelspec import (  # noqa: E402
    CHARS_ONNX,
    DECODER_ONNX,
    ENCODER_ONNX,
    INT8_ONNX,
    WEIGHTS_SHA256_KEY,
    weights_sha256,
)
from pipeline.restore.noise import NoiseModel  # noqa: E402
from pipeline.restore.restorer import Restorer  # noqa: E402
from pipeline.restore.runtime import OnnxRuntime  # noqa: E402

OPSET = 18
TOLERANCE = 1e-4  # max abs difference of candidate probabilities, ONNX against torch
INT8_AGREEMENT = 0.99  # least share of tokens whose likeliest candidate the int8 graphs keep
FEED_FORWARD = re.compile(r"/fc[12](_\d+)?/MatMul")  # the BART layers' fc1/fc2 matmuls, as exported


def _heads(x: torch.Tensor, heads: int) -> torch.Tensor:
    """[B, T, D] → [B, H, T, D/H]."""
    b, t, d = x.shape
    return x.view(b, t, heads, d // heads).transpose(1, 2)


def _attend(attention: nn.Module, query: torch.Tensor, keys: torch.Tensor, values: torch.Tensor,
            bias: torch.Tensor | None) -> torch.Tensor:  # fmt: skip
    """BartAttention's eager arithmetic, in its order: softmax(q·kᵀ × scale + bias)·v, out_proj."""
    weights = torch.matmul(query, keys.transpose(2, 3)) * attention.scaling
    if bias is not None:
        weights = weights + bias
    out = torch.matmul(weights.softmax(-1), values).transpose(1, 2)
    return attention.out_proj(out.reshape(out.shape[0], out.shape[1], -1))


class CharVectors(nn.Module):
    """The char CNN alone, on N tokens: [N, W] char ids → [N, D] (the runtime caches the
    vectors by token, so a batch computes only the tokens it has not seen yet)."""

    def __init__(self, model: RestoreModel) -> None:
        super().__init__()
        self.model = model

    def forward(self, chars: torch.Tensor) -> torch.Tensor:
        return self.model.chars(chars.unsqueeze(0)).squeeze(0)


class EncoderSide(nn.Module):
    """Everything computed once per batch from the token vectors. seq2seq: the decoder's
    cross-attention keys/values and, time-major ([T, B, …]) so that each step reads a
    contiguous slice, every token's copy vector and its candidates' feature scores; encoder:
    the probabilities themselves."""

    def __init__(self, model: RestoreModel) -> None:
        super().__init__()
        self.model = model
        self.heads = model.config.heads

    def _encode(self, token_vectors: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        encoder = self.model.encoder
        t = token_vectors.shape[1]
        positions = encoder.embed_positions.weight[2 : t + 2]  # BART's learned positions start at offset 2
        h = encoder.layernorm_embedding(token_vectors + positions)
        for layer in encoder.layers:
            attn = layer.self_attn
            q, k, v = (_heads(proj(h), self.heads) for proj in (attn.q_proj, attn.k_proj, attn.v_proj))
            h = layer.self_attn_layer_norm(h + _attend(attn, q, k, v, bias))
            h = layer.final_layer_norm(h + layer.fc2(layer.activation_fn(layer.fc1(h))))
        return h

    def forward(self, token_vectors: torch.Tensor, mask: torch.Tensor, cand_ids: torch.Tensor,
                cand_copy: torch.Tensor, cand_feats: torch.Tensor, cand_mask: torch.Tensor
                ) -> tuple[torch.Tensor, ...]:  # fmt: skip
        m = self.model
        # Padding keys get the float minimum added, as transformers' attention masks do.
        bias = (~mask)[:, None, None, :].float() * torch.finfo(torch.float32).min
        states = self._encode(token_vectors, bias)
        if m.decoder is None:
            batch = Batch(torch.zeros(0), mask, cand_ids, cand_copy, cand_feats, cand_mask)
            return (m.score(states, m.candidate_vectors(batch, token_vectors), batch).softmax(-1),)
        # Padding candidates at -1e4 here, as RestoreModel.score puts them: the step only adds.
        cand_scores = m.features(cand_feats).squeeze(-1).masked_fill(~cand_mask, -1e4)
        layers = m.decoder.layers
        cross_keys = torch.stack([_heads(layer.encoder_attn.k_proj(states), self.heads) for layer in layers])
        cross_values = torch.stack([_heads(layer.encoder_attn.v_proj(states), self.heads) for layer in layers])
        first = m.syllables.weight[BOS].expand(mask.shape[0], 1, -1)
        copy_vectors = m.copy_proj(token_vectors).transpose(0, 1)
        return first, copy_vectors, cand_scores.transpose(0, 1), cross_keys, cross_values, bias


class DecoderStep(nn.Module):
    """One step of the BART decoder for one new position, the self-attention cache explicit,
    then the step's candidate probabilities (RestoreModel.score and softmax) and the vector of
    the likeliest candidate, the next step's input. Candidate vectors are built here, one
    step's [B, K, D] at a time: for a whole batch at once they are tens of MB of memory
    traffic, which made the encoder side three times slower."""

    def __init__(self, model: RestoreModel) -> None:
        super().__init__()
        assert model.decoder is not None
        self.model = model
        self.heads = model.config.heads

    def candidate_vectors(self, cand_ids: torch.Tensor, cand_copy: torch.Tensor,
                          copy_vector: torch.Tensor) -> torch.Tensor:  # fmt: skip
        """RestoreModel.candidate_vectors for one step: [B, K, D]."""
        syllables = self.model.syllables
        total = syllables(cand_ids[..., 0])
        for s in range(1, cand_ids.shape[-1]):  # a sum of two, as exact as torch's sum over the axis
            total = total + syllables(cand_ids[..., s])
        count = (cand_ids != 0).sum(-1, keepdim=True).clamp(min=1)
        return total / count + cand_copy.unsqueeze(-1) * copy_vector.unsqueeze(1)

    def forward(self, previous: torch.Tensor, past_keys: torch.Tensor, past_values: torch.Tensor,
                cross_keys: torch.Tensor, cross_values: torch.Tensor, cross_bias: torch.Tensor,
                cand_ids: torch.Tensor, cand_copy: torch.Tensor, copy_vector: torch.Tensor,
                cand_scores: torch.Tensor) -> tuple[torch.Tensor, ...]:  # fmt: skip
        m, decoder = self.model, self.model.decoder
        assert decoder is not None
        step = past_keys.shape[3]  # outputs decoded so far = this step's position
        h = decoder.layernorm_embedding(previous + decoder.embed_positions.weight[step + 2])
        keys, values = [], []
        for n, layer in enumerate(decoder.layers):
            attn = layer.self_attn
            q, k, v = (_heads(proj(h), self.heads) for proj in (attn.q_proj, attn.k_proj, attn.v_proj))
            keys.append(torch.cat([past_keys[n], k], dim=2))
            values.append(torch.cat([past_values[n], v], dim=2))
            h = layer.self_attn_layer_norm(h + _attend(attn, q, keys[-1], values[-1], None))  # all past visible
            cross = layer.encoder_attn
            q = _heads(cross.q_proj(h), self.heads)
            h = layer.encoder_attn_layer_norm(h + _attend(cross, q, cross_keys[n], cross_values[n], cross_bias))
            h = layer.final_layer_norm(h + layer.fc2(layer.activation_fn(layer.fc1(h))))
        vectors = self.candidate_vectors(cand_ids, cand_copy, copy_vector)
        # A batched matmul, not einsum: onnxruntime's Einsum took an eighth of the step.
        logits = torch.matmul(vectors, m.query(h).transpose(1, 2)).squeeze(-1) / m.config.d_model**0.5
        probs = (logits + cand_scores).softmax(-1)  # padding candidates: -1e4 + 0 (their vectors are zero)
        chosen = vectors[torch.arange(vectors.shape[0]), probs.argmax(-1)].unsqueeze(1)
        return probs, chosen, torch.stack(keys), torch.stack(values)


def check_lines() -> list[list[str]]:
    """The project's own sample plan, garbled by the learned noise model: tokens to check on."""
    text = (REPO / "samples" / "source" / "ke-hoach-mau.txt").read_text(encoding="utf-8")
    noise = NoiseModel.load(REPO / "corpora" / "restore_noise.json")
    rng = random.Random(13)
    lines = [x for x in text.splitlines() if len(x.split()) >= 3]
    return [noise.garble(line, rng, severity=noise.sample_severity(rng)).split() for line in lines]


def time_major(batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
    """cand_ids [T, B, K, S] and cand_copy [T, B, K]: what the decoder steps read, contiguous per step."""
    return batch.cand_ids.transpose(0, 1).contiguous(), batch.cand_copy.transpose(0, 1).contiguous()


def torch_modules_probs(model: RestoreModel, batch: Batch) -> torch.Tensor:
    """RestoreModel.candidate_probs computed with the export modules (no transformers)."""
    with torch.no_grad():
        b, t, w = batch.chars.shape
        token_vectors = CharVectors(model)(batch.chars.view(b * t, w)).view(b, t, -1)
        outputs = EncoderSide(model)(token_vectors, batch.mask, batch.cand_ids, batch.cand_copy,
                                     batch.cand_feats, batch.cand_mask)  # fmt: skip
        if model.decoder is None:
            return outputs[0]
        previous, copy_vectors, scores, cross_keys, cross_values, cross_bias = outputs
        cand_ids, cand_copy = time_major(batch)
        layers, _, heads, _, head_dim = cross_keys.shape
        past_keys = past_values = torch.zeros(layers, b, heads, 0, head_dim)
        probs = []
        for i in range(t):
            step, previous, past_keys, past_values = DecoderStep(model)(
                previous, past_keys, past_values, cross_keys, cross_values, cross_bias, cand_ids[i], cand_copy[i],
                copy_vectors[i], scores[i],
            )  # fmt: skip
            probs.append(step)
        return torch.stack(probs, dim=1)


def export(module: nn.Module, example: tuple[torch.Tensor, ...], names: list[str], outputs: list[str],
           dynamic: dict[str, dict[int, str]], path: Path, metadata: dict[str, str]) -> None:  # fmt: skip
    import onnx

    tmp = path.with_name(f".{path.name}.tmp")
    # The TorchScript exporter: torch.export's (dynamo=True, torch 2.13) gave a decoder step with
    # wrong probabilities, caught by the check in export_onnx().
    with torch.no_grad():
        torch.onnx.export(module, example, str(tmp), input_names=names, output_names=outputs, dynamic_axes=dynamic,
                          opset_version=OPSET, dynamo=False, do_constant_folding=True)  # fmt: skip
    graph = onnx.load(str(tmp))
    for key, value in metadata.items():
        graph.metadata_props.add(key=key, value=value)
    onnx.checker.check_model(graph)
    onnx.save(graph, str(tmp))
    tmp.chmod(0o644)
    tmp.replace(path)


def _export_graphs(model: RestoreModel, batch: Batch, directory: Path, metadata: dict[str, str]) -> None:
    """The graphs, traced on `batch`, every size that varies declared dynamic."""
    b, t, w = batch.chars.shape
    chars = batch.chars.view(b * t, w)
    export(CharVectors(model), (chars,), ["chars"], ["token_vectors"],
           {"chars": {0: "tokens"}, "token_vectors": {0: "tokens"}}, directory / CHARS_ONNX, metadata)  # fmt: skip
    with torch.no_grad():
        token_vectors = CharVectors(model)(chars).view(b, t, -1)
    inputs = ["token_vectors", "mask", "cand_ids", "cand_copy", "cand_feats", "cand_mask"]
    btk = {0: "batch", 1: "tokens", 2: "candidates"}
    dynamic = {"token_vectors": {0: "batch", 1: "tokens"}, "mask": {0: "batch", 1: "tokens"}}
    dynamic |= dict.fromkeys(inputs[2:], btk)
    example = (token_vectors, batch.mask, batch.cand_ids, batch.cand_copy, batch.cand_feats, batch.cand_mask)
    if model.decoder is None:
        export(EncoderSide(model), example, inputs, ["probs"], dynamic | {"probs": btk},
               directory / ENCODER_ONNX, metadata)  # fmt: skip
        (directory / DECODER_ONNX).unlink(missing_ok=True)  # a seq2seq export's, stale
        return
    outputs = ["first_input", "copy_vectors", "cand_scores", "cross_keys", "cross_values", "cross_bias"]
    tb, cache, bias = {0: "tokens", 1: "batch"}, {1: "batch", 3: "tokens"}, {0: "batch", 3: "tokens"}
    dynamic |= {"first_input": {0: "batch"}, "copy_vectors": tb, "cand_scores": tb | {2: "candidates"},
                "cross_keys": cache, "cross_values": cache, "cross_bias": bias}  # fmt: skip
    export(EncoderSide(model), example, inputs, outputs, dynamic, directory / ENCODER_ONNX, metadata)

    with torch.no_grad():
        first, copy_vectors, scores, cross_keys, cross_values, cross_bias = EncoderSide(model)(*example)
    cand_ids, cand_copy = time_major(batch)
    layers, _, heads, _, head_dim = cross_keys.shape
    past = torch.zeros(layers, b, heads, 3, head_dim)  # not 0 or 1 long: the tracer would fix such sizes
    step_example = (first, past, past, cross_keys, cross_values, cross_bias, cand_ids[0], cand_copy[0],
                    copy_vectors[0], scores[0])  # fmt: skip
    step_inputs = ["previous", "past_keys", "past_values", "cross_keys", "cross_values", "cross_bias",
                   "cand_ids", "cand_copy", "copy_vector", "cand_scores"]  # fmt: skip
    step_outputs = ["probs", "chosen", "present_keys", "present_values"]
    bk, past_axes, present_axes = {0: "batch", 1: "candidates"}, {1: "batch", 3: "past"}, {1: "batch", 3: "steps"}
    step_dynamic = {
        "previous": {0: "batch"}, "past_keys": past_axes, "past_values": past_axes, "cross_keys": cache,
        "cross_values": cache, "cross_bias": bias, "cand_ids": bk, "cand_copy": bk, "copy_vector": {0: "batch"},
        "cand_scores": bk, "probs": bk, "chosen": {0: "batch"}, "present_keys": present_axes,
        "present_values": present_axes,
    }  # fmt: skip
    export(DecoderStep(model), step_example, step_inputs, step_outputs, step_dynamic, directory / DECODER_ONNX,
           metadata)  # fmt: skip


def _check(gap: float, what: str) -> None:
    print(f"{what}: max |Δp| = {gap:.2e}")
    if not gap < TOLERANCE:
        raise SystemExit(f"{what} disagree beyond {TOLERANCE}: nothing to ship")


def export_onnx(directory: Path, int8: bool = True) -> None:
    """Write the ONNX graphs of the model in `directory` beside its weights, checked twice:
    the export modules against transformers before, the ONNX runtime against torch after; with
    `int8` also the int8 graphs, checked to keep the float graphs' choices."""
    torch.set_num_threads(1)
    model, vocab = load_model(directory)
    restorer = Restorer(TorchRuntime(model), vocab, CandidateGenerator.load())
    arrays, _ = restorer.encode(check_lines())
    batch = Batch.from_arrays(arrays)
    with torch.no_grad():
        reference = model.candidate_probs(batch)
    _check(float((torch_modules_probs(model, batch) - reference)[batch.mask].abs().max()),
           f"export modules and transformers on {int(batch.mask.sum())} tokens")  # fmt: skip
    metadata = {
        WEIGHTS_SHA256_KEY: weights_sha256(directory),
        "config": json.dumps(model.config.__dict__),
        "exporter": f"scripts/export_restore_onnx.py, torch {torch.__version__}, opset {OPSET}",
    }
    _export_graphs(model, batch, directory, metadata)
    onnx_probs = OnnxRuntime.load(directory, threads=1, int8=False).candidate_probs(arrays)
    _check(float(np.abs(onnx_probs - reference.numpy())[arrays.mask].max()), "ONNX runtime and torch runtime")
    for name in INT8_ONNX.values():  # those of earlier weights would be refused: written again or not at all
        (directory / name).unlink(missing_ok=True)
    if int8:
        quantise(directory, metadata)
        int8_probs = OnnxRuntime.load(directory, threads=1).candidate_probs(arrays)
        mask = arrays.mask
        same = float((int8_probs.argmax(-1) == onnx_probs.argmax(-1))[mask].mean())
        gap = float(np.abs(int8_probs - onnx_probs)[mask].max())
        print(
            f"int8 and float graphs: the same likeliest candidate for {100 * same:.2f} % of tokens, "
            f"max |Δp| = {gap:.2e}"
        )
        if same < INT8_AGREEMENT:
            for name in INT8_ONNX.values():
                (directory / name).unlink(missing_ok=True)
            raise SystemExit(f"the int8 graphs change more than {100 * (1 - INT8_AGREEMENT):.0f} % of the choices")
    written = [
        name for name in (CHARS_ONNX, ENCODER_ONNX, DECODER_ONNX, *INT8_ONNX.values()) if (directory / name).exists()
    ]
    print(f"wrote {', '.join(written)} in {directory}")


def quantise(directory: Path, metadata: dict[str, str]) -> None:
    """INT8_ONNX of the encoder and decoder step: their feed-forward matmuls' weights in int8
    (per tensor, activations quantised on the fly); the metadata (weights' sha256) kept."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    for name, target in INT8_ONNX.items():
        source = directory / name
        if not source.exists():
            continue
        nodes = [
            n.name
            for n in onnx.load(str(source)).graph.node
            if n.op_type == "MatMul" and FEED_FORWARD.fullmatch(n.name)
        ]
        if not nodes:
            raise SystemExit(f"{name}: no feed-forward matmul found to quantise")
        tmp = directory / f".{target}.tmp"
        quantize_dynamic(source, tmp, weight_type=QuantType.QInt8, nodes_to_quantize=nodes)
        graph = onnx.load(str(tmp))
        recorded = {p.key for p in graph.metadata_props}
        for key, value in {**metadata, "int8": f"dynamic QInt8 weights of {len(nodes)} feed-forward matmuls"}.items():
            if key not in recorded:
                graph.metadata_props.add(key=key, value=value)
        onnx.checker.check_model(graph)
        onnx.save(graph, str(tmp))
        tmp.chmod(0o644)
        tmp.replace(directory / target)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=REPO / "models" / "restore", help="model folder")
    parser.add_argument("--no-int8", action="store_true", help="not the int8 graphs (INT8_ONNX) restoring prefers")
    args = parser.parse_args()
    export_onnx(args.model, not args.no_int8)


if __name__ == "__main__":
    main()
