"""Driving a policy through BFCL multi-turn conversations, turn by turn and step by step, as BFCL's own
inference loop does, and judging each turn as it ends.

A turn starts with the user's messages (at a handover turn of ``multi_turn_miss_func``, BFCL's handover
line, and the held-back tools join the offered ones). The policy then answers `Step` after `Step`: the
calls it makes run on the conversation's own world (``inftool.envs``), each result comes back as a
``tool`` message, and it answers again; an answer without a call (or one whose calls cannot be read) ends
the turn. A turn may take BFCL's step limit of steps with calls; one more stops the conversation there.

Each turn is judged as it ends (``inftool.evaluate.multi_turn_check``); the first failure decides the
verdict, and the conversation stops there (BFCL would go on talking to the model, for the same verdict). A
step an endpoint could not answer (after its retries) stops the conversation as ``not_evaluated``.

Three ways to run many conversations, whatever the policy: one after another, ``concurrency`` at a time
in threads (an endpoint), or in lockstep batches for a policy that answers many steps at once
(``policy.many``, a local checkpoint), whose batch is refilled as conversations end.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from inftool.core.episode import Call

from .checker import VALID, Verdict
from .endpoint import NotEvaluated
from .items import Item, Step
from .multi_turn import environment_for, handover_and_limit
from .multi_turn_check import TurnChecker, stopped_early
from .parse import parse_calls

Policy = Callable[[Any], Any]


class Rollout:
    """One conversation in progress: `pending` is the step the policy must answer (None once it is over),
    `advance` takes the answer; then `verdict` and `outputs` (the answers, turn by turn) hold the outcome."""

    def __init__(self, item: Item):
        self.item, self.conversation = item, item.conversation
        self.handover, self.limit = handover_and_limit()
        self.world = environment_for(item)
        self.checker = TurnChecker(item)
        self.messages: list[dict[str, Any]] = []
        self.tools = list(item.tools)
        self.outputs: list[list[Any]] = []
        self.verdict: Verdict | None = None
        self._start_turn(0)

    def pending(self) -> Step | None:
        if self.verdict is not None:
            return None
        reference = tuple(self.conversation.reference[self.turn]) if not self.steps else ()
        return Step(self.item, self.turn, len(self.steps), list(self.messages), self.tools, reference)

    def advance(self, output: Any) -> None:
        """Take the policy's answer to the pending step: run its calls, or end the turn."""
        self.outputs[self.turn].append(output)
        calls = parse_calls(output)
        if not calls:
            self._end_turn(stopped=False)
            return
        message = assistant_message(output, calls, f"call_{self.turn}_{len(self.steps)}")
        results = [self.world.call(call.name, call.arguments) for call in calls]
        self.messages.append(message)
        self.messages += [{"role": "tool", "tool_call_id": tool_call["id"], "content": result}
                          for tool_call, result in zip(message["tool_calls"], results, strict=True)]
        self.steps.append(calls)
        self.results += results
        if len(self.steps) > self.limit:
            self._end_turn(stopped=True)

    def _start_turn(self, turn: int) -> None:
        self.turn, self.steps, self.results = turn, [], []
        self.outputs.append([])
        handed = self.conversation.handover.get(turn)
        if handed:
            self.tools = self.tools + handed
            self.messages.append({"role": "user", "content": self.handover})
        else:
            self.messages += self.conversation.turns[turn]

    def _end_turn(self, *, stopped: bool) -> None:
        last = self.turn + 1 == len(self.conversation.turns)
        if stopped and not last:
            self.verdict = stopped_early(self.turn + 1, len(self.conversation.turns))
            return
        self.verdict = self.checker.after_turn(self.turn, self.steps, self.world, self.results)
        if self.verdict is None and last:
            self.verdict = VALID
        elif self.verdict is None:
            self._start_turn(self.turn + 1)


def assistant_message(output: Any, calls: list[Call], id_prefix: str) -> dict[str, Any]:
    """The assistant's turn as the conversation keeps it: its calls in OpenAI's wire form, with the ids the
    output gave them (or new ones), and its text. An output that is already such a message is kept as it is."""
    content = output.get("content") if isinstance(output, dict) else None
    given = output.get("tool_calls") if isinstance(output, dict) else None
    if isinstance(given, list) and len(given) == len(calls) and all(_wire_call(c) for c in given):
        return {"role": "assistant", "content": content if isinstance(content, str) else "", "tool_calls": given}
    ids = [c.get("id") if isinstance(c, dict) else None for c in given] if isinstance(given, list) else []
    ids = ids if len(ids) == len(calls) and all(ids) else [f"{id_prefix}_{i}" for i in range(len(calls))]
    wire = [{"id": i, "type": "function", "function": {"name": call.name, "arguments": json.dumps(
        call.arguments, ensure_ascii=False)}} for i, call in zip(ids, calls, strict=True)]
    return {"role": "assistant", "content": content if isinstance(content, str) else "", "tool_calls": wire}


def _wire_call(call: Any) -> bool:
    """Whether a tool call is in OpenAI's wire form: an id, and a function with a name and JSON-text arguments."""
    function = call.get("function") if isinstance(call, dict) else None
    return (isinstance(function, dict) and bool(call.get("id")) and isinstance(function.get("name"), str)
            and isinstance(function.get("arguments"), str))


def run_one(item: Item, policy: Policy) -> Rollout:
    """Drive one conversation to its end with a policy that answers one step at a time. A step the policy could
    not be asked (`NotEvaluated`: its endpoint kept failing) ends the conversation without a verdict on the model:
    ``not_evaluated``, with the reason."""
    rollout = Rollout(item)
    try:
        while (step := rollout.pending()) is not None:
            rollout.advance(policy(step))
    except NotEvaluated as failure:
        rollout.verdict = failure.verdict
    return rollout


def run_all(items: list[Item], policy: Any, concurrency: int = 1,
            done: Callable[[Rollout], None] | None = None) -> list[Rollout]:
    """Every conversation, in ``items``' order: batched when the policy answers many steps at once
    (``policy.many``, ``policy.batch_size``), else ``concurrency`` at a time. ``done`` hears of each end."""
    if hasattr(policy, "many"):
        return _batched(items, policy, done)

    def one(item: Item) -> Rollout:
        rollout = run_one(item, policy)
        if done:
            done(rollout)
        return rollout

    if concurrency <= 1:
        return [one(item) for item in items]
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        return list(pool.map(one, items))


def _batched(items: list[Item], policy: Any, done: Callable[[Rollout], None] | None) -> list[Rollout]:
    """Up to ``policy.batch_size`` conversations at a time, their pending steps answered in one batch; a
    finished conversation's place goes to the next one (continuous batching)."""
    finished: dict[int, Rollout] = {}
    queue = list(enumerate(items))[::-1]
    active: list[tuple[int, Rollout]] = []
    while queue or active:
        while queue and len(active) < policy.batch_size:
            index, item = queue.pop()
            active.append((index, Rollout(item)))
        steps = [rollout.pending() for _, rollout in active]
        for (_, rollout), output in zip(active, policy.many(steps), strict=True):
            rollout.advance(output)
        for index, rollout in [pair for pair in active if pair[1].verdict is not None]:
            finished[index] = rollout
            if done:
                done(rollout)
        active = [pair for pair in active if pair[1].verdict is None]
    return [finished[index] for index in range(len(items))]
