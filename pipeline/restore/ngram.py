"""A syllable trigram language model for diacritic restoration (decoded in restore/lattice.py).

Units are lower-case lexicon syllables, `<num>` for a token with a digit (dates, codes),
`<.>` / `<,>` for clause and list punctuation after a token and `<unk>` for anything else.
The model is interpolated Kneser-Ney, kept in backoff form (log-probs and backoff weights of
the n-grams that survive count pruning) in one numpy `.npz`: no pickle, memory-mapped on load.
Built from the train corpora by scripts/build_restore_ngram.py into data/restore/ngram/.
"""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.files import atomic_write_bytes

__all__ = ["LM_FILE", "NGRAM_DIR", "SPECIALS", "NgramCounts", "NgramLM", "line_units", "punct_units", "token_units"]

NGRAM_DIR = Path(__file__).resolve().parents[2] / "data" / "restore" / "ngram"
LM_FILE = "lm.npz"

SPECIALS = ("<unk>", "<s>", "<none>", "<num>", "<.>", "<,>")
UNK, BOS, NONE, NUM, STOP, COMMA = range(len(SPECIALS))  # NONE: "no context", backs off to unigrams
_STOPS = frozenset(".!?;:…")
_NEVER = -99.0  # log-prob of units that are only contexts (<s>, <none>)
_MANY_QUERIES = 256  # trigram_part filters a lookup of more queries by their stored contexts
# A lookup of more queries sorts them first (_lookup). Below this the sort costs more than the
# cache misses it saves: replaying the 62 lookups of restoring 4,593 tokens of OCR (the largest
# 26,000 queries), 76 ms with a sort from 256 queries (not stable), 54 ms stable from 2,048.
_SORT_QUERIES = 2048


# ----------------------------------------------------------------------------- units


def punct_units(punct: str) -> list[str]:
    """`<.>` for clause punctuation, `<,>` for a comma, nothing for brackets, quotes, dashes."""
    if any(c in _STOPS for c in punct):
        return ["<.>"]
    return ["<,>"] if "," in punct else []


def token_units(token: str) -> list[str]:
    """LM units of one whitespace token (`Điều` → điều, `2019,` → <num> <,>, `tổ-chức` → tổ chức)."""
    if token.isalpha():
        return [token.lower()]
    start, end = 0, len(token)
    while start < end and not token[start].isalnum():
        start += 1
    while end > start and not token[end - 1].isalnum():
        end -= 1
    core = token[start:end]
    if not core:
        return punct_units(token)
    if any(c.isdigit() for c in core):
        units = ["<num>"]
    else:
        units, run = [], []
        for c in core.lower():  # letter runs: TP.HCM → tp hcm
            if c.isalpha():
                run.append(c)
            elif run:
                units.append("".join(run))
                run = []
        if run:
            units.append("".join(run))
    return units + punct_units(token[end:])


def line_units(text: str) -> list[str]:
    return [u for token in text.split() for u in token_units(token)]


# ----------------------------------------------------------------------------- counting


