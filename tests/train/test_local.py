"""The local trainer's options on the tiny policy (CPU): LoRA in SFT and GRPO (adapters saved, and merged into a
checkpoint the pipeline reads), gradient accumulation with exact step counts, precision, TRL pass-through."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from inftool.compile import compile_recipe
from inftool.errors import UsageError
from inftool.spec import load_recipe
from inftool.spec.backends import TinyScratchSpec
from inftool.spec.training import LocalTrainSpec
from inftool.store import Store
from inftool.synth import run_stage

pytest.importorskip("trl", reason="training needs the train extra")
pytest.importorskip("peft", reason="LoRA needs peft (the train extra)")

from inftool.train import local  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
SPEC = TinyScratchSpec(hidden_size=32, layers=1, heads=2, kv_heads=1, vocab_size=512, max_length=512)
TRAIN = LocalTrainSpec(trainer="local", threads=1, lora={"r": 4, "alpha": 8, "dropout": 0.0},
                       sft={"batch_size": 4, "gradient_accumulation_steps": 2, "epochs": 1},
                       grpo={"steps": 2, "group_size": 2, "prompts_per_step": 2, "gradient_accumulation_steps": 2,
                             "max_new_tokens": 8})


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """(episodes, the untrained tiny checkpoint) from 40 synthesised smoke episodes."""
    from inftool.train.tiny import build_tiny

    run = tmp_path_factory.mktemp("run")
    loaded = load_recipe(REPO / "recipes" / "smoke.yaml", [f"run_dir={run}"])
    compiled = compile_recipe(loaded)
    run_stage(loaded, compiled, episodes=40)
    with Store.open(run, read_only=True) as store:
        episodes = [e for e in store.episodes(store.current_run())]
    tools = [t.to_openai() for t in compiled.catalog]
    start = build_tiny(SPEC, tools, [e["messages"] for e in episodes], tmp_path_factory.mktemp("tiny"), seed=3)
    return episodes, start


@pytest.fixture(scope="module")
def sft_run(setup, tmp_path_factory):
    """LoRA SFT with gradient accumulation: (phase, progress-bar steps, the checkpoint, the rows)."""
    from transformers import AutoTokenizer

    from inftool.train.data import sft_data

    episodes, start = setup
    rows = sft_data(episodes, AutoTokenizer.from_pretrained(start), SPEC.max_length).rows
    out = tmp_path_factory.mktemp("ckpt") / "iter0-sft"
    bar: list[int] = []
    phase = local.sft(start, rows, TRAIN.sft, out, local.Runtime.of(TRAIN, 0, "test"), max_length=SPEC.max_length,
                      on_step=bar.append)
    return phase, sum(bar), out, rows


def weights(path: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(str(path / "model.safetensors"))


def test_lora_sft_saves_adapters_and_a_merged_checkpoint(setup, sft_run):
    _, start = setup
    phase, bar, out, rows = sft_run
    assert phase.steps == bar == local.sft_steps(len(rows), TRAIN.sft) == -(-len(rows) // 4)
    assert {"config.json", "model.safetensors", "tokenizer.json", "adapter"} <= {p.name for p in out.iterdir()}
    assert not (out / "adapter_config.json").exists()  # the top level is a plain full checkpoint
    adapter = json.loads((out / local.ADAPTER_DIR / "adapter_config.json").read_text(encoding="utf-8"))
    assert adapter["r"] == 4 and adapter["lora_alpha"] == 8 and adapter["base_model_name_or_path"] == str(start)
    assert (out / local.ADAPTER_DIR / "adapter_model.safetensors").is_file()
    before, after = weights(start), weights(out)
    assert before.keys() == after.keys() and not any("lora" in name for name in after)
    assert any(not (before[k] == after[k]).all() for k in before)  # the adapters were merged in


def test_the_adapters_on_the_start_model_equal_the_merged_checkpoint(setup, sft_run):
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    _, start = setup
    _, _, out, _ = sft_run
    base = AutoModelForCausalLM.from_pretrained(start, dtype=torch.float32)
    adapted = PeftModel.from_pretrained(base, str(out / local.ADAPTER_DIR)).eval()
    merged = AutoModelForCausalLM.from_pretrained(out).eval()
    ids = torch.tensor([[5, 17, 42, 99, 7]])
    with torch.inference_mode():
        assert torch.allclose(adapted(ids).logits, merged(ids).logits, atol=1e-4)


def test_the_merged_checkpoint_evaluates_as_a_local_policy(setup, sft_run):
    from inftool.evaluate import runner
    from inftool.evaluate.local import LocalPolicy

    episodes, _ = setup
    items = runner.episode_items([e for e in episodes if e["accepted"]][:2])
    results = runner.evaluate(items, LocalPolicy(sft_run[2], max_new_tokens=8, batch_size=2))
    assert len(results) == 2 and all(r["valid"] or r["error_kind"] for r in results)


def test_lora_grpo_with_accumulation_starts_from_the_merged_sft_checkpoint(setup, sft_run, tmp_path):
    from inftool.reward import RewardConfig
    from inftool.train.data import prompt_items, prompt_rows
    from inftool.train.stage import _tokenizer

    episodes, _ = setup
    start = sft_run[2]
    prompts = prompt_rows(prompt_items(episodes), _tokenizer(start))
    bar: list[int] = []
    phase = local.grpo(start, prompts, TRAIN.grpo, RewardConfig(), tmp_path / "iter0-grpo",
                       local.Runtime.of(TRAIN, 0, "test"), on_step=bar.append)
    assert phase.steps == sum(bar) == TRAIN.grpo.steps
    assert sum("reward" in entry for entry in phase.logs) == TRAIN.grpo.steps
    adapter = json.loads((tmp_path / "iter0-grpo" / "adapter" / "adapter_config.json").read_text(encoding="utf-8"))
    assert adapter["base_model_name_or_path"] == str(start)
    assert (tmp_path / "iter0-grpo" / "config.json").is_file()


@pytest.mark.parametrize(("rows", "settings", "steps"), [
    (21, {"batch_size": 4}, 6),
    (21, {"batch_size": 4, "gradient_accumulation_steps": 2}, 6),
    (21, {"batch_size": 4, "gradient_accumulation_steps": 4, "epochs": 1.5}, 9),
    (21, {"batch_size": 4, "epochs": 1.5, "extra": {"dataloader_drop_last": True}}, 8),
    (10, {"batch_size": 8, "gradient_accumulation_steps": 8}, 2),
    (50, {"max_steps": 7, "gradient_accumulation_steps": 2}, 7),
])
def test_sft_steps_count_optimiser_steps_as_the_trainer_does(rows, settings, steps):
    spec = LocalTrainSpec(trainer="local", sft={"epochs": 1, **settings}).sft
    assert local.sft_steps(rows, spec) == steps


def test_sft_steps_match_a_full_fine_tuning_run_with_accumulation_and_extra(setup, sft_run, tmp_path):
    _, start = setup
    rows = sft_run[3]
    train = LocalTrainSpec(trainer="local", threads=1, sft={"batch_size": 4, "gradient_accumulation_steps": 4,
                                                            "epochs": 1.5, "extra": {"lr_scheduler_type": "linear"}})
    bar: list[int] = []
    phase = local.sft(start, rows, train.sft, tmp_path / "full", local.Runtime.of(train, 0, "test"),
                      max_length=SPEC.max_length, on_step=bar.append)
    assert phase.steps == sum(bar) == local.sft_steps(len(rows), train.sft)
    assert not (tmp_path / "full" / "adapter").exists() and (tmp_path / "full" / "model.safetensors").is_file()


def test_precision_auto_is_bf16_or_fp16_on_a_gpu_and_fp32_on_the_cpu(monkeypatch):
    import torch

    assert local.Runtime(device="cpu").resolved_precision() == "fp32"
    assert local.Runtime(device="cpu", precision="bf16").resolved_precision() == "bf16"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *args, **kwargs: True)
    assert local.Runtime().resolved_precision() == "bf16"
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *args, **kwargs: False)
    assert local.Runtime().resolved_precision() == "fp16"
    assert local.Runtime(precision="fp32").resolved_precision() == "fp32"
    config = local.Runtime(precision="fp16").config(Path("/runs/x/checkpoints/r/iter0-sft"))
    assert (config["fp16"], config["bf16"], config["use_cpu"], config["run_name"]) == (True, False, False,
                                                                                      "inftool-iter0-sft")


def test_lora_loads_the_frozen_base_in_the_training_precision(setup):
    import torch

    _, start = setup
    lora = TRAIN.lora
    assert local.Runtime(device="cpu", precision="bf16", lora=lora).load(start).dtype == torch.bfloat16
    assert local.Runtime(device="cpu", precision="bf16").load(start).dtype == torch.float32  # fp32 master weights


def test_extra_overrides_inftool_defaults_and_trl_refusals_are_usage_errors():
    from trl import SFTConfig

    settings = {"output_dir": "/tmp/x", "use_cpu": True, "lr_scheduler_type": "cosine", "report_to": "none"}
    assert local.trl_config(SFTConfig, "sft", settings, {"lr_scheduler_type": "linear"}).lr_scheduler_type == "linear"
    with pytest.raises(UsageError, match=r"trl.SFTConfig refuses the settings of train.sft .*'lr_scheduler_type'"):
        local.trl_config(SFTConfig, "sft", settings, {"lr_scheduler_type": "no-such-schedule"})


def test_tensorboard_logs_go_under_the_run_directory(monkeypatch):
    monkeypatch.delenv("TENSORBOARD_LOGGING_DIR", raising=False)
    out = Path("/runs/x/checkpoints/r/iter1-grpo")
    with local.Runtime(report_to="tensorboard").tracking(out):
        import os

        assert os.environ["TENSORBOARD_LOGGING_DIR"] == "/runs/x/checkpoints/r/tensorboard/iter1-grpo"
    assert "TENSORBOARD_LOGGING_DIR" not in os.environ
    monkeypatch.setenv("TENSORBOARD_LOGGING_DIR", "/mine")
    with local.Runtime(report_to="tensorboard").tracking(out):
        assert os.environ["TENSORBOARD_LOGGING_DIR"] == "/mine"  # the user's choice wins


def test_sft_learning_rate_follows_one_curve_across_iterations():
    spec = LocalTrainSpec(trainer="local", sft={"learning_rate": 0.01, "min_learning_rate": 0.1}).sft
    segments = [local.learning_rate_segment(spec, i, 3) for i in range(3)]
    assert segments[0]["learning_rate"] == pytest.approx(0.01) and segments[0]["warmup_steps"] > 0
    for before, after in itertools.pairwise(segments):  # each iteration starts where the last stopped
        assert after["learning_rate"] == pytest.approx(before["lr_scheduler_kwargs"]["lr_end"])
        assert after["warmup_steps"] == 0 and after["learning_rate"] > after["lr_scheduler_kwargs"]["lr_end"]
    assert segments[-1]["lr_scheduler_kwargs"]["lr_end"] == pytest.approx(0.001)


def test_a_later_iterations_sft_takes_its_segment_of_the_curve(setup, sft_run, tmp_path):
    _, start = setup
    train = LocalTrainSpec(trainer="local", threads=1, sft={"batch_size": 4, "max_steps": 6, "learning_rate": 0.01,
                                                            "extra": {"logging_steps": 1}})
    phase = local.sft(start, sft_run[3], train.sft, tmp_path / "iter1", local.Runtime.of(train, 0, "test"),
                      max_length=SPEC.max_length, segment=(1, 3))
    rates = [entry["learning_rate"] for entry in phase.logs if "learning_rate" in entry]
    segment = local.learning_rate_segment(train.sft, 1, 3)
    assert rates[0] == pytest.approx(segment["learning_rate"], rel=1e-6)  # no warm-up, no restart at the peak
    assert rates == sorted(rates, reverse=True) and rates[-1] > segment["lr_scheduler_kwargs"]["lr_end"]


def test_muon_sft_trains_the_hidden_matrices_with_muon_on_the_same_learning_rate_curve(setup, sft_run, tmp_path,
                                                                                      monkeypatch):
    from inftool.train import optimizers

    built, real = [], optimizers.muon_with_adamw

    def recording(model, **kwargs):  # the real optimizer, kept to read its learning rates after training
        built.append(real(model, **kwargs))
        return built[-1]

    monkeypatch.setattr(optimizers, "muon_with_adamw", recording)
    _, start = setup
    train = LocalTrainSpec(trainer="local", threads=1, sft={"batch_size": 4, "max_steps": 6, "learning_rate": 0.01,
                                                            "optimizer": "muon", "muon_learning_rate": 0.05,
                                                            "extra": {"logging_steps": 1}})
    phase = local.sft(start, sft_run[3], train.sft, tmp_path / "iter1", local.Runtime.of(train, 0, "test"),
                      max_length=SPEC.max_length, segment=(1, 3))
    segment = local.learning_rate_segment(train.sft, 1, 3)
    rates = [entry["learning_rate"] for entry in phase.logs if "learning_rate" in entry]
    assert rates[0] == pytest.approx(segment["learning_rate"], rel=1e-6) and rates == sorted(rates, reverse=True)
    optimizer = built[-1]
    adamw, muon = optimizer.parts
    assert muon.param_groups[0]["lr"] == pytest.approx(5 * adamw.param_groups[0]["lr"])  # 0.05 to 0.01, scheduled
    assert muon.param_groups[0]["initial_lr"] == pytest.approx(5 * segment["learning_rate"])
    assert adamw.param_groups[0]["lr"] <= rates[-1] < rates[0]  # the schedule reached the parts
    trained, before = weights(tmp_path / "iter1"), weights(start)
    for name in ("model.layers.0.self_attn.q_proj.weight", "model.embed_tokens.weight", "model.norm.weight"):
        assert not (trained[name] == before[name]).all(), name


@pytest.mark.parametrize("lora,capped", [(False, False), (True, False), (False, True)])
def test_copy_attention_is_trained_through_the_real_trainer_and_logged(setup, sft_run, tmp_path, lora, capped):
    """The copy-attention loss reaches every training step whichever loss path the trainer takes: the CPU loss, a
    LoRA model (the hook is on its base model), TRL's own loss (a soft-capped model); its cross-entropy falls."""
    import shutil

    _, start = setup
    if capped:  # a logit transform in the config: the CPU trainer leaves the loss to TRL's own path
        start = Path(shutil.copytree(start, tmp_path / "capped"))
        config = json.loads((start / "config.json").read_text())
        (start / "config.json").write_text(json.dumps({**config, "logit_scale": 1.0}))
        assert not local._plain_head(local.Runtime(threads=1).load(start))
    train = LocalTrainSpec(trainer="local", threads=1, lora={"r": 4, "alpha": 8, "dropout": 0.0} if lora else None,
                           # LoRA's adapters start at zero: more and larger steps (the copy pairs include names,
                           # whose places in the tool list the head learns more slowly)
                           sft={"batch_size": 4, "max_steps": 24 if lora else 12,
                                "learning_rate": 0.05 if lora else 0.01, "copy_attention": 1.0,
                                "extra": {"logging_steps": 1}})
    phase = local.sft(start, sft_run[3], train.sft, tmp_path / "iter0", local.Runtime.of(train, 0, "test"),
                      max_length=SPEC.max_length)
    copied = [entry["copy_attention_loss"] for entry in phase.logs if "copy_attention_loss" in entry]
    assert len(copied) >= 10  # steps whose batch states no value log nothing
    assert sum(copied[-3:]) < sum(copied[:3])
    assert (tmp_path / "iter0" / "model.safetensors").is_file()


