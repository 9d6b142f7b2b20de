"""What every recipe section shares: unknown keys are errors, field docstrings are the docs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict
from pydantic_core import PydanticCustomError


class SpecModel(BaseModel):
    """Base of every recipe section: strict about keys, documented by field docstrings."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


def _existing_file(path: Path) -> Path:
    if not path.is_file():
        raise PydanticCustomError(
            "file_not_found",
            "file not found: {path} (expected an existing file; paths resolve relative to the recipe that sets them)",
            {"path": str(path)},
        )
    return path


ExistingFile = Annotated[Path, AfterValidator(_existing_file)]
"""A file that must exist. The loader has already made it absolute, relative to the recipe that set it."""

PATH_KEYS = ("path", "cwd")
PATH_KEY_SUFFIXES = ("_path", "_dir", "_file")
"""Keys named like ``PATH_KEYS`` or ending in one of these hold filesystem paths, resolved by the loader."""


def is_path_key(key: str) -> bool:
    return key in PATH_KEYS or key.endswith(PATH_KEY_SUFFIXES)
