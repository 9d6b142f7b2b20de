"""The local trainer (``trainer: local``): TRL's SFTTrainer for the cold start, then TRL's GRPOTrainer
with the gated reward, on CPU here and on one GPU when present. Each phase starts from a checkpoint
directory and saves a new one; what the trainer logs at each step is handed to ``on_log``.

With ``train.lora`` both phases train LoRA adapters through peft (TRL's ``peft_config=``). A phase then
saves two things: its adapters in ``<checkpoint>/adapter/`` (``adapter_config.json`` and
``adapter_model.safetensors``, on top of the phase's starting checkpoint), and the adapters merged into
the weights (``merge_and_unload``) as the checkpoint itself, a full model that evaluation and the next
phase read like any other. The next phase adds fresh adapters to that merged model.

Precision (``train.precision``): auto is bf16 on a GPU that supports it, fp16 on another GPU, fp32 on the
CPU; full fine-tuning keeps fp32 master weights under autocast, LoRA loads the frozen base weights in
the chosen precision (the adapters stay fp32).

torch, transformers, datasets, peft and trl are imported here (and in ``inftool.evaluate.local``) only.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inftool.errors import StageError, UsageError
from inftool.train.copy_attention import CopyAttention

log = logging.getLogger("inftool")

Logs = list[dict[str, Any]]
ADAPTER_DIR = "adapter"
"""Where a LoRA phase's adapters go, inside its (merged) checkpoint directory."""
TRACKER_DIR = "tensorboard"
"""With ``report_to: tensorboard``, each phase's event files go to ``<checkpoints>/tensorboard/<phase>``."""


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
    """Where and how training runs: ``device`` auto|cpu|cuda, CPU ``threads``, the seed, ``precision``
    auto|fp32|bf16|fp16, ``lora`` (a ``LoraSpec`` or None), the tracker (``report_to``) and the ``project``
    name trackers file the runs under."""

    device: str = "auto"
    threads: int | None = None
    seed: int = 0
    precision: str = "auto"
    lora: Any = None
    report_to: str = "none"
    project: str = "inftool"

    @classmethod
    def of(cls, train: Any, seed: int, project: str) -> Runtime:
        """The runtime of a recipe's ``train`` section (``LocalTrainSpec``)."""
        return cls(train.device, train.threads, seed, train.precision, train.lora, train.report_to, project)

    def use_cpu(self) -> bool:
        import torch

        if self.device == "cuda" and not torch.cuda.is_available():
            raise UsageError("train.device is 'cuda' but torch sees no GPU (hint: device: auto)")
        return self.device == "cpu" or not torch.cuda.is_available()

    def resolved_precision(self) -> str:
        """fp32, bf16 or fp16: ``precision``, with auto chosen for the device (an explicit choice is kept, also
        on the CPU, where torch autocasts both, slowly)."""
        import torch

        if self.precision != "auto":
            return self.precision
        return "fp32" if self.use_cpu() else "bf16" if torch.cuda.is_bf16_supported() else "fp16"

    def apply(self) -> None:
        import torch

        torch.set_num_threads(self.threads or os.cpu_count() or 1)

    def config(self, out: Path) -> dict[str, Any]:
        """The TRL config fields every phase shares (``out``: the phase's checkpoint directory)."""
        precision = self.resolved_precision()
        return {"use_cpu": self.use_cpu(), "seed": self.seed, "data_seed": self.seed, "bf16": precision == "bf16",
                "fp16": precision == "fp16", "report_to": self.report_to, "run_name": f"{self.project}-{out.name}",
                "project": self.project, "save_strategy": "no", "disable_tqdm": True, "dataloader_num_workers": 0,
                "activation_checkpointing": False}  # TRL turns it on by default: ~30% slower for a small model

    def load(self, start: Path):
        """The model at ``start``: fp32 master weights for full fine-tuning; with LoRA, the frozen base in the
        training precision."""
        import torch
        from transformers import AutoModelForCausalLM

        dtypes = {"bf16": torch.bfloat16, "fp16": torch.float16}
        dtype = dtypes.get(self.resolved_precision(), torch.float32) if self.lora is not None else torch.float32
        return AutoModelForCausalLM.from_pretrained(start, dtype=dtype)

    def peft_config(self):
        """peft's ``LoraConfig`` for ``lora``, or None (full fine-tuning)."""
        if self.lora is None:
            return None
        from peft import LoraConfig

        targets = self.lora.target_modules
        return LoraConfig(r=self.lora.r, lora_alpha=self.lora.alpha, lora_dropout=self.lora.dropout,
                          target_modules=targets if isinstance(targets, str) else list(targets),
                          task_type="CAUSAL_LM")

    @contextlib.contextmanager
    def tracking(self, out: Path) -> Iterator[None]:
        """While the trainer is built: TensorBoard writes under the run directory (the phase's output_dir is
        scratch), unless ``TENSORBOARD_LOGGING_DIR`` already says where."""
        if self.report_to != "tensorboard" or os.environ.get("TENSORBOARD_LOGGING_DIR"):
            yield
            return
        os.environ["TENSORBOARD_LOGGING_DIR"] = str(out.parent / TRACKER_DIR / out.name)
        try:
            yield
        finally:
            os.environ.pop("TENSORBOARD_LOGGING_DIR", None)


