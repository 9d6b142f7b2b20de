"""A local Hugging Face checkpoint as the policy: chat template with tools, batched generation."""

from __future__ import annotations

import json

import pytest

from inftool.evaluate import runner

torch = pytest.importorskip("torch", reason="the local policy needs the train extra (torch, transformers)")
transformers = pytest.importorskip("transformers")

TEMPLATE = (
    "{% if tools %}<|system|>Tools: {{ tools | tojson }}<|end|>\n{% endif %}"
    "{% for m in messages %}<|{{ m['role'] }}|>"
    "{% if m.get('tool_calls') %}{% for c in m['tool_calls'] %}<tool_call>{{ c['function'] | tojson }}</tool_call>"
    "{% endfor %}{% else %}{{ m['content'] }}{% endif %}<|end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}")


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A tiny random Llama with a BPE tokenizer trained here: it answers nonsense, through the real path."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    specials = ["<pad>", "<|end|>", "<|system|>", "<|user|>", "<|assistant|>", "<tool_call>", "</tool_call>"]
    tokenizer = Tokenizer(models.BPE(unk_token=None))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    text = [json.dumps(i.tools) + " " + i.messages[0]["content"] for i in runner.bfcl_items(["simple_python"], 50)]
    tokenizer.train_from_iterator(text, trainers.BpeTrainer(vocab_size=400, special_tokens=specials,
                                                            initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, pad_token="<pad>", eos_token="<|end|>",
                                   additional_special_tokens=specials[2:])
    fast.chat_template = TEMPLATE
    config = LlamaConfig(vocab_size=len(fast), hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                         num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=1024,
                         pad_token_id=fast.pad_token_id, eos_token_id=fast.eos_token_id, tie_word_embeddings=True)
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("tiny")
    LlamaForCausalLM(config).save_pretrained(path)
    fast.save_pretrained(path)
    return path


def test_local_checkpoint_is_evaluated_through_its_chat_template(checkpoint):
    from inftool.evaluate.local import LocalPolicy

    policy = LocalPolicy(checkpoint, max_new_tokens=12, batch_size=3)
    items = runner.bfcl_items(["simple_python", "irrelevance"], limit=4)
    prompt = policy.prompt(items[0])
    assert prompt.startswith("<|system|>Tools: ") and items[0].tools[0]["function"]["name"] in prompt
    assert prompt.endswith("<|assistant|>")
    results = runner.evaluate(items, policy)
    assert len(results) == 8 and all(isinstance(json.loads(r["output"]), str) for r in results)
    assert all(r["valid"] or r["error_kind"] for r in results)  # a random model: scored, never a crash
    assert runner.evaluate(items, policy) == results  # greedy decoding: deterministic


def test_a_directory_without_a_model_is_a_clear_error(tmp_path):
    from inftool.errors import UsageError
    from inftool.evaluate.local import LocalPolicy

    with pytest.raises(UsageError, match="not a Hugging Face checkpoint directory"):
        LocalPolicy(tmp_path)
