"""A small stateful recipe for the multi-turn training tests: its stored training episodes, their user turns as
GRPO tasks, and its untrained tiny-scratch policy (built once per test module)."""

from __future__ import annotations

import pytest

STATEFUL_RECIPE = """\
name: stateful_grpo
seed: 5
catalogs:
  - {source: bfcl_env, envs: [ticket_api]}
models:
  synth: {backend: procedural}
  policy: {backend: local, model: tiny-scratch,
           tiny: {hidden_size: 32, layers: 1, heads: 2, kv_heads: 1, vocab_size: 1024, max_length: 1024,
                  description_chars: 24}}
scenarios:
  mix: {stateful: 1.0}
train:
  trainer: local
  threads: 2
  grpo: {group_size: 2, prompts_per_step: 2, steps: 2, max_new_tokens: 160, learning_rate: 0.001}
loop: {iterations: 1, episodes_per_iteration: 24}
evaluate: {bfcl: [], heldout: 0.1}
"""


@pytest.fixture(scope="module")
def stateful_run(tmp_path_factory, bfcl_available):
    """(loaded recipe, compiled plan, run directory, stored training episodes) of `STATEFUL_RECIPE`."""
    from inftool.compile import compile_recipe
    from inftool.spec import load_recipe
    from inftool.store import Store
    from inftool.synth import run_stage

    directory = tmp_path_factory.mktemp("stateful_grpo")
    path = directory / "recipe.yaml"
    path.write_text(STATEFUL_RECIPE, encoding="utf-8")
    loaded = load_recipe(path, [f"run_dir={directory / 'run'}"])
    compiled = compile_recipe(loaded)
    run_stage(loaded, compiled)
    with Store.open(directory / "run", read_only=True) as store:
        episodes = list(store.episodes(store.current_run(), split="train"))
    return loaded, compiled, directory / "run", episodes


@pytest.fixture(scope="module")
def stateful_tasks(stateful_run):
    from inftool.train.environments import turn_tasks

    return turn_tasks(stateful_run[3])


@pytest.fixture(scope="module")
def stateful_tiny(stateful_run, tmp_path_factory):
    """The recipe's untrained tiny-scratch checkpoint."""
    pytest.importorskip("transformers", reason="the tiny policy needs the train extra")
    from inftool.train.tiny import build_tiny

    loaded, compiled, _, episodes = stateful_run
    return build_tiny(loaded.spec.models["policy"].tiny, [t.to_openai() for t in compiled.catalog],
                      [e["messages"] for e in episodes], tmp_path_factory.mktemp("tiny"), seed=3)