def test_copy_attention_is_refused_with_packed_batches():
    with pytest.raises(ValueError, match="copy_attention finds its examples in padded batches, not with extra.packing"):
        LocalTrainSpec(trainer="local", sft={"copy_attention": 1.0, "extra": {"packing": True}})


def test_muon_and_extra_optim_are_refused_together():
    with pytest.raises(ValueError, match="extra.optim .* does not apply with optimizer: muon"):
        LocalTrainSpec(trainer="local", sft={"optimizer": "muon", "extra": {"optim": "adafactor"}})


@pytest.mark.parametrize("lora,capped", [(False, False), (True, False), (False, True)])
def test_the_cpu_sft_loss_equals_trls_fused_loss_and_gradients(setup, tmp_path, lora, capped):
    """On the CPU the SFT loss skips TRL's fused LM head (plain torch tiles there, most of a step); the loss, its
    gradients and the logged metrics must be the ones TRL computes, also for a model whose logits are soft-capped
    (Gemma 2), which the plain loss leaves to TRL."""
    import torch
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    from inftool.train.data import sft_data

    episodes, start = setup
    tokenizer = AutoTokenizer.from_pretrained(start)
    rows = sft_data(episodes, tokenizer, SPEC.max_length).rows[:6]
    runtime = local.Runtime(threads=1, lora=TRAIN.lora if lora else None)
    found = []
    for trainer_class in (SFTTrainer, local._cpu_sft_trainer(SFTTrainer)):
        config = SFTConfig(output_dir=str(tmp_path / trainer_class.__name__), use_cpu=True, report_to="none",
                           per_device_train_batch_size=6, completion_only_loss=True, max_length=SPEC.max_length)
        torch.manual_seed(0)  # the same LoRA initialisation for both
        model = capped_model(len(tokenizer)) if capped else AutoModelForCausalLM.from_pretrained(start)
        trainer = trainer_class(model=model, args=config,
                                train_dataset=Dataset.from_list(rows), processing_class=tokenizer,
                                peft_config=runtime.peft_config())
        batch = next(iter(trainer.get_train_dataloader()))
        trainer.model.train()
        loss = trainer.compute_loss(trainer.model, dict(batch), num_items_in_batch=torch.tensor(17))
        loss.backward()
        grads = {n: p.grad.clone() for n, p in trainer.model.named_parameters() if p.grad is not None}
        metrics = {k: v[-1] for k, v in trainer._metrics["train"].items()}
        found.append((loss.item(), grads, metrics))
    (trl_loss, trl_grads, trl_metrics), (cpu_loss, cpu_grads, cpu_metrics) = found
    assert cpu_loss == pytest.approx(trl_loss, rel=1e-5)
    assert trl_grads.keys() == cpu_grads.keys() and trl_grads
    for name, grad in trl_grads.items():
        assert torch.allclose(cpu_grads[name], grad, rtol=1e-4, atol=1e-6), name
    assert cpu_metrics.keys() >= {"entropy", "mean_token_accuracy", "num_tokens"}
    for key in ("entropy", "mean_token_accuracy", "num_tokens"):
        assert cpu_metrics[key] == pytest.approx(trl_metrics[key], rel=1e-4), key


