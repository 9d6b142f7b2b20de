"""parse_calls throughput on a fixed corpus of every output format, against the parser of a git revision.

Run: python benchmarks/bench_parse.py [--per-format N] [--repeat K] [--baseline REV]
The corpus is generated here, deterministically (seeded): N outputs per format, each of one to three
calls whose arguments mix strings, ints, floats, bools, lists and nested objects, written the way each
model family writes them. "old" formats are those the parser read before issue 12 (OpenAI messages,
Hermes/Qwen JSON, Mistral's list form, ``<|python_tag|>``, BFCL tags and Python syntax, bare and fenced
JSON, plain prose); "new" ones were added by it (Qwen3.5 XML, GLM-4.5, Mistral v11, DeepSeek V3/V3.1,
Granite, Kimi-K2, functionary, Llama 3.1 ``<function=...>``, gpt-oss, Gemma 4, LFM2, ``<invoke>`` XML,
Cohere actions, Phi-4).

The baseline is ``inftool/evaluate/parse.py`` as committed at REV (default HEAD), loaded under another
module name. Both parsers are timed on the same old-format outputs (best of K passes); the current one
also on the new formats. Prints outputs/s for each; exits non-zero when the current parser is more than
5 % slower than the baseline on the old formats (timing noise allowance), or reads any output wrongly.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

from inftool.core.episode import Call
from inftool.evaluate import parse_calls

ROOT = Path(__file__).resolve().parent.parent
NAMES = ["get_weather", "search_flights", "convert_currency", "book_table", "send_email", "math.factorial"]
WORDS = ["Paris", "New York", "blue whale", "Zürich", "hello world", "a, b (c)", "x-1"]


def random_value(rng: random.Random, depth: int = 0) -> Any:
    """One argument value: str, int, float, bool, or (not too deep) a list or an object."""
    kind = rng.choice(["str", "str", "int", "float", "bool"] + (["list", "dict"] if depth < 2 else []))
    if kind == "str":
        return rng.choice(WORDS)
    if kind == "int":
        return rng.randint(-50, 5000)
    if kind == "float":
        return round(rng.uniform(-100, 100), 3)
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "list":
        return [random_value(rng, depth + 1) for _ in range(rng.randint(1, 3))]
    return {f"k{i}": random_value(rng, depth + 1) for i in range(rng.randint(1, 3))}


def random_calls(rng: random.Random) -> list[Call]:
    return [Call(rng.choice(NAMES), {f"arg_{j}": random_value(rng) for j in range(rng.randint(1, 4))})
            for _ in range(rng.randint(1, 3))]


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _py(value: Any) -> str:
    """A value as a Python literal (what BFCL's and LFM's call syntax writes)."""
    return repr(value)


def _xml_value(value: Any) -> str:
    """Qwen3.5 / GLM: strings raw, other values as JSON."""
    return value if isinstance(value, str) else _dumps(value)


def _gemma(value: Any) -> str:
    """Gemma 4's argument notation: unquoted keys, strings between <|"|> delimiters."""
    if isinstance(value, str):
        return f'<|"|>{value}<|"|>'
    if isinstance(value, dict):
        return "{" + ",".join(f"{k}:{_gemma(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_gemma(v) for v in value) + "]"
    return _dumps(value)


def _lfm(value: Any) -> str:
    """LFM2.5: strings single-quoted, objects as JSON, everything else as Python writes it."""
    return f"'{value}'" if isinstance(value, str) else _dumps(value) if isinstance(value, dict) else repr(value)


def _wire(calls: list[Call]) -> list[dict[str, Any]]:
    return [{"id": f"call_{i}", "type": "function", "function": {"name": c.name, "arguments": _dumps(c.arguments)}}
            for i, c in enumerate(calls)]


def _named(calls: list[Call], key: str = "arguments") -> list[dict[str, Any]]:
    return [{"name": c.name, key: c.arguments} for c in calls]


