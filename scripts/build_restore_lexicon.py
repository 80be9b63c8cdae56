"""Build corpora/restore_lexicon.tsv: the output vocabulary of diacritic restoration, with counts.

    .venv/bin/python scripts/build_restore_lexicon.py      # reads ../shared/corpora

Rows are `text, count, kind` (lower-case NFC, classic tone placement): every syllable of
syllables-vi.txt, the frequent syllable-shaped tokens hunspell lacks (sỹ, huế, cược) unless they
look like typos of a far more frequent spelling (môt, đươc), and frequent non-syllable tokens
(acronyms such as ubnd, hđnd, kh&cn; loanwords and names) counted on a sample of the training
corpora (never heldout/). Word lists and counts only, no sentences.
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipeline.vietnamese import has_diacritics, normalize, strip_diacritics  # noqa: E402

WIKI_WEIGHT = 0.25  # wiki is off-domain (foreign names): it only breaks ties between rare syllables
MIN_EXTRA_SYLLABLE = 50  # a diacritic syllable missing from hunspell needs this many occurrences
MIN_EXTRA_ASCII = 200  # ... an unaccented one (mostly English words and names) this many
TYPO_RATIO = 300  # ... and must not be this many times rarer than a same-letter hunspell syllable
MIN_TOKEN = 30  # acronyms and accented non-syllable tokens: occurrences in the sample
MIN_TOKEN_PLAIN = 100  # other non-syllable tokens (names, loanwords)
# (file, first line, lines) of the training corpora sampled for non-syllable tokens
SAMPLE = [
    ("admin-000.txt.gz", 0, 10_000),
    ("legal-000.txt.gz", 0, 40_000),
    ("legal-002.txt.gz", 127_534, 11_735),  # ALQAC and CongBot: whole administrative documents
    ("news-000.txt.gz", 0, 6_000),
]
_TOKEN = re.compile(r"[^\W\d_]+(?:&[^\W\d_]+)*")


def read_syllables(corpora: Path) -> tuple[set[str], Counter[str]]:
    """Hunspell syllables and weighted counts of every syllable-shaped token, normalised."""
    hunspell = {normalize(s.strip()) for s in (corpora / "syllables-vi.txt").read_text("utf-8").split() if s.strip()}
    counts: Counter[str] = Counter()
    with open(corpora / "syllable-freq-vi.tsv", encoding="utf-8") as handle:
        next(handle)
        for line in handle:
            text, main, wiki, _ = line.rstrip("\n").split("\t")
            counts[normalize(text)] += int(main) + WIKI_WEIGHT * int(wiki)
    return hunspell, counts


def select_syllables(hunspell: set[str], counts: Counter[str]) -> dict[str, int]:
    """Hunspell syllables (count ≥ 1) plus frequent non-hunspell ones that are not typos."""
    best: dict[str, float] = defaultdict(float)  # skeleton -> count of its most frequent hunspell syllable
    for text in hunspell:
        key = strip_diacritics(text)
        best[key] = max(best[key], counts[text])
    chosen = {text: max(1, round(counts[text])) for text in hunspell}
    for text, count in counts.items():
        if text in hunspell:
            continue
        floor = MIN_EXTRA_SYLLABLE if has_diacritics(text) else MIN_EXTRA_ASCII
        if count >= floor and count * TYPO_RATIO >= best.get(strip_diacritics(text), 0):
            chosen[text] = round(count)
    return chosen


def sample_lines(corpora: Path) -> itertools.chain[str]:
    streams = []
    for name, start, n in SAMPLE:
        path = corpora / name
        if path.exists():
            streams.append(itertools.islice(gzip.open(path, "rt", encoding="utf-8"), start, start + n))
    return itertools.chain(*streams)


def select_tokens(corpora: Path, syllables: dict[str, int]) -> dict[str, int]:
    """Frequent non-syllable tokens of the sample: acronyms (ubnd, hđnd), loanwords, names."""
    total: Counter[str] = Counter()
    upper: Counter[str] = Counter()
    for line in sample_lines(corpora):
        for token in _TOKEN.findall(normalize(line)):
            low = token.lower()
            if low in syllables or not 2 <= len(low) <= 12:
                continue
            total[low] += 1
            upper[low] += token.isupper()
    kept = {}
    for low, count in total.items():
        acronym = upper[low] * 2 >= count
        if count >= (MIN_TOKEN if acronym or has_diacritics(low) else MIN_TOKEN_PLAIN):
            kept[low] = count
    return kept


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora", type=Path, default=REPO.parent / "shared" / "corpora")
    parser.add_argument("--out", type=Path, default=REPO / "corpora" / "restore_lexicon.tsv")
    args = parser.parse_args(argv)
    if not (args.corpora / "syllables-vi.txt").exists():
        sys.exit(f"{args.corpora}: syllables-vi.txt not found")

    hunspell, counts = read_syllables(args.corpora)
    syllables = select_syllables(hunspell, counts)
    tokens = select_tokens(args.corpora, syllables)
    rows = sorted(((t, c, "syllable") for t, c in syllables.items()), key=lambda r: (-r[1], r[0]))
    rows += sorted(((t, c, "token") for t, c in tokens.items()), key=lambda r: (-r[1], r[0]))
    with open(args.out, "w", encoding="utf-8") as out:
        out.write("text\tcount\tkind\n")
        out.writelines(f"{t}\t{c}\t{k}\n" for t, c, k in rows)
    extra = len(syllables) - len(hunspell)
    print(f"wrote {args.out}: {len(syllables)} syllables ({extra} beyond hunspell), {len(tokens)} tokens")


if __name__ == "__main__":
    main()