def test_the_cpu_sft_metrics_are_measured_on_the_steps_that_log(setup, tmp_path):
    """Entropy and top-1 over the vocabulary took 8% of a tiny-policy step: the CPU loss measures them only on the
    optimiser steps that end with a log (transformers' rule: the first with ``logging_first_step``, every
    ``logging_steps``, the last), and a short run logs them at each of those steps."""
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback
    from trl import SFTConfig, SFTTrainer

    from inftool.train.data import sft_data

    episodes, start = setup
    tokenizer = AutoTokenizer.from_pretrained(start)
    rows = sft_data(episodes, tokenizer, SPEC.max_length).rows
    config = SFTConfig(output_dir=str(tmp_path), use_cpu=True, report_to="none", per_device_train_batch_size=2,
                       max_steps=7, logging_steps=3, logging_first_step=True, completion_only_loss=True,
                       max_length=SPEC.max_length, save_strategy="no", disable_tqdm=True)
    trainer = local._quiet(local._cpu_sft_trainer(SFTTrainer)(
        model=AutoModelForCausalLM.from_pretrained(start), args=config, train_dataset=Dataset.from_list(rows),
        processing_class=tokenizer))
    measured = []
    trainer.add_callback(type("Watch", (TrainerCallback,), {
        "on_step_begin": lambda self, args, state, control, **kw: measured.append(trainer._logs_this_step())})())
    trainer.train()
    assert [step for step, logs in enumerate(measured, 1) if logs] == [1, 3, 6, 7]
    logged = [entry["step"] for entry in trainer.state.log_history if "entropy" in entry]
    assert logged[:3] == [1, 3, 6]
    trainer.args.logging_strategy = "epoch"  # logs that do not fall on step counts: every step is measured
    for step in range(7):
        trainer.state.global_step = step
        assert trainer._logs_this_step(), step


def capped_model(vocab_size: int):
    """A tiny Gemma 2 (logits soft-capped at 30), the same weights each time it is built."""
    import torch
    from transformers import Gemma2Config, Gemma2ForCausalLM

    torch.manual_seed(1)
    return Gemma2ForCausalLM(Gemma2Config(vocab_size=vocab_size, hidden_size=32, intermediate_size=64, head_dim=16,
                                          num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=1))
