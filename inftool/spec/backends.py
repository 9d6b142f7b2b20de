"""The models a recipe names: who plays the roles and which policy is trained."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from .base import SpecModel


class ProceduralModelSpec(SpecModel):
    """The embedded, seeded role-players: spec-grounded, no LLM, runs anywhere."""

    backend: Literal["procedural"]
    """Embedded procedural role-players."""
    locale: str = "en_US"
    """Locale of realistic fake values (names, addresses, phone numbers)."""


class OpenAIModelSpec(SpecModel):
    """Any OpenAI-compatible chat endpoint (OpenAI, vLLM `vllm serve`, ...), reached through DSPy."""

    backend: Literal["openai"]
    """An OpenAI-compatible endpoint."""
    model: str
    """Model name the endpoint serves, e.g. 'Qwen/Qwen2.5-72B-Instruct'."""
    base_url: str | None = None
    """Endpoint root, e.g. 'http://localhost:8000/v1' (default: the OpenAI API)."""
    api_key_env: str = "OPENAI_API_KEY"
    """Environment variable holding the API key; the key itself never goes in a recipe or a plan."""
    temperature: float = Field(default=0.8, ge=0.0, le=2.0)
    """Sampling temperature."""
    max_tokens: int = Field(default=1024, ge=1)
    """Most tokens per answer."""
    timeout_s: float = Field(default=60.0, gt=0)
    """Per-call timeout in seconds."""
    max_retries: int = Field(default=3, ge=0)
    """Retries with exponential backoff on timeouts and transient errors."""
    concurrency: int = Field(default=16, ge=1)
    """Calls in flight at once."""
    max_failures: int = Field(default=50, ge=0)
    """Failed calls (after retries) tolerated per run; past this the stage stops with an error."""


class EngineModelSpec(SpecModel):
    """A custom in-process DSPy engine (an object with complete(Request) -> Response), built by a factory."""

    backend: Literal["engine"]
    """A custom DSPy engine."""
    factory: str = Field(pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
    """'package.module:callable' returning the engine; called with `options` as keyword arguments."""
    options: dict[str, Any] = Field(default_factory=dict)
    """Keyword arguments for the factory."""
    concurrency: int = Field(default=1, ge=1)
    """Calls in flight at once (raise it only if the engine is thread-safe)."""
    max_failures: int = Field(default=50, ge=0)
    """Failed calls tolerated per run; past this the stage stops with an error."""


class TinyScratchSpec(SpecModel):
    """Size of the small Llama-style model built from a config (random init)."""

    hidden_size: int = Field(default=192, ge=16)
    """Width of the hidden layers."""
    layers: int = Field(default=4, ge=1)
    """Number of transformer layers."""
    heads: int = Field(default=6, ge=1)
    """Attention heads (must divide hidden_size)."""
    kv_heads: int = Field(default=2, ge=1)
    """Key/value heads for grouped-query attention (must divide heads)."""
    vocab_size: int = Field(default=2048, ge=256)
    """Size of the BPE vocabulary trained on the catalog and the synthesised text."""
    max_length: int = Field(default=512, ge=64)
    """Longest sequence in tokens (prompt + completion)."""

    @model_validator(mode="after")
    def _heads_divide(self) -> TinyScratchSpec:
        if self.hidden_size % self.heads or self.heads % self.kv_heads:
            raise ValueError("hidden_size must be divisible by heads, and heads by kv_heads")
        return self


class LocalModelSpec(SpecModel):
    """The trained policy: 'tiny-scratch' built here, or a local Hugging Face checkpoint."""

    backend: Literal["local"]
    """A policy whose weights are on this machine (trained here, or by the cluster trainer from here)."""
    model: str = "tiny-scratch"
    """'tiny-scratch' (built here from `tiny`); any other name (e.g. a hub id) is a label and needs
    `checkpoint_path`, a local copy: the loop renders prompts with its chat template and evaluates it here."""
    checkpoint_path: Path | None = None
    """A local Hugging Face checkpoint directory to start from instead of `model`."""
    tiny: TinyScratchSpec = Field(default_factory=TinyScratchSpec)
    """Model size when model is 'tiny-scratch'."""


ModelSpec = Annotated[
    ProceduralModelSpec | OpenAIModelSpec | EngineModelSpec | LocalModelSpec,
    Field(discriminator="backend"),
]
