"""Which tool catalogs a recipe reads, and the optional refinement of the merged catalog."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal, get_args

from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from .base import ExistingFile, SpecModel

BfclCategory = Literal[
    "simple_python",
    "simple_java",
    "simple_javascript",
    "multiple",
    "parallel",
    "parallel_multiple",
    "irrelevance",
    "live_simple",
    "live_multiple",
    "live_parallel",
    "live_parallel_multiple",
    "live_irrelevance",
    "live_relevance",
]
"""BFCL v4 categories whose questions carry their own function docs (single-turn)."""

MultiTurnCategory = Literal[
    "multi_turn_base",
    "multi_turn_miss_func",
    "multi_turn_miss_param",
    "multi_turn_long_context",
]
"""BFCL v4 multi-turn categories: conversations with stateful API simulators (`BfclEnv`), judged by state."""

BfclEvalCategory = Literal[BfclCategory, MultiTurnCategory]
"""Every BFCL v4 category `evaluate.bfcl` and `inftool eval --categories` accept."""

BfclEnv = Literal[
    "gorilla_file_system",
    "math_api",
    "message_api",
    "posting_api",
    "ticket_api",
    "trading_bot",
    "travel_booking",
    "vehicle_control",
]
"""BFCL v4's stateful API simulators (the multi-turn categories' environments), by the stem of their function
doc file (``bfcl_eval/data/multi_turn_func_doc/<name>.json``)."""


_SECRET = re.compile(r"TOKEN|KEY|SECRET|PASSWORD", re.IGNORECASE)
"""Environment variable names whose values must not be written in a recipe (``env_from`` passes them on)."""


class _CatalogBase(SpecModel):
    name: str | None = None
    """Label for this catalog in plans and reports (default: the file stem, or 'bfcl')."""
    include: list[str] = Field(default_factory=list)
    """Keep only tools whose name or spec name matches one of these glob patterns (e.g. 'get_*')."""
    exclude: list[str] = Field(default_factory=list)
    """Drop tools whose name or spec name matches one of these glob patterns."""
    limit: int | None = Field(default=None, ge=1)
    """Keep at most this many tools (after include/exclude, in spec order)."""
    holdout: float = Field(default=0.0, ge=0.0, lt=1.0)
    """Share of this catalog's tools withheld from synthesis, chosen by a hash of the tool's name (the same
    on every machine), so evaluation can report accuracy on tools the policy never saw."""


class BfclCatalogSpec(_CatalogBase):
    """Function docs of BFCL v4 questions, read from the bfcl-eval package data."""

    source: Literal["bfcl"]
    """Read BFCL v4 function docs."""
    categories: list[BfclCategory] = Field(
        default_factory=lambda: ["simple_python", "multiple", "parallel", "parallel_multiple"], min_length=1
    )
    """BFCL v4 categories whose function docs become tools (identical docs are kept once)."""


class BfclEnvCatalogSpec(_CatalogBase):
    """The tools of BFCL v4's stateful API simulators (a file system, a trading bot, ...): their function docs,
    each tool keeping its environment in `Tool.meta['env']` (e.g. `bfcl_env:gorilla_file_system`), which
    `inftool serve-mcp` serves and multi-turn evaluation runs."""

    source: Literal["bfcl_env"]
    """Read the function docs of BFCL v4's multi-turn environments."""
    envs: list[BfclEnv] = Field(default_factory=lambda: list(get_args(BfclEnv)), min_length=1)
    """The environments whose tools join the catalog (default: all eight)."""


class OpenAICatalogSpec(_CatalogBase):
    """OpenAI function tools (JSON or YAML): a list of {type: function, function: {...}} or of bare
    {name, description, parameters}, or a mapping with a 'tools' list. This is also the format of
    the catalogs shipped in catalog/."""

    source: Literal["openai"]
    """Read an OpenAI tools file."""
    path: ExistingFile
    """The tools file, relative to this recipe."""


