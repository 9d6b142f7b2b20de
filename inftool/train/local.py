"""The local trainer (``trainer: local``): TRL's SFTTrainer for the cold start, then TRL's GRPOTrainer
with the gated reward, on CPU here and on one GPU when present. Each phase starts from a checkpoint
directory and saves a new one; what the trainer logs at each step is handed to ``on_log``.

torch, transformers, datasets and trl are imported here (and in ``inftool.evaluate.local``) only.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inftool.errors import StageError, UsageError

log = logging.getLogger("inftool")

Logs = list[dict[str, Any]]


@dataclass
class Phase:
    """What a training phase did."""

    steps: int
    seconds: float
    examples: int
    logs: Logs = field(default_factory=list)

    @property
    def summary(self) -> dict[str, Any]:
        last = next((entry for entry in reversed(self.logs) if "loss" in entry), {})
        rewards = [entry["reward"] for entry in self.logs if "reward" in entry]
        out = {"steps": self.steps, "examples": self.examples, "seconds": round(self.seconds, 1)}
        if "loss" in last:
            out["final_loss"] = round(float(last["loss"]), 4)
        if rewards:
            first, last = quarter_means(rewards)
            out["reward_first_quarter"], out["reward_last_quarter"] = round(first, 4), round(last, 4)
        return out


def quarter_means(values: list[float]) -> tuple[float, float]:
    """Means of the first and the last quarter of a curve (at least one value each): its trend."""
    q = max(1, len(values) // 4)
    return sum(values[:q]) / q, sum(values[-q:]) / q


@dataclass(frozen=True)
class Runtime:
    """Where and how training runs: ``device`` auto|cpu|cuda, CPU ``threads``, the seed."""

    device: str = "auto"
    threads: int | None = None
    seed: int = 0

    def use_cpu(self) -> bool:
        import torch

        if self.device == "cuda" and not torch.cuda.is_available():
            raise UsageError("train.device is 'cuda' but torch sees no GPU (hint: device: auto)")
        return self.device == "cpu" or not torch.cuda.is_available()

    def apply(self) -> None:
        import torch

        torch.set_num_threads(self.threads or os.cpu_count() or 1)


def _imports() -> None:
    from inftool.hf import require

    require("torch", "transformers", "datasets", "trl")


def _quiet(trainer):
    """No log dicts printed to stdout (transformers prints them when tqdm is off): ``on_log`` has them."""
    from transformers.trainer_callback import PrinterCallback

    trainer.remove_callback(PrinterCallback)
    return trainer


def _callback(on_log: Callable[[dict[str, Any]], None] | None, on_step: Callable[[int], None] | None, logs: Logs):
    from transformers import TrainerCallback

    class Recorder(TrainerCallback):
        def on_log(self, args, state, control, logs=None, **kwargs):  # noqa: ARG002 - TRL's signature
            entry = {"step": state.global_step, **{k: v for k, v in (logs or {}).items() if _scalar(v)}}
            if "train_runtime" in entry:  # the end-of-training summary, not a step
                return
            recorded.append(entry)
            if on_log:
                on_log(entry)

        def on_step_end(self, args, state, control, **kwargs):  # noqa: ARG002
            if on_step:
                on_step(1)

    recorded = logs
    return Recorder()


def _scalar(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _save(trainer, tokenizer, out: Path) -> None:
    """Save atomically: a checkpoint directory exists only once it is complete (resume relies on it)."""
    partial = out.with_name(out.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    trainer.save_model(str(partial))
    tokenizer.save_pretrained(str(partial))
    shutil.rmtree(out, ignore_errors=True)
    partial.rename(out)


def sft(start: Path, rows: list[dict[str, list[int]]], spec: Any, out: Path, runtime: Runtime, *,
        max_length: int, on_log=None, on_step=None) -> Phase:
    """Supervised fine-tuning on pre-tokenized rows (``input_ids``, ``completion_mask``; see
    ``inftool.train.data.sft_data``), loss on the completion tokens only. ``spec`` is an SFTSpec."""
    _imports()
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    if not rows:
        raise StageError("SFT has no training examples (no accepted training episodes in this iteration)")
    runtime.apply()
    tokenizer = AutoTokenizer.from_pretrained(start)
    model = AutoModelForCausalLM.from_pretrained(start)
    logs: Logs = []
    with tempfile.TemporaryDirectory(prefix="inftool-sft-") as scratch:
        config = SFTConfig(
            output_dir=scratch, use_cpu=runtime.use_cpu(), seed=runtime.seed, data_seed=runtime.seed,
            per_device_train_batch_size=spec.batch_size, num_train_epochs=spec.epochs,
            max_steps=spec.max_steps or -1, learning_rate=spec.learning_rate, lr_scheduler_type="cosine",
            warmup_steps=0.05, weight_decay=0.0, max_length=max_length, completion_only_loss=True,
            train_sampling_strategy="group_by_length", logging_steps=5, logging_first_step=True, save_strategy="no",
            report_to="none", disable_tqdm=True, dataloader_num_workers=0, bf16=False, fp16=False,
            activation_checkpointing=False)  # TRL turns it on by default: ~30% slower for a model this small
        trainer = _quiet(SFTTrainer(model=model, args=config, train_dataset=Dataset.from_list(rows),
                             processing_class=tokenizer, callbacks=[_callback(on_log, on_step, logs)]))
        started = time.perf_counter()
        result = trainer.train()
        seconds = time.perf_counter() - started
        _save(trainer, tokenizer, out)
    return Phase(result.global_step, seconds, len(rows), logs)


def sft_steps(rows: int, spec: Any) -> int:
    """Optimiser steps SFT will take (for the progress bar)."""
    if spec.max_steps:
        return spec.max_steps
    per_epoch = -(-rows // spec.batch_size)
    return max(1, round(per_epoch * spec.epochs))


def grpo(start: Path, prompts: list[dict[str, str]], spec: Any, reward_config: Any, out: Path, runtime: Runtime, *,
         on_log=None, on_step=None) -> Phase:
    """GRPO with the gated reward on ``prompts`` (``prompt`` text rendered with tools, ``label`` JSON; see
    ``inftool.train.data.prompt_rows``). ``spec`` is a GRPOSpec; its KL coefficient is TRL's ``beta``."""
    _imports()
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import GRPOConfig, GRPOTrainer

    from inftool.reward import trl_reward

    if not prompts:
        raise StageError("GRPO has no prompts (no accepted training episodes in this iteration)")
    runtime.apply()
    tokenizer = AutoTokenizer.from_pretrained(start)
    tokenizer.padding_side = "left"
    model = AutoModelForCausalLM.from_pretrained(start)
    logs: Logs = []
    rows = [{"prompt": p["prompt"], "label": p["label"]} for p in prompts]
    with tempfile.TemporaryDirectory(prefix="inftool-grpo-") as scratch:
        config = GRPOConfig(
            output_dir=scratch, use_cpu=runtime.use_cpu(), seed=runtime.seed, data_seed=runtime.seed,
            per_device_train_batch_size=spec.prompts_per_step * spec.group_size, num_generations=spec.group_size,
            max_completion_length=spec.max_new_tokens, max_steps=spec.steps, learning_rate=spec.learning_rate,
            beta=spec.kl, temperature=spec.temperature, logging_steps=1, save_strategy="no", report_to="none",
            disable_tqdm=True, dataloader_num_workers=0, bf16=False, fp16=False, use_vllm=False,
            lr_scheduler_type="constant_with_warmup", warmup_steps=0.1, activation_checkpointing=False)
        trainer = _quiet(GRPOTrainer(model=model, reward_funcs=[trl_reward(reward_config)], args=config,
                              train_dataset=Dataset.from_list(rows), processing_class=tokenizer,
                              callbacks=[_callback(on_log, on_step, logs)]))
        started = time.perf_counter()
        result = trainer.train()
        seconds = time.perf_counter() - started
        _save(trainer, tokenizer, out)
    return Phase(result.global_step, seconds, len(rows), logs)
