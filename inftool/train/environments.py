"""Multi-turn GRPO on stateful environments: TRL's ``environment_factory``, and the same worlds for OpenRLHF's
agent API.

A stateful episode (scenario kind ``stateful``) is a conversation of several user turns on an environment
(``inftool.envs``). Each user turn is one training task (`TurnTask`): the conversation through the user's
message is the prompt, and the label says where the turn happens and what the plan does in it
(`inftool.reward.StatefulTurn`: the environment, its initial state, the calls the earlier turns made, the turn's
planned calls; and, for the gates, the offered functions and the planned calls in BFCL's answer form). A rollout
plays the turn on a world of its own:

- **TRL** (`trl_inputs`): ``GRPOTrainer(environment_factory={key: class})`` with one class per environment and
  tool set (`environment_class`), whose public methods are the offered tools. TRL builds the instances (one per
  concurrent rollout, reused), calls ``reset(**row)`` before every rollout, which starts a fresh world from the
  row's label (the initial state, the earlier turns' calls made again), and calls the methods as the policy
  calls the tools; a method returns the environment's own result text. The reward (`trl_reward`) is
  `inftool.reward.score_rollout` on the rollout's answers, the world the rollout left and the results it saw.
- **OpenRLHF** (`AgentRollout`): the same turn, text in and text out, for the emitted agent file's
  ``AgentInstanceBase``: the calls of each action (read with ``parse_calls``, any model family's format) run on
  the world, their results come back rendered by the policy's chat template, and each step's reward is what the
  step added to the rollout's score, so that the rollout's total is its score wherever it stops.

TRL reads calls from completions with the tokenizer's response template: `tool_parsing` keeps one the tokenizer
has, sets the one TRL knows for the template, or a Hermes one when the template writes calls as
``<tool_call>{"name", "arguments"}</tool_call>`` (the tiny-scratch template does), and says plainly otherwise.

TRL describes a tool by its method's signature and Google-style docstring (``transformers.utils.
get_json_schema``), so each method gets a signature typed from the tool's JSON Schema (``string`` -> ``str``,
arrays by their items, enums as ``Literal``) and a docstring with each parameter's description. What a Python
signature cannot say is left out of what the template shows: a parameter's ``default``, and the properties of an
object-typed parameter (its type stays ``object``); and TRL lists an environment's methods, so the prompt's tools,
in name order. A parameter whose name is not a Python identifier cannot be described at all: an error names it.

torch, transformers, datasets and trl are imported inside functions only.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import keyword
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Union

from inftool.core.episode import Call
from inftool.errors import StageError
from inftool.evaluate import parse_calls
from inftool.evaluate.hermes import hermes_template
from inftool.evaluate.runner import ground_truth
from inftool.reward import STATE, RewardConfig, Score, StatefulTurn, score_rollout
from inftool.synth.verify.state import shown_results

from .templates import profile

STEP_LIMIT = 20
"""Steps with calls an OpenRLHF agent rollout may take in its turn (BFCL's step limit); one more ends it."""


@dataclass(frozen=True)
class TurnTask:
    """One user turn of a stateful episode as a GRPO task."""

    item_id: str
    """``<episode id>/turn<k>``."""
    environment: str
    """Which environment class plays it: its environment reference and the digest of its offered tools."""
    messages: list[dict[str, Any]]
    """The conversation through the user's message, as stored (OpenAI wire form)."""
    tools: list[dict[str, Any]]
    """The offered tools (OpenAI entries)."""
    label: str
    """JSON: the gated reward's ``functions``, ``ground_truth`` and ``category``, and the `StatefulTurn`."""


def turn_tasks(episodes: Iterable[dict[str, Any]], methods: Mapping[str, str] | None = None) -> list[TurnTask]:
    """The tasks of every stateful episode among ``episodes`` (``Store.episodes(...)`` dicts; the others, and a
    stateful one whose user messages are not one per planned turn, are left out), one per user turn. ``methods``
    maps a catalog tool's name to its environment's method where they differ.

    The turn's planned calls are the goal's steps of that turn, judged together by the gates (BFCL's
    ``parallel_multiple`` rules, ``multiple`` for one call); the calls the conversation made before the turn are
    read from its messages, in the order their results were shown (the state gate checked they are the plan's
    and that the results are the environment's)."""
    tasks = []
    for episode in episodes:
        goal = episode["goal"]
        users = [j for j, m in enumerate(episode["messages"]) if m.get("role") == "user"]
        if not goal.get("env") or len(users) != len(goal.get("turns") or ()):
            continue
        tools, offset = episode["tools"], 0
        names = {tool["function"]["name"] for tool in tools}
        renamed = {name: method for name, method in (methods or {}).items() if name in names and name != method}
        for k, (turn, at) in enumerate(zip(goal["turns"], users, strict=True)):
            planned = [call for step in goal["steps"][offset: offset + turn["steps"]] for call in step]
            offset += turn["steps"]
            prompt = episode["messages"][: at + 1]
            before = tuple(call for call, _ in shown_results(prompt))
            state = StatefulTurn(goal["env"], goal.get("initial_state"), before,
                                 tuple(Call(c["name"], c["arguments"]) for c in planned), renamed)
            category = "parallel_multiple" if len(planned) > 1 else "multiple" if planned else "irrelevance"
            label = {"functions": [tool["function"] for tool in tools], "ground_truth": ground_truth(planned),
                     "category": category, **state.label()}
            tasks.append(TurnTask(f"{episode['episode_id']}/turn{k}", environment_key(goal["env"], tools), prompt,
                                  tools, json.dumps(label, ensure_ascii=False)))
    return tasks


def environment_key(env: str, tools: list[dict[str, Any]]) -> str:
    """The name a task's environment class goes by: the environment and a digest of its offered tools."""
    names = json.dumps(sorted(tool["function"]["name"] for tool in tools))
    return f"{env}#{hashlib.sha256(names.encode('utf-8')).hexdigest()[:8]}"


def rendered(task: TurnTask, tokenizer: Any) -> str:
    """The task's prompt as the policy sees it: its conversation and tools through the chat template, ending
    with the generation prompt."""
    return profile(tokenizer).render(tokenizer, task.messages, task.tools, prompt=True)


def agent_rows(tasks: list[TurnTask], tokenizer: Any) -> list[dict[str, str]]:
    """OpenRLHF's dataset rows for ``tasks``: the rendered prompt (OpenRLHF applies chat templates without
    tools), the label the agent file reads, the task's id and ``category`` ``stateful``."""
    return [{"prompt": rendered(task, tokenizer), "label": task.label, "item_id": task.item_id,
             "category": "stateful"} for task in tasks]


# --- TRL: the environment classes, the dataset, the reward ---------------------------------------------------------


class RolloutEnvironment:
    """The world of one rollout, for TRL's ``environment_factory``: the base of the classes `environment_class`
    makes, which add one public method per offered tool (TRL calls every public method a tool, so this base has
    none but ``reset``).

    ``reset(**row)`` (TRL passes the dataset row) starts a fresh world where the row's turn starts; each tool
    call runs on it, and the call and its result text are recorded (``calls``, ``results``). The reward reads
    ``world``."""

    def __init__(self) -> None:
        self.turn: StatefulTurn | None = None
        self.world: Any = None
        self.calls: list[Call] = []
        self.results: list[str] = []

    def reset(self, **row: Any) -> None:
        """Start the rollout of ``row``'s turn: a fresh world, reset to the initial state, the earlier turns'
        calls made again. Returns None: the prompt already holds the conversation."""
        turn = StatefulTurn.of(row["label"])
        if turn is None:
            raise StageError(f"task {row.get('item_id', '?')}: its label names no environment")
        self.turn = turn
        self.world, _ = turn.start()
        self.calls, self.results = [], []

    def _call(self, name: str, arguments: dict[str, Any]) -> str:
        """Run one call of the offered tool ``name`` on the world; its result text (errors included)."""
        if self.world is None:
            raise StageError(f"tool {name!r} called before reset(): TRL resets every environment before its rollout")
        result = self.world.call(self.turn.method(name), arguments)
        self.calls.append(Call(name, dict(arguments)))
        self.results.append(result)
        return result


def environment_class(key: str, tools: list[dict[str, Any]]) -> type[RolloutEnvironment]:
    """A `RolloutEnvironment` subclass with one method per tool, named and described as the tool is."""
    env = key.split("#", 1)[0].rpartition(":")[2]
    name = "".join(part.title() for part in re.split(r"[^A-Za-z0-9]+", env) if part) + "Rollout"
    members = {tool["function"]["name"]: tool_method(tool) for tool in tools}
    clash = sorted(set(members) & {"reset", "get_reward"} | {m for m in members if m.startswith("_")})
    if clash:
        raise StageError(f"environment {env}: tools named {', '.join(clash)} clash with what TRL reserves for an "
                         "environment's own methods (reset, get_reward, _private)")
    return type(name, (RolloutEnvironment,), {"__doc__": f"A rollout's world of {key}.", "environment": key,
                                              **members})


def tool_method(tool: dict[str, Any]) -> Callable[..., str]:
    """A method that calls ``tool`` on the instance's world, with the signature and docstring TRL turns back into
    the tool's schema: the annotations in the order of its properties, keyword-only parameters in the order of its
    ``required`` list and then the optional ones, which default to None."""
    function = tool["function"]
    name, schema = function["name"], function.get("parameters") or {}
    properties = schema.get("properties") or {}
    required = [p for p in schema.get("required") or () if p in properties]
    bad = [p for p in properties if not p.isidentifier() or keyword.iskeyword(p)]
    if bad:
        raise StageError(f"tool {name!r}: parameter(s) {', '.join(map(repr, bad))} cannot be a Python parameter, and "
                         "TRL's environment_factory describes a tool by its method's signature")

    def method(self: RolloutEnvironment, **arguments: Any) -> str:
        return self._call(name, arguments)

    hints = {p: python_type(s) for p, s in properties.items()}
    method.__name__ = method.__qualname__ = name
    method.__doc__ = _docstring(function.get("description") or name, properties)
    method.__annotations__ = hints
    method.__signature__ = inspect.Signature(
        [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
        + [inspect.Parameter(p, inspect.Parameter.KEYWORD_ONLY, annotation=hints[p]) for p in required]
        + [inspect.Parameter(p, inspect.Parameter.KEYWORD_ONLY, annotation=hints[p], default=None)
           for p in properties if p not in required])
    return method


_TYPES = {"string": str, "integer": int, "number": float, "boolean": bool, "object": dict, "null": type(None)}


def python_type(schema: dict[str, Any]) -> Any:
    """The type hint ``get_json_schema`` turns back into ``schema``'s type: enums as ``Literal``, arrays as
    ``list[items]``, a list of types as a union (``["integer", "null"]`` comes back as ``nullable``), no type as
    ``Any``."""
    values = schema.get("enum")
    if values and all(isinstance(v, (str, int, float, bool)) or v is None for v in values):
        return Literal[tuple(values)]
    kind = schema.get("type")
    if isinstance(kind, list):
        return Union[tuple(python_type({**schema, "type": k}) for k in kind)] if kind else Any  # noqa: UP007
    if kind == "array":
        return list[python_type(schema["items"])] if isinstance(schema.get("items"), dict) else list
    return _TYPES.get(kind, Any)


def _docstring(description: str, properties: dict[str, Any]) -> str:
    """A Google-style docstring: the description, then ``Args:`` with one line per parameter (transformers strips
    each text and joins a parameter's lines with spaces; nothing else changes)."""
    lines = [_unsectioned(description.strip())]
    if properties:
        lines += ["", "Args:"] + [f"    {p}: {_unsectioned(' '.join(str(s.get('description') or p).splitlines()))}"
                                  for p, s in properties.items()]
    return "\n".join(lines)


def _unsectioned(text: str) -> str:
    """``text`` without the words that would end a docstring section early (``Args:``, ``Returns:``, ``Raises:``)."""
    return re.sub(r"\b(Args|Returns|Raises):", r"\1 -", str(text))


def trl_inputs(tasks: list[TurnTask], tokenizer: Any, config: RewardConfig) -> dict[str, Any]:
    """``GRPOTrainer``'s ``train_dataset``, ``reward_funcs`` and ``environment_factory`` for ``tasks``.

    The dataset's ``prompt`` is each task's conversation in the template's form (``train.templates``), kept as
    JSON values (datasets' ``Json`` feature: messages keep exactly their own fields, never a union of all
    rows'); ``environment`` routes each row to its class; ``label`` and ``item_id`` reach ``reset`` and the
    reward."""
    from datasets import Dataset, Features, Json, List, Value

    if not tasks:
        raise StageError("multi-turn GRPO has no tasks (no accepted stateful training episodes in this iteration)")
    shape = profile(tokenizer)
    rows = [{"prompt": shape.messages(task.messages), "environment": task.environment, "label": task.label,
             "item_id": task.item_id} for task in tasks]
    features = Features({"prompt": List(Json()), "environment": Value("string"), "label": Value("string"),
                         "item_id": Value("string")})
    factories: dict[str, type[RolloutEnvironment]] = {}
    for task in tasks:
        if task.environment not in factories:
            factories[task.environment] = environment_class(task.environment, task.tools)
    return {"train_dataset": Dataset.from_list(rows, features=features), "reward_funcs": [trl_reward(config)],
            "environment_factory": factories}


def trl_reward(config: RewardConfig):
    """TRL's reward function for rollouts on `RolloutEnvironment` worlds (TRL hands them over as
    ``environments``): `inftool.reward.score_rollout` of each. Also logs the share of rollouts whose turn ended
    in the planned state (``state_passed``)."""
    def inftool_stateful_reward(prompts, completions, environments, label, log_metric=None, **kwargs) -> list[float]:
        scores = [score_rollout(answers(completion), one, config, world=environment.world,
                                results=shown(completion))
                  for completion, environment, one in zip(completions, environments, label, strict=True)]
        if log_metric is not None and scores:
            log_metric("state_passed", sum(STATE in s.passed for s in scores) / len(scores))
        return [s.reward for s in scores]

    return inftool_stateful_reward


def answers(completion: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The policy's answers in a TRL completion (its assistant messages, between the tool messages)."""
    return [message for message in completion if message.get("role") == "assistant"]


def shown(completion: list[dict[str, Any]]) -> list[str]:
    """The results that came back to the policy in a TRL completion (its tool messages' text)."""
    return [str(message.get("content")) for message in completion if message.get("role") == "tool"]


# --- how TRL reads calls: the response template ------------------------------------------------------------------


def tool_parsing(tokenizer: Any) -> Any:
    """Make TRL able to read tool calls from the policy's completions, or say why it cannot (`StageError`).

    In order: a ``response_template`` (or legacy ``response_schema``) the tokenizer already has; the one TRL
    knows for the chat template (``trl.chat_template_utils.add_response_schema``: Qwen2.5/3/3.5, Llama 3.1/3.2,
    GLM-4-MoE, GPT-OSS, Gemma 4, LFM2.5, Nemotron 3, DeepSeek-R1-distill); a Hermes one when the template writes
    calls as ``<tool_call>{"name": ..., "arguments": {...}}</tool_call>`` after its generation prompt (the
    tiny-scratch template, Hermes templates). The template must also render a whole tool exchange (TRL's
    ``supports_tool_calling``), and render the conversation before a tool result the same once the result
    follows, or be one TRL has a training template for. Returns the tokenizer."""
    from trl.chat_template_utils import (
        add_response_schema,
        get_training_chat_template,
        is_chat_template_prefix_preserving,
        supports_tool_calling,
    )

    name = getattr(tokenizer, "name_or_path", "") or "the policy's tokenizer"
    if not supports_tool_calling(tokenizer):
        raise StageError(f"the chat template of {name} cannot render a tool-calling exchange (user -> assistant "
                         "with tool_calls -> tool), which multi-turn GRPO needs (hint: use a template that renders "
                         "`tool_calls` and tool messages, e.g. one of TRL's trl/chat_templates/*.jinja)")
    if not is_chat_template_prefix_preserving(tokenizer):
        try:
            get_training_chat_template(tokenizer)  # TRL swaps such a template for its training version
        except ValueError:
            raise StageError(f"the chat template of {name} renders an assistant turn differently once a tool result "
                             "follows it, and TRL has no training version of it, so tool results cannot be appended "
                             "to what the policy generated (hint: use a prefix-preserving template, e.g. one of TRL's "
                             "trl/chat_templates/*_training.jinja)") from None
    if getattr(tokenizer, "response_template", None) is not None or getattr(tokenizer, "response_schema", None):
        return tokenizer
    try:
        return add_response_schema(tokenizer)
    except ValueError:
        pass
    template = hermes_template(tokenizer)
    if template is None:
        raise StageError(f"TRL cannot read tool calls from the completions of {name}: its chat template is not one "
                         "TRL has a response template for, and it does not write calls as <tool_call>{\"name\": ..., "
                         "\"arguments\": {...}}</tool_call> (hint: set the tokenizer's `response_template`, see "
                         "transformers' chat response parsing docs, or use one of TRL's trl/chat_templates/*.jinja)")
    tokenizer.response_template = template
    return tokenizer


# --- OpenRLHF: the same turn, text in and text out -----------------------------------------------------------------


class AgentRollout:
    """One rollout of a stateful turn for OpenRLHF's agent API (the emitted agent file's environment).

    Built from the row's ``label`` when OpenRLHF resets the agent; `step` takes each action's text and returns
    (reward, feedback text, done). An action's calls run on the world, and their results come back as the chat
    template renders tool messages after an assistant turn, ending with the next generation prompt. The rollout
    is done at an action without calls (a plain answer, or one whose calls cannot be read) or after
    ``step_limit`` actions with calls. Each step's reward is the change in the rollout's score
    (`inftool.reward.score_rollout`), so the sum OpenRLHF keeps is the score wherever the rollout stops."""

    def __init__(self, label: Any, tokenizer: Any, config: RewardConfig, *, step_limit: int = STEP_LIMIT):
        turn = StatefulTurn.of(label)
        if turn is None:
            raise StageError("an agent rollout needs a stateful label (one with `env`)")
        self.label, self.turn, self.tokenizer, self.config, self.step_limit = label, turn, tokenizer, config, step_limit
        self.world, _ = turn.start()
        self.actions: list[str] = []
        self.results: list[str] = []
        self.scored = Score(0.0, ())
        """The rollout's score so far (`inftool.reward.Score`: reward, gates passed, reason)."""

    @property
    def score(self) -> float:
        return self.scored.reward

    def step(self, action: str) -> tuple[float, str, bool]:
        """(this step's reward, the text that follows the action, whether the rollout is done)."""
        self.actions.append(action)
        calls = parse_calls(action) or []
        results = [self.world.call(self.turn.method(call.name), call.arguments) for call in calls]
        self.results += results
        before, self.scored = self.score, score_rollout(self.actions, self.label, self.config, world=self.world,
                                                        results=self.results)
        reward = self.score - before
        done = not calls or len(self.actions) >= self.step_limit
        return reward, "" if done else tool_feedback(self.tokenizer, calls, results), done


def tool_feedback(tokenizer: Any, calls: list[Call], results: list[str]) -> str:
    """What the chat template writes after an assistant turn that made ``calls``: their results as tool messages,
    then the next generation prompt. Found the way TRL finds it: the conversation with the results, less the
    conversation through the assistant turn, cut after its EOS token (the policy generated that token itself)."""
    ids = [f"call_{i}" for i in range(len(calls))]
    turn = {"role": "assistant", "content": "", "tool_calls": [
        {"id": i, "type": "function", "function": {"name": c.name, "arguments": json.dumps(c.arguments)}}
        for i, c in zip(ids, calls, strict=True)]}
    tools = [{"role": "tool", "tool_call_id": i, "name": c.name, "content": r}
             for i, c, r in zip(ids, calls, results, strict=True)]
    shape = profile(tokenizer)
    head = [{"role": "user", "content": "."}, turn]
    before = shape.render(tokenizer, head, [], prompt=False)
    after = shape.render(tokenizer, head + tools, [], prompt=True)
    eos = tokenizer.eos_token or ""
    if eos and eos in before:
        before = before[: before.rindex(eos) + len(eos)]
    if not after.startswith(before):
        raise StageError(f"the chat template of {getattr(tokenizer, 'name_or_path', '') or 'the policy'} renders an "
                         "assistant turn differently once tool results follow it, so the results cannot be appended "
                         "to what the policy generated (hint: use a prefix-preserving template, e.g. one of TRL's "
                         "trl/chat_templates/*_training.jinja)")
    return after[len(before):]
