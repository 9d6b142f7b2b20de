"""What the run report reads from the store: small aggregates computed in SQL (never a Python loop over
episodes), returned as plain Python values. Every result is sorted, so the same store gives the same
report."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

CHECKPOINT_POLICIES = ("untrained", "sft", "grpo")
"""The loop's evaluation labels, in the order they happen within an iteration."""

BFCL_SPLITS = ("seen", "unseen", "mixed")


def _dicts(store: Any, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    columns, rows = store.query(sql, params)
    return [dict(zip(columns, row, strict=True)) for row in rows]


def _loads(value: Any) -> Any:
    if value is None or not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def complexity_order(names: set[str] | list[str]) -> list[str]:
    """Complexities in the recipe language's order (single, parallel, ...), unknown ones after, sorted."""
    try:
        from inftool.spec.scenarios import COMPLEXITIES
    except ImportError:  # pragma: no cover - the spec package is part of inftool
        COMPLEXITIES = ()
    known = [c for c in COMPLEXITIES if c in names]
    return known + sorted(set(names) - set(known))


def category_order(names: set[str] | list[str]) -> list[str]:
    """Evaluation categories: BFCL's in its own order, then scenario complexities, then others sorted."""
    try:
        from typing import get_args

        from inftool.spec.catalogs import BfclCategory
        from inftool.spec.scenarios import COMPLEXITIES
        known = [*get_args(BfclCategory), *COMPLEXITIES]
    except ImportError:  # pragma: no cover - the spec package is part of inftool
        known = []
    order = {name: i for i, name in enumerate(dict.fromkeys(known))}
    return sorted(set(names), key=lambda n: (order.get(n, len(order)), n))


# --- header ----------------------------------------------------------------------------------------

def run_info(store: Any, run_id: str) -> dict[str, Any] | None:
    found = _dicts(store, "SELECT run_id, seq, name, recipe, content_hash, seed, created_at FROM runs "
                          "WHERE run_id = ?", [run_id])
    return found[0] if found else None


def iterations(store: Any, run_id: str) -> list[dict[str, Any]]:
    return _dicts(store, "SELECT iteration, status, started_at, finished_at FROM iterations WHERE run_id = ? "
                         "ORDER BY iteration", [run_id])


def stages(store: Any, run_id: str) -> list[dict[str, Any]]:
    """Stage rows in the order they started (unstarted ones last), counts parsed."""
    found = _dicts(store, "SELECT iteration, stage, status, started_at, finished_at, seconds, counts, output "
                          "FROM stages WHERE run_id = ? ORDER BY started_at NULLS LAST, iteration, stage", [run_id])
    for row in found:
        row["counts"] = _loads(row["counts"])
    return found


def episode_summary(store: Any, run_id: str) -> list[dict[str, Any]]:
    """Per iteration: episodes, accepted, accepted held-out, role-play errors."""
    return _dicts(store, """
        SELECT iteration, count(*) AS episodes,
               count(*) FILTER (WHERE accepted) AS accepted,
               count(*) FILTER (WHERE accepted AND split = 'heldout') AS heldout,
               count(*) FILTER (WHERE error IS NOT NULL) AS errors
        FROM episodes WHERE run_id = ? GROUP BY iteration ORDER BY iteration""", [run_id])


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
    """Correct / items per (series, category, checkpoint). A series is a suite or a BFCL split: BFCL
    questions by ``seen`` (whether synthesis used their tools), irrelevance categories apart (no call is
    expected, so seen says nothing; as the store's ``checkpoint_accuracy_of``), and "BFCL all" (every
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


def accuracy(store: Any, run_id: str) -> Accuracy:
    rows = _dicts(store, """
        SELECT iteration, policy, suite, seen, category, count(*) AS items, count(*) FILTER (WHERE valid) AS correct
        FROM eval_results WHERE run_id = ?
        GROUP BY ALL ORDER BY ALL""", [run_id])
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
        if r["suite"] == "bfcl" and "irrelevance" in r["category"]:
            label, keys[BFCL_IRRELEVANCE] = BFCL_IRRELEVANCE, ("0bfcl", 6, "")
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

    errors = _dicts(store, """
        SELECT iteration, policy, coalesce(error_kind, '(unspecified)') AS kind, count(*) AS n
        FROM eval_results WHERE run_id = ? AND NOT valid GROUP BY ALL ORDER BY ALL""", [run_id])
    result.errors = {(e["kind"], Checkpoint(e["iteration"], e["policy"])): e["n"] for e in errors}
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


# --- training --------------------------------------------------------------------------------------

def train_log(store: Any, run_id: str) -> list[dict[str, Any]]:
    return _dicts(store, "SELECT iteration, phase, step, loss, reward, reward_std, kl FROM train_log WHERE run_id = ? "
                         "ORDER BY iteration, phase, step", [run_id])


def train_summary(store: Any, run_id: str) -> list[dict[str, Any]]:
    """Per (iteration, phase): logged steps, first and last loss, mean and last reward, mean KL."""
    return _dicts(store, """
        SELECT iteration, phase, count(*) AS logged, min(step) AS first_step, max(step) AS last_step,
               arg_min(loss, step) FILTER (WHERE loss IS NOT NULL) AS first_loss,
               arg_max(loss, step) FILTER (WHERE loss IS NOT NULL) AS last_loss,
               avg(reward) AS mean_reward,
               arg_max(reward, step) FILTER (WHERE reward IS NOT NULL) AS last_reward,
               avg(kl) AS mean_kl
        FROM train_log WHERE run_id = ?
        GROUP BY iteration, phase
        ORDER BY iteration, CASE phase WHEN 'sft' THEN 0 WHEN 'grpo' THEN 1 ELSE 2 END, phase""", [run_id])


# --- coverage, gates, gaps, targeting ----------------------------------------------------------------

def coverage_cells(store: Any, run_id: str) -> list[dict[str, Any]]:
    return _dicts(store, "SELECT tool, complexity, accepted, rejected, total FROM coverage_cells_of(?) "
                         "ORDER BY tool, complexity", [run_id])


def gate_pass_rates(store: Any, run_id: str) -> list[dict[str, Any]]:
    """Rows (gate, complexity, evaluated, passed, pass_rate) in the order the gates ran."""
    return _dicts(store, "SELECT gate, complexity, evaluated, passed, pass_rate FROM gate_pass_rates_of(?)", [run_id])


def gaps(store: Any, run_id: str, limit: int = 20) -> list[dict[str, Any]]:
    return _dicts(store, f"SELECT * FROM gaps_of(?) ORDER BY rank LIMIT {int(limit)}", [run_id])


def targeting(store: Any, run_id: str, limit: int = 15) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(per targeted iteration: cells, boosted, lowered, need; the top ``limit`` cells of each by
    ``ratio``, drivers parsed).

    ``ratio`` compares shares, not raw weights: (weight / the iteration's total weight) / (base_weight /
    its total base weight), so it reads the same whether or not the loop normalised the weights; > 1
    means the cell gets a larger share of the iteration's episodes than the plan gave it. Boosted and
    lowered count cells whose share moved by more than 0.1%."""
    cells = """
        SELECT *, CASE WHEN base_weight > 0 AND total_weight > 0
                       THEN (weight / total_weight) / (base_weight / total_base) END AS ratio
        FROM (SELECT *, sum(weight) OVER w AS total_weight, sum(base_weight) OVER w AS total_base
              FROM scenarios WHERE run_id = ? AND base_weight IS NOT NULL
              WINDOW w AS (PARTITION BY iteration))"""
    summary = _dicts(store, f"""
        SELECT iteration, count(*) AS cells,
               count(*) FILTER (WHERE ratio > 1.001) AS boosted,
               count(*) FILTER (WHERE ratio < 0.999) AS lowered,
               avg(need) AS mean_need, max(need) AS max_need
        FROM ({cells}) GROUP BY iteration ORDER BY iteration""", [run_id])
    top = _dicts(store, f"""
        SELECT iteration, complexity, tool, weight, base_weight, ratio, need, drivers FROM (
            SELECT *, row_number() OVER (PARTITION BY iteration ORDER BY round(ratio, 9) DESC NULLS LAST,
                                         need DESC NULLS LAST, complexity, tool) AS r
            FROM ({cells}))
        WHERE r <= {int(limit)} ORDER BY iteration, r""", [run_id])
    for row in top:
        row["drivers"] = _loads(row["drivers"])
    return summary, top
