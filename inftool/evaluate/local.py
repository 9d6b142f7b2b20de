"""A local Hugging Face checkpoint as the evaluated policy: the tokenizer's chat template renders the
conversation and the offered tools; batched greedy generation with left padding; the new text is
read with ``parse_calls``. torch and transformers are imported here only (the ``train`` extra)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from inftool.errors import UsageError


class LocalPolicy:
    """``many(items) -> outputs`` for batches of items (``inftool.evaluate.runner.Item``)."""

    def __init__(self, path: Path, *, max_new_tokens: int = 128, batch_size: int = 8):
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
        self.model = AutoModelForCausalLM.from_pretrained(path).eval()
        self.max_new_tokens, self.batch_size = max_new_tokens, batch_size
        limit = getattr(self.model.config, "max_position_embeddings", 2048)
        self.max_prompt = max(16, limit - max_new_tokens)

    def prompt(self, item: Any) -> str:
        return self.tokenizer.apply_chat_template(item.messages, tools=item.tools, add_generation_prompt=True,
                                                  tokenize=False)

    def many(self, items: list[Any]) -> list[str]:
        encoded = self.tokenizer([self.prompt(item) for item in items], return_tensors="pt", padding=True,
                                 truncation=True, max_length=self.max_prompt, add_special_tokens=False)
        with self.torch.inference_mode():
            out = self.model.generate(**encoded, max_new_tokens=self.max_new_tokens, do_sample=False,
                                      pad_token_id=self.tokenizer.pad_token_id)
        new = out[:, encoded["input_ids"].shape[1]:]
        texts = self.tokenizer.batch_decode(new, skip_special_tokens=False)
        cut = [t for t in (self.tokenizer.eos_token, self.tokenizer.pad_token) if t]
        return [_until(text, cut) for text in texts]


def _until(text: str, stops: list[str]) -> str:
    ends = [text.find(s) for s in stops if s in text]
    return text[: min(ends)] if ends else text
