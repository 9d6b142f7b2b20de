"""Gap targeting: failures and gate rejections become next-iteration weights, with a floor."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from inftool.loop import targeting


def cells(*pairs, weight=1.0):
    return [SimpleNamespace(complexity=c, tool=t, weight=weight) for c, t in pairs]


def row(category, tool, valid, suite="heldout", seen=None, error_kind=None):
    return {"suite": suite, "category": category, "tool": tool, "valid": valid, "seen": seen,
            "error_kind": error_kind or (None if valid else "wrong_function")}


GRID = cells(("single", "a"), ("single", "b"), ("parallel", "a"), ("parallel", "b"))


def by_cell(chosen):
    return {(t.complexity, t.tool): t for t in chosen}


def test_failing_cells_gain_weight_and_the_total_is_kept():
    results = [row("single", "a", False)] * 6 + [row("single", "b", True)] * 6 + \
              [row("parallel", "a", True)] * 3 + [row("parallel", "b", True)] * 3
    chosen = by_cell(targeting.targets(GRID, results, {}, mode="gaps", floor=0.05))
    assert sum(t.weight for t in chosen.values()) == pytest.approx(4.0)
    assert chosen[("single", "a")].weight > 2 * chosen[("single", "b")].weight
    assert chosen[("single", "a")].drivers["failures"] == 6
    assert chosen[("single", "a")].drivers["top_error"] == "wrong_function"
    # a cell without evidence of its own borrows from its tool and its complexity
    assert chosen[("parallel", "a")].need > chosen[("parallel", "b")].need


def test_the_floor_keeps_every_cell_alive():
    results = [row("single", "a", False)] * 50 + [row(c, t, True) for c, t in
                                                   [("single", "b"), ("parallel", "a"), ("parallel", "b")] * 50]
    chosen = targeting.targets(GRID, results, {}, mode="gaps", floor=0.2)
    least = min(t.weight / t.base_weight for t in chosen)
    top = max(t.weight / t.base_weight for t in chosen)
    assert least > 0 and top / least <= 1 / 0.2 + 1e-9


def test_gate_rejections_count_as_need():
    rejections = {("parallel", "b"): (8, 10)}
    chosen = by_cell(targeting.targets(GRID, [], rejections, mode="gaps", floor=0.05))
    assert chosen[("parallel", "b")].need == pytest.approx(0.8)
    assert chosen[("parallel", "b")].drivers["rejection_rate"] == 0.8
    assert chosen[("parallel", "b")].weight == max(t.weight for t in chosen.values())


def test_bfcl_questions_count_only_when_their_tools_were_seen_and_map_to_a_complexity():
    results = [row("simple_python", "a", False, suite="bfcl", seen="seen")] * 5 + \
              [row("simple_python", "b", False, suite="bfcl", seen="unseen")] * 5
    chosen = by_cell(targeting.targets(GRID, results, {}, mode="gaps", floor=0.05))
    assert chosen[("single", "a")].drivers["items"] == 5
    assert chosen[("single", "b")].drivers["items"] == 0
    assert targeting.complexity_of("bfcl", "parallel_multiple") == "parallel_multiple"
    assert targeting.complexity_of("bfcl", "simple_java") == "single"


def test_bfcl_dotted_names_map_to_catalog_names():
    results = [row("simple_python", "math.factorial", False, suite="bfcl", seen="seen")] * 4
    grid = cells(("single", "math_factorial"), ("single", "other"))
    chosen = by_cell(targeting.targets(grid, results, {}, mode="gaps", floor=0.05,
                                       tool_names={"math.factorial": "math_factorial"}))
    assert chosen[("single", "math_factorial")].drivers["failures"] == 4


def test_uniform_keeps_the_base_weights_but_records_the_need():
    results = [row("single", "a", False)] * 6
    chosen = by_cell(targeting.targets(GRID, results, {}, mode="uniform", floor=0.05))
    assert all(t.weight == t.base_weight for t in chosen.values())
    assert chosen[("single", "a")].need > chosen[("single", "b")].need


def test_summary_names_the_most_raised_cells():
    results = [row("single", "a", False)] * 6 + [row("single", "b", True)] * 6
    chosen = targeting.targets(GRID, results, {}, mode="gaps", floor=0.05)
    summary = targeting.summary(chosen, "gaps", 0.05)
    assert summary["most_raised"][0]["tool"] == "a" and summary["most_raised"][0]["complexity"] == "single"
    assert sum(summary["complexity_share_after"].values()) == pytest.approx(1.0, abs=1e-3)


def test_a_wrong_tool_counts_more_than_a_wrong_value():
    results = [row("single", "a", False, error_kind="wrong_function")] * 6 + \
              [row("single", "b", False, error_kind="wrong_value")] * 6
    chosen = by_cell(targeting.targets(GRID, results, {}, mode="gaps", floor=0.05))
    assert chosen[("single", "a")].weight > chosen[("single", "b")].weight > chosen[("parallel", "b")].weight * 0
    assert chosen[("single", "b")].drivers["failures"] == 3.0
