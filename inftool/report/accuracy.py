"""Accuracy per checkpoint, series and category, arranged for the report from the store's evaluation
counts; and the orders the report lists complexities and categories in."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, get_args

from inftool.spec.catalogs import BfclEvalCategory
from inftool.spec.scenarios import COMPLEXITIES

CHECKPOINT_POLICIES = ("untrained", "sft", "grpo")
"""The loop's evaluation labels, in the order they happen within an iteration."""

BFCL_SPLITS = ("seen", "unseen", "mixed")


def complexity_order(names: set[str] | list[str]) -> list[str]:
    """Complexities in the recipe language's order (single, parallel, ...), unknown ones after, sorted."""
    known = [c for c in COMPLEXITIES if c in names]
    return known + sorted(set(names) - set(known))


def category_order(names: set[str] | list[str]) -> list[str]:
    """Evaluation categories: BFCL's in its own order, then scenario complexities, then others sorted."""
    order = {name: i for i, name in enumerate(dict.fromkeys([*get_args(BfclEvalCategory), *COMPLEXITIES]))}
    return sorted(set(names), key=lambda n: (order.get(n, len(order)), n))


# --- accuracy --------------------------------------------------------------------------------------

@dataclass(frozen=True, order=True)
class Checkpoint:
    """One evaluated policy at one iteration."""

    iteration: int
    policy: str

    @property
    def is_loop(self) -> bool:
        return self.policy in CHECKPOINT_POLICIES

    @property
    def label(self) -> str:
        return f"it{self.iteration} {self.policy}"

    def sort_key(self) -> tuple:
        if self.is_loop:
            return (0, self.iteration, CHECKPOINT_POLICIES.index(self.policy), "")
        return (1, 0, 0, self.policy, self.iteration)  # references: by name, then iteration


@dataclass
class Accuracy:
    """Correct / items evaluated per (series, category, checkpoint). A series is a suite or a BFCL split: BFCL
    questions by ``seen`` (whether synthesis used their tools), irrelevance categories apart (no call is
    expected, so seen says nothing; as the store's ``checkpoint_accuracy_of``), the multi-turn categories
    apart (whole conversations judged by state, another task than a single call), and "BFCL all" (every
    BFCL category, whatever its split) when there is more than one split.

    ``checkpoints`` are the loop's (untrained < sft < grpo by iteration); ``references`` every other
    evaluated policy (oracle, no-call, a recipe model), by name then iteration."""

    checkpoints: list[Checkpoint] = field(default_factory=list)
    references: list[Checkpoint] = field(default_factory=list)
    series: list[str] = field(default_factory=list)
    categories: dict[str, list[str]] = field(default_factory=dict)
    cells: dict[tuple[str, str, Checkpoint], tuple[int, int]] = field(default_factory=dict)
    """(series, category, checkpoint) -> (correct, items)."""
    errors: dict[tuple[str, Checkpoint], int] = field(default_factory=dict)
    """(error kind, checkpoint) -> wrong answers of that kind."""
    error_kinds: list[str] = field(default_factory=list)
    not_evaluated: dict[Checkpoint, int] = field(default_factory=dict)
    """checkpoint -> items without a verdict (the policy's endpoint kept failing), left out of ``cells``; only
    checkpoints that have any."""

    @property
    def columns(self) -> list[Checkpoint]:
        return self.checkpoints + self.references

    def mean(self, series: str, checkpoint: Checkpoint) -> float | None:
        """Unweighted mean over the series' categories of correct / items (None when nothing was evaluated)."""
        shares = []
        for category in self.categories.get(series, ()):
            correct, items = self.cells.get((series, category, checkpoint), (0, 0))
            if items:
                shares.append(correct / items)
        return sum(shares) / len(shares) if shares else None


def series_label(suite: str, seen: str | None) -> str:
    if suite == "bfcl":
        return f"BFCL {seen}" if seen else "BFCL"
    if suite == "heldout":
        return f"held-out {seen}" if seen else "held-out"
    return f"{suite} {seen}" if seen else suite


BFCL_ALL = "BFCL all"
BFCL_IRRELEVANCE = "BFCL irrelevance"
BFCL_MULTI_TURN = "BFCL multi-turn"


def accuracy(store: Any, run_id: str) -> Accuracy:
    rows = [r._asdict() for r in store.eval_counts(run_id)]
    result = Accuracy()
    if not rows:
        return result
    points = {Checkpoint(r["iteration"], r["policy"]) for r in rows}
    ordered = sorted(points, key=Checkpoint.sort_key)
    result.checkpoints = [p for p in ordered if p.is_loop]
    result.references = [p for p in ordered if not p.is_loop]

    cells: dict[tuple[str, str, Checkpoint], list[int]] = defaultdict(lambda: [0, 0])
    keys: dict[str, tuple] = {}
    bfcl_splits: set[str] = set()
    for r in rows:
        point = Checkpoint(r["iteration"], r["policy"])
        if r["not_evaluated"]:
            result.not_evaluated[point] = result.not_evaluated.get(point, 0) + r["not_evaluated"]
        if r["suite"] == "bfcl" and "irrelevance" in r["category"]:
            label, keys[BFCL_IRRELEVANCE] = BFCL_IRRELEVANCE, ("0bfcl", 6, "")
        elif r["suite"] == "bfcl" and r["category"].startswith("multi_turn"):
            label, keys[BFCL_MULTI_TURN] = BFCL_MULTI_TURN, ("0bfcl", 7, "")
        else:
            label = series_label(r["suite"], r["seen"])
            keys[label] = _series_key(r["suite"], r["seen"])
        cell = cells[(label, r["category"], point)]
        cell[0] += r["correct"]
        cell[1] += r["items"]
        if r["suite"] == "bfcl":
            bfcl_splits.add(label)
            total = cells[(BFCL_ALL, r["category"], point)]
            total[0] += r["correct"]
            total[1] += r["items"]
    if len(bfcl_splits) > 1:
        keys[BFCL_ALL] = ("0bfcl", 9, "")
    else:
        cells = defaultdict(lambda: [0, 0], {k: v for k, v in cells.items() if k[0] != BFCL_ALL})
    result.series = sorted(keys, key=keys.__getitem__)
    result.cells = {k: (v[0], v[1]) for k, v in cells.items()}
    by_series: dict[str, set[str]] = defaultdict(set)
    for series, category, _ in result.cells:
        by_series[series].add(category)
    result.categories = {s: category_order(by_series[s]) for s in result.series}

    result.errors = {(e.kind, Checkpoint(e.iteration, e.policy)): e.n for e in store.eval_errors(run_id)}
    totals: dict[str, int] = defaultdict(int)
    for (kind, _), n in result.errors.items():
        totals[kind] += n
    result.error_kinds = sorted(totals, key=lambda k: (-totals[k], k))
    return result


def _series_key(suite: str, seen: str | None) -> tuple:
    if suite == "bfcl":
        rank = BFCL_SPLITS.index(seen) if seen in BFCL_SPLITS else (8 if seen is None else 5)
        return ("0bfcl", rank, seen or "")
    if suite == "heldout":
        return ("1heldout", 0, seen or "")
    return ("2" + suite, 0, seen or "")
