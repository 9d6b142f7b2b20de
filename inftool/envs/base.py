"""The interface every stateful environment offers, and the one that runs any Python class with tool methods.

An `Environment` is a world a policy acts on through tools: ``tools()`` lists them (OpenAI ``tools``
entries), ``reset(config)`` starts a fresh world from an initial configuration, ``call(name, arguments)``
executes one call and returns its result as text, and ``state()`` is what the world looks like now, a dict
whose values compare with ``==`` (two worlds are in the same state when their dicts are equal).

`PythonEnvironment` is an environment made of instances of a Python class: each ``reset`` makes a new
instance, its public methods are the tools (described by given function docs, or by their signatures and
docstrings), and its public attributes are the state. BFCL's API simulators are such classes
(``inftool.envs.bfcl``); so is any class written for the purpose.

Results follow BFCL's executor, so that a result a policy sees here is the one BFCL would show it: a string
as it is, a dict as JSON, anything else as ``str()``; a call that raises gives ``ERROR_PREFIX`` and the
exception's message, and a call of an unknown tool ``name '<name>' is not defined``.
"""

from __future__ import annotations

import ast
import copy
import functools
import inspect
import json
import typing
from collections.abc import Callable, Mapping
from typing import Any, Protocol, runtime_checkable

ERROR_PREFIX = "Error during execution: "
"""How a call's result starts when the call raised (BFCL's executor words it so)."""


@runtime_checkable
class Environment(Protocol):
    """A stateful world reached through tools."""

    name: str

    def tools(self) -> list[dict[str, Any]]:
        """The tools, as OpenAI ``tools`` entries (``{"type": "function", "function": {...}}``)."""
        ...

    def reset(self, config: Mapping[str, Any] | None = None, *, long_context: bool = False) -> None:
        """Start over from ``config`` (None: the environment's default world). ``long_context``: BFCL's
        variant that fills the world with much more data; other environments may ignore it."""
        ...

    def call(self, name: str, arguments: Mapping[str, Any]) -> str:
        """Execute one call on the current world and return its result as text (errors included: never raises)."""
        ...

    def state(self) -> dict[str, Any]:
        """The current world, comparable with ``==`` to another's."""
        ...


def result_text(result: Any) -> str:
    """A method's return value as the text a policy reads (BFCL's executor's rule)."""
    if type(result) is str:
        return result
    if type(result) is dict:
        try:
            return json.dumps(result)
        except (TypeError, ValueError):
            return str(result)
    return str(result)


def result_data(text: str) -> Any:
    """The data a result's text shows: its JSON (a dict result), a Python literal (BFCL's executor prints a list
    result with ``str()``: ``[{'id': 1}]``), else the text itself (``None``, an error message)."""
    try:
        return json.loads(text)
    except ValueError:
        pass
    if text[:1] in ("[", "{", "("):
        try:
            return ast.literal_eval(text)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            pass
    return text


def unknown_tool(name: str) -> str:
    """The result of calling a tool the environment does not have."""
    return f"{ERROR_PREFIX}name '{name}' is not defined"


@functools.lru_cache(maxsize=256)
def _methods_of(cls: type) -> dict[str, Callable[..., Any]]:
    """The methods of ``cls`` a policy may call: every public function attribute (inherited ones too)."""
    return {name: member for name, member in inspect.getmembers(cls, inspect.isfunction) if not name.startswith("_")}


class PythonEnvironment:
    """An environment made of instances of ``cls``: one fresh instance per ``reset``.

    ``reset(config)`` builds ``cls()`` and loads ``config`` with the instance's ``_load_scenario(config,
    long_context=...)`` when the class has one (BFCL's convention), else builds ``cls(**config)``; a
    ``stateless`` class ignores any config. The config is deep-copied first, so the caller's stays as it was.
    ``tools`` (OpenAI tool entries, e.g. BFCL's function docs converted) describe the methods; without them
    each public method is described by its signature and docstring (`signature_tool`). State: the
    instance's public attributes.
    """

    def __init__(self, cls: type, *, name: str | None = None, tools: list[dict[str, Any]] | None = None,
                 stateless: bool = False):
        self.cls, self.name, self.stateless = cls, name or cls.__name__, stateless
        self._methods = _methods_of(cls)
        self._tools = tools
        self.instance: Any = None

    def tools(self) -> list[dict[str, Any]]:
        if self._tools is None:
            self._tools = [signature_tool(name, method) for name, method in self._methods.items()]
        return self._tools

    def reset(self, config: Mapping[str, Any] | None = None, *, long_context: bool = False) -> None:
        config = copied(dict(config or {}))
        if self.stateless:
            self.instance = self.cls()
        elif hasattr(self.cls, "_load_scenario"):
            self.instance = self.cls()
            self.instance._load_scenario(config, long_context=long_context)
        else:
            self.instance = self.cls(**config)

    def call(self, name: str, arguments: Mapping[str, Any]) -> str:
        if name not in self._methods:
            return unknown_tool(name)
        if self.instance is None:
            self.reset()
        if any(isinstance(value, (list, dict)) for value in arguments.values()):
            arguments = copied(dict(arguments))  # the world may keep (and later change) what it is given
        try:
            return result_text(getattr(self.instance, name)(**arguments))
        except Exception as error:  # noqa: BLE001 - whatever the method raises is the call's result, as in BFCL
            return f"{ERROR_PREFIX}{error}"

    def state(self) -> dict[str, Any]:
        if self.instance is None:
            self.reset()
        return {key: value for key, value in vars(self.instance).items() if not key.startswith("_")}

    @property
    def method_names(self) -> list[str]:
        """Every method a call may name (described by a doc or not)."""
        return list(self._methods)

    def parameter_names(self, name: str) -> list[str]:
        """The parameters of method ``name`` in the order a positional call fills them."""
        return [p for p in inspect.signature(self._methods[name]).parameters if p != "self"]


def copied(config: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of ``config``: through JSON when it is plain JSON data (as scenario files are; several
    times faster), else ``copy.deepcopy``."""
    try:
        again = json.loads(json.dumps(config))
        if again == config:  # no tuples, non-string keys, NaN or other values JSON would change
            return again
    except (TypeError, ValueError, RecursionError):
        pass
    return copy.deepcopy(config)


_JSON_TYPES = {str: "string", int: "integer", float: "number", bool: "boolean", list: "array", dict: "object",
               tuple: "array"}


def signature_tool(name: str, method: Callable[..., Any]) -> dict[str, Any]:
    """An OpenAI tool entry for a method without a function doc: its docstring's first paragraph as the
    description, a property per parameter (typed by its annotation when it is a plain type), and the
    parameters without defaults as required."""
    properties: dict[str, Any] = {}
    required = []
    hints = _hints(method)
    for parameter in list(inspect.signature(method).parameters.values())[1:]:
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        kind = _JSON_TYPES.get(getattr(hints.get(parameter.name), "__origin__", hints.get(parameter.name)))
        properties[parameter.name] = {"type": kind} if kind else {}
        if parameter.default is parameter.empty:
            required.append(parameter.name)
    doc = inspect.getdoc(method) or ""
    parameters: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        parameters["required"] = required
    return {"type": "function", "function": {"name": name, "description": doc.split("\n\n")[0].strip(),
                                             "parameters": parameters}}


def _hints(method: Callable[..., Any]) -> dict[str, Any]:
    """A method's resolved annotations ({} when they cannot be resolved, e.g. names only its module knows)."""
    try:
        return typing.get_type_hints(method)
    except Exception:  # noqa: BLE001 - unresolvable annotations: the parameters stay untyped
        return {}
