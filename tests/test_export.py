"""Exports the field uses, loadable as they are: every format through `datasets.load_dataset` (json and parquet
builders, and the export directory with its dataset card), object arguments by default and OpenAI's wire form on
request, GRPO prompts TRL's GRPOTrainer trains on, verl rows with a reward file that runs alone, rejected episodes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from ruamel.yaml import YAML

import inftool
from inftool.catalog.document import display_path
from inftool.cli import main
from inftool.compile import compile_recipe
from inftool.compile.plan import CatalogEntry
from inftool.core.messages import for_template
from inftool.errors import UsageError
from inftool.evaluate.runner import oracle
from inftool.export import FORMATS, export
from inftool.export.card import catalog_licence, licence_metadata
from inftool.export.rl import tools_message
from inftool.reward import score
from inftool.spec import load_recipe
from inftool.store import Store
from inftool.synth import run_stage
from inftool.train.data import label, prompt_items

REPO = Path(__file__).resolve().parents[1]
TRAVEL = REPO / "catalog" / "travel.yaml"
LIBRARY = REPO / "catalog" / "openapi" / "library.yaml"


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory):
    """A run over an OpenAI tools file and an OpenAPI spec; a strict dedup gate rejects some episodes."""
    root = tmp_path_factory.mktemp("export")
    for spec in (TRAVEL, LIBRARY):  # beside the recipe: the plan hash, so the split, is the same in every checkout
        shutil.copy(spec, root / spec.name)
    path = root / "r.yaml"
    path.write_text(f"name: ex\nseed: 2\nrun_dir: run\ncatalogs: [{{source: openai, path: {TRAVEL.name}}}, "
                    f"{{source: openapi, path: {LIBRARY.name}, limit: 4}}]\n"
                    "verify: {dedup_threshold: 0.3}\nevaluate: {bfcl: [], heldout: 0.2}\n")
    loaded = load_recipe(path)
    run_stage(loaded, compile_recipe(loaded), episodes=120)
    return root / "run"


def exported(store_dir: Path, fmt: str, out: Path, **options) -> dict:
    with Store.open(store_dir, read_only=True) as store:
        return export(store, store.current_run(), fmt, out, **options)


def stored(store_dir: Path, accepted: bool | None = True, split: str | None = None) -> list[dict]:
    with Store.open(store_dir, read_only=True) as store:
        return list(store.episodes(store.current_run(), accepted=accepted, split=split))


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def load(builder: str, written: dict, tmp_path: Path):
    """The export's files through `datasets.load_dataset` (the splits that have rows) as the card says: Parquet
    files together, JSON Lines files one at a time (the json builder takes every split's features from the first)."""
    datasets = pytest.importorskip("datasets")
    files = {split: str(path) for split, (path, count) in written.items() if count}
    cache = str(tmp_path / "hf-cache")
    if builder == "parquet":
        return datasets.load_dataset(builder, data_files=files, cache_dir=cache)
    return {split: datasets.load_dataset(builder, data_files=file, split="train", cache_dir=cache)
            for split, file in files.items()}


def load_directory(directory: Path, tmp_path: Path):
    """The export directory through `datasets.load_dataset`, as its dataset card describes it."""
    datasets = pytest.importorskip("datasets")
    return datasets.load_dataset(str(directory), cache_dir=str(tmp_path / "hf-cache-dir"))


def calls(messages: list[dict]) -> list[dict]:
    return [c["function"] for m in messages for c in m.get("tool_calls") or []]


# --- conversations: openai, parquet, sharegpt, mcp ---------------------------------------------------


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_every_format_loads_offline_from_its_files_and_from_its_directory(store_dir, tmp_path, monkeypatch, fmt):
    datasets = pytest.importorskip("datasets")
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    written = exported(store_dir, fmt, tmp_path / fmt)
    expected = {split: count for split, (_, count) in written.items() if count}
    assert expected, "the fixture run gives every format some rows"
    builder = "json" if FORMATS[fmt].columns is None else "parquet"
    assert all(path.suffix == f".{'jsonl' if builder == 'json' else 'parquet'}" for path, _ in written.values())
    for loaded in (load(builder, written, tmp_path), load_directory(tmp_path / fmt, tmp_path)):
        assert {split: d.num_rows for split, d in loaded.items()} == expected



def test_openai_jsonl_has_object_arguments_and_loads_as_dicts(store_dir, tmp_path):
    written = exported(store_dir, "openai", tmp_path)
    train, heldout = lines(written["train"][0]), lines(written["heldout"][0])
    episodes = stored(store_dir, split="train")
    assert len(train) + len(heldout) == len(stored(store_dir)) and heldout
    assert [r["messages"] for r in train] == [for_template(e["messages"]) for e in episodes]
    assert all(isinstance(c["arguments"], dict) for r in train for c in calls(r["messages"]))
    assert all(None not in m.values() and "content" in m for r in train for m in r["messages"])
    for loaded in (load("json", written, tmp_path), load_directory(tmp_path, tmp_path)):
        assert {s: d.num_rows for s, d in loaded.items()} == {s: n for s, (_, n) in written.items()}
        rows = list(loaded["train"])
        assert [r["messages"] for r in rows] == [r["messages"] for r in train]  # no keys added, none lost
        assert [r["tools"] for r in rows] == [r["tools"] for r in train]
        assert all(isinstance(t["function"]["parameters"], dict) for r in rows for t in r["tools"])


def test_wire_arguments_keep_openais_json_strings(store_dir, tmp_path):
    objects = lines(exported(store_dir, "openai", tmp_path / "objects")["train"][0])
    wire = lines(exported(store_dir, "openai", tmp_path / "wire", wire_arguments=True)["train"][0])
    made = [c for r in wire for c in calls(r["messages"])]
    assert made and all(isinstance(c["arguments"], str) for c in made)
    assert [json.loads(c["arguments"]) for c in made] == [c["arguments"] for r in objects for c in calls(r["messages"])]
    assert [r["tools"] for r in wire] == [r["tools"] for r in objects]
    with pytest.raises(UsageError, match="--wire-arguments applies to the openai and parquet formats"):
        exported(store_dir, "grpo", tmp_path / "no", wire_arguments=True)


def test_parquet_loads_with_datasets_as_the_openai_records(store_dir, tmp_path):
    written = exported(store_dir, "parquet", tmp_path / "pq")
    jsonl = exported(store_dir, "openai", tmp_path / "js")
    for loaded in (load("parquet", written, tmp_path), load_directory(tmp_path / "pq", tmp_path)):
        assert {s: d.num_rows for s, d in loaded.items()} == {s: n for s, (_, n) in jsonl.items()}
        for split, (path, _) in jsonl.items():
            reference, rows = lines(path), list(loaded[split])
            assert [r["messages"] for r in rows] == [r["messages"] for r in reference]
            assert [r["tools"] for r in rows] == [r["tools"] for r in reference]
            assert {r["split"] for r in rows} == {split}
    episodes = stored(store_dir, split="train")
    row = loaded["train"][0]
    keys = ("episode_id", "complexity", "tool")
    assert tuple(row[k] for k in keys) == tuple(episodes[0][k] for k in keys)
    wire = load("parquet", exported(store_dir, "parquet", tmp_path / "wire", wire_arguments=True), tmp_path / "w")
    assert all(isinstance(c["arguments"], str) for r in wire["train"] for c in calls(r["messages"]))


def test_sharegpt_roles_and_function_calls(store_dir, tmp_path):
    written = exported(store_dir, "sharegpt", tmp_path)
    records = lines(written["train"][0])
    roles = {turn["from"] for r in records for turn in r["conversations"]}
    assert roles == {"human", "gpt", "function_call", "observation"}
    for record in records:
        assert record["conversations"][0]["from"] == "human"
        assert isinstance(json.loads(record["tools"]), list)
        for turn in record["conversations"]:
            if turn["from"] == "function_call":
                value = json.loads(turn["value"])
                made = value if isinstance(value, list) else [value]
                assert all("name" in c and isinstance(c["arguments"], dict) for c in made)
    assert load_directory(tmp_path, tmp_path)["train"][0]["conversations"] == records[0]["conversations"]


def test_mcp_transcripts_replay_the_conversation_as_json_rpc(store_dir, tmp_path):
    written = exported(store_dir, "mcp", tmp_path)
    records = lines(written["train"][0])
    openai = lines(exported(store_dir, "openai", tmp_path / "oa")["train"][0])
    reference = {r["messages"][0]["content"]: r for r in openai}
    assert len(records) == len(reference)
    for record in records:
        listing, listed, *turns = record["transcript"]
        assert set(record) == {"id", "transcript"}
        assert listing == {"jsonrpc": "2.0", "id": 0, "method": "tools/list", "params": {}}
        messages = reference[turns[0]["content"]]["messages"]
        tools = reference[turns[0]["content"]]["tools"]
        assert listed["result"]["tools"] == [{"name": t["function"]["name"], "inputSchema": t["function"]["parameters"],
                                              "description": t["function"]["description"]} for t in tools]
        requests = [m for m in turns if m.get("method") == "tools/call"]
        assert [(r["params"]["name"], r["params"]["arguments"]) for r in requests] == \
            [(c["name"], c["arguments"]) for c in calls(messages)]
        results = [m for m in turns if "result" in m]
        assert [r["id"] for r in results] == [r["id"] for r in requests] == list(range(1, len(requests) + 1))
        tool_texts = [m["content"] for m in messages if m["role"] == "tool"]
        assert [r["result"]["content"][0]["text"] for r in results] == tool_texts
        assert all(r["result"]["isError"] is False for r in results)
        texts = [m for m in turns if "role" in m]
        assert texts == [{"role": m["role"], "content": m["content"]} for m in messages if m["role"] != "tool"
                         and not m.get("tool_calls")]
    assert load_directory(tmp_path, tmp_path)["train"][0]["transcript"] == records[0]["transcript"]


# --- prompts for RL: grpo and verl --------------------------------------------------------------------


def test_grpo_prompts_carry_their_tools_and_the_rewards_label(store_dir, tmp_path):
    written = exported(store_dir, "grpo", tmp_path)
    records = lines(written["train"][0])
    items = prompt_items(stored(store_dir, split="train"))
    assert len(records) == len(items) > 0
    for record, item in zip(records, items, strict=True):
        assert record["prompt"] == [tools_message(item.tools), *for_template(item.messages)]
        assert record["prompt"][-1]["role"] == "user" and all(set(m) == {"role", "content"} for m in record["prompt"])
        assert record["label"] == label(item) and record["ground_truth"] == item.ground_truth
        assert record["tools"] == item.tools and record["episode_id"] == item.item_id
        assert all(t["function"]["name"] in record["prompt"][0]["content"] for t in item.tools)
        assert score(oracle(item), record["label"]).reward == pytest.approx(1.0)
    assert any(not r["ground_truth"] for r in records) and any(len(r["ground_truth"]) > 1 for r in records)
    loaded = load_directory(tmp_path, tmp_path)["train"]
    assert list(loaded) == records  # prompt messages, tools and ground truth come back as the objects written


def test_verl_rows_load_with_datasets(store_dir, tmp_path):
    written = exported(store_dir, "verl", tmp_path)
    grpo = lines(exported(store_dir, "grpo", tmp_path / "grpo")["heldout"][0])
    for loaded in (load("parquet", written, tmp_path), load_directory(tmp_path, tmp_path)):
        rows = list(loaded["heldout"])
        assert len(rows) == len(grpo) > 0
        for index, (row, prompt) in enumerate(zip(rows, grpo, strict=True)):
            assert row["data_source"] == "inftool/ex" and row["ability"] == "tool_use"
            assert row["prompt"] == prompt["prompt"]
            assert row["reward_model"] == {"style": "rule", "ground_truth": prompt["label"]}
            assert row["extra_info"] == {"split": "heldout", "index": index, "episode_id": prompt["episode_id"],
                                         "complexity": prompt["category"], "tools": json.dumps(prompt["tools"])}
    assert (tmp_path / "compute_score.py").is_file()


CHILD = r"""
import importlib.util, json, sys
entry, path, cases = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
sys.path.insert(0, entry)
spec = importlib.util.spec_from_file_location("compute_score", path)
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
scores = [module.compute_score(*case) for case in cases]
loaded = sorted(name for name in sys.modules if name.partition(".")[0] == "inftool")
print(json.dumps({"scores": scores, "types": [type(s).__name__ for s in scores], "modules": loaded}))
"""


def test_verls_compute_score_runs_in_a_bare_interpreter_and_never_raises(store_dir, tmp_path):
    exported(store_dir, "verl", tmp_path)
    item = next(i for i in prompt_items(stored(store_dir, split="train")) if len(i.ground_truth) > 1)
    hermes = "\n".join(f'<tool_call>{{"name": "{c["function"]["name"]}", "arguments": {c["function"]["arguments"]}}}'
                        "</tool_call>" for c in oracle(item)["tool_calls"])
    name = item.tool
    wrong = f'<tool_call>{{"name": "{name}", "arguments": {{}}}}</tool_call>'
    record = {"label": label(item)}
    source = "inftool/ex"
    cases = [[source, hermes, record["label"], {"index": 0}], [source, wrong, record["label"]],
             [source, "no call at all", record["label"]], [source, hermes, "not json"],
             [source, None, None]]
    root = Path(inftool.__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "-I", "-S", "-c", CHILD, str(root), str(tmp_path / "compute_score.py"),
                           json.dumps(cases)], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["scores"][0] == pytest.approx(1.0)
    assert 0.0 < result["scores"][1] < 1.0  # wrong arguments (and too few calls): only the format gate pays
    assert result["scores"][2] < result["scores"][0]
    assert result["scores"][3:] == [0.0, 0.0] and set(result["types"]) == {"float"}
    units = {m.split(".")[1] for m in result["modules"] if "." in m}
    assert not units & {"train", "store", "export", "cli", "synth"}


# --- rejected episodes --------------------------------------------------------------------------------


def test_rejected_episodes_with_gate_reason_and_planned_calls(store_dir, tmp_path):
    written = exported(store_dir, "rejected", tmp_path)
    rejected = {e["episode_id"]: e for e in stored(store_dir, accepted=False)}
    records = [r for split in ("train", "heldout") for r in lines(written[split][0])]
    assert len(records) == len(rejected) > 0
    for record in records:
        episode = rejected[record["episode_id"]]
        assert record["failed_gate"] == episode["failed_gate"] == "dedup" and record["reason"] == episode["reason"]
        assert record["planned_calls"] == episode["goal"]["steps"]
        assert record["messages"] == for_template(episode["messages"]) and record["tools"] == episode["tools"]
    loaded = load_directory(tmp_path, tmp_path)
    assert sum(d.num_rows for d in loaded.values()) == len(records)
    assert [r["planned_calls"] for r in loaded["train"]] == [r["planned_calls"] for r in lines(written["train"][0])]


# --- the dataset card ---------------------------------------------------------------------------------


def front_matter(path: Path) -> tuple[dict, str]:
    _, head, body = path.read_text().split("---\n", 2)
    return YAML(typ="safe").load(head), body


def test_the_dataset_card_describes_the_run_catalogs_counts_and_gates(store_dir, tmp_path):
    written = exported(store_dir, "openai", tmp_path)
    meta, body = front_matter(tmp_path / "README.md")
    assert meta["configs"] == [{"config_name": "default", "data_files": [
        {"split": s, "path": f"{s}.jsonl"} for s in ("train", "heldout")]}]
    assert meta["license"] == "other" and meta["task_categories"] == ["text-generation"]
    assert {"tool-calling", "synthetic"} <= set(meta["tags"])
    assert meta["dataset_info"]["features"] == FORMATS["openai"].features
    with Store.open(store_dir, read_only=True) as store:
        run = store.run_info(store.current_run())
        counts = store.episode_counts(run.run_id)
        rates = store.gate_pass_rates(run.run_id)
    assert f"`{run.content_hash}`" in body and "seed 2" in body and "# ex: tool-use episodes (openai)" in body
    assert f"| travel | openai | `{display_path(store_dir.parent / TRAVEL.name)}` | 11 | unknown |" in body
    assert f"| library | openapi | `{display_path(store_dir.parent / LIBRARY.name)}` | 4 | LicenseRef-Proprietary (Proprietary) |" in body
    single = {row.split: row.episodes for row in counts if row.complexity == "single"}
    assert f"| single | {single.get('train', 0)} | {single.get('heldout', 0)} | {sum(single.values())} |" in body
    total = sum(n for _, n in written.values())
    assert f"| **all** | {written['train'][1]} | {written['heldout'][1]} | {total} |" in body
    dedup = next(r for r in rates if r.gate == "dedup" and r.complexity == "single")
    assert f"{dedup.pass_rate:.1%} ({dedup.passed}/{dedup.evaluated})" in body


def test_licences_of_catalogs_and_of_the_card(tmp_path):
    bfcl = CatalogEntry(name="bfcl", source="bfcl", location="bfcl:simple_python", tools=5)
    assert catalog_licence(bfcl) == "Apache-2.0"
    spec = tmp_path / "api.json"
    spec.write_text(json.dumps({"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {}}))
    assert catalog_licence(CatalogEntry(name="api", source="openapi", location=str(spec), tools=0)) == "unknown"
    spec.write_text(json.dumps({"openapi": "3.1.0", "info": {"license": {"name": "MIT License", "identifier": "MIT"}}}))
    entry = CatalogEntry(name="api", source="openapi", location=str(spec), tools=0)
    assert catalog_licence(entry) == "MIT (MIT License)"
    assert licence_metadata(["Apache-2.0", "Apache-2.0"]) == {"license": "apache-2.0"}
    assert licence_metadata(["MIT (MIT License)"]) == {"license": "mit"}
    assert licence_metadata(["Apache-2.0", "unknown"]) == {"license": "other", "license_name": "per-catalog"}


def test_a_split_without_rows_is_left_out_of_the_card(tmp_path):
    path = tmp_path / "one.yaml"
    path.write_text(f"name: one\nseed: 1\nrun_dir: run\ncatalogs: [{{source: openai, path: {TRAVEL}, limit: 3}}]\n"
                    "evaluate: {bfcl: [], heldout: 0.0}\n")
    loaded = load_recipe(path)
    run_stage(loaded, compile_recipe(loaded), episodes=12)
    written = exported(tmp_path / "run", "verl", tmp_path / "verl")
    assert written["heldout"][1] == 0 and written["train"][1] > 0
    meta, body = front_matter(tmp_path / "verl" / "README.md")
    assert meta["configs"][0]["data_files"] == [{"split": "train", "path": "train.parquet"}]
    assert "| travel | openai |" in body and meta["license"] == "other"
    assert load_directory(tmp_path / "verl", tmp_path)["train"].num_rows == written["train"][1]


# --- the command line ---------------------------------------------------------------------------------


def test_the_export_command_writes_every_format_and_checks_its_flags(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    recipe = tmp_path / "c.yaml"
    recipe.write_text(f"name: c\nseed: 4\ncatalogs: [{{source: openai, path: {TRAVEL}, limit: 4}}]\n"
                      "evaluate: {bfcl: [], heldout: 0.3}\n")
    runner = CliRunner()
    assert runner.invoke(main, ["synth", str(recipe), "-n", "20"]).exit_code == 0
    done = runner.invoke(main, ["export", str(recipe), "--format", "verl"])
    assert done.exit_code == 0, done.output
    out = tmp_path / "runs" / "c" / "export" / "verl"
    assert "train: " in done.output and "prompts" in done.output and str(out / "compute_score.py") in done.output
    assert {p.name for p in out.iterdir()} == {"train.parquet", "heldout.parquet", "README.md", "compute_score.py"}
    wire = runner.invoke(main, ["export", str(recipe), "--format", "openai", "--wire-arguments", "--out", "w"])
    assert wire.exit_code == 0, wire.output
    made = [c for r in lines(tmp_path / "w" / "train.jsonl") for c in calls(r["messages"])]
    assert made and all(isinstance(c["arguments"], str) for c in made)
    bad = runner.invoke(main, ["export", str(recipe), "--format", "mcp", "--wire-arguments"])
    assert bad.exit_code == 2 and "--wire-arguments applies to the openai and parquet formats" in bad.output
    choices = next(p for p in main.commands["export"].params if p.name == "fmt").type.choices
    assert list(choices) == list(FORMATS)


# --- trainers take the exports as they are ---------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny(store_dir, tmp_path_factory):
    """A tiny-scratch checkpoint whose chat template renders tools and tool calls."""
    pytest.importorskip("trl", reason="the trainers need the train extra")
    from inftool.spec.backends import TinyScratchSpec
    from inftool.train.tiny import build_tiny

    episodes = stored(store_dir)
    spec = TinyScratchSpec(hidden_size=32, layers=1, heads=2, kv_heads=1, vocab_size=512, max_length=2048)
    return build_tiny(spec, [t for e in episodes[:1] for t in e["tools"]], [e["messages"] for e in episodes],
                      tmp_path_factory.mktemp("tiny"), seed=1)


def test_trls_grpo_trainer_trains_on_the_grpo_export(store_dir, tiny, tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import GRPOConfig, GRPOTrainer

    from inftool.reward import trl_reward

    written = exported(store_dir, "grpo", tmp_path / "grpo")
    dataset = load("json", written, tmp_path)["train"].select(range(4))
    seen: dict = {}

    def spy(prompts, completions, **columns):
        seen.update(columns)
        return [0.0] * len(prompts)

    tokenizer = AutoTokenizer.from_pretrained(tiny)
    tokenizer.padding_side = "left"
    config = GRPOConfig(output_dir=str(tmp_path / "out"), use_cpu=True, per_device_train_batch_size=4,
                        num_generations=2, max_completion_length=8, max_steps=1, logging_steps=1, save_strategy="no",
                        report_to="none", disable_tqdm=True, bf16=False, fp16=False, use_vllm=False,
                        activation_checkpointing=False)
    trainer = GRPOTrainer(model=AutoModelForCausalLM.from_pretrained(tiny), reward_funcs=[trl_reward(), spy],
                          args=config, train_dataset=dataset, processing_class=tokenizer)
    assert trainer.train().global_step == 1
    assert seen["label"][0] in dataset["label"] and isinstance(seen["tools"][0][0]["function"]["parameters"], dict)
    assert {"ground_truth", "episode_id", "category"} <= set(seen)


def test_trls_sft_trainer_trains_on_the_openai_export(store_dir, tiny, tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    dataset = load("json", exported(store_dir, "openai", tmp_path / "oa"), tmp_path)["train"].select(range(4))
    tokenizer = AutoTokenizer.from_pretrained(tiny)
    config = SFTConfig(output_dir=str(tmp_path / "out"), use_cpu=True, per_device_train_batch_size=2, max_steps=1,
                       save_strategy="no", report_to="none", disable_tqdm=True, bf16=False, fp16=False,
                       max_length=2048, activation_checkpointing=False)
    trainer = SFTTrainer(model=AutoModelForCausalLM.from_pretrained(tiny), args=config, train_dataset=dataset,
                         processing_class=tokenizer)
    texts = [tokenizer.decode(row["input_ids"]) for row in trainer.train_dataset]
    assert all("<tools>" in text for text in texts)  # each row's own tools reach the template
    calling = [text for text in texts if "<tool_call>" in text]
    assert calling and all('"arguments": {' in text for text in calling)  # objects, not double-encoded strings
    assert trainer.train().global_step == 1
