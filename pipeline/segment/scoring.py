"""Score a Plan against a hand annotation (tests/data/segment/*.json): what the tests assert
and scripts/bench_segment.py reports. Agencies are compared after canonicalisation; a gold
name written '?Name' is one the lexicon lacks and should come out flagged unknown.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rapidfuzz import fuzz

from pipeline.document import AgencyMention, Plan, Task
from pipeline.lexicon import fold
from pipeline.segment import iter_tasks
from pipeline.vietnamese import normalize

__all__ = ["Counts", "score"]

_ROLES = ("leads", "partners", "executors")
_METADATA = ("number", "place", "date", "province", "issuing_body", "year")
_OPTIONAL_METADATA = ("period",)  # scored when the annotation has the field (conventions v2)
_SIGNER = ("name", "position", "on_behalf_of", "deputy_for", "signed")


@dataclass
class Counts:
    tp: int = 0
    gold: int = 0
    pred: int = 0

    def add(self, other: Counts) -> None:
        self.tp, self.gold, self.pred = self.tp + other.tp, self.gold + other.gold, self.pred + other.pred

    @property
    def precision(self) -> float | None:
        return self.tp / self.pred if self.pred else None

    @property
    def recall(self) -> float | None:
        return self.tp / self.gold if self.gold else None

    @property
    def f1(self) -> float | None:
        if not self.gold and not self.pred:
            return None
        return 2 * self.tp / (self.gold + self.pred)


def _same(gold: str, mention: AgencyMention) -> bool:
    if gold.startswith("?"):
        return mention.status == "unknown" and fuzz.ratio(fold(gold[1:]), fold(mention.text)) >= 70
    if mention.canonical is not None:
        return normalize(mention.canonical) == normalize(gold)
    # A body the lexicon lacks, written out in full by the annotator (conventions v2).
    return fuzz.ratio(fold(gold), fold(mention.text)) >= 90


def _agencies(gold: list[str], pred: list[AgencyMention]) -> Counts:
    used: set[int] = set()
    tp = 0
    for name in gold:
        hit = next((i for i, m in enumerate(pred) if i not in used and _same(name, m)), None)
        if hit is not None:
            used.add(hit)
            tp += 1
    return Counts(tp, len(gold), len(pred))


def _as_written(text: str) -> str:
    return " ".join(normalize(text).split()).rstrip(" .;,").casefold()


def _timeline_ok(gold: dict[str, Any] | str, task: Task | None) -> bool:
    if task is None or task.timeline is None:
        return False
    got = task.timeline
    if isinstance(gold, str):  # conventions v2: the timeline as written
        return _as_written(got.text) == _as_written(gold)
    same = (got.kind, got.start, got.end) == (gold["kind"], gold.get("start"), gold.get("end"))
    return same and got.recurring == gold.get("recurring", got.recurring)


def _metadata(plan: Plan, gold: dict[str, Any]) -> tuple[int, int, list[str]]:
    meta, wrong = plan.metadata, []
    for name in (*_METADATA, *(n for n in _OPTIONAL_METADATA if n in gold)):
        got, want = getattr(meta, name), gold.get(name)
        if (normalize(got) if isinstance(got, str) else got) != (normalize(want) if isinstance(want, str) else want):
            wrong.append(name)
    count = len(meta.recipients) if meta.recipients is not None else None
    if count != gold.get("recipients"):
        wrong.append("recipients")
    total = len(_METADATA) + sum(n in gold for n in _OPTIONAL_METADATA) + 1
    want_signer = gold.get("signer")
    if want_signer is None:
        total += 1
        if meta.signer is not None:
            wrong.append("signer")
    else:
        total += len(_SIGNER)
        for name in _SIGNER:
            got = getattr(meta.signer, name) if meta.signer else None
            want = want_signer.get(name)
            if name == "name":  # people's names are compared without diacritics
                got, want = fold(got or ""), fold(want or "")
            if got != want:
                wrong.append(f"signer.{name}")
    return total - len(wrong), total, wrong


def task_keys(plan: Plan, qualified: bool) -> dict[str, Task]:
    """Task path → task; qualified keys carry the section label ('III:1.a', conventions v2).
    When two sections share a label, the first one's tasks keep the key."""
    keys: dict[str, Task] = {}
    for section, task in iter_tasks(plan):
        keys.setdefault(f"{section.label}:{task.path}" if qualified else task.path, task)
    return keys


