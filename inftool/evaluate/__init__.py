"""Judging tool calls the way the Berkeley Function-Calling Leaderboard does.

* `parse_calls` reads the calls out of a model output: OpenAI tool_calls, JSON, BFCL's Python-call
  syntax, and the call formats of the model families (Hermes/Qwen, Qwen3.5 XML, GLM, Mistral,
  DeepSeek, Granite, Kimi, functionary, Llama, gpt-oss, Gemma, LFM, Cohere: ``formats``); an output
  that tries to call but cannot be read is ``None`` (unparseable), never "no call";
* `check` gives the leaderboard's AST-checker verdict for one BFCL entry, with an error kind
  (`ERROR_KINDS`) when the calls are wrong; `irrelevance_check` / `relevance_check` the verdict
  of the (ir)relevance categories; `check_call` one call against one expected call;
* `reference_calls` writes an entry's ground truth as calls; `oracle_calls` writes it in a form `check`
  accepts, trying the acceptable forms of each expected call (`call_forms`) plainest first.

BFCL's multi-turn categories are whole conversations with stateful environments (``inftool.envs``), driven
by ``rollout`` and judged by ``multi_turn_check`` as BFCL's multi-turn checker judges them.

Pure Python, no dependency on bfcl-eval: the rules are re-implemented and kept in agreement with
the official checker by ``tests/evaluate/test_agreement.py``.
"""

from .checker import (
    ERROR_KINDS,
    Verdict,
    call_forms,
    check,
    check_call,
    irrelevance_check,
    language_of,
    oracle_calls,
    reference_calls,
    relevance_check,
)
from .parse import parse_calls
from .values import standardize

__all__ = [
    "ERROR_KINDS",
    "Verdict",
    "call_forms",
    "check",
    "check_call",
    "irrelevance_check",
    "language_of",
    "oracle_calls",
    "parse_calls",
    "reference_calls",
    "relevance_check",
    "standardize",
]
