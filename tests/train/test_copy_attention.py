"""Copy attention: the (query, source) pairs found in an SFT example, and the supervised head's loss in a real
tiny Llama and in TRL's trainer."""

from __future__ import annotations

import pytest

from inftool.train.copy_attention import copy_targets, name_spans, value_spans

CALL = '<tool_call>{"name": "route", "arguments": {"origin": "Paris", "stops": ["Lyon", "Dijon"], "km": 23.5}}'


def test_value_spans_cover_each_top_level_value_of_arguments_or_parameters_and_name_spans_each_name():
    text = CALL + ' {"name": "f", "parameters": {"x": {"a": 1}}}'
    assert [text[a:b] for a, b in value_spans(text)] == ['"Paris"', '["Lyon", "Dijon"]', "23.5", '{"a": 1}']
    assert value_spans('{"name": "f", "arguments": {}}') == [] and value_spans("no call") == []
    assert [text[a:b] for a, b in name_spans(text)] == ['"route"', '"f"']
    assert name_spans('{"name": 3}') == [] and name_spans('{"name": "unterminated') == []


def _example(prompt: list[str], completion: list[str]):
    """Token texts as ids into a vocabulary of the example's own pieces (``texts``), and its completion mask."""
    texts = list(dict.fromkeys(prompt + completion))
    ids = [texts.index(piece) for piece in prompt + completion]
    return ids, [0] * len(prompt) + [1] * len(completion), texts


def test_a_value_stated_once_in_the_prompt_is_paired_token_by_token_and_nothing_else_is():
    prompt = ["<tools>", "route", "(origin", ")", "user:", " go", " from", " Paris", " 23", ".", "5", " km"]
    completion = ['{"', "name", '":', ' "', "route", '",', ' "', "arguments", '":', ' {"', "origin", '":', ' "',
                  "Paris", '",', ' "', "km", '":', " 23", ".", "5", "}}"]
    ids, mask, texts = _example(prompt, completion)
    pairs = copy_targets(ids, mask, texts)
    source = {query + 1: src for query, src in pairs}  # the written position -> its prompt position
    written = {prompt[src]: (prompt + completion)[at] for at, src in source.items()}
    # the function's name from the tool list, the values from the request; punctuation alone is not copied
    assert written == {"route": "route", " Paris": "Paris", " 23": " 23", "5": "5"}
    assert all(query + 1 >= len(prompt) and src < len(prompt) for query, src in pairs)


def test_a_token_stated_twice_has_no_source_unless_it_continues_the_previous_tokens():
    completion = ['"arguments": {', '"a":', " 7", "25", "}"]
    prompt = ["user:", " 7", "25", " and", " 7", "50"]
    ids, mask, texts = _example(prompt, completion)
    # ' 7' is stated twice, '25' once: ' 7' is the one before the source of '25'
    assert copy_targets(ids, mask, texts) == [(7, 1), (8, 2)]
    prompt = ["user:", " 7", "26", " and", " 7", "50", "25"]
    ids, mask, texts = _example(prompt, completion)
    assert copy_targets(ids, mask, texts) == [(9, 6)]  # '25' stated once, but not after a ' 7'
    prompt = ["user:", " 7", "25", " and", " 7", "25"]
    ids, mask, texts = _example(prompt, completion)
    assert copy_targets(ids, mask, texts) == []
    prompt = ["user:", " 8", "25", " and", " 7", "25"]
    ids, mask, texts = _example(prompt, completion)
    assert copy_targets(ids, mask, texts) == [(7, 4), (8, 5)]  # '25' follows the source of ' 7'


