"""The OFFICIAL BFCL AST and multi-turn checkers, importable in tests only (never by inftool itself).

The bfcl-eval wheel (pure Python, a zip) goes on sys.path for the import and comes off again. Its
checker imports ``bfcl_eval.constants.model_config``, which imports every provider SDK; a stub
module stands in for it (the checker only reads ``MODEL_CONFIG_MAPPING[model].underscore_to_dot``).
Model names containing ``underscore`` get ``underscore_to_dot=True`` (the model calls
``math_factorial`` for ``math.factorial``), all others False. ``BFCL_PROJECT_ROOT`` points to a
scratch directory, so nothing is ever created next to the package. The tree-sitter based decoders of
``model_handler`` are not imported: outputs are passed to the checker already decoded.

If the wheel cannot be obtained at all (offline, no cache), tests needing the official checker are
skipped with that reason; if it is there and the import fails, they fail.
"""

from __future__ import annotations

import os
import sys
import types
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from inftool.catalog import bfcl_data as bfcl_data_module
from inftool.catalog.bfcl_data import BfclData
from inftool.errors import DataUnavailableError

UNDERSCORE_MODEL = "underscore-model"
"""A model name for which the official checker expects dots in function names written as underscores."""
PLAIN_MODEL = "inftool-test"


@dataclass
class Official:
    ast_checker: Callable[..., dict[str, Any]]
    languages: dict[str, Any]
    source: str
    java_type_converter: Callable[..., Any]
    js_type_converter: Callable[..., Any]
    plain_model: str = PLAIN_MODEL
    underscore_model: str = UNDERSCORE_MODEL

    def valid(self, functions: list[dict[str, Any]], decoded: list[dict[str, Any]], ground_truth: list[dict[str, Any]],
              *, category: str, language: str, model: str = PLAIN_MODEL) -> bool:
        result = self.ast_checker(functions, decoded, ground_truth, self.languages[language], category, model)
        return bool(result["valid"])


class _ModelConfigs(dict):
    def __missing__(self, model: str) -> types.SimpleNamespace:
        return types.SimpleNamespace(underscore_to_dot="underscore" in model)


def _wheel() -> Path | None:
    configured = os.environ.get("INFTOOL_BFCL_DATA")
    if configured and Path(configured).is_file() and zipfile.is_zipfile(configured):
        return Path(configured)
    wheel = bfcl_data_module.cache_dir() / bfcl_data_module._WHEEL
    if not (wheel.is_file() and zipfile.is_zipfile(wheel)):
        try:
            bfcl_data_module._fetch_wheel(wheel.parent)
        except DataUnavailableError:
            return None
    return wheel if wheel.is_file() and zipfile.is_zipfile(wheel) else None


@pytest.fixture(scope="session")
def official(tmp_path_factory: pytest.TempPathFactory) -> Official:
    """The official ``ast_checker`` of bfcl-eval (skip if the wheel cannot be had, fail if it cannot be imported)."""
    wheel = _wheel()
    if wheel is None:
        pytest.skip(f"the bfcl-eval {bfcl_data_module.BFCL_EVAL_VERSION} wheel cannot be obtained (offline and "
                    f"not cached in {bfcl_data_module.cache_dir()}): the official checker is not available")
    os.environ["BFCL_PROJECT_ROOT"] = str(tmp_path_factory.mktemp("bfcl_project_root"))
    stub = types.ModuleType("bfcl_eval.constants.model_config")
    stub.MODEL_CONFIG_MAPPING = _ModelConfigs()
    previous = {name: module for name, module in sys.modules.items() if name.startswith("bfcl_eval")}
    for name in previous:
        del sys.modules[name]
    sys.modules["bfcl_eval.constants.model_config"] = stub
    sys.path.insert(0, str(wheel))
    try:
        from bfcl_eval.constants.enums import Language
        from bfcl_eval.eval_checker.ast_eval.ast_checker import ast_checker
        from bfcl_eval.eval_checker.ast_eval.type_convertor.java_type_converter import java_type_converter
        from bfcl_eval.eval_checker.ast_eval.type_convertor.js_type_converter import js_type_converter
    except Exception as error:  # noqa: BLE001 - any import failure must fail the tests loudly
        pytest.fail(f"the official BFCL checker could not be imported from {wheel}: {type(error).__name__}: {error}",
                    pytrace=False)
    finally:
        sys.path.remove(str(wheel))
    return Official(ast_checker, {"python": Language.PYTHON, "java": Language.JAVA,
                                  "javascript": Language.JAVASCRIPT}, str(wheel), java_type_converter,
                    js_type_converter)


@pytest.fixture(scope="session")
def official_multi_turn(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Any]:
    """bfcl-eval's own ``multi_turn_checker`` module and its executor module ``multi_turn_utils``, imported from
    the wheel (skip if the wheel cannot be had, fail if it cannot be imported). They import nothing but BFCL's
    constants; the executor imports the environment classes from the package when it first runs one."""
    wheel = _wheel()
    if wheel is None:
        pytest.skip(f"the bfcl-eval {bfcl_data_module.BFCL_EVAL_VERSION} wheel cannot be obtained (offline and "
                    f"not cached in {bfcl_data_module.cache_dir()}): the official checker is not available")
    os.environ.setdefault("BFCL_PROJECT_ROOT", str(tmp_path_factory.mktemp("bfcl_project_root")))
    sys.path.insert(0, str(wheel))
    try:  # a bfcl_eval already imported (from the same wheel, e.g. by inftool's environments) is reused
        from bfcl_eval.eval_checker.multi_turn_eval import multi_turn_checker, multi_turn_utils
    except Exception as error:  # noqa: BLE001 - any import failure must fail the tests loudly
        pytest.fail(f"the official multi-turn checker could not be imported from {wheel}: {type(error).__name__}: "
                    f"{error}", pytrace=False)
    finally:
        sys.path.remove(str(wheel))
    return multi_turn_checker, multi_turn_utils


@pytest.fixture
def bfcl() -> BfclData:
    """The BFCL v4 data (skip if it cannot be had at all: offline and not cached)."""
    try:
        return bfcl_data_module.bfcl_data()
    except DataUnavailableError as error:
        pytest.skip(f"BFCL data unavailable: {error}")
