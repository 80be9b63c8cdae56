"""The beam search that reads a noisy core backwards into the letter skeletons it may stand for,
kept per noisy prefix.

The states at position i of a core (skeleton prefix → best score, pieces, junk cost, letters
lost) depend on its first i characters only: each move reads one to three characters before i,
and the pruning at a position looks at that position's states alone. So they are computed once
per noisy prefix and shared by every core that starts the same way (thong, thoi, tho share t, th
and tho) and by the left halves a merge tries (cuacac → cua + cac). Each position is built by
pulling the moves that end there in the order a forward pass would push them (three characters
back first, then two, then one with its junk move), so scores, ties and insertion order are
those of the one-core-at-a-time search.
"""

from __future__ import annotations

import math
from collections.abc import Container, Mapping
from operator import itemgetter

from pipeline.restore.channel import BEAM, HYPOTHESES, MARGIN, Channel, skeleton

__all__ = ["BEAM", "HYPOTHESES", "MARGIN", "SkeletonBeam"]

CACHE_LIMIT = 20_000  # noisy prefixes kept, about 5 kB each (the cache is simply emptied when full)

# Pieces are linked (earlier pieces, piece) pairs: extending a prefix copies nothing.
Pieces = tuple["Pieces", str] | None
State = tuple[float, Pieces, float, int]  # score, pieces, junk cost, letters lost
_NOTHING: Mapping[str, str] = {}
# a noisy piece's (letter, log P) readings, and per skeleton prefix the (longer prefix, log P) they lead to
_Moves = tuple[tuple[tuple[str, float], ...], dict[str, tuple[tuple[str, float], ...]]]


class _Position:
    """The states at one position of a noisy prefix, after its lost-letter moves, and the beam
    that moves on from there (best first, at most BEAM, none below the margin)."""

    __slots__ = ("_beam", "floor", "states")

    def __init__(self, states: dict[str, State], floor: float) -> None:
        self.states, self.floor = states, floor  # floor: MARGIN below the best
        self._beam: list[tuple[str, State]] | None = None

    def beam(self) -> list[tuple[str, State]]:
        if self._beam is None:
            states, floor = self.states, self.floor
            out: list[tuple[str, State]] = []
            if states:
                # sorted is heapq.nlargest's documented equivalent (the same order among ties)
                for item in sorted(states.items(), key=_score, reverse=True)[:BEAM]:
                    if item[1][0] < floor:
                        break
                    out.append(item)
            self._beam = out
        return self._beam