@pytest.fixture(scope="module")
def tiny():
    pytest.importorskip("transformers", reason="the tiny policy needs the train extra")
    from inftool.spec.backends import TinyScratchSpec
    from inftool.train.tiny import build_model, train_tokenizer

    messages = [{"role": "user", "content": "Find the route from Paris, 23.5 km."},
                {"role": "assistant", "tool_calls": [{"type": "function", "function": {
                    "name": "route", "arguments": '{"origin": "Paris", "km": 23.5}'}}]}]
    tools = [{"type": "function", "function": {"name": "route", "parameters": {
        "type": "object", "properties": {"origin": {"type": "string"}, "km": {"type": "number"}}}}}]
    tokenizer = train_tokenizer([CALL, messages[0]["content"]] * 30, vocab_size=300)
    model = build_model(TinyScratchSpec(hidden_size=32, layers=2, heads=4, kv_heads=2, vocab_size=300), tokenizer, 0)
    from inftool.train.data import sft_data

    rows = sft_data([{"messages": messages, "tools": tools}], tokenizer, 512).rows
    return model, tokenizer, rows


def _family(name: str, vocab_size: int):
    """A small random model of a hub family (no download): its own attention module and rotary embeddings."""
    import torch
    import transformers

    torch.manual_seed(0)
    config = getattr(transformers, f"{name}Config")(vocab_size=vocab_size, hidden_size=32, intermediate_size=64,
                                                    num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                                                    head_dim=8)
    return getattr(transformers, f"{name}ForCausalLM")(config)


@pytest.mark.parametrize("family", ["tiny", "Qwen2", "Qwen3", "Mistral", "lora"])
def test_the_loss_is_the_hooked_heads_attention_cross_entropy_and_training_lowers_it(tiny, family):
    """The loss is the cross-entropy of the attention the model itself computes (its eager weights), for the tiny
    Llama, for hub families with query/key biases (Qwen2) or query/key norms (Qwen3), and for a LoRA model (its
    adapters on the projections count)."""
    import torch

    from inftool.train.copy_attention import CopyAttention

    model, tokenizer, rows = tiny
    if family == "lora":
        peft = pytest.importorskip("peft", reason="LoRA needs peft (the train extra)")
        model = peft.get_peft_model(_family("Llama", len(tokenizer)), peft.LoraConfig(
            r=4, lora_alpha=8, target_modules=["q_proj", "k_proj"], init_lora_weights=False))
    elif family != "tiny":
        model = _family(family, len(tokenizer))
    copy = CopyAttention(rows, tokenizer, weight=2.0).attach(model)
    assert copy.pairs >= 3  # Paris, 23, 5 (as this tokenizer cuts them)
    ids = torch.tensor([rows[0]["input_ids"]])
    attention = []
    layer = (model.get_base_model() if family == "lora" else model).model.layers[-1].self_attn
    handle = layer.register_forward_hook(lambda m, a, out: attention.append(out[1]))
    model.set_attn_implementation("eager")  # the attention weights themselves, to check against
    model(input_ids=ids, output_attentions=True)
    handle.remove()
    loss = copy.loss(ids, torch.ones_like(ids))
    pairs = copy.targets[tuple(rows[0]["input_ids"])]
    probabilities = attention[0][0, CopyAttention.head]
    expected = -torch.stack([probabilities[q, s].log() for q, s in pairs]).mean()
    assert loss.item() == pytest.approx(2.0 * expected.item(), rel=1e-4)
    optimiser = torch.optim.Adam(model.parameters(), lr=0.01)
    first = loss.item()
    for _ in range(30):
        model(input_ids=ids)
        loss = copy.loss(ids, torch.ones_like(ids))
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    assert loss.item() < first / 3
    copy.detach()
    assert not layer._forward_pre_hooks


def test_a_model_without_llama_style_attention_is_refused_with_the_key_to_change(tiny):
    from inftool.errors import UsageError
    from inftool.train.copy_attention import CopyAttention

    _, tokenizer, rows = tiny

    class NoLayers:
        def get_decoder(self):
            return self

    for model in (NoLayers(), _family("Gemma2", len(tokenizer))):  # Gemma 2 soft-caps its attention logits
        with pytest.raises(UsageError, match=r"train\.sft\.copy_attention needs Llama-style attention.*"
                                             r"copy_attention: 0"):
            CopyAttention(rows, tokenizer, weight=1.0).attach(model)
