"""The local trainer's options in a recipe: LoRA, precision, gradient accumulation, trackers, TRL pass-through
(`extra`), and the OpenAI backend's request fields; each problem at its line, all of them at once."""

from __future__ import annotations

import logging
import sys

import pytest

from inftool.errors import RecipeError
from inftool.spec import load_recipe
from inftool.spec import training as training_spec

HEAD = "catalogs: [{source: openai, path: cat/tools.yaml}]\n"


def problems(write, text: str) -> list[str]:
    with pytest.raises(RecipeError) as info:
        load_recipe(write("r.yaml", HEAD + text.lstrip("\n")), [])
    assert info.value.exit_code == 2
    return [str(p).split("r.yaml", 1)[-1] for p in info.value.problems]


def test_defaults_are_full_fine_tuning_auto_precision_no_tracker(write, tools_file):
    train = load_recipe(write("r.yaml", HEAD + "train: {trainer: local}\n")).spec.train
    assert (train.lora, train.precision, train.report_to) == (None, "auto", "none")
    assert train.sft.gradient_accumulation_steps == train.grpo.gradient_accumulation_steps == 1
    assert train.sft.extra == train.grpo.extra == {}


def test_lora_precision_and_accumulation_are_read(write, tools_file):
    train = load_recipe(write("r.yaml", HEAD + """
train:
  trainer: local
  precision: bf16
  lora: {r: 8, alpha: 16, target_modules: [q_proj, v_proj], dropout: 0.0}
  sft: {batch_size: 8, gradient_accumulation_steps: 4}
  grpo: {prompts_per_step: 2, group_size: 4, gradient_accumulation_steps: 8}
""")).spec.train
    assert train.lora.model_dump() == {"r": 8, "alpha": 16.0, "target_modules": ["q_proj", "v_proj"], "dropout": 0.0}
    assert train.precision == "bf16" and train.sft.gradient_accumulation_steps == 4
    assert load_recipe(write("r.yaml", HEAD + "train: {trainer: local, lora: {}}\n")).spec.train.lora.target_modules \
        == "all-linear"


def test_bad_values_are_reported_at_their_lines(write, tools_file):
    found = problems(write, """
train:
  trainer: local
  precision: bf61
  lora: {r: 0, target_modules: []}
  sft: {batch_size: 6, gradient_accumulation_steps: 4}
  grpo: {prompts_per_step: 2, group_size: 4, gradient_accumulation_steps: 3}
""")
    assert found == [
        ":4: train.precision: 'bf61' is not allowed (expected one of: auto, fp32, bf16, fp16; did you mean 'bf16'?)",
        ":5: train.lora.r: input should be greater than or equal to 1 (got 0)",
        ":5: train.lora.target_modules: value should have at least 1 item after validation, not 0 (got [])",
        ":6: train.sft.gradient_accumulation_steps: 4 does not divide the 6 episodes (batch_size) of an optimiser "
        "step (each accumulated step takes an equal share)",
        ":7: train.grpo.gradient_accumulation_steps: 3 does not divide the 8 completions (prompts_per_step x "
        "group_size) of an optimiser step (each accumulated step takes an equal share)",
    ]


def test_a_tracker_that_is_not_installed_is_an_error_with_the_pip_hint(write, tools_file, monkeypatch):
    monkeypatch.setitem(training_spec.TRACKERS, "wandb", (("inftool_no_such_module",), "pip install wandb"))
    monkeypatch.setitem(training_spec.TRACKERS, "tensorboard", (("json",), "pip install tensorboard"))
    found = problems(write, "train:\n  trainer: local\n  report_to: wandb\n")
    assert found == [":4: train.report_to: 'wandb' is not installed (hint: pip install wandb)"]
    assert load_recipe(write("r.yaml", HEAD + "train: {trainer: local, report_to: tensorboard}\n")).spec.train \
        .report_to == "tensorboard"
    assert problems(write, "train: {trainer: local, report_to: mlflow}\n")[0].startswith(
        ":2: train.report_to: 'mlflow' is not allowed (expected one of: none, tensorboard, trackio, wandb")


