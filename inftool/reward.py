"""The gated reward: one pure-Python function for TRL, OpenRLHF's reward file and evaluation.

A label says what a correct answer is, in BFCL's form (so BFCL questions and synthetic episodes are
scored alike): ``{"functions": [...], "ground_truth": [{name: {param: [acceptable values]}}],
"category": "simple_python" | "parallel" | "irrelevance" | ...}``.

Gates, in the order of the recipe's ``reward.gates``; each pays its value only when every earlier
gate passed, so a malformed or wrong-function answer can never collect argument reward:

- ``format``: the completion reads as tool calls, or as a plain answer (no call);
- ``function_names``: the called functions are the expected ones (a multiset; dotted names such as
  ``math.factorial`` may be called ``math_factorial``); for irrelevance, no call;
- ``arguments``: the BFCL-compatible checker accepts the calls (``inftool.evaluate.check``); with
  ``partial_credit`` it pays its value times the share of argument values the answer got right (per expected
  call, paired with a made call of its function: ``inftool.evaluate.checker.argument_share``);
- ``execution``: every call's arguments satisfy the offered tool's parameter schema, i.e. what a
  tool server accepts (the shared ``inftool.catalog.arguments`` check: formats too, and no argument
  the schema does not name).

A rollout on a stateful environment (multi-turn GRPO, ``score_rollout``) is judged on one user turn of a
stateful episode (`StatefulTurn`, carried by its label): the gates judge every call the policy made in the
turn together, in any order (BFCL's parallel_multiple rules: the world's state says whether the order was
right), and ``state`` adds the recipe's ``reward.state`` when the turn ends where the plan does, as BFCL's
multi-turn checker judges a turn: the world in the planned state (``==`` on every public attribute), something
called where the plan calls something, and every planned call's result among those the policy was shown. A
rollout with an answer that cannot be read gets no state credit, whatever the world looks like.

The functions here never raise: bad input (an unreadable label, a malformed ground truth) scores 0
with the reason logged. Imports stay light (no torch, no DSPy) so that OpenRLHF's reward file can
load this module in a plain interpreter.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from inftool.core.episode import Call
from inftool.evaluate import check, parse_calls
from inftool.evaluate.checker import argument_share, function_doc, language_of

log = logging.getLogger("inftool.reward")

GATES = ("format", "function_names", "arguments", "execution")
DEFAULT_VALUES = {"format": 0.1, "function_names": 0.3, "arguments": 0.6, "execution": 0.0}
STATE = "state"
"""What a rollout on a stateful environment passes, after the gates, when its turn ends where the plan does."""


@dataclass(frozen=True)
class RewardConfig:
    gates: tuple[str, ...] = ("format", "function_names", "arguments")
    values: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_VALUES))
    partial_credit: bool = False
    state: float = 1.0
    """What a stateful rollout earns on top of the gates when its turn ends in the planned state."""

    @classmethod
    def from_spec(cls, spec: Any) -> RewardConfig:
        """From a recipe's ``reward`` section (``inftool.spec.gates.RewardSpec``)."""
        return cls(tuple(g for g in GATES if g in spec.gates), dict(spec.values), spec.partial_credit, spec.state)


@dataclass(frozen=True)
class Score:
    reward: float
    passed: tuple[str, ...]
    """The gates passed, in order, up to the first failure; then ``state`` when a stateful rollout earned it."""
    reason: str = ""
    """Why the first failing gate failed ('' when all passed)."""


def score(completion: Any, label: Any, config: RewardConfig = RewardConfig()) -> Score:
    """The gated reward of one completion (text, an OpenAI message, or a list of chat messages)."""
    try:
        entry = _entry(label)
    except (TypeError, ValueError, KeyError) as exc:
        log.warning("reward: unreadable label (%s: %s); scored 0", type(exc).__name__, exc)
        return Score(0.0, (), f"unreadable label: {exc}")
    return _gated(parse_calls(_output(completion)), entry, config)


def _entry(label: Any) -> dict[str, Any]:
    """A label as a dict, checked for the fields every gate reads."""
    entry = label if isinstance(label, dict) else json.loads(label)
    if not isinstance(entry, dict):
        raise TypeError(f"a label is a JSON object, not {type(entry).__name__}")
    missing = [key for key in ("functions", "ground_truth") if key not in entry]
    if missing:
        raise KeyError(", ".join(missing))
    return entry


def _gated(calls: list[Call] | None, entry: dict[str, Any], config: RewardConfig) -> Score:
    """The recipe's gates, in order, on the calls read from an answer (None: it could not be read)."""
    functions, truth, category = entry["functions"], entry["ground_truth"], entry.get("category", "simple")
    reward, passed = 0.0, []
    for gate in config.gates:
        try:
            credit, reason = _GATES[gate](calls, functions, truth, category)
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            log.warning("reward: the %s gate could not judge this label (%s); scored 0", gate, exc)
            return Score(0.0, tuple(passed), f"{gate}: bad label: {exc}")
        if gate == "arguments" and config.partial_credit and credit < 1.0:
            reward += config.values.get(gate, 0.0) * _argument_share(calls, functions, truth, category)
        if credit < 1.0:
            return Score(reward, tuple(passed), f"{gate}: {reason}")
        reward += config.values.get(gate, 0.0)
        passed.append(gate)
    return Score(reward, tuple(passed))


