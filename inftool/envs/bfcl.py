"""BFCL v4's stateful API simulators, loaded from the bfcl-eval package at run time.

The eight environments of BFCL's multi-turn categories (a file system, a messaging and a posting API,
tickets, trading, travel booking, a vehicle, a math API) are plain Python classes inside bfcl-eval
(``bfcl_eval/eval_checker/multi_turn_eval/func_source_code``: the standard library plus mpmath). inftool
never copies them: it imports them from where the BFCL data is (``inftool.catalog.bfcl_data``): an
installed ``bfcl_eval`` package, or the bfcl-eval wheel itself, a zip that Python imports from (put on
``sys.path`` for the import of the package only). Only these modules and BFCL's constants modules are
imported; none of them imports a provider SDK or writes files.

Which class an environment is, which are stateless, how many steps a turn may take and what the user says
when held-back functions are handed over are read from bfcl-eval's own constants as well.

The classes run as they are, quirks included, so that verdicts agree with BFCL's: ``posting_api``'s
``post_tweet(content, tags=[], mentions=[])`` stores its default lists in the tweet, so a ``mention`` on a
tweet posted without mentions extends the shared default, and every later tweet posted without mentions,
in any world of the process, starts with those mentions (bfcl-eval's checker, which runs every entry in one
process, sees the same).
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import sys
from types import ModuleType
from typing import Any, get_args

from inftool.errors import DataUnavailableError
from inftool.spec.catalogs import BfclEnv

from .base import PythonEnvironment
from .group import EnvironmentGroup

ENV_NAMES: tuple[str, ...] = get_args(BfclEnv)
"""The environments, by the stem of their function doc file."""


def bfcl_module(name: str) -> ModuleType:
    """``bfcl_eval.<name>`` (e.g. ``constants.default_prompts``), imported from the installed package or from
    the bfcl-eval wheel where the BFCL data is."""
    if "bfcl_eval" not in sys.modules and importlib.util.find_spec("bfcl_eval") is None:
        from inftool.catalog.bfcl_data import bfcl_data

        root = str(bfcl_data().package_root())
        sys.path.insert(0, root)
        try:  # the package's __path__ points into the wheel: its submodules import from there afterwards
            importlib.import_module("bfcl_eval")
        finally:
            sys.path.remove(root)
    try:
        return importlib.import_module(f"bfcl_eval.{name}")
    except ImportError as error:
        raise DataUnavailableError(f"cannot import bfcl_eval.{name} from bfcl-eval: {error}"
                                   + (" (hint: pip install mpmath)" if "mpmath" in str(error) else "")) from None


def _backend() -> ModuleType:
    return bfcl_module("constants.executable_backend_config")


@functools.lru_cache(maxsize=1)
def class_names() -> dict[str, str]:
    """Environment name -> BFCL class name (``gorilla_file_system`` -> ``GorillaFileSystem``)."""
    by_file = {file.removesuffix(".json"): cls for cls, file in _backend().MULTI_TURN_FUNC_DOC_FILE_MAPPING.items()}
    missing = [name for name in ENV_NAMES if name not in by_file]
    if missing:
        raise DataUnavailableError(f"bfcl-eval does not define the environments {', '.join(missing)}")
    return {name: by_file[name] for name in ENV_NAMES}


def env_of_class(class_name: str) -> str:
    """The environment name of a BFCL class name (as an entry's ``involved_classes`` lists them)."""
    for name, cls in class_names().items():
        if cls == class_name:
            return name
    raise DataUnavailableError(f"BFCL class {class_name!r} is not one of the multi-turn environments")


@functools.lru_cache(maxsize=16)
def _class(name: str) -> tuple[type, bool]:
    """(the class, whether it is stateless) of environment ``name``."""
    backend, class_name = _backend(), class_names()[name]
    module = backend.CLASS_FILE_PATH_MAPPING[class_name].removeprefix("bfcl_eval.")
    return getattr(bfcl_module(module), class_name), class_name in backend.STATELESS_CLASSES


@functools.lru_cache(maxsize=16)
def env_tools(name: str) -> tuple[dict[str, Any], ...]:
    """Environment ``name``'s tools (OpenAI entries from BFCL's function docs, in the docs' order)."""
    from inftool.catalog import read_bfcl_envs

    return tuple(tool.to_openai() for tool in read_bfcl_envs([name]).tools)


def bfcl_environment(name: str) -> PythonEnvironment:
    """Environment ``name`` (one of `ENV_NAMES`): BFCL's class, its tools from BFCL's function docs. Each
    ``reset`` makes a fresh instance (``_load_scenario(config, long_context=...)``)."""
    cls, stateless = _class(name)
    return PythonEnvironment(cls, name=name, tools=list(env_tools(name)), stateless=stateless)


def entry_environment(involved_classes: list[str]) -> EnvironmentGroup:
    """The world of a multi-turn entry: one environment per class it involves, under the class's name (the
    keys of the entry's ``initial_config``). Not yet reset."""
    return EnvironmentGroup({cls: bfcl_environment(env_of_class(cls)) for cls in involved_classes})


def step_limit() -> int:
    """BFCL's step limit: a turn may take this many steps with calls; one more and the entry is stopped."""
    return int(bfcl_module("constants.default_prompts").MAXIMUM_STEP_LIMIT)


def handover_prompt() -> str:
    """What the user says at a turn that hands over held-back functions (``multi_turn_miss_func``)."""
    return str(bfcl_module("constants.default_prompts").DEFAULT_USER_PROMPT_FOR_ADDITIONAL_FUNCTION_FC)
