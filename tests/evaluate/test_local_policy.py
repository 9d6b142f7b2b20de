"""A local Hugging Face checkpoint as the policy: chat template with tools, batched generation."""

from __future__ import annotations

import json

import pytest

from inftool.evaluate import runner

torch = pytest.importorskip("torch", reason="the local policy needs the train extra (torch, transformers)")
transformers = pytest.importorskip("transformers")

@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A tiny-scratch model trained on nothing: it answers nonsense, through the real generation path."""
    from inftool.spec.backends import TinyScratchSpec
    from inftool.train.tiny import build_tiny

    items = runner.bfcl_items(["simple_python"], 50)
    spec = TinyScratchSpec(hidden_size=32, layers=1, heads=2, kv_heads=1, vocab_size=400, max_length=1024)
    conversations = [item.messages for item in items]
    return build_tiny(spec, [t for item in items for t in item.tools], conversations, tmp_path_factory.mktemp("tiny"))


def test_local_checkpoint_is_evaluated_through_its_chat_template(checkpoint):
    from inftool.evaluate.local import LocalPolicy

    policy = LocalPolicy(checkpoint, max_new_tokens=12, batch_size=3)
    items = runner.bfcl_items(["simple_python", "irrelevance"], limit=4)
    prompt = policy.prompt(items[0])
    assert prompt.startswith("<|im_start|>system\n") and items[0].tools[0]["function"]["name"] in prompt
    assert prompt.endswith("<|im_start|>assistant\n")
    results = runner.evaluate(items, policy)
    assert len(results) == 8 and all(isinstance(json.loads(r["output"]), str) for r in results)
    assert all(r["valid"] or r["error_kind"] for r in results)  # a random model: scored, never a crash
    assert runner.evaluate(items, policy) == results  # greedy decoding: deterministic


def test_a_directory_without_a_model_is_a_clear_error(tmp_path):
    from inftool.errors import UsageError
    from inftool.evaluate.local import LocalPolicy

    with pytest.raises(UsageError, match="not a Hugging Face checkpoint directory"):
        LocalPolicy(tmp_path)


# ---------------------------------------------------------------- the tokenizer's own response parser


def _tiny_tokenizer():
    from inftool.train.tiny import train_tokenizer

    return train_tokenizer(["What is the weather in Paris? <tool_call> get_weather city"] * 4, 300)


def _trl_template(name: str) -> str:
    trl = pytest.importorskip("trl", reason="TRL's bundled chat templates")
    from pathlib import Path

    return (Path(trl.__file__).parent / "chat_templates" / f"{name}.jinja").read_text(encoding="utf-8")


def test_the_parser_is_chosen_by_the_chat_template():
    from inftool.core.episode import Call
    from inftool.evaluate import parse_calls
    from inftool.evaluate.local import assistant_message, response_parser

    tokenizer = _tiny_tokenizer()
    assert response_parser(tokenizer) is None  # the tiny-scratch template: no parser, the raw text is read
    tokenizer.chat_template = "{{ messages[0]['content'] }}"
    assert response_parser(tokenizer) is None  # a template nobody knows: no parser, and no error
    tokenizer.chat_template = _trl_template("qwen2_5")
    parse = response_parser(tokenizer)  # TRL knows this one: add_response_schema attaches its parser
    assert parse is not None and tokenizer.response_template is not None
    text = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris", "days": 3}}\n</tool_call>'
    message = assistant_message(parse(text, "<|im_start|>assistant\n", None))
    assert message["role"] == "assistant"
    assert parse_calls(message) == [Call("get_weather", {"city": "Paris", "days": 3})]


def test_a_native_response_template_is_used_with_the_offered_tools():
    from inftool.core.episode import Call
    from inftool.evaluate import parse_calls
    from inftool.evaluate.local import assistant_message, response_parser

    chat_template_utils = pytest.importorskip("trl.chat_template_utils")
    tokenizer = _tiny_tokenizer()
    tokenizer.response_template = chat_template_utils.qwen3_5_template  # as if shipped with the checkpoint
    parse = response_parser(tokenizer)
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {
        "zip": {"type": "string"}, "days": {"type": "integer"}}}}}]
    text = ("<tool_call>\n<function=get_weather>\n<parameter=zip>\n75001\n</parameter>\n<parameter=days>\n3\n"
            "</parameter>\n</function>\n</tool_call>")
    message = assistant_message(parse(text, "<|im_start|>assistant\n", tools))
    assert parse_calls(message) == [Call("get_weather", {"zip": "75001", "days": 3})]  # typed by the schema


def _generating(policy, answers):
    """Make ``policy.model.generate`` append the given answers (in order) to the prompts."""
    tokenizer, queue = policy.tokenizer, list(answers)

    def generate(input_ids, **_):
        rows = [tokenizer(queue.pop(0) + tokenizer.eos_token, add_special_tokens=False)["input_ids"]
                for _ in range(input_ids.shape[0])]
        width = max(len(row) for row in rows)
        rows = [row + [tokenizer.pad_token_id] * (width - len(row)) for row in rows]
        return torch.cat([input_ids, torch.tensor(rows, dtype=input_ids.dtype)], dim=1)

    policy.model.generate = generate


def test_a_checkpoint_with_a_known_template_answers_with_parsed_messages(checkpoint, tmp_path):
    import shutil

    from inftool.evaluate.local import LocalPolicy

    copy = tmp_path / "qwen-templated"
    shutil.copytree(checkpoint, copy)
    (copy / "chat_template.jinja").write_text(_trl_template("qwen2_5"), encoding="utf-8")
    policy = LocalPolicy(copy, max_new_tokens=12, batch_size=2)
    assert policy.parser is not None
    items = runner.bfcl_items(["simple_python", "irrelevance"], limit=2)
    answers = []
    for item in items:
        truth = runner.oracle(item).get("tool_calls") or []
        answers.append("".join(f'<tool_call>\n{{"name": {json.dumps(c["function"]["name"])}, "arguments": '
                               f'{c["function"]["arguments"]}}}\n</tool_call>' for c in truth) or "I cannot help.")
    _generating(policy, answers)
    results = runner.evaluate(items, policy)
    outputs = [json.loads(r["output"]) for r in results]
    assert all(isinstance(o, dict) and o["role"] == "assistant" for o in outputs)
    assert [bool(o.get("tool_calls")) for o in outputs] == [True, True, False, False]
    assert all(r["valid"] for r in results), results


def test_a_generation_the_parser_cannot_read_falls_back_to_the_text(checkpoint, tmp_path):
    import shutil

    from inftool.evaluate import parse_calls
    from inftool.evaluate.local import LocalPolicy

    copy = tmp_path / "qwen-templated"
    shutil.copytree(checkpoint, copy)
    (copy / "chat_template.jinja").write_text(_trl_template("qwen2_5"), encoding="utf-8")
    policy = LocalPolicy(copy, max_new_tokens=12, batch_size=1)
    bad = '<tool_call>\n{"name": "get_weather", "arguments": {"city": }\n</tool_call>'
    assert policy.read(bad, policy.prompt(runner.bfcl_items(["simple_python"], limit=1)[0]), None) == bad
    assert parse_calls(bad) is None  # scored as an unreadable call, not as "no call"
