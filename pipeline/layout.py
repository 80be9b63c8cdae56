"""Reading order of two columns that tesseract read as one: the letterhead of a Vietnamese plan.

Every administrative document sets its letterhead in two centred columns (issuer and number
on the left, national motto and place and date on the right; Decree 30/2020/NĐ-CP, appendix I).
Tesseract's page segmentation often reads both columns as one set of lines, so the issuer
comes out interleaved with the motto (`ỦY BAN NHÂN DÂN CỘNG HÒA XÃ HỘI …`, `TỈNH X NAM`). That
breaks the words restoration reads in context and the lines segmentation cuts the header from.

A run of consecutive lines that each have one gap far wider than any word space, at a common
x, is two columns: each line is cut at the gap, and the run is read as the left column, then
the right. Lines with two or more such gaps (a table row) and single lines are left as read.
The letterhead is a table of two rows (issuer | motto, then number | place and date): when the
left column has a number line below the issuer and the right a date below the motto, the run
is read row by row.
"""

from __future__ import annotations

from statistics import median

from pipeline.document import Box, Line, Token
from pipeline.labels import DATE_START, NUMBER_LINE
from pipeline.vietnamese import strip_diacritics

__all__ = ["column_order"]

# A gutter is wider than this many times the line's median word height. Word spaces, even in
# justified lines, stay under about 1.5 heights (an em is about a word's height); the gutter
# between two centred letterhead columns is rarely narrower than 1.7.
GUTTER_HEIGHTS = 1.5


def _gaps(line: Line) -> list[tuple[int, int, int]]:
    """(index of the first token right of the gap, gap left x, gap right x) for every gap in the
    line wider than a gutter."""
    tokens = line.tokens
    if len(tokens) < 2 or any(t.box is None for t in tokens):
        return []
    boxes = [t.box for t in tokens]
    height = median(b.height for b in boxes)  # type: ignore[union-attr]
    return [
        (k, boxes[k - 1].x1, boxes[k].x0)  # type: ignore[union-attr]
        for k in range(1, len(boxes))
        if boxes[k].x0 - boxes[k - 1].x1 > GUTTER_HEIGHTS * height  # type: ignore[union-attr]
    ]


def _piece(tokens: list[Token]) -> Line:
    return Line(box=Box.union([t.box for t in tokens if t.box]), tokens=tokens)


def _one_side(line: Line, low: int, high: int) -> str | None:
    """'left' or 'right' when the whole line lies on that side of the gutter [low, high]."""
    if line.box is None:
        return None
    if line.box.x1 <= high:
        return "left"
    if line.box.x0 >= low:
        return "right"
    return None


def _follows(above: Line, line: Line) -> bool:
    """Whether `line` is set right below `above`, with no more than a line's height between:
    a one-sided line after a blank belongs to what comes next, not to the columns."""
    if above.box is None or line.box is None:
        return False
    return line.box.y0 - above.box.y1 <= above.box.height


def _read(left: list[Line], right: list[Line]) -> list[Line]:
    """The columns' pieces in reading order: row by row when the second row (number | date) is
    found below the first on both sides, else the left column, then the right."""
    number = next((k for k, piece in enumerate(left) if k and NUMBER_LINE.match(piece.text)), None)
    date = next(
        (k for k, piece in enumerate(right) if k and DATE_START.search(strip_diacritics(piece.text).lower())), None
    )
    if number is None or date is None:
        return left + right
    return left[:number] + right[:date] + left[number:] + right[date:]


def column_order(lines: list[Line]) -> list[Line]:
    """The lines with every two-column run cut at its gutter and read left column first.

    A run starts at a line with exactly one wide gap (a table row has several) and goes on over
    the lines with a wide gap at the same x (a rule drawn under the issuer can add another gap),
    and over lines wholly on one side set right below that column's last line."""
    out: list[Line] = []
    i = 0
    while i < len(lines):
        gaps = _gaps(lines[i])
        if len(gaps) != 1:
            out.append(lines[i])
            i += 1
            continue
        cut, low, high = gaps[0]
        columns: dict[str, list[Line]] = {
            "left": [_piece(lines[i].tokens[:cut])],
            "right": [_piece(lines[i].tokens[cut:])],
        }
        j = i + 1
        while j < len(lines):
            line = lines[j]
            overlaps = [(min(high, g[2]) - max(low, g[1]), g) for g in _gaps(line)]
            overlap, gap = max(overlaps, default=(0, (0, 0, 0)))
            if overlap > 0:
                cut, low, high = gap[0], max(low, gap[1]), min(high, gap[2])
                columns["left"].append(_piece(line.tokens[:cut]))
                columns["right"].append(_piece(line.tokens[cut:]))
            elif (side := _one_side(line, low, high)) and _follows(columns[side][-1], line):
                columns[side].append(line)
            else:
                break
            j += 1
        if min(len(columns["left"]), len(columns["right"])) < 2:
            # One wide gap with nothing set beside it is a stretched line or a speck, not columns.
            out.append(lines[i])
            i += 1
            continue
        out += _read(columns["left"], columns["right"])
        i = j
    return out
