"""Our multi-turn judge against bfcl-eval's OWN multi_turn_checker, on every multi-turn entry of BFCL v4.

For each of the 800 entries (base, miss_func, miss_param, long_context) we build trajectories (turns of
steps of calls) from the ground truth: the ground truth itself (one step per turn, written as BFCL writes
it, positional arguments included), then perturbations of each turn that calls something: a call dropped,
a call's first argument given a wrong value, an argument renamed, two adjacent calls swapped, an extra
state-changing call of each involved API, an extra read-only call, an unknown function, the calls split one
per step, the calls moved to the end of the previous turn, the turn left empty; and the conversation
stopped before its last turn. Both sides judge every trajectory: ours with
``inftool.evaluate.multi_turn_check.check_trajectory``, theirs with ``multi_turn_checker`` imported from the
bfcl-eval wheel, given the calls as BFCL's decoder writes native calls (``name(arg=repr(value), ...)``) and
after the two checks its eval runner makes first (empty steps dropped, a conversation with fewer turns
force-terminated). Verdicts (valid or not) and error kinds must agree on every trajectory. Run with ``-s``
to see the counts per category and perturbation.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from perturbations import wrong_value

from inftool.core.episode import Call
from inftool.evaluate import runner
from inftool.evaluate.items import Item
from inftool.evaluate.multi_turn import CATEGORIES
from inftool.evaluate.multi_turn_check import check_trajectory

KINDS = {"multi_turn:force_terminated": "step_limit", "multi_turn:empty_turn_model_response": "missing_call",
         "multi_turn:instance_state_mismatch": "state_mismatch",
         "multi_turn:execution_response_mismatch": "response_mismatch"}
"""The official checker's error types and ours."""

CHANGING = {"GorillaFileSystem": Call("touch", {"file_name": "qx_extra.txt"}),
            "MessageAPI": Call("add_contact", {"user_name": "qx_extra"}),
            "TwitterAPI": Call("post_tweet", {"content": "qx extra"}),
            "TicketAPI": Call("create_ticket", {"title": "qx extra"}),
            "TradingBot": Call("fund_account", {"amount": 7.25}),
            "TravelAPI": Call("authenticate_travel", {"client_id": "qx", "client_secret": "qx", "refresh_token": "qx",
                                                      "grant_type": "read", "user_first_name": "Qx",
                                                      "user_last_name": "Extra"}),
            "VehicleControlAPI": Call("setHeadlights", {"mode": "on"})}
"""A call per API that changes its state (when the API lets it: some need a login first)."""

READING = {"GorillaFileSystem": Call("pwd", {}), "MathAPI": Call("add", {"a": 1, "b": 2}),
           "MessageAPI": Call("list_users", {}), "TwitterAPI": Call("posting_get_login_status", {}),
           "TicketAPI": Call("ticket_get_login_status", {}), "TradingBot": Call("trading_get_login_status", {}),
           "TravelAPI": Call("list_all_airports", {}), "VehicleControlAPI": Call("get_current_speed", {})}
"""A call per API that reads and changes nothing."""

Trajectory = list[list[list[Call]]]


def with_turn(reference: Trajectory, turn: int, steps: list[list[Call]]) -> Trajectory:
    return [steps if t == turn else list(steps_) for t, steps_ in enumerate(reference)]


def turn_variants(calls: list[Call], involved: list[str]) -> Iterator[tuple[str, list[list[Call]]]]:
    """(perturbation, the turn's steps) for one turn whose ground truth calls something."""
    for i in range(len(calls)):
        yield "dropped_call", [calls[:i] + calls[i + 1:]]
    for i, call in enumerate(calls):
        if call.arguments:
            first = next(iter(call.arguments))
            changed = Call(call.name, {**call.arguments, first: wrong_value(call.arguments[first])})
            yield "wrong_argument", [calls[:i] + [changed] + calls[i + 1:]]
    if calls[0].arguments:
        first, *_ = calls[0].arguments
        renamed = {("qx_" + k if k == first else k): v for k, v in calls[0].arguments.items()}
        yield "renamed_argument", [[Call(calls[0].name, renamed), *calls[1:]]]
    for i in range(len(calls) - 1):
        if calls[i] != calls[i + 1]:
            yield "swapped_calls", [calls[:i] + [calls[i + 1], calls[i]] + calls[i + 2:]]
    for cls in involved:
        if cls in CHANGING:
            yield "extra_state_changing_call", [[*calls, CHANGING[cls]]]
    yield "extra_read_only_call", [[READING[involved[0]], *calls]]
    yield "unknown_function", [[*calls, Call("launch_rocket", {"when": "now"})]]
    if len(calls) > 1:
        yield "one_call_per_step", [[call] for call in calls]
    yield "empty_turn", []