def score_rollout(answers: list[Any], label: Any, config: RewardConfig = RewardConfig(), *, world: Any,
                  results: list[str]) -> Score:
    """The reward of one rollout on a stateful turn (the label a `StatefulTurn`'s, see `StatefulTurn.label`).

    ``answers`` are the policy's answers of the turn, step by step (OpenAI messages or text); ``world`` is the
    environment its calls ran on, and ``results`` the results that came back to it, in order. The gates judge
    every call of the turn together; ``state`` pays ``config.state`` when the turn passes BFCL's check
    (`StatefulTurn.judge`) and every answer could be read. Never raises: a bad label scores 0."""
    try:
        entry, turn = _entry(label), StatefulTurn.of(label)
    except (TypeError, ValueError, KeyError) as exc:
        log.warning("reward: unreadable stateful label (%s: %s); scored 0", type(exc).__name__, exc)
        return Score(0.0, (), f"unreadable label: {exc}")
    steps = [parse_calls(_output(answer)) for answer in answers]
    calls = None if any(step is None for step in steps) else [call for step in steps for call in step]
    gated = _gated(calls, entry, config)
    if calls is None or turn is None:
        return gated
    try:
        problem = turn.judge(world, calls, results)
    except Exception as exc:  # noqa: BLE001 - a world that cannot be rebuilt or compared earns no state credit
        log.warning("reward: the state of a rollout could not be judged (%s: %s)", type(exc).__name__, exc)
        problem = f"the state could not be judged: {exc}"
    if problem is not None:
        return Score(gated.reward, gated.passed, gated.reason or f"{STATE}: {problem}")
    return Score(gated.reward + config.state, (*gated.passed, STATE), gated.reason)


@dataclass(frozen=True)
class StatefulTurn:
    """One user turn of a stateful episode as a training task: the world it happens in and what the plan does.

    The conversation before the turn made the ``before`` calls (the plan's calls of the earlier turns, which the
    state gate checked the episode made); the turn itself should make the ``planned`` ones. ``methods`` maps an
    offered tool's name to its environment's method where a catalog renamed it. A label carries it as JSON (its
    `label` fields), next to the gated reward's ``functions``, ``ground_truth`` and ``category``."""

    env: str
    """The environment reference (``bfcl_env:gorilla_file_system``, ``python:module:Class``)."""
    initial_state: dict[str, Any] | None
    before: tuple[Call, ...]
    planned: tuple[Call, ...]
    methods: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, label: Any) -> StatefulTurn | None:
        """The turn a label describes (None: the label is not a stateful one)."""
        entry = label if isinstance(label, dict) else json.loads(label)
        if not entry.get("env"):
            return None
        return cls(entry["env"], entry.get("initial_state"), _calls(entry.get("before")), _calls(entry.get("planned")),
                   dict(entry.get("methods") or {}))

    def label(self) -> dict[str, Any]:
        """The turn's fields of a label (JSON data)."""
        return {"env": self.env, "initial_state": self.initial_state, "before": _call_data(self.before),
                "planned": _call_data(self.planned), **({"methods": self.methods} if self.methods else {})}

    def method(self, name: str) -> str:
        """The environment's method for an offered tool's name."""
        return self.methods.get(name, name)

    def start(self) -> tuple[Any, list[str]]:
        """A fresh world where the turn starts: the initial state with the ``before`` calls made, and their results."""
        from inftool.envs import load_env

        world = load_env(self.env)
        world.reset(self.initial_state)
        return world, [world.call(self.method(c.name), c.arguments) for c in self.before]

    def judge(self, world: Any, calls: list[Call], results: list[str]) -> str | None:
        """Why the turn fails BFCL's multi-turn check, or None when it passes: the policy made ``calls``
        (offered names) on ``world``, and was shown ``results``. The plan runs on a world of its own from the
        turn's start; the earlier turns' results were shown to the policy too (they are in its prompt)."""
        from inftool.envs import first_difference
        from inftool.evaluate.multi_turn_check import missing_results

        reference, shown = self.start()
        expected = [reference.call(self.method(c.name), c.arguments) for c in self.planned]
        if self.planned and not calls:
            return "no call, where the plan calls " + ", ".join(c.name for c in self.planned)
        if world.state() != reference.state():
            return "the world is not in the planned state: " + (first_difference(world.state(), reference.state())
                                                                 or "their plain forms are equal, their == is not")
        missing = missing_results(expected, shown + list(results))
        if missing:
            return f"{len(missing)} result(s) of the planned calls never came back to the policy: {missing[0][:120]!r}"
        return None


