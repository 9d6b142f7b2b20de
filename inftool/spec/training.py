"""How the policy is trained: cold-start SFT, then GRPO with the gated reward, locally or on a cluster.

The local trainer's options that depend on what is installed are checked here, cheaply: a tracker's package
(``report_to``) and peft (``lora``) by looking them up, and the keys of ``sft.extra`` / ``grpo.extra`` against
the fields of ``trl.SFTConfig`` / ``trl.GRPOConfig``, importing trl only when an ``extra`` is set (when trl
is not installed, that check is skipped with a warning; training needs trl and checks them again).
"""

from __future__ import annotations

import importlib.util
import logging
from functools import cache
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from inftool.errors import did_you_mean

from .base import SpecModel

log = logging.getLogger("inftool")

Key = tuple[str | int, ...]

TRACKERS = {"tensorboard": (("tensorboard", "tensorboardX"), "pip install tensorboard"),
            "trackio": (("trackio",), "pip install trackio"),
            "wandb": (("wandb",), "pip install wandb")}
"""report_to value -> (modules any one of which makes it work, how to install it)."""

_SET_BY_RECIPE = {"use_cpu": "train.device", "bf16": "train.precision", "fp16": "train.precision",
                  "report_to": "train.report_to", "seed": "seed", "data_seed": "seed"}
_SET_BY_INFTOOL = {"output_dir": "inftool saves each phase's checkpoint in the run directory itself",
                   "save_strategy": "inftool saves each phase's checkpoint in the run directory itself",
                   "disable_tqdm": "inftool draws its own progress bars"}
RECIPE_KEYS = {
    "sft": {**_SET_BY_RECIPE, "per_device_train_batch_size": "train.sft.batch_size",
            "gradient_accumulation_steps": "train.sft.gradient_accumulation_steps",
            "num_train_epochs": "train.sft.epochs", "max_steps": "train.sft.max_steps",
            "learning_rate": "train.sft.learning_rate"},
    "grpo": {**_SET_BY_RECIPE, "per_device_train_batch_size": "train.grpo.prompts_per_step and group_size",
             "gradient_accumulation_steps": "train.grpo.gradient_accumulation_steps",
             "num_generations": "train.grpo.group_size", "max_steps": "train.grpo.steps",
             "learning_rate": "train.grpo.learning_rate", "beta": "train.grpo.kl",
             "temperature": "train.grpo.temperature", "max_completion_length": "train.grpo.max_new_tokens"},
}
"""TRL config fields a recipe key sets, per phase: `extra` may not set them (the recipe key is the one place)."""
MANAGED = {"sft": {**_SET_BY_INFTOOL, "max_length": "the policy's context length sets it (tiny.max_length for "
                                                    "tiny-scratch, max_position_embeddings otherwise)"},
           "grpo": dict(_SET_BY_INFTOOL)}
"""TRL config fields inftool must set itself, per phase, and why. Every other field may be set through `extra`,
and overrides inftool's default where it has one (lr_scheduler_type, warmup_steps, logging_steps, ...)."""
TRL_CONFIGS = {"sft": "SFTConfig", "grpo": "GRPOConfig"}


@cache
def trl_fields(config: str) -> frozenset[str] | None:
    """The init fields of ``trl.<config>`` (SFTConfig or GRPOConfig), or None when trl is not installed."""
    import dataclasses

    try:
        import trl
    except ImportError:
        log.warning("trl is not installed here, so the keys of train.sft.extra / train.grpo.extra are not checked "
                    "against trl.%s (training needs trl, and trl checks them then)", config)
        return None
    return frozenset(f.name for f in dataclasses.fields(getattr(trl, config)) if f.init)


def extra_key_errors(phase: str, extra: dict[str, Any], key: Key) -> list[PydanticCustomError]:
    """One error per key of ``train.<phase>.extra`` that is not a field of TRL's config for the phase, or that a
    recipe key or inftool itself sets. ``key`` is where ``extra`` is; each error's ``subpath`` extends it."""
    errors = []
    fields = trl_fields(TRL_CONFIGS[phase]) if extra else None
    for name in extra:
        at = {"name": name, "subpath": (*key, name)}
        own, why = RECIPE_KEYS[phase].get(name), MANAGED[phase].get(name)
        if own:
            errors.append(PydanticCustomError("trl_option", "'{name}' has a recipe key: set {own} instead",
                                              {**at, "own": own}))
        elif why:
            errors.append(PydanticCustomError("trl_option", "'{name}' cannot be set here: {why}", {**at, "why": why}))
        elif fields is not None and name not in fields:
            close = did_you_mean(name, fields)
            close = RECIPE_KEYS[phase].get(close, f"'{close}'") if close else None  # a recipe key: suggest it
            hint = f"; did you mean {close}?" if close else ""
            errors.append(PydanticCustomError(
                "trl_option", "unknown key '{name}' (expected a field of trl.{config}{hint})",
                {**at, "config": TRL_CONFIGS[phase], "hint": hint}))
    return errors


