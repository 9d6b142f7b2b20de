"""How many of the chat templates TRL ships render inftool's episodes, mask them, and round-trip calls.

For every ``trl/chat_templates/*.jinja`` that mentions ``tool_calls``:

- render: the template profile finds a form that renders calls (``inftool.train.templates.profile``);
- mask: the SFT data builder turns synthesised episodes (``recipes/smoke.yaml``, every scenario kind)
  into examples with every assistant turn in the loss, through ``apply_chat_template`` as training does;
- round-trip: calls rendered as an assistant turn by the template parse back to the same calls
  (``parse_calls``), one call and two.

    python benchmarks/bench_templates.py [--episodes 60]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import trl  # noqa: E402

from inftool.compile import compile_recipe  # noqa: E402
from inftool.core.episode import Call  # noqa: E402
from inftool.evaluate import parse_calls  # noqa: E402
from inftool.spec import load_recipe  # noqa: E402
from inftool.store import Store  # noqa: E402
from inftool.synth import run_stage  # noqa: E402
from inftool.train import data, templates  # noqa: E402
from inftool.train.tiny import train_tokenizer  # noqa: E402

CALLS = [Call("get_weather", {"city": "Paris", "days": 3, "metric": True}),
         Call("get_weather", {"city": "Rome", "tags": ["a", "b"], "window": {"from": 1.5}})]
TOOLS = [{"type": "function", "function": {"name": "get_weather", "description": "Weather.", "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]


def episodes(count: int) -> list[dict]:
    run = Path(tempfile.mkdtemp())
    loaded = load_recipe(REPO / "recipes" / "smoke.yaml", [f"run_dir={run}", f"loop.episodes_per_iteration={count}"])
    run_stage(loaded, compile_recipe(loaded))
    with Store.open(run, read_only=True) as store:
        return list(store.episodes(store.current_run(), split="train"))


def round_trips(tokenizer, shape, calls: list[Call]) -> bool:
    """Whether the template's rendering of ``calls`` as an assistant turn parses back to them."""
    wire = [{"id": f"call_{i}", "type": "function", "function": {"name": c.name, "arguments": json.dumps(c.arguments)}}
            for i, c in enumerate(calls)]
    asked = [{"role": "user", "content": "Weather?"}]
    prompt = shape.render(tokenizer, asked, TOOLS, prompt=True)
    whole = shape.render(tokenizer, [*asked, {"role": "assistant", "content": None, "tool_calls": wire}], TOOLS,
                         prompt=False)
    start = next((k for k, (a, b) in enumerate(zip(prompt, whole)) if a != b), len(prompt))  # reasoning templates
    return parse_calls(whole[start:]) == calls  # open <think> in the prompt and render it closed in the turn


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--episodes", type=int, default=60)
    args = parser.parse_args()
    sample = episodes(args.episodes)
    base = train_tokenizer(["<tool_call>{\"name\": \"x\"}</tool_call> hello"] * 4, 300)
    paths = [p for p in sorted((Path(trl.__file__).parent / "chat_templates").glob("*.jinja"))
             if "tool_calls" in p.read_text(encoding="utf-8")]
    counts = {"render": 0, "mask": 0, "one call": 0, "two calls": 0}
    for path in paths:
        tokenizer = base.__class__(tokenizer_object=base.backend_tokenizer, bos_token="<s>", eos_token="</s>")
        tokenizer.chat_template, tokenizer.name_or_path = path.read_text(encoding="utf-8"), path.stem
        row = [path.stem]
        try:
            shape = templates.profile(tokenizer)
        except Exception as exc:  # noqa: BLE001 - reported, not raised
            print(f"{path.stem:34} cannot render calls: {str(exc)[:90]}")
            continue
        counts["render"] += 1
        built = data.sft_data(sample, tokenizer, max_length=100_000)
        masked = built.unmasked_turns == 0 and len(built.rows) >= len(sample)
        counts["mask"] += masked
        one = round_trips(tokenizer, shape, CALLS[:1])
        two = None if shape.one_call_per_turn else round_trips(tokenizer, shape, CALLS)
        counts["one call"] += one
        counts["two calls"] += bool(two)
        counts["one call per turn"] = counts.get("one call per turn", 0) + (two is None)
        row += [f"mask by {built.mask_method}" + ("" if masked else f" ({built.unmasked_turns} turns unplaced)"),
                f"arguments as {built.template['arguments']}", f"{built.template['calls_per_turn']} call(s) per turn",
                f"round-trip {'yes' if one else 'NO'}/{'n/a' if two is None else 'yes' if two else 'NO'}"]
        print(f"{row[0]:34} " + "; ".join(row[1:]))
    total = len(paths)
    print(f"\n{total} TRL templates mention tool_calls: render {counts['render']}/{total}, "
          f"mask {counts['mask']}/{total}, round-trip one call {counts['one call']}/{total}, "
          f"two calls in a turn {counts['two calls']}/{counts['render'] - counts['one call per turn']} (the other "
          f"{counts['one call per turn']} render one call per turn)")


if __name__ == "__main__":
    main()
