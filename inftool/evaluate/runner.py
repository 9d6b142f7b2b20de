"""Evaluating a policy on BFCL questions and on the run's held-out synthetic episodes.

Every item becomes the same thing: prompt messages, the tools offered (OpenAI format, as the policy
sees them), the function docs and ground truth in BFCL's form, and a category; the BFCL-compatible
checker gives each answer its verdict and error kind. A held-out episode is asked up to the
assistant's first tool call (the user's request, and the clarification for multi_turn), and its
first planned step is the ground truth.

A multi-turn BFCL entry (``multi_turn_*``) is an item with a ``conversation``: the policy is driven
through it step by step on BFCL's stateful environments and it is judged by state, as BFCL's multi-turn
checker does (``inftool.evaluate.rollout``, ``inftool.evaluate.multi_turn_check``).

Items whose own ground truth fails the checker are set aside (``scorable``) and reported, never
counted. An item the policy could not be asked (an endpoint that kept failing: ``inftool.evaluate.endpoint``)
is stored as ``not_evaluated`` with the reason and left out of every accuracy. Policies: ``oracle`` answers with the ground truth, ``no-call`` never calls a tool, and a model of
the recipe with ``backend: openai`` is asked through its OpenAI-compatible endpoint with native
tool calling (``tools=``), and a local Hugging Face checkpoint generates with its chat template
(``inftool.evaluate.local.LocalPolicy``). Accuracy is reported per category; the overall figure is the unweighted
mean of the per-category accuracies (BFCL weighs its categories in groups; we do not claim that).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from . import multi_turn, rollout
from .checker import NOT_EVALUATED, check, irrelevance_check, language_of, oracle_calls
from .endpoint import EndpointPolicy, NotEvaluated
from .items import Item, Step
from .parse import parse_calls

NO_CALL_ANSWER = "None of the available tools can help with this request."


def bfcl_items(categories: Iterable[str], limit: int | None = None, seen_tools: set[str] | None = None) -> list[Item]:
    """BFCL questions as items; with ``seen_tools`` (names synthesis used) each is marked seen, unseen
    or mixed by its expected functions (the offered ones when none is expected, as in irrelevance)."""
    from inftool.catalog.bfcl import convert_function
    from inftool.catalog.bfcl_data import bfcl_data

    data, items = bfcl_data(), []
    for category in categories:
        if multi_turn.is_multi_turn(category):
            items += multi_turn.multi_turn_items(category, limit, lambda names: _seen(names, seen_tools))
            continue
        answers = {} if "relevance" in category else data.answers(category)
        for question in data.questions(category)[:limit]:
            tools = [convert_function(f, language=language_of(category), source="bfcl").to_openai()
                     for f in question["function"]]
            truth = answers.get(question["id"], [])
            names = {name for answer in truth for name in answer} or {f["name"] for f in question["function"]}
            items.append(Item("bfcl", category, question["id"], list(question["question"][0]), tools,
                              question["function"], truth, seen=_seen(names, seen_tools)))
    return items


def tool_names(tools: Iterable[Any]) -> set[str]:
    """Every name the tools of a catalog go by (function-calling and original), for ``bfcl_items``."""
    return {name for tool in tools for name in (tool.name, tool.original_name)}


def _seen(names: set[str], seen_tools: set[str] | None) -> str | None:
    if seen_tools is None:
        return None
    known = sum(name in seen_tools or name.replace(".", "_") in seen_tools for name in names)
    return "seen" if known == len(names) else "unseen" if known == 0 else "mixed"


def scorable(items: list[Item]) -> tuple[list[Item], list[Item]]:
    """(items, set aside): an item whose own ground truth the checker rejects in every acceptable form the
    oracle tries cannot be scored. In BFCL v4 that is 8 of the AST entries (answers naming parameters the
    function lacks, values of the wrong type, and the like); the official checker rejects the same forms."""
    kept, aside = [], []
    for item in items:  # a multi-turn entry's ground truth always passes: the same calls on the same world
        (kept if item.conversation is not None or verdict(item, oracle(item)).valid else aside).append(item)
    return kept, aside


def episode_items(episodes: Iterable[dict[str, Any]], suite: str = "heldout") -> list[Item]:
    """Items from stored episodes (``Store.episodes(...)``): the category is the episode's scenario
    kind; the checker judges it as BFCL's multiple, parallel_multiple or irrelevance."""
    items = []
    for episode in episodes:
        messages = episode["messages"]
        first = next((i for i, m in enumerate(messages) if m.get("tool_calls")), None)
        goal = episode["goal"]
        steps = goal["steps"]
        prompt = messages[:first] if first is not None else messages[:1]
        prompt = [m for m in prompt if m["role"] == "user" or not m.get("tool_calls")]
        truth = ground_truth(steps[0]) if steps else []
        rules = "irrelevance" if not steps else "parallel_multiple" if len(steps[0]) > 1 else "multiple"
        functions = [t["function"] for t in episode["tools"]]
        items.append(Item(suite, episode["complexity"], episode["episode_id"], prompt, episode["tools"], functions,
                          truth, check_as=rules))
    return items


