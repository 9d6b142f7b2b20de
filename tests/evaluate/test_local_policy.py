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
