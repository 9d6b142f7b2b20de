"""Hugging Face libraries, imported on demand and told to keep quiet: inftool draws its own progress
bars, and their per-load bars, INFO lines and deprecation warnings would break them up."""

from __future__ import annotations

import logging
import warnings

from inftool.errors import UsageError

_INSTALL = "pip install -c constraints.txt -e '.[train]'"


def require(*modules: str) -> None:
    """Import ``modules`` (e.g. torch, transformers, trl) or raise a UsageError naming the missing one."""
    import importlib

    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise UsageError(f"this needs {', '.join(modules)} ({exc.name} is missing; hint: {_INSTALL})") from None
    quiet()


def quiet() -> None:
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    for name in ("transformers", "trl", "datasets", "accelerate"):
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", category=FutureWarning, module=r"(transformers|trl)(\.|$)")
    warnings.filterwarnings("ignore", category=UserWarning, module=r"(transformers|trl)(\.|$)")
    try:
        from datasets.utils.logging import disable_progress_bar
    except ImportError:
        return
    disable_progress_bar()
