"""Training data from stored episodes: the loss covers the assistant's calls only, and the GRPO
prompts carry labels the gated reward scores."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("transformers", reason="the train extra renders with a Hugging Face tokenizer")

from inftool.reward import score  # noqa: E402
from inftool.train.data import prompt_items, prompt_rows, sft_data  # noqa: E402
from inftool.train.tiny import train_tokenizer  # noqa: E402

TOOLS = [{"type": "function", "function": {"name": "get_weather", "description": "Weather in a city.",
                                            "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                                                           "required": ["city"]}}}]
CALL = {"id": "c0", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'}}
MESSAGES = [{"role": "user", "content": "How is the weather in Oslo?", "tool_calls": None},
            {"role": "assistant", "content": None, "tool_calls": [CALL]},
            {"role": "tool", "content": '{"temp": 3}', "tool_call_id": "c0"},
            {"role": "assistant", "content": "It is 3 degrees in Oslo.", "tool_calls": None}]
EPISODE = {"episode_id": "e1", "complexity": "single", "messages": MESSAGES, "tools": TOOLS,
           "goal": {"steps": [[{"name": "get_weather", "arguments": {"city": "Oslo"}}]]}}


@pytest.fixture(scope="module")
def tokenizer():
    texts = [json.dumps(TOOLS), "How is the weather in Oslo?", '<tool_call>{"name": "get_weather"}</tool_call>'] * 20
    return train_tokenizer(texts, 300)


def test_the_loss_covers_the_tool_call_turn_and_stops_before_the_summary(tokenizer):
    data = sft_data([EPISODE], tokenizer, max_length=512)
    (row,) = data.rows
    learned = tokenizer.decode([t for t, m in zip(row["input_ids"], row["completion_mask"], strict=True) if m])
    assert learned == '<tool_call>{"name": "get_weather", "arguments": {"city": "Oslo"}}</tool_call><|im_end|>\n'
    whole = tokenizer.decode(row["input_ids"])
    assert "It is 3 degrees" not in whole and "<tools>get_weather(city: string): Weather in a city." in whole
    assert data.truncated == 0 and data.unmasked_turns == 0


def test_long_episodes_are_cut_at_max_length_and_counted(tokenizer):
    data = sft_data([EPISODE], tokenizer, max_length=20)
    assert data.truncated == 1
    assert all(len(row["input_ids"]) == 20 for row in data.rows)  # a row whose calls were all cut off is dropped


def test_grpo_prompts_end_at_the_generation_prompt_and_their_labels_score_the_right_call(tokenizer):
    (row,) = prompt_rows(prompt_items([EPISODE]), tokenizer)
    assert row["prompt"].endswith("<|im_start|>assistant\n") and "Oslo?" in row["prompt"]
    assert "tool_call" not in row["prompt"].split("<|im_start|>user")[1]
    right = '<tool_call>{"name": "get_weather", "arguments": {"city": "Oslo"}}</tool_call>'
    wrong = '<tool_call>{"name": "get_weather", "arguments": {"city": "Rome"}}</tool_call>'
    assert score(right, row["label"]).reward == pytest.approx(1.0)
    assert score(wrong, row["label"]).reward == pytest.approx(0.4)
    assert json.loads(row["label"])["category"] == "multiple"