OLD: dict[str, Callable[[list[Call]], Any]] = {
    "openai_message": lambda cs: {"role": "assistant", "content": None, "tool_calls": _wire(cs)},
    "tool_call_list": _wire,
    "hermes": lambda cs: "".join(f"<tool_call>\n{_dumps(d)}\n</tool_call>\n" for d in _named(cs)),
    "hermes_think": lambda cs: "<think>\nThe user wants this.\n</think>\n\n" + "".join(
        f"<tool_call>\n{_dumps(d)}\n</tool_call>" for d in _named(cs)),
    "mistral_list": lambda cs: "[TOOL_CALLS] " + _dumps(_named(cs)),
    "python_tag": lambda cs: "<|python_tag|>" + _dumps(_named(cs[:1], "parameters")[0]),
    "bfcl_tag": lambda cs: "<TOOLCALL>" + _dumps([{c.name: c.arguments} for c in cs]) + "</TOOLCALL>",
    "bare_json": lambda cs: _dumps(_named(cs[:1])[0]),
    "json_list": lambda cs: _dumps(_named(cs)),
    "fenced_json": lambda cs: "Here you go:\n```json\n" + _dumps(_named(cs)) + "\n```",
    "bfcl_python": lambda cs: "[" + ", ".join(
        f"{c.name}(" + ", ".join(f"{k}={_py(v)}" for k, v in c.arguments.items()) + ")" for c in cs) + "]",
}

NEW: dict[str, Callable[[list[Call]], Any]] = {
    "qwen3_5_xml": lambda cs: "".join(
        f"<tool_call>\n<function={c.name}>\n" + "".join(
            f"<parameter={k}>\n{_xml_value(v)}\n</parameter>\n" for k, v in c.arguments.items())
        + "</function>\n</tool_call>\n" for c in cs) + "<|im_end|>",
    "qwen3_coder_bare": lambda cs: "".join(
        f"<function={c.name}>\n" + "".join(
            f"<parameter={k}>\n{_xml_value(v)}\n</parameter>\n" for k, v in c.arguments.items())
        + "</function>\n" for c in cs),
    "glm4_5": lambda cs: "\n<think></think>\n" + "".join(
        f"<tool_call>{c.name}\n" + "".join(
            f"<arg_key>{k}</arg_key>\n<arg_value>{_xml_value(v)}</arg_value>\n" for k, v in c.arguments.items())
        + "</tool_call>\n" for c in cs),
    "mistral_v11": lambda cs: "".join(f"[TOOL_CALLS]{c.name}[ARGS]{_dumps(c.arguments)}" for c in cs) + "</s>",
    "deepseek_v3": lambda cs: "<｜tool▁calls▁begin｜>" + "\n".join(
        f"<｜tool▁call▁begin｜>function<｜tool▁sep｜>{c.name}\n```json\n{_dumps(c.arguments)}\n```<｜tool▁call▁end｜>"
        for c in cs) + "<｜tool▁calls▁end｜><｜end▁of▁sentence｜>",
    "deepseek_v3_1": lambda cs: "<｜tool▁calls▁begin｜>" + "".join(
        f"<｜tool▁call▁begin｜>{c.name}<｜tool▁sep｜>{_dumps(c.arguments)}<｜tool▁call▁end｜>" for c in cs)
        + "<｜tool▁calls▁end｜>",
    "granite": lambda cs: "<|tool_call|>" + _dumps(_named(cs)),
    "phi4_mini": lambda cs: "<|tool_call|>" + _dumps(_named(cs)) + "<|/tool_call|>",
    "kimi_k2": lambda cs: "<|tool_calls_section_begin|>" + "".join(
        f"<|tool_call_begin|>functions.{c.name}:{i}<|tool_call_argument_begin|>{_dumps(c.arguments)}"
        "<|tool_call_end|>" for i, c in enumerate(cs)) + "<|tool_calls_section_end|>",
    "functionary_v3": lambda cs: "".join(f">>>{c.name}\n{_dumps(c.arguments)}" for c in cs),
    "function_tag": lambda cs: "".join(f"<function={c.name}>{_dumps(c.arguments)}</function>" for c in cs),
    "gptoss": lambda cs: "".join(
        f"<|channel|>commentary to=functions.{c.name} <|constrain|>json<|message|>{_dumps(c.arguments)}<|call|>"
        for c in cs[:1]),
    "gemma4": lambda cs: "".join(f"<|tool_call>call:{c.name}{_gemma(c.arguments)}<tool_call|>" for c in cs)
        + "<|tool_response>",
    "lfm2_5": lambda cs: "<|tool_call_start|>[" + ", ".join(
        f"{c.name}(" + ", ".join(f"{k}={_lfm(v)}" for k, v in c.arguments.items()) + ")" for c in cs)
        + "]<|tool_call_end|><|im_end|>",
    "invoke_xml": lambda cs: "".join(
        f' to={c.name}<|message|><atem:function_calls>\n<atem:invoke name="{c.name}">\n' + "".join(
            f'<atem:parameter name="{k}">{_xml_value(v)}</atem:parameter>\n' for k, v in c.arguments.items())
        + "</atem:invoke>\n</atem:function_calls><|eom|><|start|>assistant" for c in cs),
    "cohere_action": lambda cs: "<|START_ACTION|>" + _dumps(
        [{"tool_call_id": str(i), "tool_name": c.name, "parameters": c.arguments} for i, c in enumerate(cs)])
        + "<|END_ACTION|>",
    "llama3_json": lambda cs: _dumps(_named(cs[:1], "parameters")[0]) + "<|eot_id|>",
}

