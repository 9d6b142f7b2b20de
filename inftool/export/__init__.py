"""Writing a run's episodes in the formats trainers and analysts read, split into train and held-out sets.

Each export is a directory: ``<split>.jsonl`` or ``<split>.parquet`` for the splits ``train`` and
``heldout`` (fixed per episode by the seed, so exports agree), and a dataset card ``README.md`` whose
front matter lets ``datasets.load_dataset("<directory>")`` find the splits (``card``). The formats:

- ``openai``: JSON Lines ``{"messages", "tools"}``, OpenAI's chat format with tool-call arguments as
  objects, as Hugging Face chat templates and trainers (TRL's SFTTrainer) want them; ``wire_arguments``
  keeps OpenAI's wire form (arguments as JSON strings) for OpenAI's fine-tuning API;
- ``sharegpt``: LLaMA-Factory's ShareGPT with ``function_call`` / ``observation`` turns;
- ``parquet``: one row per episode (id, iteration, index, complexity, tool, split) with ``messages`` and
  ``tools`` as lists of JSON values (Parquet's JSON type), which ``datasets`` reads back as objects;
- ``mcp``: MCP transcripts, ``tools/list`` then the turns with every call as a JSON-RPC ``tools/call``;
- ``grpo``: JSON Lines of prompts for TRL's GRPOTrainer, with the gated reward's ``label`` (``rl``);
- ``verl``: verl's Parquet rows and a ``compute_score.py`` reward file (``rl``);
- ``rejected``: the episodes the gates rejected, with the failed gate, its reason and the planned calls.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from inftool.errors import UsageError
from inftool.reward import GATES, RewardConfig
from inftool.store.rows import dumps

from . import chat, rl
from .card import run_plan, write_card
from .options import Format, Options

SPLITS = ("train", "heldout")
_MESSAGES = [{"name": "messages", "list": "json"}, {"name": "tools", "list": "json"}]
"""``datasets``' YAML form of ``List(Json())`` columns: each message (tool) one JSON object, whatever its keys."""
_PROMPT = {"name": "prompt", "list": [{"name": "role", "dtype": "string"}, {"name": "content", "dtype": "string"}]}

FORMATS: dict[str, Format] = {f.name: f for f in (
    Format("openai", chat.openai_record, wire=True, features=_MESSAGES, tags=("sft",),
           about=("One JSON line per verified episode: `messages` (OpenAI chat messages; tool-call `arguments` are "
                  "objects unless exported with `--wire-arguments`, then JSON strings as OpenAI's fine-tuning API "
                  "wants them) and `tools` (OpenAI tools, `parameters` as objects)."),
           usage=("For TRL's SFTTrainer: `SFTTrainer(model, train_dataset=ds[\"train\"])` renders `messages` "
                    "with the model's chat template and each row's `tools`.")),
    Format("sharegpt", chat.sharegpt_record, tags=("sharegpt",),
           features=[{"name": "conversations", "list": [{"name": "from", "dtype": "string"},
                                                        {"name": "value", "dtype": "string"}]},
                     {"name": "tools", "dtype": "string"}],
           about=("LLaMA-Factory's ShareGPT with function calling: `conversations` of `human`, `function_call` "
                  "(the call, or the list of parallel calls, as JSON text), `observation` and `gpt` turns, and "
                  "`tools` (the function schemas as JSON text)."),
           usage=("In LLaMA-Factory's `dataset_info.json`: `\"formatting\": \"sharegpt\"` with `\"columns\": "
                    "{\"messages\": \"conversations\", \"tools\": \"tools\"}`.")),
    Format("parquet", chat.parquet_record, wire=True, tags=("sft",),
           columns={"episode_id": "VARCHAR", "iteration": "INTEGER", "idx": "INTEGER", "complexity": "VARCHAR",
                    "tool": "VARCHAR", "split": "VARCHAR", "messages": "JSON[]", "tools": "JSON[]"},
           about=("One row per verified episode: `episode_id`, `iteration`, `idx`, `complexity`, `tool`, `split`, "
                  "and `messages` and `tools` as lists of JSON values (Parquet's JSON logical type), since tool "
                  "arguments and parameter schemas differ from row to row. `datasets` (4.7 or later) reads them as "
                  "objects: messages exactly as OpenAI writes them, without null fields, tool-call arguments as "
                  "objects (JSON strings with `--wire-arguments`). pandas and pyarrow read JSON text: `json.loads`."),
           usage=("Older `datasets` (before 4.7) read the JSON values as text: "
                    "`ds.map(lambda r: {k: [json.loads(x) for x in r[k]] for k in (\"messages\", \"tools\")})`.")),
    Format("mcp", chat.mcp_record, tags=("mcp",),
           features=[{"name": "id", "dtype": "string"}, {"name": "transcript", "list": "json"}],
           about=("One JSON line per verified episode: `{\"id\", \"transcript\"}`, the `tools/list` request and "
                  "result, then the user's and assistant's text turns with every tool call as a JSON-RPC `tools/call` "
                  "request and its result, in conversation order.")),
    Format("grpo", rl.grpo_record, tags=("grpo", "reinforcement-learning"),
           features=[_PROMPT, {"name": "tools", "list": "json"}, {"name": "ground_truth", "dtype": "json"},
                     {"name": "label", "dtype": "string"}, {"name": "episode_id", "dtype": "string"},
                     {"name": "category", "dtype": "string"}],
           about=("One JSON line per verified episode, a conversational prompt for TRL's GRPOTrainer: `prompt` (a "
                  "system message offering the episode's tools, then the conversation up to the assistant's first "
                  "tool call), `tools` (OpenAI tools), `ground_truth` (the expected calls in BFCL's form), `label` "
                  "(the gated reward's label, JSON text), `episode_id`, `category`."),
           usage=("With TRL: `GRPOTrainer(model, reward_funcs=[trl_reward()], train_dataset=ds[\"train\"])`, "
                    "`from inftool.reward import trl_reward`; the columns besides `prompt` reach reward functions "
                    "as keyword arguments. To render the tools with the model's own template instead of the system "
                    "message, use `prompt[1:]` with `tools=row[\"tools\"]`.")),
    Format("verl", rl.verl_record, columns=rl.VERL_COLUMNS, tags=("verl", "reinforcement-learning"),
           about=("verl's RL rows: `data_source` (`inftool/<recipe>`), `prompt` (a system message offering the "
                  "episode's tools, then the conversation up to the first tool call), `ability` (`tool_use`), "
                  "`reward_model` (`{\"style\": \"rule\", \"ground_truth\": <label JSON>}`) and `extra_info` "
                  "(split, index, episode_id, complexity, and the offered `tools` as JSON text)."),
           usage=("With verl: `data.train_files=<dir>/train.parquet data.val_files=<dir>/heldout.parquet "
                    "custom_reward_function.path=<dir>/compute_score.py custom_reward_function.name=compute_score`.")),
    Format("rejected", chat.rejected_record, accepted=False, tags=("rejected-episodes", "error-analysis"),
           features=[{"name": "episode_id", "dtype": "string"}, {"name": "iteration", "dtype": "int64"},
                     *({"name": key, "dtype": "string"} for key in ("split", "complexity", "tool", "failed_gate",
                                                                    "reason", "error")),
                     {"name": "planned_calls", "dtype": "json"}, *_MESSAGES],
           about=("One JSON line per episode the verification gates rejected: `failed_gate` and `reason` (the first "
                  "gate that failed and why), `error` (why role-play stopped, if it did), `planned_calls` (the "
                  "goal's calls in steps, the calls of a step parallel), `messages` and `tools` as in the `openai` "
                  "format, and the episode's place (`episode_id`, `iteration`, `split`, `complexity`, `tool`)."),
           usage=("For preference pairs (DPO, KTO), the planned calls are the answer the rejected one should have "
                    "been; for error analysis, group by `failed_gate`.")),
)}


