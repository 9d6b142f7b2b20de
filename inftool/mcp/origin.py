"""Where a live MCP server is: a command that serves MCP over stdio, or a streamable-HTTP URL."""

from __future__ import annotations

import os
import shlex
import sys
from dataclasses import dataclass
from typing import Any

from inftool.errors import CatalogError

META_KEY = "mcp_server"
"""The key of ``Tool.meta`` that holds the origin of a tool read from a live server."""

DEFAULT_TIMEOUT_S = 20.0


@dataclass(frozen=True)
class Origin:
    """A live MCP server: ``command`` (+ ``args``, ``env``, ``env_from``, ``cwd``) started over stdio, or ``url``.

    ``env_from`` holds the NAMES of variables passed on from inftool's environment when the server starts;
    their values are read then and kept nowhere (not in ``meta``, so not in tools.json, the plan or the store).
    ``timeout_s`` bounds the start-up and handshake, a ``tools/list``, and each executed call."""

    command: str | None = None
    args: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    env_from: tuple[str, ...] = ()
    cwd: str | None = None
    url: str | None = None
    timeout_s: float = DEFAULT_TIMEOUT_S

    @classmethod
    def from_spec(cls, spec: Any) -> Origin:
        """The origin a live ``source: mcp`` catalog entry names."""
        return cls(command=spec.command, args=tuple(spec.args), env=tuple(sorted(spec.env.items())),
                   env_from=tuple(spec.env_from), cwd=str(spec.cwd) if spec.cwd else None, url=spec.url,
                   timeout_s=spec.timeout_s)

    @classmethod
    def from_meta(cls, meta: dict[str, Any]) -> Origin | None:
        """The origin kept in a tool's ``meta``, or None for a tool that did not come from a live server."""
        data = meta.get(META_KEY)
        if not isinstance(data, dict):
            return None
        return cls(command=data.get("command"), args=tuple(data.get("args", ())),
                   env=tuple(sorted(data.get("env", {}).items())), env_from=tuple(data.get("env_from", ())),
                   cwd=data.get("cwd"), url=data.get("url"), timeout_s=float(data.get("timeout_s", DEFAULT_TIMEOUT_S)))

    def to_meta(self) -> dict[str, Any]:
        """``{META_KEY: {...}}``, to merge into the meta of each tool read from this server."""
        if self.url is not None:
            data: dict[str, Any] = {"url": self.url}
        else:
            data = {"command": self.command, "args": list(self.args), "env": dict(self.env), "cwd": self.cwd}
            if self.env_from:  # the names only: the values are read when the server starts
                data["env_from"] = list(self.env_from)
        return {META_KEY: {**data, "timeout_s": self.timeout_s}}

    def environment(self) -> dict[str, str] | None:
        """The variables the started server gets over the SDK's defaults: ``env``, and ``env_from`` read now.

        A name in ``env_from`` that is not set is a ``CatalogError`` naming it (never its value)."""
        missing = [name for name in self.env_from if name not in os.environ]
        if missing:
            many = len(missing) > 1
            raise CatalogError(str(self), "", f"environment variable{'s' if many else ''} {', '.join(missing)} "
                               f"(named in `env_from`) {'are' if many else 'is'} not set: set "
                               f"{'them' if many else 'it'} in the environment that runs inftool")
        return {**dict(self.env), **{name: os.environ[name] for name in self.env_from}} or None

    @property
    def executable(self) -> str:
        """The program to start: ``python`` means the interpreter running inftool."""
        return sys.executable if self.command in ("python", "python3") else str(self.command)

    def __str__(self) -> str:
        return self.url if self.url is not None else shlex.join([str(self.command), *self.args])