class SkeletonBeam:
    """Channel.hypotheses for one lexicon (its skeleton prefixes and complete skeletons), with
    the states of every noisy prefix met so far kept."""

    def __init__(self, channel: Channel, prefixes: Mapping[str, Mapping[str, str]], complete: Container[str]) -> None:
        self.channel, self.prefixes, self.complete = channel, prefixes, complete
        self._positions: dict[str, _Position] = {}
        settings = channel.settings
        self._insert, self._similar = settings.insert_logp, settings.similar_floor
        self._backwards = {piece: tuple(table.items()) for piece, table in channel.reverse.items()}
        self._deletions = tuple(channel.deletions.items())
        self._lose: dict[str, tuple[tuple[str, float], ...]] = {}  # skeleton prefix -> its lost-letter moves
        self._moves: dict[str, _Moves] = {}  # noisy piece -> its readings, and where they lead from each prefix

    def hypotheses(self, noisy: str) -> list[tuple[str, tuple[str, ...], float]]:
        """(skeleton, noisy piece per letter, junk cost) for the complete skeletons the beam
        reaches at the end of noisy, best first, within MARGIN of the best."""
        end = self._position(noisy)
        complete = self.complete
        ends = [(skel, state) for skel, state in end.states.items() if skel in complete]
        if not ends:
            return []
        floor = max(map(_score, ends)) - MARGIN
        final = sorted((e for e in ends if e[1][0] >= floor), key=_score, reverse=True)[:HYPOTHESES]
        return [(skel, unlink(pieces), junk) for skel, (_, pieces, junk, _) in final]

    def _position(self, noisy: str) -> _Position:
        positions = self._positions
        if len(positions) > CACHE_LIMIT:
            positions.clear()
        found: list[_Position] = []
        for i in range(len(noisy) + 1):
            prefix = noisy[:i]
            position = positions.get(prefix)
            if position is None:
                position = positions[prefix] = self._build(noisy, i, found)
            found.append(position)
        return found[-1]

    def _build(self, noisy: str, i: int, before: list[_Position]) -> _Position:
        """The states at position i of noisy, from the beams at i-3, i-2 and i-1 (before)."""
        if i == 0:
            states: dict[str, State] = {"": (0.0, None, 0.0, 0)}
        else:
            states = {}
            insert = self._insert
            for size in (3, 2, 1):
                start = i - size
                if start < 0:
                    continue
                piece = noisy[start:i]
                moves = self._moves.get(piece)
                if moves is None:
                    moves = self._moves_of(piece)
                if size > 1 and not moves[0]:  # most two- and three-char pieces read as no letter
                    continue
                options, after = moves
                for skel, (sc, pieces, junk, lost) in before[start].beam():
                    found = after.get(skel)
                    if found is None:
                        found = after[skel] = self._follow(skel, options)
                    for key, lp in found:
                        old = states.get(key)
                        if old is None or sc + lp > old[0]:
                            states[key] = (sc + lp, (pieces, piece), junk, lost)
                    if size == 1:  # a junk character: the skeleton stays
                        old = states.get(skel)
                        if old is None or sc + insert > old[0]:
                            states[skel] = (sc + insert, pieces, junk + insert, lost)
        # lost-letter moves only lower scores: the best, hence the floor, stays
        floor = max(map(_first, states.values())) - MARGIN if states else -math.inf
        if self._deletions:
            self._lose_letters(states, floor)
        return _Position(states, floor)

    def _moves_of(self, piece: str) -> _Moves:
        """The letters a noisy piece may be read as, with log P (the confusion table's, in its
        order; a letter it never shows stands for itself at the similar floor), and an empty
        table of where they lead from each skeleton prefix."""
        options = self._backwards.get(piece, ())
        if len(piece) == 1 and piece.isalpha() and piece not in self._backwards:
            options = (*options, (skeleton(piece), self._similar))
        moves = self._moves[piece] = (options, {})
        return moves

    def _follow(self, skel: str, options: tuple[tuple[str, float], ...]) -> tuple[tuple[str, float], ...]:
        """(longer prefix, log P) for the options that lead from skel to a lexicon prefix, in order."""
        after = self.prefixes.get(skel)
        if not after:
            return ()
        return tuple([(after[letter], lp) for letter, lp in options if letter in after])

    def _lose_letters(self, states: dict[str, State], floor: float) -> None:
        """A letter OCR dropped (one per core at most), from the states within the margin."""
        lose = self._lose
        for skel, (sc, pieces, junk, lost) in list(states.items()):
            if lost or sc < floor:
                continue
            moves = lose.get(skel)
            if moves is None:
                moves = self._lose_moves(skel)
            for key, lp in moves:
                old = states.get(key)
                if old is None or sc + lp > old[0]:
                    states[key] = (sc + lp, (pieces, ""), junk, 1)

    def _lose_moves(self, skel: str) -> tuple[tuple[str, float], ...]:
        """(longer prefix, log P) for each droppable letter that may follow skel, in table order."""
        after = self.prefixes.get(skel, _NOTHING)
        moves = self._lose[skel] = tuple((after[letter], lp) for letter, lp in self._deletions if letter in after)
        return moves


def unlink(pieces: Pieces) -> tuple[str, ...]:
    """The linked pieces as a tuple, first piece first."""
    out: list[str] = []
    while pieces is not None:
        pieces, piece = pieces
        out.append(piece)
    return tuple(reversed(out))


def _score(item: tuple[str, State]) -> float:
    return item[1][0]


_first = itemgetter(0)  # a state's score
