"""Where a live MCP server is: a command that serves MCP over stdio, or a streamable-HTTP URL."""

from __future__ import annotations

import shlex
import sys
from dataclasses import dataclass
from typing import Any

META_KEY = "mcp_server"
"""The key of ``Tool.meta`` that holds the origin of a tool read from a live server."""

DEFAULT_TIMEOUT_S = 20.0


@dataclass(frozen=True)
class Origin:
    """A live MCP server: ``command`` (+ ``args``, ``env``, ``cwd``) started over stdio, or ``url``.

    ``timeout_s`` bounds the start-up and handshake, a ``tools/list``, and each executed call."""

    command: str | None = None
    args: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    cwd: str | None = None
    url: str | None = None
    timeout_s: float = DEFAULT_TIMEOUT_S

    @classmethod
    def from_spec(cls, spec: Any) -> Origin:
        """The origin a live ``source: mcp`` catalog entry names."""
        return cls(command=spec.command, args=tuple(spec.args), env=tuple(sorted(spec.env.items())),
                   cwd=str(spec.cwd) if spec.cwd else None, url=spec.url, timeout_s=spec.timeout_s)

    @classmethod
    def from_meta(cls, meta: dict[str, Any]) -> Origin | None:
        """The origin kept in a tool's ``meta``, or None for a tool that did not come from a live server."""
        data = meta.get(META_KEY)
        if not isinstance(data, dict):
            return None
        return cls(command=data.get("command"), args=tuple(data.get("args", ())),
                   env=tuple(sorted(data.get("env", {}).items())), cwd=data.get("cwd"), url=data.get("url"),
                   timeout_s=float(data.get("timeout_s", DEFAULT_TIMEOUT_S)))

    def to_meta(self) -> dict[str, Any]:
        """``{META_KEY: {...}}``, to merge into the meta of each tool read from this server."""
        if self.url is not None:
            data: dict[str, Any] = {"url": self.url}
        else:
            data = {"command": self.command, "args": list(self.args), "env": dict(self.env), "cwd": self.cwd}
        return {META_KEY: {**data, "timeout_s": self.timeout_s}}

    @property
    def executable(self) -> str:
        """The program to start: ``python`` means the interpreter running inftool."""
        return sys.executable if self.command in ("python", "python3") else str(self.command)

    def __str__(self) -> str:
        return self.url if self.url is not None else shlex.join([str(self.command), *self.args])

