"""How the policy is trained: cold-start SFT, then GRPO with the gated reward, locally or on a cluster."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from .base import SpecModel


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
    device: Literal["auto", "cpu", "cuda"] = "auto"
    """Where to train: auto picks a GPU when one is present."""
    threads: int | None = Field(default=None, ge=1)
    """CPU threads for torch (default: all cores)."""


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
