"""The shared skeleton beam (restore/beam.py) and the channel's alignment DP against the plain
one-core-at-a-time versions they replaced, kept here as references: same hypotheses in the same
order (ties included), same floats."""

from __future__ import annotations

import heapq
import itertools
import math

import pytest

from pipeline.restore.beam import SkeletonBeam
from pipeline.restore.candidates import CandidateGenerator
from pipeline.restore.channel import BEAM, HYPOTHESES, MARGIN, Channel, skeleton

CORES = [
    "d6i", "ctia", "hudng", "nim", "s&", "pon", "dwong", "1y", "cdc", "muc", "6", "ubnd", "hdnd",
    "véindi", "cuacac", "donvi", "thong", "thoi", "tho", "thongtin", "thuc", "thuchién", "trién",
    "nguoi", "ngudi", "campuchia", "xyzq", "st?", "tw", "hqi", "", "a", "|ai", "ttrong", "chinh",
]  # fmt: skip


@pytest.fixture(scope="module")
def generator() -> CandidateGenerator:
    return CandidateGenerator.load()


def reference_hypotheses(
    channel: Channel, noisy: str, prefixes: set[str], complete: set[str]
) -> list[tuple[str, tuple[str, ...], float]]:
    """The beam as it was: one core at a time, pieces copied into each state."""
    n = len(noisy)
    s = channel.settings
    options = []
    for i in range(n):
        opts = [
            (size, noisy[i : i + size], letter, lp)
            for size in range(1, min(3, n - i) + 1)
            for letter, lp in channel.reverse.get(noisy[i : i + size], {}).items()
        ]
        if noisy[i].isalpha() and noisy[i] not in channel.reverse:
            opts.append((1, noisy[i], skeleton(noisy[i]), s.similar_floor))
        options.append(opts)
    worst = (-math.inf,)
    states: list[dict[str, tuple]] = [{} for _ in range(n + 1)]
    states[0][""] = (0.0, (), 0.0, 0)
    for i in range(n + 1):
        here = states[i]
        if not here:
            continue
        floor = max(v[0] for v in here.values()) - MARGIN
        for skel, (sc, pieces, junk, lost) in list(here.items()):
            if lost or sc < floor:
                continue
            for letter, lp in channel.deletions.items():
                key = skel + letter
                if key in prefixes and sc + lp > here.get(key, worst)[0]:
                    here[key] = (sc + lp, (*pieces, ""), junk, 1)
        if i == n:
            break
        for skel, (sc, pieces, junk, lost) in heapq.nlargest(BEAM, here.items(), key=lambda kv: kv[1][0]):
            if sc < floor:
                break
            for size, piece, letter, lp in options[i]:
                key, there = skel + letter, states[i + size]
                if key in prefixes and sc + lp > there.get(key, worst)[0]:
                    there[key] = (sc + lp, (*pieces, piece), junk, lost)
            there = states[i + 1]
            if sc + s.insert_logp > there.get(skel, worst)[0]:
                there[skel] = (sc + s.insert_logp, pieces, junk + s.insert_logp, lost)
    ends = [(skel, state) for skel, state in states[n].items() if skel in complete]
    if not ends:
        return []
    floor = max(state[0] for _, state in ends) - MARGIN
    final = heapq.nlargest(HYPOTHESES, (e for e in ends if e[1][0] >= floor), key=lambda kv: kv[1][0])
    return [(skel, pieces, junk) for skel, (_, pieces, junk, _) in final]


def reference_score(channel: Channel, noisy: str, clean: str) -> float:
    """The alignment DP as it was: each cell pushed forwards."""
    n, m = len(noisy), len(clean)
    ninf = -math.inf
    insert_logp, delete_floor = channel.settings.insert_logp, channel.settings.delete_floor
    table = [[ninf] * (m + 1) for _ in range(n + 1)]
    table[0][0] = 0.0
    emits = [channel._table(c) for c in clean]
    subs = [[e[x] if x in e else channel.logp(c, x) for x in noisy] for c, e in zip(clean, emits, strict=True)]
    dels = [e.get("", delete_floor) for e in emits]
    for i in range(n + 1):
        for j in range(m + 1):
            d = table[i][j]
            if d == ninf:
                continue
            if i < n:
                table[i + 1][j] = max(table[i + 1][j], d + insert_logp)
            if j == m:
                continue
            table[i][j + 1] = max(table[i][j + 1], d + dels[j])
            if i == n:
                continue
            table[i + 1][j + 1] = max(table[i + 1][j + 1], d + subs[j][i])
            for size in (2, 3):
                lp = emits[j].get(noisy[i : i + size]) if i + size <= n else None
                if lp is not None:
                    table[i + size][j + 1] = max(table[i + size][j + 1], d + lp)
    return table[n][m]


def test_shared_beam_gives_the_one_core_hypotheses_in_any_order(generator: CandidateGenerator) -> None:
    prefixes = set(generator._prefixes)
    complete = set(generator.skeletons)
    expected = {core: reference_hypotheses(generator.channel, core, prefixes, complete) for core in CORES}
    assert sum(map(len, expected.values())) > 100
    for order in (CORES, CORES[::-1]):  # prefixes met first as whole cores or as parts of longer ones
        beam = SkeletonBeam(generator.channel, generator._prefixes, generator.skeletons)
        for core in order:
            assert beam.hypotheses(core) == expected[core], core
    # merge halves: every prefix and suffix of a long core, through the same beam
    beam = SkeletonBeam(generator.channel, generator._prefixes, generator.skeletons)
    for core in ("thuchiénchién", "cuacacdonvi"):
        for i in range(len(core) + 1):
            for part in (core[:i], core[i:]):
                assert beam.hypotheses(part) == reference_hypotheses(generator.channel, part, prefixes, complete)


def test_channel_hypotheses_is_the_shared_beam(generator: CandidateGenerator) -> None:
    for core in ("d6i", "véindi"):
        assert generator.channel.hypotheses(core, generator._prefixes, generator.skeletons) == reference_hypotheses(
            generator.channel, core, set(generator._prefixes), set(generator.skeletons)
        )


def test_alignment_dp_gives_the_same_floats(generator: CandidateGenerator) -> None:
    channel = generator.channel
    noisy = ["d6i", "ctia", "hudng", "rn", "", "nguoi", "thuchién", "1y", "s&", "tt", "xyzq"]
    clean = ["đối", "của", "hướng", "m", "", "người", "thực hiện", "lý", "sở", "tư", "ư", "đ"]
    for x, y in itertools.product(noisy, clean):
        assert channel.score(x, y) == reference_score(channel, x, y), (x, y)


def test_sets_do_not_depend_on_what_was_asked_before() -> None:
    """A core's one-syllable set with edits is the same whether its plain set (a merge half's) was
    computed first or not, and merges reuse halves that are cores too."""
    cores = ["ctia", "xyzq", "hudng", "véindi", "cuacac", "ngudi", "trién", "qqqz", "cua", "cac"]
    with_edits, plain = CandidateGenerator.load(), CandidateGenerator.load()  # each asked one way first
    expected = {core: (plain._single(core, edits=False), with_edits._single(core)) for core in cores}
    assert any(a != b for a, b in expected.values())  # some cores have few good readings: edits add some
    for order in (cores, cores[::-1]):
        generator = CandidateGenerator.load()
        for core in order:
            generator.candidates(core)  # merges ask for halves without edits
        for core in order:
            assert (generator._single(core, edits=False), generator._single(core)) == expected[core], core
