"""A policy named by a Hugging Face hub id: found offline in the local Hugging Face cache (a fake one here, in
the cache's own layout), it is the checkpoint the loop starts from; one that is not cached is a recipe error
at compile time, at the model's line, naming the id and the cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from inftool.compile import compile_recipe
from inftool.errors import RecipeError, UsageError
from inftool.spec import load_recipe
from inftool.spec.backends import LocalModelSpec, TinyScratchSpec, hub_cache, hub_snapshot

pytest.importorskip("transformers", reason="building the tiny checkpoint needs the train extra")

REPO = Path(__file__).resolve().parents[2]
REVISION = "0123456789abcdef0123456789abcdef01234567"
SPEC = TinyScratchSpec(hidden_size=32, layers=1, heads=2, kv_heads=1, vocab_size=300, max_length=1024)
RECIPE = """\
catalogs: [{{source: openai, path: cat/tools.yaml}}]
models:
  synth: {{backend: procedural}}
  policy:
    backend: local
    model: {model}
"""


def cache_model(cache: Path, repo_id: str) -> Path:
    """A tiny model saved where huggingface_hub keeps ``repo_id``: models--org--name/snapshots/<rev>, refs/main."""
    from inftool.train.tiny import build_model, train_tokenizer

    repo = cache / f"models--{repo_id.replace('/', '--')}"
    snapshot = repo / "snapshots" / REVISION
    tokenizer = train_tokenizer(["get_weather(city) in Paris", '{"city": "Oslo"}'] * 20, SPEC.vocab_size)
    build_model(SPEC, tokenizer, seed=1).save_pretrained(snapshot)
    tokenizer.save_pretrained(snapshot)
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(REVISION, encoding="utf-8")
    return snapshot


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    """An empty Hugging Face hub cache in use, offline."""
    path = tmp_path / "hf-cache"
    path.mkdir()
    monkeypatch.setenv("HF_HUB_CACHE", str(path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return path


def test_a_cached_hub_id_resolves_offline_to_its_snapshot(cache):
    snapshot = cache_model(cache, "acme/tiny-tools")
    assert hub_cache() == cache
    assert hub_snapshot("acme/tiny-tools") == snapshot
    policy = LocalModelSpec(backend="local", model="acme/tiny-tools")
    assert policy.from_hub and policy.start() == snapshot
    labelled = LocalModelSpec(backend="local", model="acme/tiny-tools", checkpoint_path=cache)
    assert not labelled.from_hub and labelled.start() == cache  # checkpoint_path wins; the id is a label
    assert LocalModelSpec(backend="local").start() is None  # tiny-scratch is built by the training stage


def test_hf_home_locates_the_cache_too(tmp_path, monkeypatch):
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.delenv("HUGGINGFACE_HUB_CACHE", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "home"))
    snapshot = cache_model(tmp_path / "home" / "hub", "acme/tiny-tools")
    assert hub_snapshot("acme/tiny-tools") == snapshot


def test_the_loop_starts_from_the_cached_snapshot_and_it_evaluates(cache, write, tools_file):
    from inftool.evaluate.local import LocalPolicy
    from inftool.evaluate.runner import Item
    from inftool.train.stage import Training, check_policy

    snapshot = cache_model(cache, "acme/tiny-tools")
    loaded = load_recipe(write("r.yaml", RECIPE.format(model="acme/tiny-tools")), [f"run_dir={cache.parent / 'run'}"])
    compiled = compile_recipe(loaded)
    check_policy(loaded.spec)
    counts, start = Training(loaded.spec, compiled.plan, compiled.catalog, store=None, run_id="r").build_policy()
    assert start == str(snapshot) and counts == {"from": str(snapshot), "model": "acme/tiny-tools"}
    tools = [tool.to_openai() for tool in compiled.catalog]
    item = Item("heldout", "single", "e1", [{"role": "user", "content": "Weather in Paris?"}], tools,
                [t["function"] for t in tools], [])
    assert len(LocalPolicy(Path(start), max_new_tokens=4, batch_size=1).many([item])) == 1


def test_a_loop_trains_a_cached_hub_policy_with_lora(cache, tmp_path):
    pytest.importorskip("peft", reason="LoRA needs peft (the train extra)")
    from inftool.loop import run_recipe

    snapshot = cache_model(cache, "acme/tiny-tools")
    recipe = tmp_path / "micro.yaml"
    recipe.write_text(f"""\
name: micro
seed: 3
run_dir: run
catalogs: [{{source: openai, path: {REPO / 'catalog' / 'travel.yaml'}, limit: 5}}]
models: {{synth: {{backend: procedural}}, policy: {{backend: local, model: acme/tiny-tools}}}}
train:
  trainer: local
  threads: 1
  lora: {{r: 4}}
  sft: {{epochs: 1, batch_size: 8, gradient_accumulation_steps: 2}}
  grpo: {{steps: 2, group_size: 2, prompts_per_step: 2, max_new_tokens: 8, gradient_accumulation_steps: 2}}
loop: {{iterations: 1, episodes_per_iteration: 40}}
evaluate: {{bfcl: [simple_python], bfcl_limit: 2, heldout: 0.2, heldout_limit: 2, max_new_tokens: 8}}
""", encoding="utf-8")
    result = run_recipe(recipe)
    stages = {s.stage: s for s in result.stages}
    assert result.completed and stages["policy"].output == str(snapshot)
    assert stages["policy"].counts == {"from": str(snapshot), "model": "acme/tiny-tools"}
    for phase in ("sft", "grpo"):
        out = Path(stages[phase].output)
        assert (out / "model.safetensors").is_file() and (out / "adapter" / "adapter_config.json").is_file()
    assert stages["grpo"].counts["steps"] == 2


def test_a_hub_id_not_in_the_cache_is_an_error_at_compile_time_at_its_line(cache, write, tools_file):
    loaded = load_recipe(write("r.yaml", RECIPE.format(model="Qwen/Qwen2.5-0.5B-Instruct")))
    with pytest.raises(RecipeError) as raised:
        compile_recipe(loaded)
    assert raised.value.exit_code == 2
    [problem] = raised.value.problems
    assert problem.where.endswith("r.yaml:6") and problem.key == "models.policy.model"
    assert problem.message == (f"'Qwen/Qwen2.5-0.5B-Instruct' is not in the local Hugging Face cache {cache} "
                               "(inftool never downloads models; download it first with `hf download "
                               "Qwen/Qwen2.5-0.5B-Instruct`, or set checkpoint_path to a local copy)")
    from inftool.train.stage import check_policy

    with pytest.raises(UsageError, match=r"^models.policy.model: 'Qwen/Qwen2.5-0.5B-Instruct' is not in the local"):
        check_policy(loaded.spec)


def test_a_misspelt_tiny_scratch_and_a_malformed_id_get_hints(cache):
    with pytest.raises(UsageError, match="did you mean 'tiny-scratch'"):
        hub_snapshot("tiny-scrach")
    with pytest.raises(UsageError, match="neither 'tiny-scratch' nor a Hugging Face hub id"):
        hub_snapshot("not a/valid//id")


def test_a_cached_repo_without_a_config_is_not_a_checkpoint(cache):
    snapshot = cache_model(cache, "acme/broken")
    (snapshot / "config.json").unlink()
    with pytest.raises(UsageError, match="has no config.json: not a complete model checkpoint"):
        hub_snapshot("acme/broken")
