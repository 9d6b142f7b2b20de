"""Where the BFCL v4 data comes from: the `bfcl-eval` package's data files, without its dependencies.

`bfcl-eval` pins heavy dependencies (numpy 1.26, SDKs of a dozen providers) that we do not want
to force on users, so inftool never installs it as a dependency. The data is looked up, in order:

1. ``$INFTOOL_BFCL_DATA``: a directory holding ``BFCL_v4_*.json`` (and ``possible_answer/``), or a
   bfcl-eval wheel file;
2. an installed ``bfcl_eval`` package (e.g. ``pip install --no-deps bfcl-eval==2026.3.23``), read
   without importing it;
3. the wheel cached in ``$INFTOOL_CACHE/bfcl`` (default ``~/.cache/inftool/bfcl``);
4. otherwise the wheel is fetched once with ``pip download --no-deps`` into that cache, unless
   ``INFTOOL_OFFLINE=1``. Nothing is installed: the JSON files are read from it, and only BFCL's stateful
   environments (``inftool.envs.bfcl``) import their own modules from it.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import zipfile
from pathlib import Path
from typing import Any

from inftool import wheels
from inftool.errors import DataUnavailableError

BFCL_EVAL_VERSION = "2026.3.23"
_WHEEL = f"bfcl_eval-{BFCL_EVAL_VERSION}-py3-none-any.whl"
_IN_WHEEL = "bfcl_eval/data/"

_HINT = (
    f"install the data with `pip install --no-deps bfcl-eval=={BFCL_EVAL_VERSION}`, or set INFTOOL_BFCL_DATA "
    "to a bfcl-eval wheel or to its bfcl_eval/data directory"
)


class BfclData:
    """Read-only access to BFCL's data files, from a directory or from inside a wheel."""

    def __init__(self, location: Path):
        self.location = location
        try:
            self._zip = zipfile.ZipFile(location) if location.is_file() else None
        except zipfile.BadZipFile:
            raise DataUnavailableError(f"{location} is not a bfcl-eval wheel (not a zip file) (hint: {_HINT})") from None

    def read_text(self, relative: str) -> str:
        try:
            if self._zip is not None:
                return self._zip.read(_IN_WHEEL + relative).decode("utf-8")
            return (self.location / relative).read_text(encoding="utf-8")
        except (KeyError, FileNotFoundError):
            raise DataUnavailableError(f"BFCL data file {relative!r} is missing from {self.location}") from None

    def questions(self, category: str) -> list[dict[str, Any]]:
        """The question entries of one category (``id``, ``question``, ``function``)."""
        return _json_lines(self.read_text(f"BFCL_v4_{category}.json"))

    def answers(self, category: str) -> dict[str, Any]:
        """Ground truth by question id (categories scored by AST matching; irrelevance has none)."""
        return {e["id"]: e["ground_truth"] for e in _json_lines(self.read_text(f"possible_answer/BFCL_v4_{category}.json"))}

    def environment_docs(self, env: str) -> list[dict[str, Any]]:
        """The function docs of one of BFCL's stateful environments (``multi_turn_func_doc/<env>.json``)."""
        return _json_lines(self.read_text(f"multi_turn_func_doc/{env}.json"))

    def package_root(self) -> Path:
        """What goes on ``sys.path`` to import ``bfcl_eval`` from here: the wheel itself (a zip), or the
        directory above a ``bfcl_eval`` package whose ``data`` this is. DataUnavailableError for a data
        directory without the package's sources."""
        if self._zip is not None:
            return self.location
        package = self.location.parent
        if package.name == "bfcl_eval" and (package / "eval_checker").is_dir():
            return package.parent
        raise DataUnavailableError(f"{self.location} holds BFCL's data without the bfcl_eval sources, which the "
                                   f"stateful environments run (hint: {_HINT})")


def _json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def cache_dir() -> Path:
    return wheels.cache_dir("bfcl")


@functools.lru_cache(maxsize=1)
def bfcl_data() -> BfclData:
    """The BFCL v4 data, found or fetched as the module docstring says."""
    configured = os.environ.get("INFTOOL_BFCL_DATA")
    if configured:
        path = Path(configured).expanduser()
        if not path.exists():
            raise DataUnavailableError(f"INFTOOL_BFCL_DATA points to {path}, which does not exist (hint: {_HINT})")
        return BfclData(path)
    installed = _installed_data_dir()
    if installed is not None:
        return BfclData(installed)
    return BfclData(_fetch_wheel(cache_dir()))


def _installed_data_dir() -> Path | None:
    try:
        spec = importlib.util.find_spec("bfcl_eval")
    except (ImportError, ValueError):
        return None
    for root in (spec.submodule_search_locations or []) if spec else []:
        if (Path(root) / "data" / "BFCL_v4_simple_python.json").is_file():
            return Path(root) / "data"
    return None


def _fetch_wheel(directory: Path) -> Path:
    """The bfcl-eval wheel in ``directory``, fetched once (data only: nothing is installed)."""
    return wheels.cached_wheel(f"bfcl-eval=={BFCL_EVAL_VERSION}", _WHEEL, directory, what="BFCL data", hint=_HINT)