def export(store: Any, run_id: str, fmt: str, out_dir: Path, *,
           wire_arguments: bool = False) -> dict[str, tuple[Path, int]]:
    """Write ``<out_dir>/<split>.<ext>`` for each split, the dataset card, and for ``verl`` its reward file;
    returns {split: (path, records written)}."""
    if fmt not in FORMATS:
        raise UsageError(f"unknown export format {fmt!r} (expected one of: {', '.join(FORMATS)})")
    spec = FORMATS[fmt]
    if wire_arguments and not spec.wire:
        raise UsageError(f"--wire-arguments applies to the {' and '.join(f.name for f in FORMATS.values() if f.wire)} "
                         f"formats, not {fmt}")
    run = store.run_info(run_id)
    if run is None:
        raise UsageError(f"the store holds no run {run_id!r}")
    options = Options(wire_arguments=wire_arguments, data_source=f"inftool/{run.name}")
    out_dir.mkdir(parents=True, exist_ok=True)
    written = {split: _write_split(store, run_id, spec, split, out_dir / f"{split}{spec.suffix}", options)
               for split in SPLITS}
    if fmt == "verl":
        _write_text(out_dir / "compute_score.py", rl.compute_score_file(_reward_config(store, run_id), run.name))
    write_card(store, run_id, spec, out_dir, written)
    return written


def _write_split(store: Any, run_id: str, spec: Format, split: str, path: Path,
                 options: Options) -> tuple[Path, int]:
    """Write one split's records to ``path`` (JSON Lines, or Parquet through a temporary JSON Lines file)."""
    episodes = store.episodes(run_id, accepted=spec.accepted, split=split)
    records = (spec.record(episode, position, options) for position, episode in enumerate(episodes))
    if spec.columns is None:
        return path, _write_lines(records, path)
    lines, tmp = path.with_suffix(".jsonl.tmp"), path.with_suffix(".parquet.tmp")
    try:
        _write_lines(records, lines)
        count = store.copy_parquet(lines, spec.columns, tmp)
        tmp.replace(path)
    finally:
        lines.unlink(missing_ok=True)
        tmp.unlink(missing_ok=True)
    return path, count


def _write_lines(records: Iterable[dict[str, Any]], path: Path) -> int:
    """Write one JSON line per record (via a temporary file, replaced at the end); returns the count."""
    tmp, count = path.with_name(path.name + ".tmp"), 0
    with tmp.open("w", encoding="utf-8") as out:
        for record in records:
            out.write(dumps(record) + "\n")
            count += 1
    tmp.replace(path)
    return count


def _write_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def _reward_config(store: Any, run_id: str) -> RewardConfig:
    """The recipe's reward gates and values, from the run's plan (the defaults when it has none)."""
    plan = run_plan(store, run_id)
    if plan is None:
        return RewardConfig()
    gates = plan.gates
    return RewardConfig(tuple(g for g in GATES if g in gates.reward), dict(gates.reward_values), gates.partial_credit)


__all__ = ["FORMATS", "SPLITS", "Format", "Options", "export"]
