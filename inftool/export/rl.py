"""Prompts for reinforcement learning with the gated reward: TRL's GRPOTrainer (``grpo``) and verl (``verl``).

One prompt per episode, the conversation up to the assistant's first tool call (the user's request, and the
clarification of a multi_turn episode), with the label the gated reward reads (``inftool.train.data.label``:
``{"functions", "ground_truth", "category"}`` as JSON text), built as training builds it
(``inftool.evaluate.runner.episode_items``).

Neither trainer renders tools that differ from prompt to prompt: TRL's GRPOTrainer renders every prompt with
the trainer's own ``tools=``, verl with the tools of its tool config. So each prompt opens with a system
message that lists its tools (OpenAI function schemas, one JSON object a line) and asks for calls as
``<tool_call>{"name": ..., "arguments": {...}}</tool_call>``, which the gated reward reads; ``prompt[1:]``
is the bare conversation, for rendering with a chat template's own ``tools=``.
"""

from __future__ import annotations

import json
from typing import Any

from inftool.core.messages import for_template
from inftool.evaluate.runner import Item, episode_items
from inftool.reward import RewardConfig
from inftool.train.data import label

from .options import Options

TOOLS_MESSAGE = """You can call functions to help with the user's request. The functions, as JSON Schema:
<tools>
{tools}
</tools>
To call functions, answer with one <tool_call></tool_call> block per call, each holding a JSON object:
<tool_call>
{{"name": "<function name>", "arguments": {{<argument name>: <value>, ...}}}}
</tool_call>
If no function fits the request, answer in plain text and call none."""


def tools_message(tools: list[dict[str, Any]]) -> dict[str, str]:
    """The system message that offers ``tools`` (OpenAI tools) to a model whatever its chat template."""
    listed = "\n".join(json.dumps(tool["function"], ensure_ascii=False) for tool in tools)
    return {"role": "system", "content": TOOLS_MESSAGE.format(tools=listed)}


def item_of(episode: dict[str, Any]) -> Item:
    """The episode as an evaluation item: prompt messages, tools, ground truth and the checker's category."""
    return episode_items([episode], suite=episode["split"])[0]


def prompt_of(item: Item) -> list[dict[str, Any]]:
    """The tools' system message, then the conversation up to the first tool call (no null fields)."""
    return [tools_message(item.tools), *for_template(item.messages)]


def grpo_record(episode: dict[str, Any], position: int, options: Options) -> dict[str, Any]:
    """A conversational prompt for TRL's GRPOTrainer; the other columns reach reward functions as keyword
    arguments (``label`` is what ``inftool.reward.trl_reward`` reads)."""
    item = item_of(episode)
    return {"prompt": prompt_of(item), "tools": item.tools, "ground_truth": item.ground_truth, "label": label(item),
            "episode_id": item.item_id, "category": item.category}


def verl_record(episode: dict[str, Any], position: int, options: Options) -> dict[str, Any]:
    """A row of verl's RL dataset: ``data_source``, ``prompt`` (chat messages), ``ability``, ``reward_model``
    (rule-based, its ``ground_truth`` the label) and ``extra_info`` (the offered tools as JSON text)."""
    item = item_of(episode)
    prompt = [{"role": m["role"], "content": m["content"]} for m in prompt_of(item)]
    extra = {"split": episode["split"], "index": position, "episode_id": item.item_id, "complexity": item.category,
             "tools": json.dumps(item.tools, ensure_ascii=False)}
    return {"data_source": options.data_source, "prompt": prompt, "ability": "tool_use",
            "reward_model": {"style": "rule", "ground_truth": label(item)}, "extra_info": extra}


VERL_COLUMNS = {
    "data_source": "VARCHAR",
    "prompt": "STRUCT(role VARCHAR, content VARCHAR)[]",
    "ability": "VARCHAR",
    "reward_model": "STRUCT(style VARCHAR, ground_truth VARCHAR)",
    "extra_info": 'STRUCT(split VARCHAR, "index" BIGINT, episode_id VARCHAR, complexity VARCHAR, tools VARCHAR)',
}
"""verl's columns as DuckDB types: every field one fixed type, so any ``datasets`` or pandas reads them."""


def compute_score_file(config: RewardConfig, recipe: str) -> str:
    """verl's custom reward file (``custom_reward_function.path``): the gated reward with the recipe's gates
    and values as literals, importing nothing but ``inftool.reward``."""
    return f'''"""The gated reward of recipe {recipe} for verl, written by `inftool export --format verl`.

Use it with verl's trainer:  custom_reward_function.path=compute_score.py custom_reward_function.name=compute_score
It needs inftool importable in verl's environment (pip install --no-deps /path/to/inftool; the reward
needs no dependency beyond the standard library) and imports nothing of it but inftool.reward.
"""

import logging

from inftool.reward import RewardConfig, score

CONFIG = RewardConfig(gates={config.gates!r}, values={config.values!r}, partial_credit={config.partial_credit!r})
log = logging.getLogger("inftool.reward")


def compute_score(data_source, solution_str, ground_truth, extra_info=None, **kwargs):
    """The gated reward (0..1) of one response: ``ground_truth`` is the row's reward_model.ground_truth,
    the label JSON. Never raises: anything unreadable scores 0.0."""
    try:
        return float(score(solution_str, ground_truth, CONFIG).reward)
    except Exception as exc:  # noqa: BLE001 - a reward function must not stop training
        log.warning("compute_score: %s: %s; scored 0", type(exc).__name__, exc)
        return 0.0
'''
