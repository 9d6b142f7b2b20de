"""The ``tiny-scratch`` policy: a small Llama-style model built from a config (random init), with a
byte-level BPE tokenizer trained here on the catalog and the synthesised text, and a chat template
that renders the offered tools and the assistant's tool calls. Nothing is downloaded.

The template lists each tool on one line, ``name(param: type, optional?: type): description`` (the
description cut at ``description_chars``, 160 by default; at 0 the line ends at the parameters): a scratch
model this small learns from short prompts, and the full JSON Schemas would triple every prompt.

Tool calls are rendered as ``<tool_call>{"name": ..., "arguments": {...}}</tool_call>``, the form
``inftool.evaluate.parse_calls`` reads back. torch, transformers and tokenizers are imported here only.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

SPECIALS = ["<|pad|>", "<|im_start|>", "<|im_end|>", "<tool_call>", "</tool_call>"]

CHAT_TEMPLATE = (
    "{% if tools %}<|im_start|>system\n<tools>"
    "{% for t in tools %}{% set f = t['function'] if 'function' in t else t %}"
    "{% set p = f.get('parameters') or {} %}{% set req = p.get('required') or [] %}"
    "{{ f['name'] }}({% for k, v in (p.get('properties') or {}).items() %}{{ k }}{% if k not in req %}?{% endif %}: "
    "{{ v.get('type') or 'any' }}{% if not loop.last %}, {% endif %}{% endfor %})"
    "{% set d = (f.get('description') or '')[:DESCRIBE] %}{{ ': ' ~ d if d else '' }}\n{% endfor %}"
    "</tools><|im_end|>\n"
    "{% endif %}"
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n"
    "{% if m.get('tool_calls') %}{% for c in m['tool_calls'] %}<tool_call>{\"name\": {{ c['function']['name'] | tojson }}, "
    "\"arguments\": {% if c['function']['arguments'] is string %}{{ c['function']['arguments'] }}"
    "{% else %}{{ c['function']['arguments'] | tojson }}{% endif %}}</tool_call>{% endfor %}"
    "{% else %}{{ m['content'] }}{% endif %}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def chat_template(description_chars: int = 160) -> str:
    """The template, each tool's description cut at ``description_chars`` characters."""
    return CHAT_TEMPLATE.replace("DESCRIBE", str(int(description_chars)))


def train_tokenizer(texts: Iterable[str], vocab_size: int, style: str = "bpe", description_chars: int = 160):
    """A byte-level BPE tokenizer trained on ``texts``, with the chat template and special tokens.

    ``bpe`` (the default) is plain byte-level BPE (a word with its leading space is one piece). ``words`` splits
    off the space before a word, so ``Berlin`` in the request is ``Berlin`` in ``"city": "Berlin"`` (numbers keep
    their space: `` 98`` is the same in both already). ``copy`` pre-splits every whitespace, digit and punctuation
    mark into its own piece before the BPE merges, so ``48213`` is five digits that an unseen number also uses."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = _pre_tokenizer(style)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIALS,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tokenizer.train_from_iterator(texts, trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, pad_token="<|pad|>", eos_token="<|im_end|>",
                                   bos_token="<|im_start|>", additional_special_tokens=SPECIALS[3:])
    fast.chat_template = chat_template(description_chars)
    return fast


def _pre_tokenizer(style: str):
    from tokenizers import Regex, pre_tokenizers

    if style == "bpe":
        return pre_tokenizers.ByteLevel(add_prefix_space=False)
    if style == "words":
        return pre_tokenizers.Sequence([pre_tokenizers.Split(Regex(r" (?=\p{L})"), behavior="isolated"),
                                        pre_tokenizers.ByteLevel(add_prefix_space=False)])
    return pre_tokenizers.Sequence([pre_tokenizers.Split(Regex(r"\s"), behavior="isolated"),
                                    pre_tokenizers.Digits(individual_digits=True),
                                    pre_tokenizers.Punctuation(behavior="isolated"),
                                    pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])


def build_model(spec: Any, tokenizer, seed: int = 0):
    """A randomly initialised Llama sized by ``spec`` (``inftool.spec.backends.TinyScratchSpec``)."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=spec.hidden_size,
                         intermediate_size=spec.intermediate_size or 4 * spec.hidden_size,
                         num_hidden_layers=spec.layers, num_attention_heads=spec.heads,
                         num_key_value_heads=spec.kv_heads, initializer_range=spec.init_std,
                         max_position_embeddings=spec.max_length, tie_word_embeddings=True,
                         pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.bos_token_id,
                         eos_token_id=tokenizer.eos_token_id)
    torch.manual_seed(seed)
    return LlamaForCausalLM(config)


SCAFFOLD = ("system\n<tools>", "</tools>", "user\n", "assistant\n", "tool\n")
"""The template's own words between its special tokens, which every example repeats."""


def corpus(tools: Iterable[dict[str, Any]], conversations: Iterable[list[dict[str, Any]]]) -> list[str]:
    """Texts to train the tokenizer on: each tool's JSON and each conversation as the template renders it
    (without a tokenizer: the rendering is plain text, so the BPE sees what the model will see), the template's
    scaffold once per conversation (so ``system`` is one token rather than ``s``, ``yst``, ``em``)."""
    import json

    texts = [json.dumps(tool) for tool in tools]
    for messages in conversations:
        texts.extend(SCAFFOLD)
        for message in messages:
            for call in message.get("tool_calls") or []:
                texts.append(f'<tool_call>{{"name": {json.dumps(call["function"]["name"])}, '
                             f'"arguments": {call["function"]["arguments"]}}}</tool_call>')
            if message.get("content"):
                texts.append(message["content"])
    return texts


def build_tiny(spec: Any, tools: list[dict[str, Any]], conversations: list[list[dict[str, Any]]], out: Path,
               seed: int = 0) -> Path:
    """Train the tokenizer, build the model, and save both (a Hugging Face checkpoint directory)."""
    from inftool.hf import require

    require("torch", "transformers", "tokenizers")
    tokenizer = train_tokenizer(corpus(tools, conversations), spec.vocab_size, spec.tokenizer, spec.description_chars)
    model = build_model(spec, tokenizer, seed)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out
