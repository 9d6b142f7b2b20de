"""Constrained decoding: the grammar admits exactly the answers the offered tools allow, a local checkpoint's
generation stays inside it, its verdicts are stored apart from free decoding, and a template without Hermes
calls is refused."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from inftool.errors import UsageError
from inftool.evaluate import runner
from inftool.evaluate.parse import parse_calls

pytest.importorskip("lmformatenforcer", reason="constrained decoding needs lm-format-enforcer (the train extra)")
torch = pytest.importorskip("torch", reason="the local policy needs the train extra (torch, transformers)")

WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "Weather for a city.",
    "parameters": {"type": "object", "required": ["city"], "properties": {
        "city": {"type": "string"}, "days": {"type": "integer", "minimum": 1},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}}}}}
TIME = {"type": "function", "function": {
    "name": "get_time", "description": "Time in a zone.",
    "parameters": {"type": "object", "required": ["zone"], "properties": {"zone": {"type": "string"}}}}}


def allowed_after(text: str, tools: list[dict]) -> set[str]:
    """The characters the answer grammar allows after ``text`` (empty: ``text`` itself left the grammar)."""
    from inftool.evaluate.constrained import answer_parser

    parser = answer_parser(tools)
    for ch in text:
        if ch not in parser.get_allowed_characters():
            return set()
        parser = parser.add_character(ch)
    return set(parser.get_allowed_characters())


def test_the_grammar_admits_offered_names_known_parameters_and_typed_values():
    tools = [WEATHER, TIME]
    assert allowed_after('<tool_call>{"name": "', tools) == {"g"}
    assert allowed_after('<tool_call>{"name": "get_', tools) == {"w", "t"}
    assert not allowed_after('<tool_call>{"name": "get_x', tools)  # no such tool
    head = '<tool_call>{"name": "get_weather", "arguments": {"'
    assert {"c", "d", "u"} <= allowed_after(head, tools) and not allowed_after(head + "z", tools)  # unknown parameter
    assert not allowed_after(head + 'days": "', tools)  # an integer parameter takes no string
    assert allowed_after(head + 'days": 3', tools) and not allowed_after(head + 'days": 3.', tools)
    assert not allowed_after(head + 'unit": "k', tools)  # enum
    assert "}" not in allowed_after(head + 'days": 3', tools)  # the required city is missing
    assert "}" in allowed_after(head + 'city": "Oslo"', tools)
    done = head + 'city": "Oslo"}}</tool_call>'
    assert "<" in allowed_after(done, tools) and "<" in allowed_after(done + "\n" + done * 5, tools)  # any number
    assert not allowed_after("<p>", tools) and allowed_after("I cannot help with that.", tools)
    assert not allowed_after(" ", tools)  # an answer starts with its first word or its first call


def test_the_grammar_without_tools_is_plain_text():
    assert not allowed_after("<tool_call>", []) and allowed_after("Hello there", [])


def test_call_schema_closes_objects_and_keeps_bounds():
    from inftool.evaluate.constrained import call_schema

    schema = call_schema([WEATHER, TIME])
    good = {"name": "get_weather", "arguments": {"city": "Oslo", "days": 2}}
    jsonschema.validate(good, schema)
    for bad in ({"name": "get_weather", "arguments": {"city": "Oslo", "when": 1}},
                {"name": "get_weather", "arguments": {"city": "Oslo", "days": 0}},
                {"name": "get_time", "arguments": {"city": "Oslo"}},
                {"name": "other", "arguments": {}}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, schema)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A tiny-scratch model trained on nothing, with a vocabulary that knows the test tools' words."""
    from inftool.spec.backends import TinyScratchSpec
    from inftool.train.tiny import build_tiny

    items = runner.bfcl_items(["simple_python"], 30)
    tools = [WEATHER, TIME, *(t for item in items for t in item.tools)]
    spec = TinyScratchSpec(hidden_size=32, layers=1, heads=2, kv_heads=1, vocab_size=400, max_length=1024)
    return build_tiny(spec, tools, [item.messages for item in items], tmp_path_factory.mktemp("tiny"))


