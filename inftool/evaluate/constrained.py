"""Constrained decoding (``evaluate.decoding: [constrained]``): a local policy's generation held, token by token,
to the answers the offered tools allow. It is a policy mode of its own, scored and stored apart from free
decoding (its label gets ``+constrained``), never mixed into the same numbers.

An answer is either plain text (a reply whose first character is neither ``<`` nor a space: declining,
asking) or one or more calls in the Hermes form the chat template writes,
``<tool_call>{"name": N, "arguments": A}</tool_call>``, where N is an offered tool's name and A an object its
parameters' JSON Schema accepts (known parameters only, the required ones present, each value of its type,
enum and bounds). lm-format-enforcer's JSON Schema parser (pure Python, maintained) walks the characters;
this module gives it the tokenizer's vocabulary, special tokens such as ``<tool_call>`` included, and the
grammar above. A template that does not write Hermes calls is refused before anything is generated. Imported
only for constrained decoding (lm-format-enforcer is in the ``train`` extra).
"""

from __future__ import annotations

import copy
import functools
from typing import Any

from lmformatenforcer import (
    CharacterLevelParser,
    CharacterLevelParserConfig,
    JsonSchemaParser,
    RegexParser,
    SequenceParser,
    StringParser,
    TokenEnforcer,
    TokenEnforcerTokenizerData,
    UnionParser,
)

from inftool.errors import UsageError

from .hermes import hermes_template

WHITESPACE = 2
"""Most whitespace characters in a row inside a call's JSON (templates write compact JSON, a newline at most
around it): more would only let an undertrained model spend its tokens on blank lines."""


def check_template(tokenizer: Any) -> None:
    """Raise ``UsageError`` unless the chat template writes calls as Hermes ``<tool_call>`` JSON blocks."""
    if hermes_template(tokenizer) is None:
        name = getattr(tokenizer, "name_or_path", "") or "the policy"
        raise UsageError(f"constrained decoding: the chat template of {name} does not write tool calls as "
                         "<tool_call>{\"name\": ..., \"arguments\": {...}}</tool_call>, the only call form it can "
                         "enforce (hint: evaluate this policy with evaluate.decoding: [free])")


def call_schema(tools: list[dict[str, Any]]) -> dict[str, Any]:
    """The JSON Schema of one call: ``{"name": <offered name>, "arguments": <that tool's parameters>}``."""
    options = []
    for tool in tools:
        function = tool.get("function", tool)
        options.append({"type": "object", "additionalProperties": False, "required": ["name", "arguments"],
                        "properties": {"name": {"type": "string", "enum": [function["name"]]},
                                       "arguments": _closed(function.get("parameters") or {"type": "object"})}})
    return options[0] if len(options) == 1 else {"anyOf": options}


def _closed(schema: Any) -> Any:
    """``schema`` with every object that lists its properties closed to others (a call naming a parameter the
    tool does not have is wrong whatever its value), and no ``default``s (the parser would not need them)."""
    if isinstance(schema, list):
        return [_closed(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _closed(v) for k, v in schema.items() if k != "default"}
    if out.get("type") == "object" and isinstance(out.get("properties"), dict) and "additionalProperties" not in out:
        out["additionalProperties"] = False
    return out


def answer_parser(tools: list[dict[str, Any]] | None) -> Any:
    """The character-level grammar of one answer to a prompt offering ``tools``: plain text, or calls."""
    text = RegexParser(r"[^<\s][^<]*")
    if not tools:
        return text
    schema = call_schema(tools)
    config = CharacterLevelParserConfig(max_consecutive_whitespaces=WHITESPACE)

    def call(after: str = "") -> Any:
        return _Sequence([*([RegexParser(after)] if after else []), StringParser("<tool_call>"),
                          JsonSchemaParser(copy.deepcopy(schema), config), StringParser("</tool_call>")])

    return UnionParser([text, _Repeated(lambda: call(r"\s*"), call())])


class _Repeated(CharacterLevelParser):
    """``current``, then any number of ``make()``'s answers: once one can end, a character it does not take starts
    the next."""

    def __init__(self, make: Any, current: Any = None):
        super().__init__()
        self.make, self.current = make, current if current is not None else make()

    def add_character(self, new_character: str) -> Any:
        if self.current.can_end() and new_character not in self.current.get_allowed_characters():
            return _Repeated(self.make, self.make().add_character(new_character))
        return _Repeated(self.make, self.current.add_character(new_character))

    def get_allowed_characters(self) -> str:
        allowed = self.current.get_allowed_characters()
        return allowed + self.make().get_allowed_characters() if self.current.can_end() else allowed

    def can_end(self) -> bool:
        return self.current.can_end()

    def shortcut_key(self) -> Any:
        return None if self.current.can_end() else self.current.shortcut_key()


class _Sequence(SequenceParser):
    """lm-format-enforcer's sequence, passing on its first part's shortcut while only that part takes characters:
    inside a JSON string value, the tokens without a quote then come from the library's precomputed list
    instead of a walk over the whole vocabulary (the walk was 80% of constrained decoding's time). As the
    library documents, that list leaves out tokens that close the string after other characters (``.",``: the
    string closes a token later) and lets in free-text characters outside its alphabet; tests check both."""

    def add_character(self, new_character: str) -> Any:
        after = super().add_character(new_character)
        return _Sequence(after.parsers) if type(after) is SequenceParser else after

    def shortcut_key(self) -> Any:
        return None if self.parsers[0].can_end() else self.parsers[0].shortcut_key()


@functools.lru_cache(maxsize=4)
def _tokenizer_data(tokenizer: Any) -> Any:
    """lm-format-enforcer's view of the vocabulary: every token but padding, BOS and EOS, as the text it adds
    after another token (special tokens like ``<tool_call>`` included: the template's calls are made of them)."""
    skipped = {tokenizer.pad_token_id, tokenizer.bos_token_id, tokenizer.eos_token_id}
    anchor = tokenizer.convert_tokens_to_ids(tokenizer.tokenize("0"))[-1]
    regular = []
    for token_id in range(len(tokenizer)):
        if token_id in skipped:
            continue
        after = tokenizer.decode([anchor, token_id], skip_special_tokens=False)[1:]
        alone = tokenizer.decode([token_id], skip_special_tokens=False)
        regular.append((token_id, after, len(after) > len(alone)))

    def decode(ids: list[int]) -> str:
        return tokenizer.decode(ids, skip_special_tokens=False).rstrip("\ufffd")

    return TokenEnforcerTokenizerData(regular, decode, tokenizer.eos_token_id, False, len(tokenizer))


class AllowedTokens:
    """``prefix_allowed_tokens_fn`` for ``model.generate`` on a batch: row ``i`` answers a prompt offering
    ``tools_per_row[i]``, and may only take the tokens its grammar allows after what it generated so far."""

    def __init__(self, tokenizer: Any, tools_per_row: list[list[dict[str, Any]] | None]):
        data = _tokenizer_data(tokenizer)
        self.enforcers = [TokenEnforcer(data, answer_parser(tools)) for tools in tools_per_row]
        self.ended = {tokenizer.eos_token_id, tokenizer.pad_token_id} - {None}

    def __call__(self, batch_id: int, input_ids: Any) -> list[int]:
        last = int(input_ids[-1])
        if last in self.ended:  # this row has finished (a prompt ends with the generation prompt, never these)
            return [last]
        return self.enforcers[batch_id].get_allowed_tokens(input_ids.tolist()).allowed_tokens
