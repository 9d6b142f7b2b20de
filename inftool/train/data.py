"""Training data from stored episodes, rendered with the policy's own chat template (tools included).

- SFT: one example per accepted episode, up to the assistant's last tool call, tokenized whole, the
  loss on the assistant's turns only (``completion_mask``). The turns are found by the template's
  ``{% generation %}`` markers where it has them, else by rendering the conversation before each turn
  as a prefix of the whole (``SFTData.mask_method`` says which). A turn the prefix method cannot place
  is left out of the loss and counted; a template that places none is an error naming it.
- GRPO and OpenRLHF: one prompt per episode, the conversation up to the assistant's first tool call,
  rendered to text with the tools (OpenRLHF applies chat templates without ``tools=``, so the text
  is rendered here), and a label the gated reward reads: ``{"functions", "ground_truth", "category"}``.

Calls reach the template as it wants them (``train.templates``): arguments as objects for almost every
template, never double-encoded. No torch here: the tokenizer is anything with ``apply_chat_template``
and ``__call__`` (transformers).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from inftool.errors import StageError
from inftool.evaluate.runner import Item, episode_items

from .templates import MASK_BY_MARKERS, TemplateProfile, apply, profile


@dataclass
class SFTData:
    rows: list[dict[str, list[int]]]
    """``input_ids`` and ``completion_mask`` per example (TRL's pre-tokenized format)."""
    truncated: int = 0
    """Examples cut at the policy's longest sequence."""
    unmasked_turns: int = 0
    """Assistant turns left out of the loss because the template does not render prefixes stably."""
    template: dict[str, Any] = field(default_factory=dict)
    """How the template rendered and masked the data (``TemplateProfile.describe``)."""

    @property
    def tokens(self) -> int:
        return sum(len(row["input_ids"]) for row in self.rows)

    @property
    def mask_method(self) -> str:
        return self.template.get("mask", "")


def render(tokenizer: Any, messages: list[dict[str, Any]], tools: list[dict[str, Any]], *, prompt: bool) -> str:
    """The conversation as the policy sees it; ``prompt=True`` adds the assistant's generation prompt."""
    return profile(tokenizer).render(tokenizer, messages, tools, prompt=prompt)


def sft_data(episodes: Iterable[dict[str, Any]], tokenizer: Any, max_length: int) -> SFTData:
    """SFT examples from stored episodes (``Store.episodes(run_id, split="train")``)."""
    shape = profile(tokenizer)
    data, turns, placed = SFTData([], template=shape.describe()), 0, 0
    for episode in episodes:
        messages, tools = _through_calls(episode["messages"]), episode["tools"]
        turns += 1
        if shape.mask_method == MASK_BY_MARKERS:
            examples = [_marked(tokenizer, shape, messages, tools)]
        else:
            examples, unplaced = _prefixed(tokenizer, shape, messages, tools)
            data.unmasked_turns += unplaced
        placed += len(examples)
        for ids, mask in examples:
            if len(ids) > max_length:
                data.truncated += 1
                ids, mask = ids[:max_length], mask[:max_length]
            if any(mask):
                data.rows.append({"input_ids": ids, "completion_mask": mask})
    if turns and not placed:
        raise StageError(f"the chat template of {shape.name} gives no assistant turn to learn from: rendering "
                         "the conversation before a turn is not a prefix of the conversation through it (hint: use "
                         "a template with {% generation %} markers, e.g. TRL's trl/chat_templates/*_training.jinja)")
    return data


def _marked(tokenizer: Any, shape: TemplateProfile, messages: list[dict[str, Any]],
            tools: list[dict[str, Any]]) -> tuple[list[int], list[int]]:
    """Token ids and the assistant mask the template's ``{% generation %}`` markers give."""
    encoded = tokenizer.apply_chat_template(shape.messages(messages), tools=tools or None, tokenize=True,
                                            return_dict=True, return_assistant_tokens_mask=True)
    return list(encoded["input_ids"]), [int(bool(m)) for m in encoded["assistant_masks"]]


def _prefixed(tokenizer: Any, shape: TemplateProfile, messages: list[dict[str, Any]],
              tools: list[dict[str, Any]]) -> tuple[list[tuple[list[int], list[int]]], int]:
    """Examples masked by the prefix method, and the assistant turns it could not place.

    A turn is the text between the conversation before it (with the generation prompt) and the
    conversation through it. Turns that sit the same way in the whole conversation share one example;
    a turn the template renders differently once later turns follow (templates that strip earlier
    reasoning do) gets its own example, the conversation through it, as the model generates it."""
    ready = shape.messages(messages)
    text = apply(tokenizer, ready, tools, prompt=False)
    spans, own = [], []
    unplaced = 0
    for j, message in enumerate(ready):
        if message["role"] != "assistant":
            continue
        try:
            start, through = _turn(tokenizer, ready, j, tools)
        except Exception:  # noqa: BLE001 - a template may refuse a partial conversation: the turn stays unplaced
            start, through = None, ""
        if start is None:
            unplaced += 1
        elif text.startswith(through):
            spans.append((start, len(through)))
        else:
            own.append(_masked(tokenizer, through, [(start, len(through))]))
    return ([_masked(tokenizer, text, spans)] if spans else []) + own, unplaced


def _turn(tokenizer: Any, ready: list[dict[str, Any]], j: int, tools: list[dict[str, Any]]) -> tuple[int | None, str]:
    """Where assistant turn ``j`` starts in the conversation through it (None when it cannot be placed), and
    that text. Normally right after the generation prompt. Where the prompt is not a prefix (a reasoning
    template opens a ``<think>`` the turn renders closed at once; DeepSeek-V3 closes tool outputs only at
    the end), the turn starts where the two texts part, provided that is after the last earlier message."""
    before = apply(tokenizer, ready[:j], tools, prompt=True)
    through = apply(tokenizer, ready[: j + 1], tools, prompt=False)
    if through.startswith(before):
        return (len(before) if len(through) > len(before) else None), through
    start = next((k for k, (a, b) in enumerate(zip(before, through)) if a != b), min(len(before), len(through)))
    last = next((m["content"] for m in reversed(ready[:j]) if isinstance(m.get("content"), str) and m["content"]), "")
    found = through.rfind(last, 0, start) if last else -1
    return (start if found >= 0 and start < len(through) else None), through


def _masked(tokenizer: Any, text: str, spans: list[tuple[int, int]]) -> tuple[list[int], list[int]]:
    """Token ids of ``text`` and a mask of the tokens that start inside ``spans`` (character ranges)."""
    encoded = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    mask = [int(any(start <= a < end for start, end in spans)) for a, _ in encoded["offset_mapping"]]
    return list(encoded["input_ids"]), mask


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
