"""Judge a multi-turn conversation the way BFCL's multi-turn checker does.

The ground truth runs on a world of its own, started from the same initial state as the model's. After
each turn whose ground truth calls something:

1. the model must have called something in that turn (else ``missing_call``);
2. every environment's state must equal the ground truth's: each public attribute of the ground truth's
   instance compared with ``==`` (else ``state_mismatch``);
3. every result the ground truth's calls of the turn produced must be among the results of the model's
   calls so far, in this turn or an earlier one, counted with multiplicity and in any order (else
   ``response_mismatch``): reading a file and not saying what it holds fails, whatever the state.

A turn whose ground truth is empty (the request cannot be done yet: a missing function or parameter) is
not judged, but the model's calls in it still run, so they count in later turns' states. The first turn
that fails decides; a conversation stopped before its last turn (a turn went past BFCL's step limit) is
``step_limit``. ``tests/evaluate/test_multi_turn_agreement.py`` checks every verdict against bfcl-eval's
own ``multi_turn_checker``.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from inftool.core.episode import Call
from inftool.envs import EnvironmentGroup

from .checker import VALID, Verdict
from .items import Item
from .multi_turn import environment_for


class TurnChecker:
    """The verdict of one multi-turn item, given turn by turn as the model's turns end (`after_turn`)."""

    def __init__(self, item: Item):
        self.reference = item.conversation.reference
        self.world = environment_for(item)
        self.results: list[str] = []
        """Every result the model's calls have produced so far."""

    def after_turn(self, turn: int, steps: list[list[Call]], model: EnvironmentGroup,
                   results: list[str]) -> Verdict | None:
        """Judge ``turn`` once the model has made ``steps`` (its calls, step by step) with these ``results`` on
        ``model``: the failure, or None when the turn passes (or is not judged)."""
        self.results += results
        expected = self.reference[turn]
        expected_results = [self.world.call(call.name, call.arguments) for call in expected]
        if not expected:
            return None
        if not any(steps):
            return Verdict(False, "missing_call", f"turn {turn}: no call, where the ground truth calls "
                                                  + ", ".join(call.name for call in expected))
        differences = state_differences(model, self.world)
        if differences:
            return Verdict(False, "state_mismatch", f"turn {turn}: the state differs from the ground truth's: "
                                                    + "; ".join(differences))
        missing = missing_results(expected_results, self.results)
        if missing:
            return Verdict(False, "response_mismatch", f"turn {turn}: {len(missing)} result(s) of the ground truth's "
                                                       f"calls never came back to the model: {_short(missing[0])}")
        return None


def check_trajectory(item: Item, turns: list[list[list[Call]]]) -> Verdict:
    """The verdict on a finished conversation: each turn's steps, each step's calls (run here on a fresh world)."""
    expected = len(item.conversation.reference)
    if len(turns) != expected:
        return stopped_early(len(turns), expected)
    model, checker = environment_for(item), TurnChecker(item)
    for turn, steps in enumerate(turns):
        steps = [step for step in steps if step]
        results = [model.call(call.name, call.arguments) for step in steps for call in step]
        verdict = checker.after_turn(turn, steps, model, results)
        if verdict is not None:
            return verdict
    return VALID


def stopped_early(turns: int, expected: int) -> Verdict:
    return Verdict(False, "step_limit", f"the conversation was stopped after {turns} of its {expected} turns "
                                        "(a turn went past BFCL's step limit)")


def state_differences(model: EnvironmentGroup, reference: EnvironmentGroup) -> list[str]:
    """What differs between the two worlds: ``Class.attribute`` for each public attribute of the reference's
    environments that the model's lacks or holds another value of."""
    differences = []
    for key, environment in reference.members.items():
        theirs, ours = environment.state(), model.members[key].state()
        differences += [f"{key}.{attribute}" for attribute, value in theirs.items()
                        if attribute not in ours or not _equal(ours[attribute], value)]
    return differences


def _equal(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001 - values that cannot be compared are not the same
        return False


def missing_results(expected: list[str], produced: list[str]) -> list[str]:
    """The expected results that ``produced`` does not hold (each produced result answers one expected one)."""
    left, missing = Counter(produced), []
    for result in expected:
        if left[result] > 0:
            left[result] -= 1
        else:
            missing.append(result)
    return missing


def _short(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[:limit] + "..."