def trl_option_errors(data: Any) -> list[PydanticCustomError]:
    """Every bad key of ``train.sft.extra`` and ``train.grpo.extra`` in raw recipe ``data`` (a local trainer's),
    so that all of them are reported together, as reference_errors does for model names."""
    train = data.get("train") if isinstance(data, dict) else None
    if not isinstance(train, dict) or train.get("trainer") != "local":
        return []
    errors = []
    for phase in TRL_CONFIGS:
        section = train.get(phase)
        extra = section.get("extra") if isinstance(section, dict) else None
        if isinstance(extra, dict):
            errors += extra_key_errors(phase, extra, ("train", phase, "extra"))
    return errors


def _missing_package(modules: tuple[str, ...]) -> bool:
    return all(importlib.util.find_spec(module) is None for module in modules)


class SFTSpec(SpecModel):
    """Cold-start supervised fine-tuning on verified episodes."""

    epochs: float = Field(default=2.0, gt=0)
    """Passes over the verified training episodes."""
    learning_rate: float = Field(default=2e-3, gt=0)
    """Peak AdamW learning rate."""
    batch_size: int = Field(default=32, ge=1)
    """Episodes per optimiser step."""
    max_steps: int | None = Field(default=None, ge=1)
    """Stop after this many optimiser steps (overrides epochs)."""
    min_learning_rate: float = Field(default=0.1, ge=0, lt=1)
    """The learning rate follows one cosine over all the loop's SFT phases, from ``learning_rate`` (after a
    warm-up in iteration 0) down to this share of it at the last iteration's end; each iteration takes its
    segment of the curve (linear within it), so iteration 1 continues where iteration 0 stopped instead of
    warming up again and decaying to zero."""
    replay: float = Field(default=0.5, ge=0)
    """Earlier iterations' training episodes mixed into an iteration's SFT data, as a share of the
    iteration's own (0: none): targeted rounds then add to what the policy learnt instead of replacing it."""
    rename_tools: float = Field(default=0.0, ge=0, le=1)
    """Share of SFT examples whose offered tools all go by other names made of the same words (a verb's synonym,
    the last two words swapped, another case style; ``inftool.train.aliases``), in the list and in the
    calls alike: the name to write can then only come from the offered list, not from memory."""


class GRPOSpec(SpecModel):
    """Group relative policy optimisation with the gated reward."""

    steps: int = Field(default=100, ge=0)
    """Optimiser steps per loop iteration (0 skips GRPO)."""
    group_size: int = Field(default=8, ge=2)
    """Completions sampled per prompt; advantages are normalised within the group."""
    prompts_per_step: int = Field(default=2, ge=1)
    """Prompts per optimiser step (each sampled group_size times)."""
    learning_rate: float = Field(default=1e-4, gt=0)
    """Peak AdamW learning rate."""
    kl: float = Field(default=0.001, ge=0)
    """KL penalty coefficient against the reference (SFT) policy."""
    temperature: float = Field(default=1.0, gt=0)
    """Sampling temperature of the rollouts."""
    max_new_tokens: int = Field(default=64, ge=1)
    """Longest completion sampled per rollout."""


class _LocalPhase(SpecModel):
    """What the local trainer adds to a phase: gradient accumulation and TRL's other options. A phase names
    itself (``phase``), says what its batch is made of (``_batch_words``) and how big it is (``_batch``)."""

    phase: ClassVar[str]
    _batch_words: ClassVar[str]

    @field_validator("gradient_accumulation_steps", check_fields=False)
    @classmethod
    def _divides_the_batch(cls, value: int, info: ValidationInfo) -> int:
        batch = cls._batch(info.data)
        if batch is not None and batch % value:
            raise ValueError(f"{value} does not divide the {batch} {cls._batch_words} of an optimiser step (each "
                             "accumulated step takes an equal share)")
        return value

    @field_validator("extra", check_fields=False)
    @classmethod
    def _known_trl_options(cls, value: dict[str, Any]) -> dict[str, Any]:
        errors = extra_key_errors(cls.phase, value, ())
        if errors:
            raise errors[0]  # all of them are reported: diagnostics adds trl_option_errors
        return value


