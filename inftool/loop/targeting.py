"""Gap targeting: the next iteration's scenario weights from where the policy failed.

Evidence per scenario cell (complexity, tool), from the latest evaluation and the latest synthesis:

- held-out synthetic episodes: each item names its cell exactly (a stateful episode by its first planned call);
- BFCL questions whose tools synthesis used: each names a tool, and its category a complexity
  (simple_* -> single, multiple, parallel, parallel_multiple, irrelevance);
- BFCL multi-turn conversations whose functions synthesis used: evidence for the ``stateful`` kind and for the
  environment of the tool they first call, not for one cell (a conversation exercises many tools over many
  turns, and the tool it first calls is rarely where it failed);
- gate rejections of the iteration's episodes, per cell.

A failure counts by its error kind: a wrong or missing call (the policy could not pick the tool), a world left
in another state than the plan's, or a conversation stopped at the step limit counts 1; a right call with a
wrong, missing or extra argument, or a turn that reached the planned state but never showed the policy a
planned result, counts ``PARTIAL`` (it picked the tool, or changed the world right; the rest needs work).

Cells are many and items few, so failure rates are smoothed towards coarser ones (a Beta prior of strength
``PRIOR``): a tool of a stateful environment (``environments``: tool -> environment) towards its environment's
rate, which goes towards the overall rate, any other tool towards the overall rate, a complexity's likewise, and
a cell's towards the mean of its tool's and its complexity's. So the tools of an environment the policy fails
on share that evidence, and a cell's drivers name its environment and that environment's failure rate. A
cell's ``need`` is the larger of its smoothed
failure rate and its gate rejection rate, and its weight is ``base * (floor + (1 - floor) * need)``,
renormalised to the base total: ``floor`` keeps every cell at least that share of its base weight.
``uniform`` targeting keeps the base weights and still records each cell's need and drivers, so a
targeted and an untargeted run can be compared on the same cells.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from inftool.core.scenarios import Target

PRIOR = 2.0
PARTIAL = 0.5
"""What a failure with the right function but wrong arguments counts, against 1 for a wrong or missing call."""
ARGUMENT_ERRORS = frozenset({"wrong_value", "wrong_type", "missing_parameter", "unexpected_parameter"})
PARTIAL_ERRORS = ARGUMENT_ERRORS | {"response_mismatch"}
"""Error kinds that count ``PARTIAL``: the right function with wrong arguments, or a multi-turn turn that reached
the planned state without showing the policy a planned result."""
BFCL_COMPLEXITY = {"multiple": "multiple", "parallel": "parallel", "parallel_multiple": "parallel_multiple",
                   "irrelevance": "irrelevance", "live_irrelevance": "irrelevance", "live_multiple": "multiple",
                   "live_parallel": "parallel", "live_parallel_multiple": "parallel_multiple"}


@dataclass
class _Tally:
    items: int = 0
    failures: float = 0.0
    errors: Counter = field(default_factory=Counter)

    def add(self, valid: bool, error_kind: str | None) -> None:
        self.items += 1
        if not valid:
            self.failures += PARTIAL if error_kind in PARTIAL_ERRORS else 1.0
            self.errors[error_kind or "wrong"] += 1

    def rate(self, prior: float) -> float:
        return (self.failures + PRIOR * prior) / (self.items + PRIOR)


def complexity_of(suite: str, category: str) -> str:
    """The scenario kind an evaluation item speaks for (BFCL's multi-turn categories: ``stateful``)."""
    if suite != "bfcl":
        return category
    if is_conversation(suite, category):
        return "stateful"
    return BFCL_COMPLEXITY.get(category, "single")


def is_conversation(suite: str, category: str) -> bool:
    """Whether an evaluation item is a whole multi-turn conversation (BFCL's ``multi_turn_*``)."""
    return suite == "bfcl" and category.startswith("multi_turn")


def targets(cells: Iterable[Any], results: Iterable[Mapping[str, Any]], rejections: Mapping[tuple[str, str], tuple[int, int]],
            *, mode: str, floor: float, tool_names: Mapping[str, str] | None = None,
            environments: Mapping[str, str] | None = None) -> list[Target]:
    """Next-iteration weights for the plan's ``cells`` (objects with complexity, tool, weight).

    ``results``: evaluation rows (suite, category, tool, valid, error_kind, seen); BFCL rows count only
    when ``seen == 'seen'``, multi-turn ones for their kind and environment only. ``rejections``: (complexity,
    tool) -> (rejected, total) episodes of the iteration. ``tool_names`` maps an evaluated function name (BFCL's
    dotted one) to the catalog's; ``environments`` maps a catalog tool of a stateful environment to its
    environment (``Tool.meta["env"]``).
    """
    cells = list(cells)
    names, envs = dict(tool_names or {}), dict(environments or {})
    by_cell: dict[tuple[str, str], _Tally] = defaultdict(_Tally)
    by_tool: dict[str, _Tally] = defaultdict(_Tally)
    by_kind: dict[str, _Tally] = defaultdict(_Tally)
    by_env: dict[str, _Tally] = defaultdict(_Tally)
    overall = _Tally()
    for row in results:
        if row["suite"] == "bfcl" and row.get("seen") != "seen":
            continue
        kind = complexity_of(row["suite"], row["category"])
        tool = names.get(row.get("tool") or "", row.get("tool") or "")
        tallies = [by_kind[kind], overall, *((by_env[envs[tool]],) if tool in envs else ())]
        if not is_conversation(row["suite"], row["category"]):
            tallies += [by_cell[(kind, tool)], by_tool[tool]]
        for tally in tallies:
            tally.add(bool(row["valid"]), row.get("error_kind"))
    base_rate = overall.rate(0.5)
    out = []
    for cell in cells:
        key = (cell.complexity, cell.tool)
        env = envs.get(cell.tool)
        kind_rate = by_kind[cell.complexity].rate(base_rate)
        env_rate = by_env[env].rate(base_rate) if env else None
        tool_rate = by_tool[cell.tool].rate(base_rate if env_rate is None else env_rate)
        cell_tally = by_cell[key]
        failure = cell_tally.rate((kind_rate + tool_rate) / 2)
        rejected, total = rejections.get(key, (0, 0))
        rejection = rejected / total if total else 0.0
        need = max(failure, rejection)
        errors = cell_tally.errors or by_tool[cell.tool].errors
        drivers = {"items": cell_tally.items, "failures": round(cell_tally.failures, 2), "failure_rate": round(failure, 4),
                   "complexity_failure_rate": round(kind_rate, 4), "tool_failure_rate": round(tool_rate, 4),
                   "rejected": rejected, "episodes": total, "rejection_rate": round(rejection, 4),
                   "top_error": errors.most_common(1)[0][0] if errors else None}
        if env:
            env_errors = by_env[env].errors
            drivers |= {"environment": env, "environment_failure_rate": round(env_rate, 4),
                        "top_error": drivers["top_error"] or (env_errors.most_common(1)[0][0] if env_errors else None)}
        weight = cell.weight if mode == "uniform" else cell.weight * (floor + (1.0 - floor) * need)
        out.append(Target(cell.complexity, cell.tool, weight, cell.weight, round(need, 6), drivers))
    base_total, new_total = sum(t.base_weight for t in out), sum(t.weight for t in out)
    if new_total > 0 and mode != "uniform":
        scale = base_total / new_total
        out = [Target(t.complexity, t.tool, t.weight * scale, t.base_weight, t.need, t.drivers) for t in out]
    return out


def summary(chosen: list[Target], mode: str, floor: float, top: int = 10) -> dict[str, Any]:
    """What the iteration's row in ``iterations.weights`` keeps: shares per complexity, before and after,
    and the cells targeting raised most."""
    before: dict[str, float] = defaultdict(float)
    after: dict[str, float] = defaultdict(float)
    for t in chosen:
        before[t.complexity] += t.base_weight
        after[t.complexity] += t.weight
    total_before, total_after = sum(before.values()) or 1.0, sum(after.values()) or 1.0
    raised = sorted(chosen, key=lambda t: (-(t.weight / t.base_weight if t.base_weight else 0), t.complexity, t.tool))
    return {"targeting": mode, "floor": floor,
            "complexity_share_before": {k: round(v / total_before, 4) for k, v in sorted(before.items())},
            "complexity_share_after": {k: round(v / total_after, 4) for k, v in sorted(after.items())},
            "most_raised": [{"complexity": t.complexity, "tool": t.tool, "ratio": round(t.weight / t.base_weight, 3),
                             "need": t.need, "top_error": t.drivers.get("top_error"),
                             **({"environment": t.drivers["environment"]} if "environment" in t.drivers else {})}
                            for t in raised[:top] if t.base_weight]}
