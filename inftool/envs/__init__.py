"""Stateful tool environments: worlds a policy changes through tool calls, with a state to check.

* `Environment`: the interface (``tools()``, ``reset(config)``, ``call(name, arguments)`` -> result text,
  ``state()`` -> a comparable dict); `EnvironmentGroup` makes several one;
* `PythonEnvironment`: any Python class with tool methods, one fresh instance per ``reset``;
* BFCL v4's eight API simulators (``inftool.envs.bfcl``), imported from bfcl-eval at run time;
* `load_env(ref)`: an environment by reference, ``bfcl_env:<name>`` or ``python:<module>:<Class>``;
* ``state``: a world's state as plain data, its digest, and where two states differ.

A live stateful MCP server can be one more kind behind the same interface.
"""

from __future__ import annotations

import importlib

from inftool.errors import UsageError, did_you_mean

from .base import ERROR_PREFIX, Environment, PythonEnvironment, result_data, result_text
from .group import EnvironmentGroup
from .state import first_difference, plain, state_digest

SCHEMES = ("bfcl_env", "python")
"""The kinds of environment reference `load_env` reads: ``bfcl_env:<name>``, ``python:<module>:<Class>``."""


def env_names() -> list[str]:
    """Every named environment: ``bfcl_env:<name>`` for BFCL's eight."""
    from .bfcl import ENV_NAMES

    return [f"bfcl_env:{name}" for name in ENV_NAMES]


def load_env(ref: str) -> Environment:
    """A new environment (not yet reset: its first call or ``reset()`` starts the default world).

    ``ref``: ``bfcl_env:<name>`` (BFCL's ``gorilla_file_system``, ``math_api``, ...) or
    ``python:<module>:<Class>`` (a class whose public methods are the tools). UsageError for anything else.
    """
    scheme, _, rest = ref.partition(":")
    if scheme == "bfcl_env":
        from .bfcl import ENV_NAMES, bfcl_environment

        if rest not in ENV_NAMES:
            hint = did_you_mean(rest, ENV_NAMES)
            raise UsageError(f"unknown BFCL environment {rest!r} (expected one of: {', '.join(ENV_NAMES)}"
                             + (f"; did you mean {hint!r}?)" if hint else ")"))
        return bfcl_environment(rest)
    if scheme == "python" and rest.count(":") == 1:
        return PythonEnvironment(_python_class(*rest.split(":")))
    raise UsageError(f"environment {ref!r}: expected bfcl_env:<name> (one of: "
                     f"{', '.join(n.split(':')[1] for n in env_names())}) or python:<module>:<Class>")


def _python_class(module: str, name: str) -> type:
    try:
        found = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as error:
        raise UsageError(f"environment python:{module}:{name}: cannot import it ({error})") from None
    if not isinstance(found, type):
        raise UsageError(f"environment python:{module}:{name}: not a class")
    return found


__all__ = ["ERROR_PREFIX", "SCHEMES", "Environment", "EnvironmentGroup", "PythonEnvironment", "env_names",
           "first_difference", "load_env", "plain", "result_data", "result_text", "state_digest"]