class LocalSFTSpec(SFTSpec, _LocalPhase):
    """Cold-start supervised fine-tuning on verified episodes, with the local trainer's options."""

    phase: ClassVar[str] = "sft"
    _batch_words: ClassVar[str] = "episodes (batch_size)"
    gradient_accumulation_steps: int = Field(default=1, ge=1)
    """Split each optimiser step's batch_size episodes into this many forward/backward passes (less memory, the
    same steps); must divide batch_size."""
    optimizer: Literal["adamw", "muon"] = "adamw"
    """adamw: transformers' optimizer (AdamW, or what extra.optim names). muon: torch's Muon (momentum
    orthogonalised by Newton-Schulz iterations) on the hidden layers' weight matrices and AdamW on the embeddings,
    norms and biases, one optimizer (``inftool.train.optimizers``); for a policy trained from scratch it reaches
    the copy phase in fewer steps (README: Muon)."""
    muon_learning_rate: float = Field(default=0.005, gt=0)
    """Peak Muon learning rate (optimizer: muon), at torch's original scale (an update of unit spectral norm,
    times sqrt(rows/cols) for a tall matrix); it follows learning_rate's schedule in proportion. 0.005 is the
    best of 0.003-0.04 measured on the main job's scratch policy (README: Muon)."""
    copy_attention: float = Field(default=0.0, ge=0)
    """Weight of the copy-attention loss (0: off). One attention head of the last layer is trained to look, when the
    next token is part of an argument value stated in the conversation or of the called function's name in the
    offered tools, at that token's place there (``inftool.train.copy_attention``: the pairs come from the episodes
    themselves). A scratch policy learns to copy values in far fewer steps; nothing changes at inference (README:
    copy attention)."""
    extra: dict[str, Any] = Field(default_factory=dict)
    """Any other field of trl.SFTConfig, passed through (e.g. {lr_scheduler_type: linear, max_grad_norm: 0.5});
    it overrides inftool's default for that field. Fields a recipe key sets are refused with that key."""

    @staticmethod
    def _batch(data: dict[str, Any]) -> int | None:
        return data.get("batch_size")

    @model_validator(mode="after")
    def _one_optimizer(self) -> LocalSFTSpec:
        if self.optimizer == "muon" and "optim" in self.extra:
            raise ValueError(f"extra.optim ({self.extra['optim']!r}) does not apply with optimizer: muon (hint: "
                             "drop one of them)")
        packed = [key for key in ("packing", "padding_free") if self.extra.get(key)]
        if self.copy_attention and packed:
            raise ValueError(f"copy_attention finds its examples in padded batches, not with extra.{packed[0]} "
                             "(hint: drop one of them)")
        return self


class LocalGRPOSpec(GRPOSpec, _LocalPhase):
    """GRPO with the gated reward, with the local trainer's options."""

    phase: ClassVar[str] = "grpo"
    _batch_words: ClassVar[str] = "completions (prompts_per_step x group_size)"
    gradient_accumulation_steps: int = Field(default=1, ge=1)
    """Split each optimiser step's prompts_per_step x group_size completions into this many forward/backward
    passes (less memory, the same steps); must divide that product."""
    extra: dict[str, Any] = Field(default_factory=dict)
    """Any other field of trl.GRPOConfig, passed through (e.g. {loss_type: dr_grpo, top_p: 0.95}); it overrides
    inftool's default for that field. Fields a recipe key sets are refused with that key."""

    @staticmethod
    def _batch(data: dict[str, Any]) -> int | None:
        if "prompts_per_step" in data and "group_size" in data:
            return data["prompts_per_step"] * data["group_size"]
        return None


class LoraSpec(SpecModel):
    """LoRA adapters trained through peft instead of all the weights."""

    r: int = Field(default=16, ge=1)
    """Rank of the adapter matrices."""
    alpha: float = Field(default=32.0, gt=0)
    """Scale numerator: the adapters' update is multiplied by alpha / r."""
    target_modules: Literal["all-linear"] | list[str] = Field(default="all-linear", min_length=1)
    """Modules that get adapters, by name or name suffix (e.g. [q_proj, k_proj, v_proj, o_proj]); 'all-linear':
    every linear layer except the output head."""
    dropout: float = Field(default=0.05, ge=0.0, lt=1.0)
    """Dropout on the adapters' input."""


class _TrainBase(SpecModel):
    policy: str = "policy"
    """Name of an entry in `models` that is trained (backend: local)."""
    sft: SFTSpec = Field(default_factory=SFTSpec)
    """Cold-start supervised fine-tuning."""
    grpo: GRPOSpec = Field(default_factory=GRPOSpec)
    """GRPO with the gated reward."""


