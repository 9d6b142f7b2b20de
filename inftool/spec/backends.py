"""The models a recipe names: who plays the roles and which policy is trained."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from inftool.errors import UsageError, did_you_mean

from .base import SpecModel

TINY_SCRATCH = "tiny-scratch"
"""The policy built here from a config (``tiny``) rather than read from a checkpoint."""
_REQUEST_KEYS = {"model": "model", "messages": None, "tools": None, "temperature": "temperature",
                 "max_tokens": "max_tokens", "max_completion_tokens": "max_tokens", "top_p": "top_p", "seed": "seed",
                 "stream": None, "n": None}
"""Request fields inftool sets itself: extra_body may not set them (value: the model key that does, if any)."""


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
    top_p: float | None = Field(default=None, gt=0.0, le=1.0)
    """Nucleus sampling: sample only from the most likely tokens whose probabilities add up to top_p (default: the
    server's)."""
    seed: int | None = None
    """Sampling seed sent with every request, for servers that honour it (vLLM does; default: none sent)."""
    extra_body: dict[str, Any] = Field(default_factory=dict)
    """Extra JSON fields merged into every request body, e.g. `{chat_template_kwargs: {enable_thinking: false}}`
    for a Qwen3 model served by vLLM."""

    @field_validator("extra_body")
    @classmethod
    def _extra_body_adds_only(cls, value: dict[str, Any]) -> dict[str, Any]:
        """extra_body adds fields; the ones inftool sets (messages, temperature, ...) have their own keys or none."""
        for key in value:
            if key in _REQUEST_KEYS:
                own = _REQUEST_KEYS[key]
                raise PydanticCustomError(
                    "request_key", "'{key}' is set by inftool in every request{how}",
                    {"key": key, "how": f" (set it with the model's `{own}` key)" if own else "", "subpath": (key,)})
        return value


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
    intermediate_size: int | None = Field(default=None, ge=1)
    """Width of each layer's MLP; default 4 x ``hidden_size``. The MLP is most of a small model's arithmetic, and
    copying a request's values into a call is the attention's work: half the default trains about 15% faster per
    step with the same held-out accuracy per step (``benchmarks/bench_copy.py --intermediate-size``)."""
    heads: int = Field(default=6, ge=1)
    """Attention heads (must divide hidden_size)."""
    kv_heads: int = Field(default=2, ge=1)
    """Key/value heads for grouped-query attention (must divide heads)."""
    vocab_size: int = Field(default=2048, ge=256)
    """Size of the BPE vocabulary trained on the catalog and the synthesised text."""
    max_length: int = Field(default=512, ge=64)
    """Longest sequence in tokens (prompt + completion)."""
    init_std: float = Field(default=0.06, gt=0)
    """Standard deviation of the random initial weights (transformers' ``initializer_range``, 0.02 there, a value
    made for models several times wider). At 128 wide, 0.06 writes about twice the exact calls of 0.02 after the
    same 1,100 SFT steps, with the lowest mean loss on the values of 0.02-0.1
    (``benchmarks/bench_copy.py --init-std``)."""
    description_chars: int = Field(default=160, ge=0)
    """Characters of each tool's description in the prompt's tool lines (the prompt is most of every example)."""
    tokenizer: Literal["bpe", "copy", "words"] = "bpe"
    """``bpe``: plain byte-level BPE (a word and its leading space are one piece, so ``Berlin`` is one token in
    the request and another in ``"city": "Berlin"``; a number with its space is the same in both); ``words``: the
    space before a word is a piece of its own, so words too are the same tokens in the request and in the call
    (about 28% longer sequences); ``copy``: every whitespace, digit and punctuation mark is a piece of its own
    (about 45% longer)."""

    @model_validator(mode="after")
    def _heads_divide(self) -> TinyScratchSpec:
        if self.hidden_size % self.heads or self.heads % self.kv_heads:
            raise ValueError("hidden_size must be divisible by heads, and heads by kv_heads")
        return self


class LocalModelSpec(SpecModel):
    """The trained policy: 'tiny-scratch' built here, a model in the local Hugging Face cache, or a checkpoint."""

    backend: Literal["local"]
    """A policy whose weights are on this machine (trained here, or by the cluster trainer from here)."""
    model: str = TINY_SCRATCH
    """'tiny-scratch' (built here from `tiny`), or a Hugging Face hub id (e.g. 'Qwen/Qwen2.5-0.5B-Instruct') found
    in the local Hugging Face cache, offline (download it first: `hf download <id>`); a label when
    `checkpoint_path` is set."""
    checkpoint_path: Path | None = None
    """A local Hugging Face checkpoint directory to start from instead of `model`."""
    tiny: TinyScratchSpec = Field(default_factory=TinyScratchSpec)
    """Model size when model is 'tiny-scratch'."""

    @property
    def from_hub(self) -> bool:
        """Whether ``model`` names a hub id to be found in the local Hugging Face cache."""
        return self.checkpoint_path is None and self.model != TINY_SCRATCH

    def start(self) -> Path | None:
        """The checkpoint directory the policy starts from: ``checkpoint_path``, or the hub id's snapshot in the
        local Hugging Face cache; None for tiny-scratch (built by the training stage). Raises UsageError when
        the hub id is not cached."""
        if self.checkpoint_path is not None:
            return Path(self.checkpoint_path)
        return hub_snapshot(self.model) if self.from_hub else None


def hub_cache() -> Path:
    """The Hugging Face hub cache, as huggingface_hub reads it, but from the environment of now:
    ``HF_HUB_CACHE`` (or the legacy ``HUGGINGFACE_HUB_CACHE``), else ``$HF_HOME/hub``, else
    ``huggingface_hub.constants.HF_HUB_CACHE``."""
    explicit = os.environ.get("HF_HUB_CACHE") or os.environ.get("HUGGINGFACE_HUB_CACHE")
    if explicit:
        return Path(os.path.expandvars(explicit)).expanduser()
    if os.environ.get("HF_HOME"):
        return Path(os.path.expandvars(os.environ["HF_HOME"])).expanduser() / "hub"
    from huggingface_hub import constants

    return Path(constants.HF_HUB_CACHE)


def hub_snapshot(repo_id: str) -> Path:
    """The local snapshot directory of hub model ``repo_id`` (its ``main`` revision), found offline in the Hugging
    Face cache: nothing is downloaded, whatever ``HF_HUB_OFFLINE`` says. Raises UsageError naming the id and the
    cache when it is not there, or not a complete model checkpoint."""
    try:
        from huggingface_hub import snapshot_download
        from huggingface_hub.errors import HFValidationError, LocalEntryNotFoundError
    except ImportError:
        raise UsageError(f"{repo_id!r} is a hub id, but huggingface_hub is not installed to read the local cache "
                         "(hint: pip install -c constraints.txt -e '.[train]')") from None
    cache = hub_cache()
    close = did_you_mean(repo_id, [TINY_SCRATCH])
    hint = (f"did you mean '{close}'?" if close else
            f"download it first with `hf download {repo_id}`, or set checkpoint_path to a local copy")
    try:
        folder = Path(snapshot_download(repo_id, cache_dir=cache, local_files_only=True))
    except HFValidationError:
        raise UsageError(f"{repo_id!r} is neither 'tiny-scratch' nor a Hugging Face hub id like 'org/name' "
                         f"({hint})") from None
    except (LocalEntryNotFoundError, OSError) as exc:
        where = "only partly in" if type(exc).__name__ == "IncompleteSnapshotError" else "not in"
        raise UsageError(f"{repo_id!r} is {where} the local Hugging Face cache {cache} (inftool never downloads "
                         f"models; {hint})") from None
    if not (folder / "config.json").is_file():
        raise UsageError(f"{repo_id!r} is in the local Hugging Face cache ({folder}) but has no config.json: not a "
                         f"complete model checkpoint (download it again with `hf download {repo_id}`)")
    return folder


ModelSpec = Annotated[
    ProceduralModelSpec | OpenAIModelSpec | EngineModelSpec | LocalModelSpec,
    Field(discriminator="backend"),
]