def _imports(runtime: Runtime) -> None:
    from inftool.hf import require

    require("torch", "transformers", "datasets", "trl", *(("peft",) if runtime.lora is not None else ()))


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
    """Save atomically: a checkpoint directory exists only once it is complete (resume relies on it). A LoRA
    model is saved twice: its adapters in ``adapter/``, and merged into its weights as the checkpoint."""
    partial = out.with_name(out.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    model = trainer.accelerator.unwrap_model(trainer.model)
    if _is_peft(model):
        model.save_pretrained(str(partial / ADAPTER_DIR))
        model.merge_and_unload().save_pretrained(str(partial))
    else:
        trainer.save_model(str(partial))
    tokenizer.save_pretrained(str(partial))
    shutil.rmtree(out, ignore_errors=True)
    partial.rename(out)


def _is_peft(model: Any) -> bool:
    try:
        from peft import PeftModel
    except ImportError:
        return False
    return isinstance(model, PeftModel)


def trl_config(cls, phase: str, settings: dict[str, Any], extra: dict[str, Any]):
    """TRL's config for a phase: inftool's settings, overridden by the recipe's ``extra``."""
    try:
        return cls(**{**settings, **extra})
    except (TypeError, ValueError) as exc:
        raise UsageError(f"trl.{cls.__name__} refuses the settings of train.{phase} (with train.{phase}.extra "
                         f"{sorted(extra)}): {exc}") from None


def _train(trainer, tokenizer, out: Path) -> tuple[int, float]:
    """Run the trainer and save its model to ``out``: (optimiser steps, seconds)."""
    started = time.perf_counter()
    result = trainer.train()
    seconds = time.perf_counter() - started
    _save(trainer, tokenizer, out)
    return result.global_step, seconds


def sft(start: Path, rows: list[dict[str, list[int]]], spec: Any, out: Path, runtime: Runtime, *,
        max_length: int, segment: tuple[int, int] = (0, 1), on_log=None, on_step=None) -> Phase:
    """Supervised fine-tuning on pre-tokenized rows (``input_ids``, ``completion_mask``; see
    ``inftool.train.data.sft_data``), loss on the completion tokens only. ``spec`` is an SFTSpec; ``segment``
    (iteration, iterations) says which part of the loop-wide learning-rate curve this phase takes."""
    _imports(runtime)
    from datasets import Dataset
    from transformers import AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    if not rows:
        raise StageError("SFT has no training examples (no accepted training episodes in this iteration)")
    runtime.apply()
    tokenizer = AutoTokenizer.from_pretrained(start)
    model = runtime.load(start)
    logs: Logs = []
    accumulate = getattr(spec, "gradient_accumulation_steps", 1)
    with tempfile.TemporaryDirectory(prefix="inftool-sft-") as scratch, runtime.tracking(out):
        settings = {**runtime.config(out), "output_dir": scratch, "per_device_train_batch_size":
                    spec.batch_size // accumulate, "gradient_accumulation_steps": accumulate,
                    "num_train_epochs": spec.epochs, "max_steps": spec.max_steps or -1,
                    **learning_rate_segment(spec, *segment), "weight_decay": 0.0, "max_length": max_length,
                    "completion_only_loss": True,
                    "train_sampling_strategy": "group_by_length", "logging_steps": 5, "logging_first_step": True}
        extra = getattr(spec, "extra", {})
        if "lr_scheduler_type" in extra:  # the recipe's own schedule: the loop-wide curve's arguments do not apply
            settings.pop("lr_scheduler_kwargs")
        config = trl_config(SFTConfig, "sft", settings, extra)
        trainer_class = _cpu_sft_trainer(SFTTrainer) if config.use_cpu else SFTTrainer
        copy = CopyAttention(rows, tokenizer, spec.copy_attention) if getattr(spec, "copy_attention", 0) else None
        if copy is not None:
            trainer_class = _copy_attention_trainer(trainer_class, copy)
        trainer = _quiet(trainer_class(model=model, args=config, train_dataset=Dataset.from_list(rows),
                                    processing_class=tokenizer, peft_config=runtime.peft_config(),
                                    callbacks=[_callback(on_log, on_step, logs)],
                                    optimizer_cls_and_kwargs=_optimizer(spec, config)))
        if copy is not None:
            copy.attach(trainer.model)
        try:
            steps, seconds = _train(trainer, tokenizer, out)
        finally:
            if copy is not None:
                copy.detach()
    return Phase(steps, seconds, len(rows), logs)


def _copy_attention_trainer(base: type, copy: CopyAttention) -> type:
    """``base`` (an SFT trainer class) with ``copy``'s loss added to every training loss it computes, and its mean
    logged as ``copy_attention_loss`` (``inftool.train.copy_attention``)."""

    class CopyAttentionSFTTrainer(base):
        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            found = super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
            if not model.training:
                return found
            extra = copy.loss(inputs["input_ids"], inputs.get("attention_mask"))
            if extra is None:
                return found
            self._metrics["train"]["copy_attention_loss"].append(float(extra.detach()) / copy.weight)
            if num_items_in_batch is not None:  # the LM loss is a mean over the accumulated batch already
                extra = extra / self.args.gradient_accumulation_steps
            if return_outputs:
                return found[0] + extra, found[1]
            return found + extra

    return CopyAttentionSFTTrainer


def _optimizer(spec: Any, config: Any) -> tuple[Any, dict[str, Any]] | None:
    """transformers' ``optimizer_cls_and_kwargs`` for ``spec.optimizer``: None (the config's own optimizer) for
    adamw; for muon, a factory of ``inftool.train.optimizers.muon_with_adamw`` with the config's AdamW settings."""
    if getattr(spec, "optimizer", "adamw") != "muon":
        return None
    from inftool.train.optimizers import muon_with_adamw

    return (lambda: muon_with_adamw), {"lr": config.learning_rate, "muon_lr": spec.muon_learning_rate * (
        config.learning_rate / spec.learning_rate), "weight_decay": config.weight_decay,
        "betas": (config.adam_beta1, config.adam_beta2), "eps": config.adam_epsilon}


def _cpu_sft_trainer(base: type) -> type:
    """TRL's SFTTrainer with the completion loss computed the plain way: the backbone's hidden states at the scored
    positions go through the LM head and torch's cross-entropy. TRL's fused LM head (tiled log-probabilities, entropy
    and top-1 per token) has Triton kernels on a GPU; on the CPU it runs its tiles as plain torch operations, and
    took 58% of a step of the tiny policy, three times the rest of the step together. The loss and the logged
    ``entropy`` and ``mean_token_accuracy`` are the same quantities, measured only on the steps that end with a log
    (the first, every ``logging_steps``, the last) rather than on every step of the window they average: measuring
    them took 8-10% of a step (``benchmarks/bench_sft_step.py --logging-steps 1`` against 5)."""
    import torch

    class CpuSFTTrainer(base):
        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            if return_outputs or self.aux_loss_enabled or self.compute_loss_func is not None or (
                    self.label_smoother is not None) or self.args.loss_type != "nll" or not _plain_head(model):
                return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
            causal = model.get_base_model() if _is_peft(model) else model
            backbone = {k: v for k, v in inputs.items() if k not in ("labels", "completion_mask")}
            hidden = causal.get_decoder()(**backbone, use_cache=False).last_hidden_state[:, :-1]
            labels = inputs["labels"][:, 1:]
            scored = labels != -100
            logits = causal.get_output_embeddings()(hidden[scored]).float()
            targets = labels[scored]
            count = scored.sum() if num_items_in_batch is None else num_items_in_batch
            loss = torch.nn.functional.cross_entropy(logits, targets, reduction="sum")
            loss = loss / torch.as_tensor(count).clamp(min=1)
            metrics = self._metrics["train" if model.training else "eval"]
            if not model.training or self._logs_this_step():
                with torch.no_grad():
                    log_p = torch.log_softmax(logits, dim=-1)
                    found = max(1, targets.numel())
                    metrics["entropy"].append(float(-(log_p.exp() * log_p).sum(-1).sum()) / found)
                    metrics["mean_token_accuracy"].append(float((logits.argmax(-1) == targets).sum()) / found)
            if model.training:
                self._total_train_tokens += int(inputs["attention_mask"].sum()) if "attention_mask" in inputs \
                    else int(inputs["input_ids"].numel())
            metrics["num_tokens"] = [self._total_train_tokens]
            return loss

        def _logs_this_step(self) -> bool:
            """Whether the optimiser step under way ends with a log (transformers' rule for ``logging_steps``), or is
            the last. Under another logging strategy (per epoch, none) every step counts, as before."""
            if self.args.logging_strategy != "steps":
                return True
            upcoming, every = self.state.global_step + 1, self.state.logging_steps
            return (upcoming == 1 and self.args.logging_first_step) or bool(every and upcoming % every == 0) \
                or upcoming >= self.state.max_steps

    return CpuSFTTrainer


_LOGIT_TRANSFORMS = ("final_logit_softcapping", "logit_scale", "output_multiplier", "lm_head_multiplier",
                     "logits_scaling")
"""Config fields of models whose logits are not the LM head's plain output (Gemma 2's soft cap, Cohere's scale,
...): TRL's fused head applies them, so the CPU loss leaves such models to it."""


def _plain_head(model: Any) -> bool:
    config = model.config.get_text_config()
    return all(getattr(config, name, None) is None for name in _LOGIT_TRANSFORMS)


def learning_rate_segment(spec: Any, iteration: int, iterations: int) -> dict[str, Any]:
    """The trainer settings of one iteration's segment of the loop-wide SFT learning-rate curve: a cosine from
    ``spec.learning_rate`` to ``spec.min_learning_rate`` of it over all iterations, followed linearly within
    each (transformers' polynomial schedule of power 1), with a warm-up in iteration 0 only."""
    def share(x: float) -> float:
        return spec.min_learning_rate + (1 - spec.min_learning_rate) * 0.5 * (1 + math.cos(math.pi * x))

    first, last = share(iteration / iterations), share((iteration + 1) / iterations)
    return {"learning_rate": spec.learning_rate * first, "lr_scheduler_type": "polynomial",
            "lr_scheduler_kwargs": {"lr_end": spec.learning_rate * last, "power": 1.0},
            "warmup_steps": 0.05 if iteration == 0 else 0}


def sft_steps(rows: int, spec: Any) -> int:
    """Optimiser steps SFT will take (for the progress bar), counted as transformers' Trainer counts them: each
    step takes ``batch_size`` rows in ``gradient_accumulation_steps`` passes; the last one of an epoch may be short."""
    if spec.max_steps:
        return spec.max_steps
    accumulate = getattr(spec, "gradient_accumulation_steps", 1)
    per_pass = spec.batch_size // accumulate
    drop_last = bool(getattr(spec, "extra", {}).get("dataloader_drop_last", False))
    passes = rows // per_pass if drop_last else -(-rows // per_pass)
    per_epoch = max(1, -(-passes // accumulate))
    return max(1, math.ceil(per_epoch * spec.epochs))


def grpo(start: Path, prompts: list[Any], spec: Any, reward_config: Any, out: Path, runtime: Runtime, *,
         on_log=None, on_step=None) -> Phase:
    """GRPO with the gated reward on ``prompts`` (``prompt`` text rendered with tools, ``label`` JSON; see
    ``inftool.train.data.prompt_rows``), or multi-turn GRPO on stateful environments when ``prompts`` are
    `inftool.train.environments.TurnTask`s (TRL's ``environment_factory``: each rollout plays its turn on a world
    of its own). ``spec`` is a GRPOSpec; its KL coefficient is TRL's ``beta``. One optimiser step samples
    ``prompts_per_step x group_size`` completions, in ``gradient_accumulation_steps`` passes."""
    _imports(runtime)
    from datasets import Dataset
    from transformers import AutoTokenizer
    from trl import GRPOConfig, GRPOTrainer

    from inftool.reward import trl_reward

    if not prompts:
        raise StageError("GRPO has no prompts (no accepted training episodes in this iteration)")
    runtime.apply()
    tokenizer = AutoTokenizer.from_pretrained(start)
    tokenizer.padding_side = "left"
    if isinstance(prompts[0], dict):
        inputs = {"train_dataset": Dataset.from_list([{"prompt": p["prompt"], "label": p["label"]} for p in prompts]),
                  "reward_funcs": [trl_reward(reward_config)]}
    else:
        from .environments import tool_parsing, trl_inputs

        inputs = trl_inputs(prompts, tool_parsing(tokenizer), reward_config)
    model = runtime.load(start)
    logs: Logs = []
    accumulate = getattr(spec, "gradient_accumulation_steps", 1)
    with tempfile.TemporaryDirectory(prefix="inftool-grpo-") as scratch, runtime.tracking(out):
        settings = {**runtime.config(out), "output_dir": scratch,
                    "per_device_train_batch_size": spec.prompts_per_step * spec.group_size // accumulate,
                    "gradient_accumulation_steps": accumulate, "num_generations": spec.group_size,
                    "max_completion_length": spec.max_new_tokens, "max_steps": spec.steps,
                    "learning_rate": spec.learning_rate, "beta": spec.kl, "temperature": spec.temperature,
                    "logging_steps": 1, "use_vllm": False, "lr_scheduler_type": "constant_with_warmup",
                    "warmup_steps": 0.1}
        config = trl_config(GRPOConfig, "grpo", settings, getattr(spec, "extra", {}))
        with warnings.catch_warnings():  # environment_factory is experimental in TRL 1.16, and says so
            warnings.filterwarnings("ignore", message=r"You are using 'environment_factory'", category=UserWarning)
            trainer = _quiet(GRPOTrainer(model=model, args=config, processing_class=tokenizer, **inputs,
                                         peft_config=runtime.peft_config(),
                                         callbacks=[_callback(on_log, on_step, logs)]))
        steps, seconds = _train(trainer, tokenizer, out)
    return Phase(steps, seconds, len(prompts), logs)
