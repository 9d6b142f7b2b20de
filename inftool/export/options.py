"""What describes an export format, and what every record function is given besides the episode."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Options:
    """Settings of one export, the same for every record."""

    wire_arguments: bool = False
    """Tool-call arguments as JSON strings (OpenAI's wire form, for OpenAI's fine-tuning API) instead of objects."""
    data_source: str = "inftool"
    """verl's ``data_source`` of every row: ``inftool/<recipe name>``."""


Record = Callable[[dict[str, Any], int, Options], dict[str, Any]]
"""A format's record of one stored episode, given its position in its split and the export's options."""


@dataclass(frozen=True)
class Format:
    """One export format: how it writes an episode, in which file type, and what its dataset card says."""

    name: str
    record: Record
    about: str
    """The card's paragraph on what a record holds (Markdown)."""
    usage: str = ""
    """The card's paragraph on how the format's trainer or tool takes the files (Markdown)."""
    columns: dict[str, str] | None = None
    """Parquet: the columns as DuckDB types; None: JSON Lines."""
    accepted: bool = True
    """Which episodes it writes: the verified ones, or (False) the rejected ones."""
    features: list[dict[str, Any]] = field(default_factory=list)
    """JSON Lines: the card's ``dataset_info.features`` (``datasets``' YAML form), so that loading the
    directory gives objects where rows differ in shape (``json``), whatever the first rows hold."""
    tags: tuple[str, ...] = ()
    wire: bool = False
    """Whether ``Options.wire_arguments`` applies (formats whose records hold tool-call arguments)."""

    @property
    def suffix(self) -> str:
        return ".jsonl" if self.columns is None else ".parquet"