class LocalTrainSpec(_TrainBase):
    """TRL in this process: CPU here, one GPU when present."""

    trainer: Literal["local"]
    """Train with TRL in this process."""
    sft: LocalSFTSpec = Field(default_factory=LocalSFTSpec)
    """Cold-start supervised fine-tuning."""
    grpo: LocalGRPOSpec = Field(default_factory=LocalGRPOSpec)
    """GRPO with the gated reward."""
    device: Literal["auto", "cpu", "cuda"] = "auto"
    """Where to train: auto picks a GPU when one is present."""
    threads: int | None = Field(default=None, ge=1)
    """CPU threads for torch (default: all cores)."""
    precision: Literal["auto", "fp32", "bf16", "fp16"] = "auto"
    """Mixed precision: auto is bf16 on a GPU that supports it, else fp16 on a GPU, and fp32 on the CPU."""
    lora: LoraSpec | None = None
    """Train LoRA adapters (peft) in both phases instead of all the weights (absent: full fine-tuning)."""
    report_to: Literal["none", "tensorboard", "trackio", "wandb"] = "none"
    """Experiment tracker that also receives the training logs (its package must be installed)."""

    @field_validator("report_to")
    @classmethod
    def _tracker_installed(cls, value: str) -> str:
        if value != "none":
            modules, install = TRACKERS[value]
            if _missing_package(modules):
                raise PydanticCustomError("package_missing", "'{value}' is not installed (hint: {install})",
                                          {"value": value, "install": install})
        return value

    @field_validator("lora")
    @classmethod
    def _peft_installed(cls, value: LoraSpec | None) -> LoraSpec | None:
        if value is not None and _missing_package(("peft",)):
            raise PydanticCustomError("package_missing", "LoRA needs peft, which is not installed (hint: pip install "
                                      "-c constraints.txt -e '.[train]')")
        return value


class ClusterSpec(SpecModel):
    """Placement on a Ray cluster for OpenRLHF."""

    ray_address: str = "auto"
    """Ray address for `ray job submit` (e.g. 'http://head:8265')."""
    actor_num_nodes: int = Field(default=1, ge=1)
    """Nodes for the actor (policy) model."""
    actor_gpus_per_node: int = Field(default=8, ge=1)
    """GPUs per node for the actor."""
    ref_num_nodes: int = Field(default=1, ge=1)
    """Nodes for the reference model."""
    ref_gpus_per_node: int = Field(default=8, ge=1)
    """GPUs per node for the reference model."""
    vllm_num_engines: int = Field(default=8, ge=1)
    """vLLM engines for rollouts (OpenRLHF 0.11 samples rollouts with vLLM only)."""
    vllm_tensor_parallel_size: int = Field(default=1, ge=1)
    """Tensor-parallel size of each vLLM engine."""
    colocate_all: bool = True
    """Colocate actor, reference and vLLM engines on the same GPUs (with sleep mode)."""


class OpenRLHFTrainSpec(_TrainBase):
    """OpenRLHF 0.11 on Ray: inftool writes the dataset, reward file and launch command (and can launch it)."""

    trainer: Literal["openrlhf"]
    """Emit (and optionally launch) an OpenRLHF job on Ray."""
    cluster: ClusterSpec = Field(default_factory=ClusterSpec)
    """Placement of the OpenRLHF job."""

    @model_validator(mode="after")
    def _fits_openrlhf(self) -> OpenRLHFTrainSpec:
        """The placement rules OpenRLHF 0.11 checks only after the job has started on the cluster."""
        c, g = self.cluster, self.grpo
        gpus = c.actor_num_nodes * c.actor_gpus_per_node
        if c.colocate_all and gpus != c.vllm_num_engines * c.vllm_tensor_parallel_size:
            raise ValueError(f"cluster.colocate_all needs the actor's GPUs ({gpus}) to equal vllm_num_engines x "
                             f"vllm_tensor_parallel_size ({c.vllm_num_engines} x {c.vllm_tensor_parallel_size})")
        if c.colocate_all and g.kl > 0 and (c.actor_num_nodes, c.actor_gpus_per_node) != (c.ref_num_nodes,
                                                                                          c.ref_gpus_per_node):
            raise ValueError("cluster.colocate_all with grpo.kl > 0 needs the reference model placed like the actor")
        if (g.prompts_per_step * g.group_size) % gpus:
            raise ValueError(f"grpo.prompts_per_step x grpo.group_size ({g.prompts_per_step * g.group_size}) must be "
                             f"divisible by the actor's {gpus} GPUs (DeepSpeed splits each batch evenly)")
        return self


TrainSpec = Annotated[LocalTrainSpec | OpenRLHFTrainSpec, Field(discriminator="trainer")]
