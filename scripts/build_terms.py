"""Build corpora/restore_terms.tsv: mixed-case terms (IoT, eKYC, VNeID, iPhone) with counts.

    .venv/bin/python scripts/build_terms.py      # reads ../shared/corpora (never heldout/) and the tune plans

vie OCR reads such a term with Vietnamese marks or an l for its I (IơT, loT): restore/vie.py
puts a token back to the term its letters spell (restore/terms.py). A term is a letter run with
a lower-case letter followed by a capital, in Latin letters only, seen MIN_COUNT times or more in
the training corpora and the tune-split development plans' text. Word lists and counts only, no
sentences.
"""

from __future__ import annotations

import argparse
import gzip
import re
import sys
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))

from plan_split import split  # noqa: E402

from pipeline.files import atomic_write_text  # noqa: E402
from pipeline.vietnamese import normalize  # noqa: E402

MIN_COUNT = 5
# A letter run with a lower-case letter then a capital somewhere (IoT, iPhone, VnExpress, eKYC);
# the Latin letters up to the Vietnamese block, by case (Unicode interleaves the cases there).
_LATIN = [chr(c) for c in range(0x41, 0x1F00) if chr(c).isalpha()]
_LOWER = "".join(c for c in _LATIN if c.islower())
_UPPER = "".join(c for c in _LATIN if c.isupper())
_MIXED = re.compile(rf"(?<![^\W\d_])[^\W\d_]*[{_LOWER}][{_UPPER}][^\W\d_]*(?![^\W\d_])")


def count_terms(lines: Iterable[str], counts: Counter[str]) -> None:
    for line in lines:
        counts.update(_MIXED.findall(normalize(line)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    parser.add_argument("-o", "--output", type=Path, default=REPO / "corpora" / "restore_terms.tsv")
    args = parser.parse_args()
    counts: Counter[str] = Counter()
    for path in sorted((args.shared / "corpora").glob("*.txt.gz")):  # the training corpora: heldout/ is apart
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            count_terms(handle, counts)
        print(f"{path.name}: {len(counts)} distinct so far", file=sys.stderr)
    for folder in (args.shared / "plans", REPO / "tests" / "data" / "plans"):  # the collections of plan_split
        plans = sorted(folder.glob("*.txt"))
        parts = split([p.stem for p in plans])
        for path in plans:
            if parts[path.stem] == "tune":
                count_terms(path.read_text(encoding="utf-8").splitlines(), counts)
    # Terms are written in Latin letters; a run with Vietnamese marks is two words that lost their
    # space (tạiĐiều) or a foreign name.
    kept = sorted((t for t, n in counts.items() if n >= MIN_COUNT and t.isascii()), key=lambda t: (-counts[t], t))
    rows = ["term\tcount", *(f"{t}\t{counts[t]}" for t in kept)]
    atomic_write_text(args.output, "\n".join(rows) + "\n")
    print(f"wrote {args.output}: {len(kept)} terms", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