def score(plan: Plan | None, gold: dict[str, Any]) -> dict[str, Any]:
    """Per-document numbers; F1s are None where neither side has anything to count."""
    if plan is None:
        return {"plan": False, "expected_plan": gold.get("plan", True)}
    gold_tasks: dict[str, dict[str, Any]] = gold.get("tasks", {})
    tasks = task_keys(plan, qualified=any(":" in key for key in gold_tasks))
    task_counts = Counts(len(set(tasks) & set(gold_tasks)), len(gold_tasks), len(tasks))
    roles = {role: Counts() for role in _ROLES}
    slots: list[tuple[list[str], list[AgencyMention]]] = []
    for path in sorted(set(tasks) | set(gold_tasks)):
        for role in _ROLES:
            want = gold_tasks.get(path, {}).get(role, [])
            got = list(getattr(tasks[path], role)) if path in tasks else []
            roles[role].add(_agencies(want, got))
            slots.append((want, got))
    assignments = {a.label: a for section in plan.sections for a in section.assignments}
    gold_assignments: dict[str, list[str]] = gold.get("assignments", {})
    assigned = Counts()
    for label in sorted(set(assignments) | set(gold_assignments)):
        want = gold_assignments.get(label, [])
        got = list(assignments[label].agencies) if label in assignments else []
        assigned.add(_agencies(want, got))
        slots.append((want, got))
    everything = Counts()
    for counts in (*roles.values(), assigned):
        everything.add(counts)
    # Canonicalisation on its own: slots split into as many mentions as the annotation has,
    # paired in order; unknown flags checked against the '?' names of their slot.
    pairs = [(w, m) for want, got in slots if len(want) == len(got) for w, m in zip(want, got, strict=True)]
    flagged = [(want, m) for want, got in slots for m in got if m.status == "unknown"]
    right_flags = sum(any(w.startswith("?") and _same(w, m) for w in want) for want, m in flagged)
    timelines = [(path, t["timeline"]) for path, t in gold_tasks.items() if "timeline" in t]
    meta_ok, meta_total, meta_wrong = _metadata(plan, gold.get("metadata", {}))
    kinds = [s.kind for s in plan.sections]
    want_kinds = gold.get("sections", [])
    debris = {kind: sum(d.kind == kind for d in plan.debris) for kind in gold.get("debris", {})}
    return {
        "plan": True,
        "expected_plan": gold.get("plan", True),
        "language": plan.language == gold.get("language", plan.language),
        "sections": (sum(a == b for a, b in zip(kinds, want_kinds, strict=False)), max(len(kinds), len(want_kinds))),
        "section_kinds": kinds,
        "tasks": task_counts,
        "missing_tasks": sorted(set(gold_tasks) - set(tasks)),
        "extra_tasks": sorted(set(tasks) - set(gold_tasks)),
        **{role: counts for role, counts in roles.items()},
        "assignments": assigned,
        "agencies": everything,
        "timelines": (sum(_timeline_ok(t, tasks.get(p)) for p, t in timelines), len(timelines)),
        "metadata": (meta_ok, meta_total),
        "metadata_wrong": meta_wrong,
        "canonical": (sum(_same(w, m) for w, m in pairs), len(pairs)),
        "unknown_flags": (right_flags, len(flagged)),
        "debris": all(debris[kind] >= n for kind, n in gold.get("debris", {}).items()),
    }
