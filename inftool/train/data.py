"""Training data from stored episodes, rendered with the policy's own chat template (tools included).

- SFT: one example per accepted episode, up to the assistant's last tool call, tokenized whole, the
  loss on the assistant's turns only (``completion_mask``). A turn counts when the template renders the conversation before it as a
  prefix of the whole (true of ordinary templates); a turn that breaks this is left unmasked.
- GRPO and OpenRLHF: one prompt per episode, the conversation up to the assistant's first tool call,
  rendered to text with the tools (OpenRLHF applies chat templates without ``tools=``, so the text
  is rendered here), and a label the gated reward reads: ``{"functions", "ground_truth", "category"}``.

No torch here: the tokenizer is anything with ``apply_chat_template`` and ``__call__`` (transformers).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from inftool.evaluate.runner import Item, episode_items


@dataclass
class SFTData:
    rows: list[dict[str, list[int]]]
    """``input_ids`` and ``completion_mask`` per example (TRL's pre-tokenized format)."""
    truncated: int = 0
    """Examples cut at the policy's longest sequence."""
    unmasked_turns: int = 0
    """Assistant turns left out of the loss because the template does not render prefixes stably."""

    @property
    def tokens(self) -> int:
        return sum(len(row["input_ids"]) for row in self.rows)


def render(tokenizer: Any, messages: list[dict[str, Any]], tools: list[dict[str, Any]], *, prompt: bool) -> str:
    """The conversation as the policy sees it; ``prompt=True`` adds the assistant's generation prompt."""
    return tokenizer.apply_chat_template(_clean(messages), tools=tools or None, add_generation_prompt=prompt,
                                         tokenize=False)


def _clean(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Messages without null fields (stored JSON has them; templates test ``'key' in message``)."""
    return [{k: v for k, v in m.items() if v is not None} for m in messages]


def sft_data(episodes: Iterable[dict[str, Any]], tokenizer: Any, max_length: int) -> SFTData:
    """SFT examples from stored episodes (``Store.episodes(run_id, split="train")``)."""
    data = SFTData([])
    for episode in episodes:
        messages, tools = _through_calls(episode["messages"]), episode["tools"]
        text = render(tokenizer, messages, tools, prompt=False)
        spans = []
        for j, message in enumerate(messages):
            if message["role"] != "assistant":
                continue
            before = render(tokenizer, messages[:j], tools, prompt=True)
            through = render(tokenizer, messages[: j + 1], tools, prompt=False)
            if text.startswith(before) and text.startswith(through):
                spans.append((len(before), len(through)))
            else:
                data.unmasked_turns += 1
        if not spans:
            continue
        encoded = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        ids, offsets = encoded["input_ids"], encoded["offset_mapping"]
        mask = [int(any(start <= a < end for start, end in spans)) for a, _ in offsets]
        if len(ids) > max_length:
            data.truncated += 1
            ids, mask = ids[:max_length], mask[:max_length]
        if any(mask):
            data.rows.append({"input_ids": ids, "completion_mask": mask})
    return data


def _through_calls(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The conversation up to the assistant's last tool call (its closing summary teaches the policy
    nothing about calling tools and would be most of the tokens), or to its first answer when it calls
    none (an irrelevance episode's refusal)."""
    turns = [j for j, m in enumerate(messages) if m["role"] == "assistant"]
    calls = [j for j in turns if messages[j].get("tool_calls")]
    end = calls[-1] if calls else turns[0] if turns else len(messages) - 1
    return messages[: end + 1]


def label(item: Item) -> str:
    """The gated reward's label of an item, as JSON text."""
    return json.dumps({"functions": item.functions, "ground_truth": item.ground_truth, "category": item.rules})


def prompt_rows(items: Iterable[Item], tokenizer: Any) -> list[dict[str, str]]:
    """``{"prompt": rendered text, "label": JSON, "item_id", "category"}`` per item."""
    return [{"prompt": render(tokenizer, item.messages, item.tools, prompt=True), "label": label(item),
             "item_id": item.item_id, "category": item.category} for item in items]


def prompt_items(episodes: Iterable[dict[str, Any]]) -> list[Item]:
    """GRPO prompts from stored training episodes: each asked up to its first tool call."""
    return episode_items(episodes, suite="train")
