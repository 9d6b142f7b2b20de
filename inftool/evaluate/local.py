"""A local Hugging Face checkpoint as the evaluated policy: the tokenizer's chat template renders the
conversation and the offered tools; batched greedy generation with left padding.

The new text is read with the tokenizer's own response parser when its model family has one (see
`response_parser`): the output is then the structured assistant message (``{"role": "assistant",
"content": ..., "tool_calls": [...]}``, arguments typed by the offered tools' schemas). Without a parser,
or when it fails on a generation, the output is the raw text, which ``parse_calls`` reads (it knows the
call formats of the common model families, and tells an unreadable attempt from a plain answer). torch and
transformers are imported here only (the ``train`` extra); trl, when installed, only for a chat template
it knows.
"""

from __future__ import annotations

import importlib.util
import inspect
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from inftool.core.messages import for_template
from inftool.errors import UsageError

Parser = Callable[[str, str, Any], dict[str, Any]]
"""(generated text, prompt text, offered tools) -> the assistant message."""


class LocalPolicy:
    """``many(items) -> outputs`` for batches of anything with ``messages`` and ``tools``: evaluation items and
    the steps of multi-turn conversations (``inftool.evaluate.items``); ``generate(messages, tools)`` for one."""

    def __init__(self, path: Path, *, max_new_tokens: int = 128, batch_size: int = 8, decoding: str = "free"):
        from inftool.hf import require

        require("torch", "transformers")
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        if not (Path(path) / "config.json").is_file():
            raise UsageError(f"{path}: not a Hugging Face checkpoint directory (no config.json)")
        self.torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.tokenizer.padding_side = "left"
        self.tokenizer.truncation_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.parser = response_parser(self.tokenizer)
        self.constrained = decoding == "constrained"
        if self.constrained:
            require("lmformatenforcer")
            from .constrained import check_template

            check_template(self.tokenizer)
        self.model = AutoModelForCausalLM.from_pretrained(path).eval()
        self.max_new_tokens, self.batch_size = max_new_tokens, batch_size
        limit = getattr(self.model.config, "max_position_embeddings", 2048)
        self.max_prompt = max(16, limit - max_new_tokens)

    def prompt(self, item: Any) -> str:
        return self.tokenizer.apply_chat_template(for_template(item.messages), tools=item.tools,
                                                  add_generation_prompt=True, tokenize=False)

    def many(self, items: list[Any]) -> list[Any]:
        prompts = [self.prompt(item) for item in items]
        encoded = self.tokenizer(prompts, return_tensors="pt", padding=True, truncation=True,
                                 max_length=self.max_prompt, add_special_tokens=False)
        extra = {}
        if self.constrained:
            from .constrained import AllowedTokens

            extra["prefix_allowed_tokens_fn"] = AllowedTokens(self.tokenizer, [item.tools for item in items])
        with self.torch.inference_mode():
            out = self.model.generate(**encoded, max_new_tokens=self.max_new_tokens, do_sample=False,
                                      pad_token_id=self.tokenizer.pad_token_id, **extra)
        new = out[:, encoded["input_ids"].shape[1]:]
        texts = self.tokenizer.batch_decode(new, skip_special_tokens=False)
        cut = [t for t in (self.tokenizer.eos_token, self.tokenizer.pad_token) if t]
        generations = zip([_until(text, cut) for text in texts], prompts, items, strict=True)
        return [self.read(text, prompt, item.tools) for text, prompt, item in generations]

    def generate(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None) -> Any:
        """The answer to one conversation so far (OpenAI chat messages, tool results included), e.g. a step of a
        multi-turn conversation: the parsed assistant message, or the generated text."""
        return self.many([SimpleNamespace(messages=messages, tools=tools)])[0]

    def read(self, text: str, prompt: str, tools: list[dict[str, Any]] | None) -> Any:
        """The output for one generation: the parsed assistant message, or the text itself."""
        if self.parser is None:
            return text
        try:
            return assistant_message(self.parser(text, prompt, tools))
        except Exception:  # noqa: BLE001 - any parser failure: parse_calls reads the raw text instead
            return text


def response_parser(tokenizer: Any) -> Parser | None:
    """The tokenizer's own parser of generated text, or None when its model family has none.

    A ``response_template`` set on the tokenizer (natively, from its files) is used first; otherwise TRL's
    ``add_response_schema`` attaches the one it knows for the tokenizer's chat template, when trl is installed
    and the template is one of TRL's (an unknown template is no error: there is no parser). A legacy
    ``response_schema`` (transformers < 5.13) is parsed without the prompt."""
    if getattr(tokenizer, "response_template", None) is None and getattr(tokenizer, "response_schema", None) is None:
        _attach_trl_template(tokenizer)
    if getattr(tokenizer, "response_template", None) is not None:
        typed = "tools" in inspect.signature(tokenizer.parse_response).parameters  # transformers >= 5.15

        def parse(text: str, prompt: str, tools: list[dict[str, Any]] | None) -> dict[str, Any]:
            extra = {"tools": tools} if typed and tools else {}
            return tokenizer.parse_response(text, prefix=prompt, **extra)

        return parse
    if getattr(tokenizer, "response_schema", None) is not None:
        return lambda text, prompt, tools: tokenizer.parse_response(text)
    return None


def _attach_trl_template(tokenizer: Any) -> None:
    """Let TRL set the response template it has for this chat template, if any. trl is imported (seconds)
    only when the template is one of those it bundles: it recognises no other."""
    if not _is_trl_template(getattr(tokenizer, "chat_template", None)):
        return
    try:
        from trl.chat_template_utils import add_response_schema

        add_response_schema(tokenizer)
    except Exception:  # noqa: BLE001 - trl broken, or a template it bundles but cannot parse: no parser
        return


def _is_trl_template(template: Any) -> bool:
    """Is ``template`` the text of one of the chat templates trl bundles (read without importing trl)?"""
    if not isinstance(template, str):
        return False
    spec = importlib.util.find_spec("trl")
    if spec is None or not spec.submodule_search_locations:
        return False
    folder = Path(next(iter(spec.submodule_search_locations))) / "chat_templates"
    return any(path.read_text(encoding="utf-8") == template for path in sorted(folder.glob("*.jinja")))


def assistant_message(parsed: Any) -> dict[str, Any]:
    """A parser's result as an OpenAI-style assistant message (TypeError when it is not one)."""
    if not isinstance(parsed, dict):
        raise TypeError("the response parser gave no message")
    message: dict[str, Any] = {"role": "assistant", "content": parsed.get("content") or ""}
    for key in ("reasoning_content", "thinking"):
        if parsed.get(key):
            message[key] = parsed[key]
    calls = parsed.get("tool_calls")
    if calls:
        if not isinstance(calls, list):
            raise TypeError("tool_calls is not a list")
        message["tool_calls"] = [_tool_call(call) for call in calls]
    return message


def _tool_call(call: Any) -> dict[str, Any]:
    function = call.get("function", call) if isinstance(call, dict) else None
    if not isinstance(function, dict) or not isinstance(function.get("name"), str):
        raise TypeError("a parsed tool call without a name")
    arguments = function.get("arguments")
    return {"type": "function", "function": {"name": function["name"], "arguments": {} if arguments is None
                                             else arguments}}


def _until(text: str, stops: list[str]) -> str:
    ends = [text.find(s) for s in stops if s in text]
    return text[: min(ends)] if ends else text
