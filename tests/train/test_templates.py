"""Every chat template TRL ships that renders tool calls renders inftool's episodes right: no error, no
double-encoded arguments, and a completion mask that covers exactly the assistant's turns (by the
template's {% generation %} markers where it has them, by the prefix method otherwise)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

pytest.importorskip("trl", reason="TRL's chat templates come with the train extra")

import trl  # noqa: E402

from inftool.compile import compile_recipe  # noqa: E402
from inftool.errors import StageError  # noqa: E402
from inftool.spec import load_recipe  # noqa: E402
from inftool.store import Store  # noqa: E402
from inftool.synth import run_stage  # noqa: E402
from inftool.train import data, templates  # noqa: E402
from inftool.train.tiny import chat_template, train_tokenizer  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
TEMPLATES = sorted((Path(trl.__file__).parent / "chat_templates").glob("*.jinja"))
TOOL_TEMPLATES = [p for p in TEMPLATES if "tool_calls" in p.read_text(encoding="utf-8")]
CANNOT_RENDER_CALLS = {
    "deepseek_r1_distill": "renders calls only when content is None, and transformers drops None keys",
    "deepseek_r1_distill_training": "the same",
}
"""Templates that mention tool calls but cannot render one with transformers 5: a clear error, tested below."""
RENDERED = [p for p in TOOL_TEMPLATES if p.stem not in CANNOT_RENDER_CALLS]


@pytest.fixture(scope="module")
def episodes(tmp_path_factory):
    run = tmp_path_factory.mktemp("templates")
    loaded = load_recipe(REPO / "recipes" / "smoke.yaml", [f"run_dir={run}", "loop.episodes_per_iteration=60"])
    compiled = compile_recipe(loaded)
    run_stage(loaded, compiled)
    with Store.open(run, read_only=True) as store:
        return list(store.episodes(store.current_run(), split="train"))


@pytest.fixture(scope="module")
def base_tokenizer():
    return train_tokenizer(["<tool_call>{\"name\": \"x\", \"arguments\": {}}</tool_call> hello"] * 4, 300)


def tokenizer_with(base, template: str, name: str):
    tokenizer = base.__class__(tokenizer_object=base.backend_tokenizer, bos_token="<s>", eos_token="</s>",
                               pad_token="<pad>")
    tokenizer.chat_template = template
    tokenizer.name_or_path = name
    return tokenizer


def test_there_are_tool_templates_to_check():
    assert len(TOOL_TEMPLATES) >= 40


@pytest.mark.parametrize("path", RENDERED + [None], ids=[p.stem for p in RENDERED] + ["tiny-scratch"])
def test_episodes_render_and_mask_exactly_the_assistant_turns(path, episodes, base_tokenizer):
    template = chat_template() if path is None else path.read_text(encoding="utf-8")
    tokenizer = tokenizer_with(base_tokenizer, template, path.stem if path else "tiny-scratch")
    built = data.sft_data(episodes, tokenizer, max_length=100_000)
    shape = templates.profile(tokenizer)
    assert built.mask_method == ("generation markers" if templates.GENERATION_MARKER.search(template) else "prefix")
    assert built.unmasked_turns == 0
    for episode in episodes:
        one = data.sft_data([episode], tokenizer, max_length=100_000).rows
        assert one, "an episode gave no example"
        messages = data._through_calls(episode["messages"])
        masked = "".join(tokenizer.decode([t for t, m in zip(row["input_ids"], row["completion_mask"], strict=True)
                                           if m]) for row in one)
        assert not re.search(r'\\"[A-Za-z_]+\\"\s*:', masked), "arguments rendered double-encoded"
        for message in messages:
            if message["role"] == "assistant":
                for call in message.get("tool_calls") or []:
                    assert call["function"]["name"] in masked
                    for value in json.loads(call["function"]["arguments"]).values():
                        if isinstance(value, str) and value:
                            assert value in masked or json.dumps(value)[1:-1] in masked
                if not message.get("tool_calls") and message.get("content"):
                    assert message["content"].strip()[:40] in masked
            elif message["role"] in ("user", "tool") and len(message.get("content") or "") > 20:
                assert message["content"].strip() not in masked, f"{message['role']} text is in the loss"


@pytest.mark.parametrize("name", sorted(CANNOT_RENDER_CALLS))
def test_a_template_that_cannot_render_calls_is_an_error_naming_it(base_tokenizer, name):
    template = next(p for p in TOOL_TEMPLATES if p.stem == name).read_text(encoding="utf-8")
    with pytest.raises(StageError, match=f"'{name}' cannot render tool calls"):
        templates.profile(tokenizer_with(base_tokenizer, template, name))
    plain = tokenizer_with(base_tokenizer, "{% for m in messages %}{{ m['content'] }}{% endfor %}", "my/model")
    with pytest.raises(StageError, match="'my/model' cannot render tool calls"):
        templates.profile(plain)


def test_the_probe_chooses_what_each_template_needs(base_tokenizer):
    by_name = {p.stem: p for p in TOOL_TEMPLATES}
    shapes = {name: templates.profile(tokenizer_with(base_tokenizer, by_name[name].read_text(encoding="utf-8"), name))
              for name in ("qwen2_5", "deepseekv3", "llama3_1", "qwen3_training")}
    assert not shapes["qwen2_5"].wire_arguments and not shapes["qwen2_5"].one_call_per_turn
    assert shapes["deepseekv3"].wire_arguments  # it concatenates the arguments as text
    assert shapes["llama3_1"].one_call_per_turn  # "only supports single tool-calls at once"
    assert shapes["qwen3_training"].mask_method == "generation markers"
