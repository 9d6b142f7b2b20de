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


# --- stateful cells: failures by environment, tool and error kind ---------------------------------------------------

FILES, TICKETS = "bfcl_env:gorilla_file_system", "bfcl_env:ticket_api"
ENVS = {"cd": FILES, "mv": FILES, "ls": FILES, "close_ticket": TICKETS, "edit_ticket": TICKETS}
STATEFUL = cells(*(("stateful", tool) for tool in ENVS), ("single", "a"))


def test_stateful_cells_are_targeted_by_their_tool_and_error_kind():
    results = [row("stateful", "cd", False, error_kind="state_mismatch")] * 4 + \
              [row("stateful", "close_ticket", True)] * 4
    chosen = by_cell(targeting.targets(STATEFUL, results, {}, mode="gaps", floor=0.05, environments=ENVS))
    cd = chosen[("stateful", "cd")]
    assert cd.weight == max(t.weight for t in chosen.values()) and cd.drivers["failures"] == 4
    assert (cd.drivers["top_error"], cd.drivers["environment"]) == ("state_mismatch", FILES)
    assert chosen[("stateful", "close_ticket")].need < cd.need
    assert "environment" not in chosen[("single", "a")].drivers


def test_a_failing_environment_raises_its_other_tools_too():
    """The tools of an environment share its evidence: mv and ls (no items of their own) borrow the file
    system's failure rate, the ticket tools the ticket API's."""
    results = [row("stateful", "cd", False, error_kind="state_mismatch")] * 6 + \
              [row("stateful", "close_ticket", True)] * 6
    chosen = by_cell(targeting.targets(STATEFUL, results, {}, mode="gaps", floor=0.05, environments=ENVS))
    for tool in ("mv", "ls"):
        assert chosen[("stateful", tool)].need > chosen[("stateful", "edit_ticket")].need
        assert chosen[("stateful", tool)].drivers["top_error"] == "state_mismatch"
    assert chosen[("stateful", "mv")].drivers["environment_failure_rate"] > \
        chosen[("stateful", "edit_ticket")].drivers["environment_failure_rate"]
    summary = targeting.summary(list(chosen.values()), "gaps", 0.05)
    assert summary["most_raised"][0]["environment"] == FILES


def test_bfcl_conversations_count_for_their_environment_not_for_a_cell():
    results = [row("multi_turn_base", "cd", False, suite="bfcl", seen="seen", error_kind="state_mismatch")] * 6 + \
              [row("multi_turn_base", "close_ticket", False, suite="bfcl", seen="unseen")] * 6
    chosen = by_cell(targeting.targets(STATEFUL, results, {}, mode="gaps", floor=0.05, environments=ENVS))
    assert chosen[("stateful", "cd")].drivers["items"] == 0  # not this cell's evidence...
    assert chosen[("stateful", "ls")].need == pytest.approx(chosen[("stateful", "cd")].need)  # ...its environment's
    assert chosen[("stateful", "cd")].need > chosen[("stateful", "close_ticket")].need  # unseen: not counted
    assert targeting.complexity_of("bfcl", "multi_turn_long_context") == "stateful"


def test_a_turn_that_reached_the_state_but_hid_a_result_counts_partly():
    results = [row("stateful", "cd", False, error_kind="response_mismatch")] * 4 + \
              [row("stateful", "close_ticket", False, error_kind="missing_call")] * 4
    chosen = by_cell(targeting.targets(STATEFUL, results, {}, mode="gaps", floor=0.05, environments=ENVS))
    assert chosen[("stateful", "cd")].drivers["failures"] == 4 * targeting.PARTIAL
    assert chosen[("stateful", "close_ticket")].drivers["failures"] == 4
