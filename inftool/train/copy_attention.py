"""Copy attention: a supervised attention head that points at the request's copy of the value being written.

A synthesised episode knows where its values come from: most argument values a call writes are stated in the
user's words (``"height": 21`` for "... and height is 21"). ``copy_targets`` finds those pairs in an SFT
example, token by token: a completion token inside an argument value or a called function's name, not
punctuation alone, whose text (stripped of spaces) occurs exactly once in the prompt before it, or is the
token after the previous one's source, or the token before the next one's, is paired with that prompt
position; the query is the position that predicts it. ``CopyAttention``
then adds to the SFT loss the cross-entropy of one attention head (head 0 of the last layer, its queries and
keys computed as the layer does: projections, optional query/key norms, rotary embeddings, scaling) against
those source positions, at the query positions only. The head learns to look where the value is; what the
model does with what it sees is still learnt from the LM loss. Nothing changes at inference.

Any chat template works: values are found by parsing the JSON objects after ``"arguments":`` or
``"parameters":`` in the completion's text, names as the strings after ``"name":``. Llama-style attention
modules are supported (``q_proj``, ``k_proj``, rotary ``position_embeddings`` passed to the attention;
query/key biases, norms and LoRA adapters count as the layer applies them), which covers the tiny-scratch
policy, Qwen2/3 and Mistral (tested); another kind, or attention logits soft-capped (Gemma 2), is an error
naming it.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable
from typing import Any

from inftool.errors import UsageError

_ARGUMENTS = re.compile(r'"(?:arguments|parameters)"\s*:\s*\{')
_NAME = re.compile(r'"name"\s*:\s*(?=")')
_KEY = re.compile(r'\s*"(?:[^"\\]|\\.)*"\s*:\s*')
_COMMA = re.compile(r"\s*,")
_PUNCTUATION = set("\"'[]{}(),:;. ")


def name_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the ``"name": "..."`` strings in ``text`` (a call's function name, copied from the
    offered tools)."""
    decoder, spans = json.JSONDecoder(), []
    for named in _NAME.finditer(text):
        try:
            _, end = decoder.raw_decode(text, named.end())
        except ValueError:
            continue
        spans.append((named.end(), end))
    return spans


def value_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the argument values in ``text`` (each top-level value of each ``"arguments": {...}`` or
    ``"parameters": {...}`` object)."""
    decoder, spans = json.JSONDecoder(), []
    for opened in _ARGUMENTS.finditer(text):
        at = opened.end()
        while key := _KEY.match(text, at):
            try:
                _, end = decoder.raw_decode(text, key.end())
            except ValueError:
                break
            spans.append((key.end(), end))
            comma = _COMMA.match(text, end)
            if not comma:
                break
            at = comma.end()
    return spans


def token_texts(tokenizer: Any) -> list[str]:
    """Each token id's text as decoded alone (indexable by id)."""
    return [tokenizer.decode([token]) for token in range(len(tokenizer))]


def copy_targets(input_ids: list[int], completion_mask: list[int], texts: list[str]) -> list[tuple[int, int]]:
    """``(query, source)`` position pairs of one example: ``source`` holds, in the prompt, the token that position
    ``query + 1`` writes inside an argument value or a function name. ``texts`` is ``token_texts(tokenizer)``."""
    pieces = [texts[token] for token in input_ids]
    starts, at = [], 0
    for piece in pieces:
        starts.append(at)
        at += len(piece)
    joined = "".join(pieces)
    spans = value_spans(joined) + name_spans(joined)
    if not spans:
        return []
    stripped = [piece.strip() for piece in pieces]
    seen: dict[str, list[int]] = {}  # prompt positions of each text so far
    sources: dict[int, int] = {}  # written position -> its prompt position
    copied: list[int] = []  # completion positions inside a value, not punctuation alone
    previous = None
    for position, (piece, scored) in enumerate(zip(pieces, completion_mask, strict=True)):
        text = stripped[position]
        if not scored:
            if text:
                seen.setdefault(text, []).append(position)
            previous = None
            continue
        start, end = starts[position], starts[position] + len(piece)
        in_value = any(a < end and start < b for a, b in spans)
        if not in_value or not text or set(text) <= _PUNCTUATION:
            previous = None
            continue
        copied.append(position)
        source = None
        if previous is not None and previous + 1 < position and stripped[previous + 1] == text \
                and not completion_mask[previous + 1]:
            source = previous + 1
        elif len(seen.get(text, ())) == 1:
            source = seen[text][0]
        if source is not None:
            sources[position] = source
        previous = source
    for position in reversed(copied):  # a token stated more than once, that the next token's source follows
        after = sources.get(position + 1)
        if position not in sources and after and not completion_mask[after - 1] \
                and stripped[after - 1] == stripped[position]:
            sources[position] = after - 1
    return [(position - 1, source) for position, source in sorted(sources.items()) if position > 0]