class OpenAPICatalogSpec(_CatalogBase):
    """An OpenAPI 3.0/3.1 document (JSON or YAML): one tool per operation."""

    source: Literal["openapi"]
    """Read an OpenAPI 3.0/3.1 document."""
    path: ExistingFile
    """The OpenAPI document, relative to this recipe."""


class MCPCatalogSpec(_CatalogBase):
    """An MCP server's tools: a saved tools/list result (JSON or YAML: {tools: [{name, description,
    inputSchema}]}), or the tools/list of a live server, started with `command` (stdio) or reached at
    `url` (streamable HTTP). Set exactly one of `path`, `command` and `url`. Live servers are asked at
    compile time (`inftool validate` does not start them); their tools keep where they came from, so
    `roles.server.mode: execute` can call them for real."""

    source: Literal["mcp"]
    """Read an MCP server's tools/list."""
    path: ExistingFile | None = None
    """A saved tools/list result, relative to this recipe."""
    command: str | None = None
    """A program that serves MCP over stdio, e.g. `uvx` or `python` (`python` means the interpreter running
    inftool, so servers installed beside it start as they are)."""
    args: list[str] = Field(default_factory=list)
    """Arguments of `command`, e.g. ['-m', 'mcp_server_time']."""
    env: dict[str, str] = Field(default_factory=dict)
    """Environment variables for `command`, over the few the MCP SDK passes on (HOME, PATH, ...). Their values are
    written into the run (each tool's origin in tools.json): a secret (an API token) goes in `env_from`."""
    env_from: list[Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]] = Field(default_factory=list)
    """Names of environment variables passed on from the environment running inftool to `command`, e.g.
    [API_TOKEN]: their values are read when the server starts and written nowhere (only the names are kept)."""
    cwd: Path | None = None
    """Working directory of `command`, relative to this recipe (default: the working directory of inftool)."""
    url: str | None = Field(default=None, pattern=r"^https?://")
    """The endpoint of a streamable-HTTP MCP server, e.g. http://127.0.0.1:8765/mcp."""
    timeout_s: float = Field(default=20.0, gt=0)
    """Seconds to wait for a live server to start and list its tools, and for each call executed on it."""

    @model_validator(mode="after")
    def _one_origin(self) -> MCPCatalogSpec:
        given = [key for key in ("path", "command", "url") if getattr(self, key) is not None]
        if len(given) != 1:
            raise ValueError("set exactly one of `path` (a saved tools/list), `command` (a server started over "
                             f"stdio) or `url` (a streamable-HTTP server); got {' and '.join(given) or 'none'}")
        if self.command is None and (self.args or self.env or self.env_from or self.cwd):
            raise ValueError("`args`, `env`, `env_from` and `cwd` go with `command`")
        return self

    @field_validator("env")
    @classmethod
    def _no_literal_secrets(cls, value: dict[str, str]) -> dict[str, str]:
        """A literal value for a variable named like a secret would be written into the run (tools.json)."""
        for key in value:
            if _SECRET.search(key):
                raise PydanticCustomError(
                    "secret_env", "'{key}' looks like a secret: a literal `env` value is written into the run "
                    "(each tool's origin in tools.json)", {"key": key, "subpath": (key,),
                                                  "hint": f"pass it from your environment: `env_from: [{key}]`"})
        return value

    @property
    def live(self) -> bool:
        """Whether the tools come from a running server (``command`` or ``url``), not a saved file."""
        return self.path is None


CatalogSpec = Annotated[
    BfclCatalogSpec | BfclEnvCatalogSpec | OpenAICatalogSpec | OpenAPICatalogSpec | MCPCatalogSpec,
    Field(discriminator="source"),
]


class RefineSpec(SpecModel):
    """Catalog refinement (the paper's "MCP tree"): find near-duplicate tools and merge or drop them."""

    threshold: float = Field(default=0.6, gt=0.0, le=1.0)
    """Cosine similarity (TF-IDF over names, descriptions and parameter names) at or above which two tools
    are candidates; a candidate pair is merged only when neither tool's name says something the other's text does not."""
    action: Literal["merge", "drop"] = "merge"
    """merge: keep one tool per group and make the others' names aliases of it; drop: keep one, drop the rest."""