def ground_truth(calls: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Planned calls (``{"name", "arguments"}``, as a goal stores them) in BFCL's answer form, each value the only
    acceptable one: ``[{name: {argument: [value]}}]``."""
    return [{c["name"]: {k: [_acceptable(v)] for k, v in c["arguments"].items()}} for c in calls]


def _acceptable(value: Any) -> Any:
    """A planned value in BFCL's answer form: inside dicts, every value is a list of acceptable values."""
    if isinstance(value, dict):
        return {k: [_acceptable(v)] for k, v in value.items()}
    if isinstance(value, list):
        return [_acceptable(v) for v in value]
    return value


def verdict(item: Item, output: Any):
    calls = parse_calls(output)
    if item.rules.endswith("irrelevance") or not item.ground_truth:
        return irrelevance_check(calls)
    return check(item.functions, calls, item.ground_truth, category=item.rules)


def oracle(item: Item | Step) -> dict[str, Any]:
    """The ground truth as an OpenAI assistant message, in the plainest form the checker accepts (optional
    arguments left out, else the first acceptable alternatives that pass: ``oracle_calls``; Java/JavaScript
    arguments as source strings); at a step of a multi-turn conversation, the ground truth's calls of the step
    (none: the turn is done)."""
    if isinstance(item, Step):
        calls = list(item.reference)
    elif not item.ground_truth:
        calls = []
    else:
        calls = oracle_calls(item.functions, item.ground_truth, category=item.rules)
    if not calls:
        return {"role": "assistant", "content": NO_CALL_ANSWER}
    return {"role": "assistant", "content": None, "tool_calls": [
        {"id": f"call_{i}", "type": "function", "function": {"name": c.name, "arguments": json.dumps(c.arguments)}}
        for i, c in enumerate(calls)]}


def no_call(item: Item | Step) -> dict[str, Any]:
    return {"role": "assistant", "content": NO_CALL_ANSWER}


def endpoint_policy(spec) -> EndpointPolicy:
    """A policy served by an OpenAI-compatible endpoint, asked with native tool calling, greedily (temperature
    0), with the model's ``top_p``, ``seed`` and ``extra_body`` when it sets them. The endpoint's faults are
    retried with backoff; an item it still cannot answer raises `NotEvaluated` (``inftool.evaluate.endpoint``)."""
    return EndpointPolicy(spec)


def evaluate(items: list[Item], policy: Callable[[Item], Any], concurrency: int = 1,
             progress: Callable[[int], None] | None = None) -> list[dict[str, Any]]:
    """Results (dicts ready for ``Store.write_eval``) of ``policy`` on ``items``, in order. Multi-turn items
    are whole conversations (``inftool.evaluate.rollout``); their output is the answers, turn by turn. An item
    the policy could not be asked (`NotEvaluated`) is a ``not_evaluated`` row with the reason, no verdict."""
    def one(item: Item, output: Any = None) -> dict[str, Any]:
        try:
            output = policy(item) if output is None else output
        except NotEvaluated as failure:
            output, judged = None, failure.verdict
        else:
            judged = verdict(item, output)
        if progress:
            progress(1)
        return result_row(item, judged, output)

    def ended(_: Any) -> None:
        if progress:
            progress(1)

    single = [i for i, item in enumerate(items) if item.conversation is None]
    conversations = [i for i, item in enumerate(items) if item.conversation is not None]
    rows: dict[int, dict[str, Any]] = {}
    for index, done in zip(conversations, rollout.run_all([items[i] for i in conversations], policy, concurrency,
                                                         done=ended), strict=True):
        rows[index] = result_row(done.item, done.verdict, done.outputs)
    if hasattr(policy, "many"):  # a batched policy (a local model): answer a batch, then check each
        for start in range(0, len(single), policy.batch_size):
            chunk = single[start : start + policy.batch_size]
            for index, output in zip(chunk, policy.many([items[i] for i in chunk]), strict=True):
                rows[index] = one(items[index], output)
    elif concurrency <= 1:
        rows.update((index, one(items[index])) for index in single)
    else:
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            rows.update(zip(single, pool.map(one, [items[i] for i in single]), strict=True))
    return [rows[index] for index in range(len(items))]


def result_row(item: Item, result: Any, output: Any) -> dict[str, Any]:
    """One item's result, as ``Store.write_eval`` takes it."""
    return {"suite": item.suite, "category": item.category, "item_id": item.item_id, "tool": item.tool,
            "seen": item.seen, "valid": result.valid, "error_kind": result.error_kind, "message": result.message,
            "output": json.dumps(output, default=str)}


def evaluated(result: dict[str, Any]) -> bool:
    """Whether a result is a verdict (not an item the policy could not be asked)."""
    return result.get("error_kind") != NOT_EVALUATED


def accuracy(results: list[dict[str, Any]]) -> dict[tuple[str, str], tuple[int, int]]:
    """(suite, category) -> (correct, items evaluated); items not evaluated count in neither (see `not_evaluated`),
    and a category with none evaluated is (0, 0)."""
    table: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for result in results:
        cell = table[(result["suite"], result["category"])]
        if evaluated(result):
            cell[0] += bool(result["valid"])
            cell[1] += 1
    return {key: (correct, total) for key, (correct, total) in sorted(table.items())}


def not_evaluated(results: list[dict[str, Any]]) -> dict[tuple[str, str], int]:
    """(suite, category) -> items not evaluated, for the categories that have any."""
    table: dict[tuple[str, str], int] = defaultdict(int)
    for result in results:
        if not evaluated(result):
            table[(result["suite"], result["category"])] += 1
    return dict(sorted(table.items()))


def overall(table: dict[tuple[str, str], tuple[int, int]], suite: str) -> float | None:
    """Unweighted mean of the per-category accuracies of one suite."""
    shares = [c / n for (s, _), (c, n) in table.items() if s == suite and n]
    return sum(shares) / len(shares) if shares else None
