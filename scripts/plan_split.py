"""The held-out split of the development plans, fixed before any tuning (tests/data/segment/GUIDE.md).

A document is held out when it is among the first third (rounded up) of its collection ranked
by sha256("gazette-heldout:" + id). Collections: ../shared/plans and tests/data/plans.

    python scripts/plan_split.py [--shared ../shared]
"""

from __future__ import annotations

import argparse
import hashlib
import math
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def split(ids: list[str]) -> dict[str, str]:
    """id → 'heldout' or 'tune'."""
    ranked = sorted(ids, key=lambda i: hashlib.sha256(f"gazette-heldout:{i}".encode()).hexdigest())
    held = set(ranked[: math.ceil(len(ranked) / 3)])
    return {i: "heldout" if i in held else "tune" for i in sorted(ids)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    args = parser.parse_args()
    for folder in (args.shared / "plans", ROOT / "tests" / "data" / "plans"):
        ids = [p.stem for p in folder.glob("*.txt")]
        print(f"# {folder} ({len(ids)})")
        for doc_id, part in split(ids).items():
            print(f"{part}\t{doc_id}")


if __name__ == "__main__":
    main()