def test_extra_refuses_keys_a_recipe_key_or_inftool_sets(write, tools_file):
    found = problems(write, """
train:
  trainer: local
  sft:
    extra:
      learning_rate: 0.1
      output_dir: elsewhere
      max_length: 4096
  grpo:
    extra: {beta: 0.1, num_generations: 4, disable_tqdm: false}
""")
    assert found == [
        ":6: train.sft.extra.learning_rate: 'learning_rate' has a recipe key: set train.sft.learning_rate instead",
        ":7: train.sft.extra.output_dir: 'output_dir' cannot be set here: inftool saves each phase's checkpoint in "
        "the run directory itself",
        ":8: train.sft.extra.max_length: 'max_length' cannot be set here: the policy's context length sets it "
        "(tiny.max_length for tiny-scratch, max_position_embeddings otherwise)",
        ":10: train.grpo.extra.beta: 'beta' has a recipe key: set train.grpo.kl instead",
        ":10: train.grpo.extra.disable_tqdm: 'disable_tqdm' cannot be set here: inftool draws its own progress bars",
        ":10: train.grpo.extra.num_generations: 'num_generations' has a recipe key: set train.grpo.group_size "
        "instead",
    ]


def test_extra_keys_are_checked_against_trl_configs_with_did_you_mean(write, tools_file):
    pytest.importorskip("trl")
    found = problems(write, """
train:
  trainer: local
  sft:
    extra: {lr_scheduler_type: linear, lerning_rate: 0.1, max_grad_norm: 0.5}
  grpo:
    extra: {loss_typ: dr_grpo, top_p: 0.9}
""")
    assert found == [
        ":5: train.sft.extra.lerning_rate: unknown key 'lerning_rate' (expected a field of trl.SFTConfig; did you "
        "mean train.sft.learning_rate?)",
        ":7: train.grpo.extra.loss_typ: unknown key 'loss_typ' (expected a field of trl.GRPOConfig; did you mean "
        "'loss_type'?)",
    ]
    ok = load_recipe(write("r.yaml", HEAD + "train: {trainer: local, grpo: {extra: {loss_type: dr_grpo}}}\n"))
    assert ok.spec.train.grpo.extra == {"loss_type": "dr_grpo"}


def test_without_trl_extra_keys_are_not_checked_and_a_warning_says_so(write, tools_file, monkeypatch, caplog):
    monkeypatch.setitem(sys.modules, "trl", None)  # import trl fails
    training_spec.trl_fields.cache_clear()
    try:
        with caplog.at_level(logging.WARNING, logger="inftool"):
            loaded = load_recipe(write("r.yaml", HEAD + "train: {trainer: local, sft: {extra: {anything: 1}}}\n"))
    finally:
        training_spec.trl_fields.cache_clear()
    assert loaded.spec.train.sft.extra == {"anything": 1}
    assert "trl is not installed here" in caplog.text


def test_the_cluster_trainer_has_no_local_options(write, tools_file):
    found = problems(write, "train: {trainer: openrlhf, lora: {r: 8}, sft: {extra: {}}}\n")
    assert [f.split(" (")[0] for f in found] == [":2: train.lora: unknown key 'lora'",
                                                 ":2: train.sft.extra: unknown key 'extra'"]


def test_openai_request_fields_and_what_extra_body_may_not_set(write, tools_file):
    models = "models:\n  policy: {backend: local}\n  synth:\n    backend: openai\n    model: Qwen/Qwen3-8B\n"
    loaded = load_recipe(write("r.yaml", HEAD + models + "    top_p: 0.8\n    seed: 3\n"
                               "    extra_body: {chat_template_kwargs: {enable_thinking: false}}\n"))
    synth = loaded.spec.models["synth"]
    assert (synth.top_p, synth.seed, synth.extra_body) == (0.8, 3, {"chat_template_kwargs": {"enable_thinking": False}})
    found = problems(write, models + "    top_p: 0\n    extra_body: {temperature: 0.1, messages: []}\n")
    assert found == [
        ":7: models.synth.top_p: input should be greater than 0 (got 0)",
        ":8: models.synth.extra_body.temperature: 'temperature' is set by inftool in every request (set it with the "
        "model's `temperature` key)",
    ]