class NgramCounts:
    """Unigram, bigram and trigram counts of id sequences, as sorted int64 keys + counts."""

    def __init__(self, size: int, flush_tokens: int = 4_000_000) -> None:
        self.size = size
        self.flush_tokens = flush_tokens
        self._pending: list[np.ndarray] = []
        self._pending_tokens = 0
        self._parts: list[list[tuple[np.ndarray, np.ndarray]]] = [[], [], []]

    def add(self, ids: Sequence[int]) -> None:
        """One sequence of unit ids (a line or paragraph); <s> is put in front."""
        self._pending.append(np.asarray([BOS, *ids], dtype=np.int64))
        self._pending_tokens += len(ids) + 1
        if self._pending_tokens >= self.flush_tokens:
            self._flush()

    def _flush(self) -> None:
        if not self._pending:
            return
        seq = np.concatenate(self._pending)
        starts = np.repeat(np.cumsum([0] + [len(p) for p in self._pending[:-1]]), [len(p) for p in self._pending])
        pos = np.arange(len(seq)) - starts  # position inside its own sequence
        v = self.size
        grams = [seq[pos >= 1], None, None]
        ok2, ok3 = np.flatnonzero(pos >= 1), np.flatnonzero(pos >= 2)
        grams[1] = seq[ok2 - 1] * v + seq[ok2]
        grams[2] = (seq[ok3 - 2] * v + seq[ok3 - 1]) * v + seq[ok3]
        for order, keys in enumerate(grams):
            self._parts[order].append(np.unique(keys, return_counts=True))
            if len(self._parts[order]) >= 8:
                self._parts[order] = [_merge(self._parts[order])]
        self._pending, self._pending_tokens = [], 0

    def add_tables(self, tables: Sequence[tuple[np.ndarray, np.ndarray]], weight: int = 1) -> None:
        """Add counted tables (of `tables()`, e.g. cached per corpus file), each count × weight
        (a small in-domain text repeated: scripts/build_restore_ngram.py --plans-weight)."""
        self._flush()
        for order, (keys, counts) in enumerate(tables):
            if len(keys):
                self._parts[order].append((np.asarray(keys, np.int64), np.asarray(counts, np.int64) * int(weight)))
            if len(self._parts[order]) >= 8:
                self._parts[order] = [_merge(self._parts[order])]

    def tables(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """(sorted keys, counts) for orders 1, 2, 3."""
        self._flush()
        return [_merge(parts) if parts else (np.zeros(0, np.int64), np.zeros(0, np.int64)) for parts in self._parts]


def _merge(parts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    keys = np.concatenate([k for k, _ in parts])
    counts = np.concatenate([c for _, c in parts])
    unique, inverse = np.unique(keys, return_inverse=True)
    return unique, np.bincount(inverse, weights=counts, minlength=len(unique)).astype(np.int64)


def _discount(counts: np.ndarray) -> float:
    """Kneser-Ney absolute discount n1 / (n1 + 2 n2), bounded for tiny corpora."""
    n1, n2 = int((counts == 1).sum()), int((counts == 2).sum())
    return min(max(n1 / (n1 + 2 * n2), 0.1), 0.9) if n1 + n2 else 0.5


def _lookup(keys: np.ndarray, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of each query in sorted keys (clipped) and whether it is there."""
    if not len(keys):
        return np.zeros(len(query), np.int64), np.zeros(len(query), bool)
    if len(query) > _SORT_QUERIES:
        # Sorted queries walk the table in order; in random order nearly every step of the
        # binary search misses the CPU cache (10 times slower on a table of 30 MB).
        order = np.argsort(query, kind="stable")  # queries come in sorted runs, which it merges
        found = np.empty(len(query), np.int64)
        found[order] = np.searchsorted(keys, query[order])
    else:
        found = np.searchsorted(keys, query)
    idx = np.minimum(found, len(keys) - 1)
    return idx, keys[idx] == query


# ----------------------------------------------------------------------------- the model


@dataclass
class NgramLM:
    """Trigram LM in backoff form: log P(w | u v) read from the longest stored n-gram."""

    vocab: list[str]
    lp1: np.ndarray  # [V] log P(w)
    bow1: np.ndarray  # [V] backoff weight of context v
    k2: np.ndarray  # sorted v*V+w
    lp2: np.ndarray
    bow2: np.ndarray  # backoff weight of context (v, w)
    k3: np.ndarray  # sorted (u*V+v)*V+w
    lp3: np.ndarray

    def __post_init__(self) -> None:
        self.size = len(self.vocab)
        self.index = {u: i for i, u in enumerate(self.vocab)}
        self._text_ids: dict[str, list[int]] = {}
        self._inner: dict[tuple[int, ...], float] = {}

    def ids(self, units: Iterable[str]) -> list[int]:
        get = self.index.get
        return [get(u, UNK) for u in units]

    def text_ids(self, text: str) -> list[int]:
        """ids(line_units(text)), cached (the same candidates recur on every line); not to be
        modified by the caller."""
        found = self._text_ids.get(text)
        if found is None:
            if len(self._text_ids) > 200_000:
                self._text_ids.clear()
            found = self._text_ids[text] = self.ids(line_units(text))
        return found

    def logprob(self, x: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
        """log P(w | x y) for arrays of ids (natural log)."""
        return self.trigram_part(x, y, w, self.context_part(x, y)[0], self.bigram_part(y, w)[0])

    # The parts of logprob, for a caller that shares them between queries (the lattice's Viterbi
    # asks P(w | x y) of many contexts (x, y) and words w): the float32 results are logprob's.

    def context_part(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Backoff weight of the context (x, y) (0 when that bigram is not stored), and whether
        it is stored: estimate() keeps the context of every trigram it keeps, so a trigram
        whose context is not stored is not stored either."""
        ic, hitc = _lookup(self.k2, x * self.size + y)
        return np.where(hitc, self.bow2[ic], 0.0), hitc

    def bigram_part(self, y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """log P(w | y), what a trigram (x, y, w) not stored backs off to; the index of (y, w)
        in k2 and whether it is stored (as a context, (y, w) gives the next unit's backoff)."""
        i2, hit2 = _lookup(self.k2, y * self.size + w)
        return np.where(hit2, self.lp2[i2], self.bow1[y] + self.lp1[w]), i2, hit2

    def trigram_part(
        self,
        x: np.ndarray,
        y: np.ndarray,
        w: np.ndarray,
        context: np.ndarray,
        lower: np.ndarray,
        stored: np.ndarray | None = None,
    ) -> np.ndarray:
        """log P(w | x y) from context_part(x, y) and bigram_part(y, w); with `stored` (the
        context's), the trigrams are looked up only where their context is stored (worth its
        extra numpy calls only for many queries)."""
        v = self.size
        if stored is None or len(x) < _MANY_QUERIES:
            i3, hit3 = _lookup(self.k3, (x * v + y) * v + w)
            return np.where(hit3, self.lp3[i3], context + lower)
        out = context + lower
        look = np.flatnonzero(stored)
        if len(look):
            i3, hit3 = _lookup(self.k3, (x[look] * v + y[look]) * v + w[look])
            out[look[hit3]] = self.lp3[i3[hit3]]
        return out

    def inner_logprob(self, ids: tuple[int, ...]) -> float:
        """Log-prob of units 3.. of a candidate given the ones before it (0 for 2 units or fewer),
        the float32 sum the lattice always used; cached."""
        found = self._inner.get(ids)
        if found is None:
            found = 0.0
            if len(ids) > 2:
                arr = np.asarray(ids, dtype=np.int64)
                found = float(self.logprob(arr[:-2], arr[1:-1], arr[2:]).sum())
            if len(self._inner) > 200_000:
                self._inner.clear()
            self._inner[ids] = found
        return found

    def score(self, units: Sequence[str], start: int = BOS) -> float:
        """Total log-prob of a unit sequence after the context (<none>, start)."""
        ids = np.array([NONE, start, *self.ids(units)], dtype=np.int64)
        return float(self.logprob(ids[:-2], ids[1:-1], ids[2:]).sum()) if len(ids) > 2 else 0.0

    @classmethod
    def estimate(cls, counts: NgramCounts, vocab: list[str], min2: int = 1, min3: int = 2) -> NgramLM:
        """Interpolated Kneser-Ney from counts; bigrams seen < min2 times and trigrams < min3
        times are dropped and their mass left to the backoff weights."""
        v = len(vocab)
        (_, _), (k2, c2), (k3, c3) = counts.tables()
        # continuation counts: distinct left neighbours (raw counts after <s>)
        suffix, n_left = np.unique(k3 % (v * v), return_counts=True)
        cont2 = np.zeros(len(k2), np.int64)
        cont2[np.searchsorted(k2, suffix)] = n_left
        after_bos = k2 // v == BOS
        cont2[after_bos] = c2[after_bos]
        cont1 = np.bincount(k2 % v, minlength=v).astype(np.float64)
        cont1[[BOS, NONE]] = 0
        d1 = _discount(cont1[cont1 > 0])
        p1 = (np.maximum(cont1 - d1, 0) + d1 * (cont1 > 0).sum() / (v - 2)) / max(cont1.sum(), 1.0)
        p1[[BOS, NONE]] = 0  # contexts only, never predicted
        # bigrams
        ctx2, w2 = k2 // v, k2 % v
        d2 = _discount(cont2)
        total2 = np.bincount(ctx2, weights=cont2, minlength=v)
        types2 = np.bincount(ctx2, minlength=v)
        p2 = (np.maximum(cont2 - d2, 0) + d2 * types2[ctx2] * p1[w2]) / total2[ctx2]
        # trigrams
        ctx3 = k3 // v
        d3 = _discount(c3)
        ctx_keys, first, types3 = np.unique(ctx3, return_index=True, return_counts=True)
        total3 = np.add.reduceat(c3, first) if len(c3) else np.zeros(0)
        slot = np.repeat(np.arange(len(ctx_keys)), types3)
        p2_of3 = p2[np.searchsorted(k2, k3 % (v * v))]
        p3 = (np.maximum(c3 - d3, 0) + d3 * types3[slot] * p2_of3) / total3[slot]
        # prune, then backoff weights = leftover mass / mass the lower order gives the leftovers
        keep3 = c3 >= min3
        left3 = 1 - np.bincount(slot[keep3], weights=p3[keep3], minlength=len(ctx_keys))
        lower3 = 1 - np.bincount(slot[keep3], weights=p2_of3[keep3], minlength=len(ctx_keys))
        bow_ctx = np.log(np.maximum(left3, 1e-12) / np.maximum(lower3, 1e-12))
        keep2 = (c2 >= min2) | np.isin(k2, ctx_keys[np.bincount(slot[keep3], minlength=len(ctx_keys)) > 0])
        bow2 = np.zeros(len(k2))
        bow2[np.searchsorted(k2, ctx_keys)] = bow_ctx
        left2 = 1 - np.bincount(ctx2[keep2], weights=p2[keep2], minlength=v)
        lower2 = 1 - np.bincount(ctx2[keep2], weights=p1[w2[keep2]], minlength=v)
        lp1 = np.where(p1 > 0, np.log(np.maximum(p1, 1e-30)), _NEVER)
        return cls(
            list(vocab),
            lp1.astype(np.float32),
            np.log(np.maximum(left2, 1e-12) / np.maximum(lower2, 1e-12)).astype(np.float32),
            k2[keep2],
            np.log(p2[keep2]).astype(np.float32),
            bow2[keep2].astype(np.float32),
            k3[keep3],
            np.log(p3[keep3]).astype(np.float32),
        )

    def save(self, path: Path) -> None:
        """One .npz (vocabulary as a fixed-width unicode array), written atomically, that loads by
        memory-mapping (load()): no member is deflated and each one's data starts on a 64-byte
        boundary. Keys are stored whole (int64), log-probabilities as float16 (error < 0.01 nat).

        Mapping instead of reading means a fresh process pays nothing for the keys, and the batch
        workers of one machine share one copy of them in the page cache; git deflates the file
        in its own store, so the repository grows by what a deflated npz would cost."""
        arrays: dict[str, np.ndarray] = {"vocab": np.array(self.vocab), "lp1": self.lp1, "bow1": self.bow1}
        arrays.update(k2=np.asarray(self.k2, np.int64), k3=np.asarray(self.k3, np.int64))
        for name in ("lp2", "bow2", "lp3"):
            arrays[name] = getattr(self, name).astype(np.float16)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:  # what np.savez writes, aligned
            for name, array in arrays.items():
                member = io.BytesIO()
                np.lib.format.write_array(member, array, allow_pickle=False)
                info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
                info.extra = _padding(buffer.tell() + _LOCAL_HEADER + len(info.filename))
                archive.writestr(info, member.getvalue())
        atomic_write_bytes(path, buffer.getvalue())  # temp file, fsync, rename

    @classmethod
    def load(cls, path: Path) -> NgramLM:
        """Keys memory-mapped from an aligned, uncompressed npz (save()); the formats before it
        (deflated key deltas) are read whole."""
        arrays = _mapped_members(path)
        if arrays is None:
            with np.load(path, allow_pickle=False) as data:
                arrays = {name: data[name] for name in data.files}
        for name in ("k2", "k3"):
            if name + "_delta16" in arrays:
                delta = arrays.pop(name + "_delta16").astype(np.int64)
                delta[arrays.pop(name + "_wide_at")] = arrays.pop(name + "_wide")
                arrays[name] = np.cumsum(delta)
            elif name + "_delta" in arrays:  # 32/64-bit deltas, all deflated
                arrays[name] = np.cumsum(arrays.pop(name + "_delta").astype(np.int64))
        for name in ("lp1", "bow1", "lp2", "bow2", "lp3"):
            arrays[name] = np.asarray(arrays[name], dtype=np.float32)  # float16 on disk; a copy, not mapped
        return cls(vocab=np.asarray(arrays.pop("vocab")).tolist(), **arrays)

    def describe(self) -> str:
        return f"{self.size} units, {len(self.k2)} bigrams, {len(self.k3)} trigrams"


# ----------------------------------------------------------------------------- the file

_LOCAL_HEADER = 30  # bytes of a zip local file header before the member's name
_ALIGN = 64  # np.lib.format pads a .npy header to a multiple of 64, so the data follows aligned
_PAD_ID = 0xD935  # the extra-field id zipalign uses for padding (readers skip unknown ids)
_NPY_HEADERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}


def _padding(start: int) -> bytes:
    """An extra field that ends at a 64-byte boundary when the local header's fixed part and the
    member's name end at `start` (an extra field is at least its 4-byte id and size)."""
    size = (-(start + 4)) % _ALIGN
    return struct.pack("<HH", _PAD_ID, size) + bytes(size)


def _mapped_members(path: Path) -> dict[str, np.ndarray] | None:
    """Every member of an uncompressed npz mapped read-only in place, or None when a member is
    deflated or not aligned (an older file: np.load reads it)."""
    arrays: dict[str, np.ndarray] = {}
    with open(path, "rb") as handle, zipfile.ZipFile(handle) as archive:
        for info in archive.infolist():
            if info.compress_type != zipfile.ZIP_STORED:
                return None
            handle.seek(info.header_offset + 26)  # name and extra lengths of the local header
            name_len, extra_len = struct.unpack("<HH", handle.read(4))
            handle.seek(info.header_offset + _LOCAL_HEADER + name_len + extra_len)
            read_header = _NPY_HEADERS.get(np.lib.format.read_magic(handle))
            if read_header is None:
                return None
            shape, fortran, dtype = read_header(handle)
            offset = handle.tell()
            if offset % _ALIGN or dtype.hasobject:
                return None
            order = "F" if fortran else "C"
            if dtype.kind == "U" or not int(np.prod(shape)):  # the vocabulary: small, read
                array = np.fromfile(handle, dtype=dtype, count=int(np.prod(shape))).reshape(shape, order=order)
            else:
                # a plain ndarray view: the memmap subclass costs a little on every operation
                array = np.asarray(np.memmap(handle, dtype=dtype, mode="r", offset=offset, shape=shape, order=order))
            arrays[info.filename.removesuffix(".npy")] = array
    return arrays