def _calls(data: list[dict[str, Any]] | None) -> tuple[Call, ...]:
    return tuple(Call(c["name"], dict(c["arguments"])) for c in data or ())


def _call_data(calls: tuple[Call, ...]) -> list[dict[str, Any]]:
    return [{"name": c.name, "arguments": c.arguments} for c in calls]


def _output(completion: Any) -> Any:
    """The assistant output to read calls from: chat completions are a list of messages (TRL)."""
    if isinstance(completion, list) and completion and isinstance(completion[-1], dict) and "role" in completion[-1]:
        return completion[-1]
    return completion


def _format(calls, functions, truth, category) -> tuple[float, str]:
    return (1.0, "") if calls is not None else (0.0, "no tool call or answer could be read")


def _names(calls, functions, truth, category) -> tuple[float, str]:
    if "irrelevance" in category:
        return (1.0, "") if not calls else (0.0, f"called {calls[0].name!r} although no function fits")
    expected = Counter(_normal(name) for answer in truth for name in answer)
    made = Counter(_normal(call.name) for call in calls)
    return (1.0, "") if made == expected else (0.0, f"called {sorted(made.elements())}, expected {sorted(expected.elements())}")


def _normal(name: str) -> str:
    return name.replace(".", "_")


def _arguments(calls, functions, truth, category) -> tuple[float, str]:
    verdict = check(functions, calls, truth, category=category)
    return (1.0 if verdict.valid else 0.0), verdict.message


def _argument_share(calls, functions, truth, category) -> float:
    """Partial credit: the share of the expected argument values the answer got right. Each expected call is
    paired with a distinct made call of its function (the best one) and earns that call's `argument_share`;
    an expected call left unpaired earns nothing; the mean over the expected calls."""
    docs = {_normal(function_doc(f).get("name", "")): function_doc(f) for f in functions}
    language, unused, earned = language_of(category), list(calls or ()), 0.0
    for answer in truth:
        (name, expected), = answer.items()
        doc = docs.get(_normal(name))
        shares = {index: argument_share(doc, call, expected, language=language)
                  for index, call in enumerate(unused) if doc is not None and _normal(call.name) == _normal(name)}
        if shares:
            best = max(shares, key=shares.__getitem__)  # max keeps the earliest of equals
            earned += shares[best]
            del unused[best]
    return earned / len(truth) if truth else 0.0


def _execution(calls, functions, truth, category) -> tuple[float, str]:
    """Every call's arguments pass the check a tool server makes (``inftool.catalog.arguments``, shared with
    synthesis and ``serve-mcp``): the schema, with formats, and no argument the schema does not name."""
    from inftool.catalog.arguments import ArgumentChecks
    from inftool.catalog.bfcl import convert_function

    docs = {_normal(function_doc(f).get("name", "")): function_doc(f) for f in functions}
    checks = ArgumentChecks()  # one per label: its validators are keyed by tool name
    for call in calls or ():
        doc = docs.get(_normal(call.name))
        if doc is None:
            return 0.0, f"no tool {call.name!r} to execute"
        problem = checks.problem(convert_function(doc, language=language_of(category), source="label"), call.arguments)
        if problem:
            return 0.0, problem
    return 1.0, ""


_GATES = {"format": _format, "function_names": _names, "arguments": _arguments, "execution": _execution}


def trl_reward(config: RewardConfig = RewardConfig()):
    """A reward function for TRL's GRPOTrainer (``reward_funcs=[trl_reward(config)]``); the dataset
    carries the label in a ``label`` column."""

    def inftool_gated_reward(prompts, completions, label, **kwargs) -> list[float]:
        return [score(completion, one, config).reward for completion, one in zip(completions, label, strict=True)]

    return inftool_gated_reward


def openrlhf_reward(queries: list[str], prompts: list[str], labels: list[Any],
                    config: RewardConfig = RewardConfig()) -> dict[str, Any]:
    """OpenRLHF's ``reward_func(queries, prompts, labels)`` contract: the response is the query after
    its prompt; returns ``{"rewards", "scores", "extra_logs"}``. OpenRLHF 0.11 calls its reward file
    one sample at a time and wraps ``rewards`` as ``torch.tensor([value])``, so for one sample the
    values are floats; for several (the HTTP variant) they are lists."""
    rewards = []
    for query, prompt, label in zip(queries, prompts, labels, strict=True):
        response = query[len(prompt):] if isinstance(query, str) and isinstance(prompt, str) and query.startswith(prompt) else query
        rewards.append(score(response, label, config).reward)
    mean = sum(rewards) / len(rewards) if rewards else 0.0
    value: float | list[float] = rewards[0] if len(rewards) == 1 else rewards
    return {"rewards": value, "scores": value, "extra_logs": {"gated_reward_mean": mean}}
