"""The tiny-scratch policy: a tokenizer trained here, a chat template for tools, a small random Llama."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inftool.compile import compile_recipe
from inftool.evaluate import parse_calls
from inftool.spec import load_recipe
from inftool.spec.backends import TinyScratchSpec
from inftool.store import Store
from inftool.synth import run_stage

transformers = pytest.importorskip("transformers", reason="tiny-scratch needs the train extra")

REPO = Path(__file__).resolve().parents[2]
SPEC = TinyScratchSpec(hidden_size=32, layers=1, heads=2, kv_heads=1, vocab_size=512, max_length=512)


@pytest.fixture(scope="module")
def episodes(tmp_path_factory):
    run = tmp_path_factory.mktemp("run")
    loaded = load_recipe(REPO / "recipes" / "smoke.yaml", [f"run_dir={run}"])
    compiled = compile_recipe(loaded)
    run_stage(loaded, compiled, episodes=60)
    with Store.open(run, read_only=True) as store:
        stored = list(store.episodes(store.current_run()))
    return [t.to_openai() for t in compiled.catalog], stored


@pytest.fixture(scope="module")
def checkpoint(episodes, tmp_path_factory):
    from inftool.train.tiny import build_tiny

    tools, stored = episodes
    return build_tiny(SPEC, tools, [e["messages"] for e in stored], tmp_path_factory.mktemp("tiny"), seed=3)


def test_the_chat_template_renders_tools_and_calls_that_parse_back(checkpoint, episodes):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    _, stored = episodes
    episode = next(e for e in stored if any(m.get("tool_calls") for m in e["messages"]))
    text = tokenizer.apply_chat_template(episode["messages"], tools=episode["tools"], tokenize=False)
    assert text.startswith("<|im_start|>system\n") and episode["tools"][0]["function"]["name"] in text
    first = next(m for m in episode["messages"] if m.get("tool_calls"))
    turns = [t.split("<|im_end|>")[0] for t in text.split("<|im_start|>assistant\n")[1:]]
    assistant = next(t for t in turns if "<tool_call>" in t)  # a multi_turn episode asks first
    expected = [(c["function"]["name"], json.loads(c["function"]["arguments"])) for c in first["tool_calls"]]
    assert [(c.name, c.arguments) for c in parse_calls(assistant)] == expected
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    assert tokenizer.decode(ids) == text  # byte-level BPE: lossless
    assert len(ids) < len(text) / 1.5  # merges learned from the catalog (bytes alone would be 1 token each)


def test_tool_lines_without_a_description_end_at_the_parameters_and_the_scaffold_is_whole_tokens(episodes):
    from inftool.train.tiny import corpus, train_tokenizer

    tools, stored = episodes
    texts = corpus(tools, [e["messages"] for e in stored])
    bare, described = (train_tokenizer(texts, SPEC.vocab_size, description_chars=chars) for chars in (0, 20))
    episode = stored[0]
    lines = [bare.apply_chat_template(episode["messages"], tools=episode["tools"], tokenize=False),
             described.apply_chat_template(episode["messages"], tools=episode["tools"], tokenize=False)]
    tool_lines = [text.split("<tools>")[1].split("</tools>")[0].splitlines() for text in lines]
    assert len(tool_lines[0]) == len(tool_lines[1]) == len(episode["tools"])
    assert all(line.endswith(")") for line in tool_lines[0])
    assert all(d.startswith(b + ": ") for b, d in zip(*tool_lines, strict=True) if "): " in d)
    pieces = [bare.decode([i]) for i in bare(lines[0], add_special_tokens=False)["input_ids"]]
    assert {"system", "tools", "user"} <= set(pieces)


def test_the_model_loads_and_generates_as_a_local_policy(checkpoint):
    from transformers import AutoModelForCausalLM

    from inftool.evaluate import runner
    from inftool.evaluate.local import LocalPolicy

    model = AutoModelForCausalLM.from_pretrained(checkpoint)
    assert model.config.hidden_size == 32 and model.config.tie_word_embeddings
    items = runner.bfcl_items(["simple_python"], limit=2)
    results = runner.evaluate(items, LocalPolicy(checkpoint, max_new_tokens=8, batch_size=2))
    assert len(results) == 2 and all(r["valid"] or r["error_kind"] for r in results)


def test_the_same_seed_builds_the_same_model(episodes, tmp_path):
    import torch

    from inftool.train.tiny import build_tiny

    tools, stored = episodes
    conversations = [e["messages"] for e in stored]
    a = build_tiny(SPEC, tools, conversations, tmp_path / "a", seed=3)
    b = build_tiny(SPEC, tools, conversations, tmp_path / "b", seed=3)
    assert (a / "tokenizer.json").read_text() == (b / "tokenizer.json").read_text()
    from transformers import AutoModelForCausalLM

    ma, mb = AutoModelForCausalLM.from_pretrained(a), AutoModelForCausalLM.from_pretrained(b)
    assert all(torch.equal(x, y) for x, y in zip(ma.state_dict().values(), mb.state_dict().values(), strict=True))


def test_the_mlp_width_is_four_times_the_hidden_size_unless_the_spec_sets_it(episodes):
    from inftool.train.tiny import build_model, train_tokenizer

    tools, stored = episodes
    tokenizer = train_tokenizer([json.dumps(t) for t in tools], SPEC.vocab_size)
    assert build_model(SPEC, tokenizer).config.intermediate_size == 4 * SPEC.hidden_size
    narrow = build_model(SPEC.model_copy(update={"intermediate_size": 48}), tokenizer)
    assert narrow.config.intermediate_size == 48
    assert narrow.model.layers[0].mlp.gate_proj.out_features == 48


@pytest.mark.parametrize("std", [0.02, 0.06])
def test_the_initial_weights_have_the_specs_standard_deviation(episodes, std):
    from inftool.train.tiny import build_model, train_tokenizer

    tools, _ = episodes
    tokenizer = train_tokenizer([json.dumps(t) for t in tools], SPEC.vocab_size)
    model = build_model(SPEC.model_copy(update={"init_std": std}), tokenizer)
    assert model.config.initializer_range == std
    for weight in (model.model.layers[0].mlp.gate_proj.weight, model.model.embed_tokens.weight):
        assert float(weight.detach().std()) == pytest.approx(std, rel=0.1)


@pytest.mark.parametrize(("style", "word_same", "number_same"), [("bpe", False, True), ("words", True, True),
                                                                  ("copy", True, True)])
def test_tokenizer_styles_decide_whether_a_value_is_the_same_tokens_in_request_and_call(episodes, style, word_same,
                                                                                        number_same):
    from inftool.train.tiny import corpus, train_tokenizer

    tools, stored = episodes
    request = "Weather in Reykjavik for 48213 days, please"
    call = '<tool_call>{"name": "get_weather", "arguments": {"city": "Reykjavik", "days": 48213}}</tool_call>'
    tokenizer = train_tokenizer(corpus(tools, [e["messages"] for e in stored]) + [request, call] * 50,
                                1024, style)  # room for the merges of the value (with and without its space)

    def pieces(text: str, value: str) -> list[str]:
        ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        assert tokenizer.decode(ids) == text  # every style is lossless
        spans = [tokenizer.decode([i]) for i in ids]
        joined = "".join(spans)
        start = joined.index(value)
        out, at = [], 0
        for span in spans:
            if at + len(span) > start and at < start + len(value):
                out.append(span)
            at += len(span)
        return out

    assert (pieces(request, "Reykjavik") == pieces(call, "Reykjavik")) is word_same
    assert (pieces(request, "48213") == pieces(call, "48213")) is number_same