def trajectories(item: Item) -> Iterator[tuple[str, Trajectory, bool]]:
    """(label, trajectory, whether the official side gets BFCL's own ground-truth strings) for one entry."""
    reference = [[list(turn)] if turn else [] for turn in item.conversation.reference]
    yield "ground_truth", reference, True
    involved = item.conversation.involved
    for turn, steps in enumerate(reference):
        if not steps:
            continue
        for label, changed in turn_variants(steps[0], involved):
            yield label, with_turn(reference, turn, changed), False
        if turn > 0:
            moved = with_turn(reference, turn, [])
            moved[turn - 1] = [*moved[turn - 1], steps[0]]
            yield "moved_to_previous_turn", moved, False
    yield "stopped_early", reference[:-1], False


def python_call(call: Call) -> str:
    """A call as BFCL's decoder writes a native tool call for its executor."""
    return f"{call.name}({','.join(f'{k}={v!r}' for k, v in call.arguments.items())})"


class Official:
    """bfcl-eval's multi_turn_checker, after its eval runner's own two checks."""

    def __init__(self, checker: Any, utils: Any):
        self.checker, self.utils, self.runs = checker, utils, 0

    def verdict(self, entry: dict[str, Any], decoded: list[list[list[str]]], truth: list[list[str]],
                category: str) -> tuple[bool, str | None]:
        decoded = [[step for step in turn if step] for turn in decoded]  # its runner skips empty steps
        if len(decoded) != len(truth):
            return False, "step_limit"
        self.runs += 1
        model = f"inftool_agreement_{self.runs}"  # its instances live in a module dict keyed by this name
        try:
            result = self.checker.multi_turn_checker(decoded, truth, entry, category, model)
        finally:
            for name in [n for n in vars(self.utils) if n.startswith(model)]:
                del vars(self.utils)[name]
        return bool(result["valid"]), None if result["valid"] else KINDS[result["error_type"]]


@pytest.fixture(scope="module")
def official(official_multi_turn) -> Official:
    return Official(*official_multi_turn)


@pytest.mark.parametrize("category", CATEGORIES)
def test_our_verdicts_agree_with_the_official_multi_turn_checker(category, official, bfcl):
    entries = {entry["id"]: entry for entry in bfcl.questions(category)}
    answers = bfcl.answers(category)
    counts: Counter = Counter()
    disagreements = []
    for item in runner.bfcl_items([category]):
        entry, truth = entries[item.item_id], answers[item.item_id]
        for label, trajectory, bfcl_strings in trajectories(item):
            decoded = [[list(t)] if t else [] for t in truth] if bfcl_strings else \
                [[[python_call(c) for c in step] for step in turn] for turn in trajectory]
            theirs = official.verdict(entry, decoded, truth, category)
            ours = check_trajectory(item, trajectory)
            counts[(label, "cases")] += 1
            counts[(label, "invalid")] += not theirs[0]
            if (ours.valid, ours.error_kind) != theirs:
                disagreements.append((item.item_id, label, (ours.valid, ours.error_kind, ours.message), theirs))
    labels = sorted({label for label, _ in counts})
    print(f"\n{category}: {sum(counts[(l, 'cases')] for l in labels)} trajectories; " + ", ".join(
        f"{l} {counts[(l, 'cases')]} ({counts[(l, 'invalid')]} invalid)" for l in labels))
    assert not disagreements, f"{len(disagreements)} disagreements, e.g. {disagreements[:3]}"
    assert counts[("ground_truth", "invalid")] == 0 and counts[("stopped_early", "invalid")] == len(entries)
    assert counts[("dropped_call", "invalid")] > 0 and counts[("extra_read_only_call", "invalid")] == 0