class CopyAttention:
    """The copy-attention loss of one SFT phase: ``weight`` times the cross-entropy of the supervised head's
    attention at the examples' query positions against their source positions. ``attach(model)`` hooks the last
    layer's attention to see its input; ``loss(input_ids, attention_mask)`` after each forward pass."""

    head = 0

    def __init__(self, rows: Iterable[dict[str, list[int]]], tokenizer: Any, weight: float):
        texts = token_texts(tokenizer)
        self.weight = weight
        self.targets = {tuple(row["input_ids"]): copy_targets(row["input_ids"], row["completion_mask"], texts)
                        for row in rows}
        self.pairs = sum(len(pairs) for pairs in self.targets.values())
        self._captured: dict[str, Any] = {}
        self._handle = None

    def attach(self, model: Any) -> CopyAttention:
        """Hook the last decoder layer's attention module of ``model`` (a PEFT model's base model too)."""
        causal = model.get_base_model() if hasattr(model, "get_base_model") else model
        layers = getattr(causal.get_decoder(), "layers", None)
        attention = getattr(layers[-1], "self_attn", None) if layers else None
        missing = [name for name in ("q_proj", "k_proj", "head_dim") if not hasattr(attention, name)]
        capped = getattr(getattr(attention, "config", None), "attn_logit_softcapping", None)
        if attention is None or missing or capped or not hasattr(sys.modules[type(attention).__module__],
                                                                 "apply_rotary_pos_emb"):
            raise UsageError(f"train.sft.copy_attention needs Llama-style attention (q_proj, k_proj, rotary "
                             f"embeddings, no soft cap on the attention logits); {type(causal).__name__} has "
                             f"{type(attention).__name__} (hint: set train.sft.copy_attention: 0)")
        self._attention = attention
        self._rotate = sys.modules[type(attention).__module__].apply_rotary_pos_emb
        self._handle = attention.register_forward_pre_hook(self._grab, with_kwargs=True)
        return self

    def detach(self) -> None:
        if self._handle is not None:
            self._handle.remove()
            self._handle = None

    def _grab(self, module, args, kwargs) -> None:  # noqa: ARG002 - torch's hook signature
        self._captured = {"hidden": kwargs.get("hidden_states", args[0] if args else None),
                          "rotary": kwargs.get("position_embeddings")}

    def loss(self, input_ids: Any, attention_mask: Any | None):
        """The weighted loss for the batch the hooked model last ran on, or None when it has no pairs."""
        import torch

        hidden, rotary = self._captured.get("hidden"), self._captured.get("rotary")
        if hidden is None or rotary is None:
            return None
        lengths = attention_mask.sum(-1).tolist() if attention_mask is not None else [input_ids.shape[1]] * len(
            input_ids)
        rows, queries, sources = [], [], []
        for row, (ids, length) in enumerate(zip(input_ids.tolist(), lengths, strict=True)):
            for query, source in self.targets.get(tuple(ids[:int(length)]), ()):
                rows.append(row)
                queries.append(query)
                sources.append(source)
        if not rows:
            return None
        device = hidden.device
        rows_t, queries_t = torch.tensor(rows, device=device), torch.tensor(queries, device=device)
        attention, width = self._attention, self._attention.head_dim
        kv_head = self.head // (attention.config.num_attention_heads // attention.config.num_key_value_heads)
        query = _project(attention.q_proj, hidden[rows_t, queries_t], slice(self.head * width, (self.head + 1) * width))
        key = _project(attention.k_proj, hidden, slice(kv_head * width, (kv_head + 1) * width))  # batch, length, width
        if hasattr(attention, "q_norm"):
            query, key = attention.q_norm(query), attention.k_norm(key)
        cos, sin = rotary  # (batch or 1, length, width)
        at = (rows_t if cos.shape[0] > 1 else torch.zeros_like(rows_t), queries_t)
        query, _ = self._rotate(query[:, None, None], query[:, None, None], cos[at][:, None], sin[at][:, None])
        _, key = self._rotate(key[:, None], key[:, None], cos, sin)
        # each row's queries against that row's keys, one batched product: indexing the keys by row instead would
        # repeat rows, and the gradient of a repeated index is summed by atomic adds on the CPU, in no fixed order
        slots = [0] * len(rows)
        for at_pair in range(1, len(rows)):
            slots[at_pair] = slots[at_pair - 1] + 1 if rows[at_pair] == rows[at_pair - 1] else 0
        slots_t = torch.tensor(slots, device=device)
        padded = query.new_zeros(hidden.shape[0], max(slots) + 1, width)
        padded[rows_t, slots_t] = query[:, 0, 0]
        scores = torch.bmm(padded, key[:, 0].transpose(1, 2))[rows_t, slots_t]
        scores = scores * getattr(attention, "scaling", width ** -0.5)
        positions = torch.arange(hidden.shape[1], device=device)[None]
        hidden_from = positions > queries_t[:, None]
        if attention_mask is not None:
            hidden_from = hidden_from | (attention_mask[rows_t] == 0)
        scores = scores.masked_fill(hidden_from, float("-inf")).float()
        return self.weight * torch.nn.functional.cross_entropy(scores, torch.tensor(sources, device=device))


def _project(module: Any, inputs: Any, rows: slice):
    """The ``rows`` of ``module``'s output for ``inputs``: only those rows of a plain linear layer's weight are
    multiplied; a wrapped one (a LoRA layer adds its own product) is run whole and sliced."""
    import torch

    if type(module) is torch.nn.Linear:
        bias = None if module.bias is None else module.bias[rows]
        return torch.nn.functional.linear(inputs, module.weight[rows], bias)
    return module(inputs)[..., rows]