def test_every_token_of_a_valid_call_is_allowed_and_the_turn_may_end_after_it(checkpoint):
    from transformers import AutoTokenizer

    from inftool.evaluate.constrained import AllowedTokens

    tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    asked = [{"role": "user", "content": "Weather in Oslo for 3 days?"}]
    call = {"name": "get_weather", "arguments": {"city": "Oslo", "days": 3}}
    answer = {"role": "assistant", "content": "", "tool_calls": [{"type": "function", "function": call}]}
    prompt = tokenizer.apply_chat_template(asked, tools=[WEATHER, TIME], add_generation_prompt=True, tokenize=False)
    whole = tokenizer.apply_chat_template([*asked, answer], tools=[WEATHER, TIME], tokenize=False)
    ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    answer_ids = tokenizer(whole[len(prompt):].rstrip("\n"), add_special_tokens=False)["input_ids"]
    assert answer_ids[-1] == tokenizer.eos_token_id
    allowed = AllowedTokens(tokenizer, [[WEATHER, TIME]])
    for token in answer_ids:
        assert token in allowed(0, torch.tensor(ids)), tokenizer.decode(ids[-8:] + [token])
        ids.append(token)
    wrong = tokenizer('<tool_call>{"name": "get_weather", "arguments": {"town"', add_special_tokens=False)["input_ids"]
    start = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    fresh = AllowedTokens(tokenizer, [[WEATHER, TIME]])
    refused = [t for i, t in enumerate(wrong) if t not in fresh(0, torch.tensor(start + wrong[:i]))]
    assert refused  # the unknown parameter is cut off somewhere along the way


def test_constrained_answers_stay_in_the_grammar_and_are_stored_apart(checkpoint):
    from inftool.evaluate.local import LocalPolicy

    items = runner.bfcl_items(["simple_python", "multiple", "irrelevance"], limit=4)
    policy = LocalPolicy(checkpoint, max_new_tokens=48, batch_size=6, decoding="constrained")
    results = runner.evaluate(items, policy)
    assert len(results) == len(items)
    for item, result in zip(items, results, strict=True):
        output = json.loads(result["output"])
        text = output if isinstance(output, str) else json.dumps(output)
        calls = parse_calls(text)
        if isinstance(output, str) and not text.lstrip().startswith("<"):
            continue  # plain text: declining or asking
        names = {t["function"]["name"]: t["function"]["parameters"] for t in item.tools}
        for call in calls:
            assert call.name in names
            jsonschema.validate(call.arguments, names[call.name])
    free = runner.evaluate(items, LocalPolicy(checkpoint, max_new_tokens=48, batch_size=6))
    assert [r["output"] for r in free] != [r["output"] for r in results]


def test_a_model_pushed_towards_calls_generates_only_tokens_the_grammar_allows(checkpoint):
    """The untrained model answers in plain text; a logits bias towards the call's punctuation sends it into
    calls and through them, and every token it then generates, replayed through a fresh grammar, was allowed."""
    from transformers import AutoModelForCausalLM, AutoTokenizer, LogitsProcessorList

    from inftool.evaluate.constrained import AllowedTokens

    tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    tokenizer.padding_side = "left"
    model = AutoModelForCausalLM.from_pretrained(checkpoint).eval()
    offered = [[WEATHER, TIME], [TIME], [WEATHER]]
    prompts = [tokenizer.apply_chat_template([{"role": "user", "content": "Weather in Oslo?"}], tools=tools,
                                             add_generation_prompt=True, tokenize=False) for tools in offered]
    encoded = tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
    favoured = [tokenizer.convert_tokens_to_ids(t) for t in ("<tool_call>", "</tool_call>")]
    favoured += [tokenizer.convert_tokens_to_ids(tokenizer.tokenize(t))[0] for t in ('"', ",", "}")]

    def push(input_ids, scores):  # the end of the turn first, where it is allowed: after a call
        scores[:, favoured] += 50.0
        scores[:, tokenizer.eos_token_id] += 60.0
        return scores

    with torch.inference_mode():
        out = model.generate(**encoded, max_new_tokens=320, do_sample=False, pad_token_id=tokenizer.pad_token_id,
                             prefix_allowed_tokens_fn=AllowedTokens(tokenizer, offered),
                             logits_processor=LogitsProcessorList([push]))
    start = encoded["input_ids"].shape[1]
    complete = 0
    for row, tools in enumerate(offered):
        replay = AllowedTokens(tokenizer, [tools])
        sequence = out[row].tolist()
        for i in range(start, len(sequence)):
            if sequence[i - 1] in (tokenizer.eos_token_id, tokenizer.pad_token_id):
                break
            assert sequence[i] in replay(0, torch.tensor(sequence[:i])), tokenizer.decode(sequence[start:i + 1])
        text = tokenizer.decode(sequence[start:], skip_special_tokens=False)
        assert text.startswith("<tool_call>")
        if tokenizer.eos_token in text:
            complete += 1
            schemas = {t["function"]["name"]: t["function"]["parameters"] for t in tools}
            for call in parse_calls(text.split(tokenizer.eos_token)[0]):
                jsonschema.validate(call.arguments, schemas[call.name])
    assert complete, "at least one pushed answer ends its turn"