SINGLE_CALL = {"python_tag", "bare_json", "gptoss", "llama3_json"}
PROSE = ["It is sunny in Paris today.", "I cannot help with booking flights, sorry.",
         "The factorial of 5 is 120.", "Sure! What city should I look up?"]


def corpus(formats: dict[str, Callable[[list[Call]], Any]], per_format: int, seed: int) -> list[tuple[str, Any, Any]]:
    """(format, output, expected calls) for ``per_format`` outputs of each format, deterministically."""
    rng = random.Random(seed)
    out = []
    for name, write in formats.items():
        for _ in range(per_format):
            calls = random_calls(rng)
            calls = calls[:1] if name in SINGLE_CALL else calls
            out.append((name, write(calls), calls))
    return out


def baseline_parser(rev: str) -> Callable[[Any], Any]:
    """``parse_calls`` of inftool/evaluate/parse.py as committed at ``rev``, loaded as a separate module."""
    source = subprocess.run(["git", "show", f"{rev}:inftool/evaluate/parse.py"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout
    module = types.ModuleType("inftool_parse_baseline")
    module.__file__ = f"<{rev}:inftool/evaluate/parse.py>"
    sys.modules[module.__name__] = module
    exec(compile(source, module.__file__, "exec"), module.__dict__)  # noqa: S102 - our own committed source
    return module.parse_calls


def best_rate(parse: Callable[[Any], Any], outputs: list[Any], repeat: int) -> float:
    """Outputs per second, best of ``repeat`` passes."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for output in outputs:
            parse(output)
        best = min(best, time.perf_counter() - start)
    return len(outputs) / best


def wrong(parse: Callable[[Any], Any], cases: list[tuple[str, Any, Any]]) -> dict[str, int]:
    """Outputs read wrongly, per format."""
    misses: dict[str, int] = {}
    for name, output, expected in cases:
        if parse(output) != expected:
            misses[name] = misses.get(name, 0) + 1
    return misses


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-format", type=int, default=300, help="outputs per format")
    parser.add_argument("--repeat", type=int, default=7, help="timed passes per parser (the best is kept)")
    parser.add_argument("--baseline", default="HEAD", help="git revision of the parser to compare with")
    parser.add_argument("--seed", type=int, default=12)
    args = parser.parse_args()
    old = corpus(OLD, args.per_format, args.seed)
    old += [("prose", text, []) for text in PROSE * (args.per_format // len(PROSE))]
    new = corpus(NEW, args.per_format, args.seed + 1)
    baseline = baseline_parser(args.baseline)
    old_outputs, new_outputs = [o for _, o, _ in old], [o for _, o, _ in new]
    rate_base = best_rate(baseline, old_outputs, args.repeat)
    rate_now = best_rate(parse_calls, old_outputs, args.repeat)
    rate_new = best_rate(parse_calls, new_outputs, args.repeat)
    rate_all = best_rate(parse_calls, old_outputs + new_outputs, args.repeat)
    misses_now = wrong(parse_calls, old + new)
    misses_base = wrong(baseline, old)
    print(f"corpus: {len(old)} old-format outputs ({len(OLD) + 1} formats), {len(new)} new-format outputs "
          f"({len(NEW)} formats), seed {args.seed}")
    print(f"baseline ({args.baseline}) on old formats: {rate_base:>10,.0f} outputs/s   misread: {misses_base or 0}")
    print(f"current parser on old formats:  {rate_now:>10,.0f} outputs/s   ({rate_now / rate_base:.2f}x baseline)")
    print(f"current parser on new formats:  {rate_new:>10,.0f} outputs/s")
    print(f"current parser on all formats:  {rate_all:>10,.0f} outputs/s   misread: {misses_now or 0}")
    ok = rate_now >= 0.95 * rate_base and not misses_now
    print("target (no slower on old formats, every output read right):", "met" if ok else "MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
