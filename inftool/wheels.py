"""Wheels read as data, never installed: fetched once with ``pip download --no-deps`` into inftool's cache.

Some packages are only a source of files for inftool (BFCL's data in bfcl-eval, OpenRLHF's command-line
parser for the tests). Their wheels go to ``$INFTOOL_CACHE/<name>`` (default ``~/.cache/inftool``); a
cached wheel is reused, a damaged one fetched again, and nothing is fetched when ``INFTOOL_OFFLINE=1``.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import zipfile
from pathlib import Path

from inftool.errors import DataUnavailableError

log = logging.getLogger("inftool")


def cache_dir(name: str) -> Path:
    """``$INFTOOL_CACHE/<name>`` (default ``~/.cache/inftool/<name>``)."""
    return Path(os.environ.get("INFTOOL_CACHE", Path.home() / ".cache" / "inftool")).expanduser() / name


def cached_wheel(requirement: str, filename: str, directory: Path, *, what: str, hint: str) -> Path:
    """The wheel ``directory/filename``, fetched for ``requirement`` (``name==version``) unless cached.

    ``what`` names the data in messages ("BFCL data"); ``hint`` says how to provide it by hand. Raises
    `DataUnavailableError` when the wheel is missing and cannot be fetched (or ``INFTOOL_OFFLINE=1``).
    """
    wheel = directory / filename
    if wheel.is_file() and not zipfile.is_zipfile(wheel):
        log.info("the cached wheel %s is damaged; fetching it again", wheel)
        wheel.unlink()
    if wheel.is_file():
        return wheel
    if os.environ.get("INFTOOL_OFFLINE") == "1":
        raise DataUnavailableError(f"{what} is not available and INFTOOL_OFFLINE=1 forbids fetching it (hint: {hint})")
    directory.mkdir(parents=True, exist_ok=True)
    log.info("fetching %s (%s, used as data only) into %s", what, requirement, directory)
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", *_target(filename),
               "--quiet", "--disable-pip-version-check", requirement, "--dest", str(directory)]
    try:
        done = subprocess.run(command, check=False, capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise DataUnavailableError(f"could not fetch the {what}: {exc} (hint: {hint})") from None
    if done.returncode != 0 or not wheel.is_file():
        reason = (done.stderr or done.stdout).strip().splitlines()
        last = reason[-1] if reason else f"no {filename} downloaded"
        raise DataUnavailableError(f"could not fetch the {what} with pip: {last} (hint: {hint})")
    return wheel


def _target(filename: str) -> list[str]:
    """pip options that select exactly this wheel whatever this interpreter is (none for a pure wheel)."""
    python, abi, platform = filename.removesuffix(".whl").split("-")[-3:]
    if platform == "any":
        return []
    return ["--implementation", python[:2], "--python-version", python[2:], "--abi", abi, "--platform", platform]