def test_a_template_without_hermes_calls_is_refused(checkpoint, tmp_path):
    import shutil

    from inftool.evaluate.local import LocalPolicy

    other = tmp_path / "other"
    shutil.copytree(checkpoint, other)
    config = json.loads((other / "tokenizer_config.json").read_text())
    template = ("{% for m in messages %}{{ m['role'] }}: {% if m.get('tool_calls') %}CALL {{ m['tool_calls'][0]"
                "['function'] | tojson }}{% else %}{{ m['content'] }}{% endif %}<|im_end|>{% endfor %}"
                "{% if add_generation_prompt %}assistant: {% endif %}")
    (other / "chat_template.jinja").write_text(template)
    config.pop("chat_template", None)
    (other / "tokenizer_config.json").write_text(json.dumps(config))
    with pytest.raises(UsageError, match="does not write tool calls as <tool_call>"):
        LocalPolicy(other, decoding="constrained")
    LocalPolicy(other)  # free decoding has no such need

    # a run that would evaluate it so is refused before it synthesises anything
    from inftool.spec import load_recipe
    from inftool.train.stage import check_policy

    smoke = Path(__file__).resolve().parents[2] / "recipes" / "smoke.yaml"
    overrides = [f"models.policy.checkpoint_path={other}", f"run_dir={tmp_path / 'run'}"]
    check_policy(load_recipe(smoke, overrides).spec)
    with pytest.raises(UsageError, match="does not write tool calls as <tool_call>"):
        check_policy(load_recipe(smoke, [*overrides, "evaluate.decoding=[free, constrained]"]).spec)
    hermes = [f"models.policy.checkpoint_path={checkpoint}", "evaluate.decoding=[constrained]"]
    check_policy(load_recipe(smoke, hermes).spec)


def test_the_string_shortcut_allows_exactly_what_the_full_walk_allows(checkpoint, monkeypatch):
    """Inside a string value the allowed tokens come from lm-format-enforcer's precomputed list. It is the walk's
    set but for two documented differences: a token that closes the string after other characters (``.",``) is
    left out (the string can still close a token later), and free-text tokens outside the parser's alphabet
    (``|``, pieces of a multi-byte character) are let in; nothing with a quote in it is let in."""
    from transformers import AutoTokenizer

    from inftool.evaluate import constrained

    tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    prompt = tokenizer.apply_chat_template([{"role": "user", "content": "Weather?"}], tools=[WEATHER, TIME],
                                           add_generation_prompt=True, tokenize=False)
    answers = ['<tool_call>{"name": "get_weather", "arguments": {"city": "Os',
               '<tool_call>{"name": "get_time", "arguments": {"zone": "',
               '<tool_call>{"name": "get_time", "arguments": {"zone": "UTC"}}</tool_call><tool_call>{"name": "get_'
               'weather", "arguments": {"unit": "celsius", "city": "New Y']

    def allowed() -> list[set[int]]:
        out = []
        for answer in answers:
            ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
            enforce = constrained.AllowedTokens(tokenizer, [[WEATHER, TIME]])
            for token in tokenizer(answer, add_special_tokens=False)["input_ids"]:  # token by token, as generated
                assert token in enforce(0, torch.tensor(ids))
                ids.append(token)
            out.append(set(enforce(0, torch.tensor(ids))))
        return out

    fast = allowed()
    monkeypatch.setattr(constrained._Sequence, "shortcut_key", lambda self: None)
    monkeypatch.setattr(constrained._Repeated, "shortcut_key", lambda self: None)
    quote = tokenizer.convert_tokens_to_ids(tokenizer.tokenize('"'))[0]
    walked = allowed()
    text = {t: tokenizer.decode([t], skip_special_tokens=False) for t in range(len(tokenizer))}
    for shortcut, walk in zip(fast, walked, strict=True):
        assert len(shortcut) > 100 and quote in shortcut  # free text, or its end
        assert all('"' in text[t][1:] for t in walk - shortcut)
        assert all('"' not in text[t] for t in shortcut - walk)
