"""BFCL v4's multi-turn entries as evaluation items, and the worlds they happen in.

An entry (``multi_turn_base``, ``_miss_func``, ``_miss_param``, ``_long_context``) is a conversation of
several user turns with BFCL's stateful environments (``inftool.envs.bfcl``): its ``involved_classes`` make
the world, ``initial_config`` its starting state, and its ground truth lists each turn's calls in Python
call syntax. The item offers the involved classes' function docs as BFCL does: in the entry's class order,
less the functions ``missed_function`` holds back (miss_func), which are handed over, appended to the
tools, at the turn BFCL names, where the user says BFCL's handover line. Ground-truth calls are read
without evaluating anything (their arguments are literals; a positional argument is named by the
method's signature).
"""

from __future__ import annotations

import ast
import functools
from typing import Any, get_args

from inftool.core.episode import Call
from inftool.envs import EnvironmentGroup
from inftool.envs.bfcl import entry_environment, env_of_class, env_tools
from inftool.spec.catalogs import MultiTurnCategory

from .items import Conversation, Item

CATEGORIES: tuple[str, ...] = get_args(MultiTurnCategory)


def is_multi_turn(category: str) -> bool:
    return category in CATEGORIES


def multi_turn_items(category: str, limit: int | None = None, seen: Any = None) -> list[Item]:
    """The entries of a multi-turn category as items (at most ``limit``); ``seen(names)`` marks each as
    seen, unseen or mixed by the functions its ground truth calls."""
    from inftool.catalog.bfcl_data import bfcl_data

    data = bfcl_data()
    answers = data.answers(category)
    return [_item(category, entry, answers[entry["id"]], seen) for entry in data.questions(category)[:limit]]


def _item(category: str, entry: dict[str, Any], truth: list[list[str]], seen: Any) -> Item:
    classes = list(entry["involved_classes"])
    offered = [pair for cls in classes for pair in _docs_and_tools(env_of_class(cls))]
    handover: dict[int, list[dict[str, Any]]] = {}
    for turn, names in sorted((int(t), names) for t, names in (entry.get("missed_function") or {}).items()):
        for name in names:
            held = next(pair for pair in offered if pair[0]["name"] == name)
            offered.remove(held)
            handover.setdefault(turn, []).append(held[1])
    world = entry_environment(classes)
    reference = [[reference_call(text, world) for text in turn] for turn in truth]
    conversation = Conversation(turns=[list(turn) for turn in entry["question"]], involved=classes,
                                initial_config=entry.get("initial_config") or {}, reference=reference,
                                long_context="long_context" in category, handover=handover)
    names = {call.name for turn in reference for call in turn} or {doc["name"] for doc, _ in offered}
    return Item("bfcl", category, entry["id"], list(conversation.turns[0]), [tool for _, tool in offered],
                [doc for doc, _ in offered], [], seen=seen(names) if seen else None, conversation=conversation)


@functools.lru_cache(maxsize=16)
def _docs_and_tools(env: str) -> tuple[tuple[dict[str, Any], dict[str, Any]], ...]:
    """(BFCL function doc, OpenAI tool) of each function of an environment, in the docs' order."""
    from inftool.catalog.bfcl_data import bfcl_data

    return tuple(zip(bfcl_data().environment_docs(env), env_tools(env), strict=True))


def reference_call(text: str, world: EnvironmentGroup) -> Call:
    """A ground-truth call (``mv(source='a', destination='b')``, ``sort('report.txt')``) as a Call."""
    node = ast.parse(text.strip(), mode="eval").body
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
        raise ValueError(f"not a ground-truth call: {text!r}")
    name = node.func.id
    arguments = {keyword.arg: ast.literal_eval(keyword.value) for keyword in node.keywords}
    if node.args:
        positional = world.parameter_names(name)[: len(node.args)]
        arguments = {**dict(zip(positional, (ast.literal_eval(a) for a in node.args), strict=True)), **arguments}
    return Call(name, arguments)


def environment_for(item: Item) -> EnvironmentGroup:
    """A fresh world for a multi-turn item, in its initial state."""
    conversation = item.conversation
    world = entry_environment(conversation.involved)
    world.reset(conversation.initial_config, long_context=conversation.long_context)
    return world


@functools.lru_cache(maxsize=1)
def handover_and_limit() -> tuple[str, int]:
    """(what the user says when handing over held-back functions, how many steps with calls a turn may take)."""
    from inftool.envs.bfcl import handover_prompt, step_limit

    return handover_prompt(), step_limit()
