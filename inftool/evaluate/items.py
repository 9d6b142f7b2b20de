"""What a policy is asked: an evaluation item, and one step of a multi-turn conversation.

Every policy answers an object with ``messages`` (the conversation so far, OpenAI chat format) and
``tools`` (the tools offered, OpenAI format): an `Item` for a single-turn question, a `Step` for each
step of a multi-turn one. So a policy written for items (an endpoint, a local checkpoint) answers steps too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from inftool.core.episode import Call


@dataclass(frozen=True)
class Conversation:
    """A BFCL multi-turn entry: what the user says turn by turn, the world it happens in, and the ground truth."""

    turns: list[list[dict[str, Any]]]
    """The user's messages of each turn (a turn that hands over held-back functions has its own, see ``handover``)."""
    involved: list[str]
    """The BFCL classes of the world (``GorillaFileSystem``, ``TwitterAPI``, ...), in the entry's order."""
    initial_config: dict[str, Any]
    """Each class's initial state, by class name."""
    reference: list[list[Call]]
    """The ground truth: each turn's calls, in order (an empty turn: the request cannot be done yet)."""
    long_context: bool = False
    """BFCL's long-context variant: the world is loaded with much more data."""
    handover: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    """multi_turn_miss_func: turn -> the OpenAI tools held back until that turn, when the user hands them over."""


@dataclass(frozen=True)
class Item:
    suite: str
    category: str
    item_id: str
    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]]
    functions: list[dict[str, Any]]
    ground_truth: list[dict[str, Any]]
    check_as: str | None = None
    """The BFCL category whose rules judge the answer (default: ``category``)."""
    seen: str | None = None
    """BFCL questions: 'seen', 'unseen' or 'mixed', whether synthesis used their tools."""
    conversation: Conversation | None = None
    """Multi-turn categories: the whole conversation (``messages``, ``tools`` and ``functions`` are then its first
    turn's; ``ground_truth`` is empty: the conversation holds it)."""

    @property
    def tool(self) -> str | None:
        if self.conversation is not None:
            return next((call.name for turn in self.conversation.reference for call in turn), None)
        return next((name for answer in self.ground_truth for name in answer), None)

    @property
    def rules(self) -> str:
        return self.check_as or self.category


@dataclass(frozen=True)
class Step:
    """One step of a multi-turn conversation: the policy answers it with calls (then their results come back
    and it answers the next step) or without (the turn ends)."""

    item: Item
    turn: int
    index: int
    """The step within its turn (0: right after the user spoke)."""
    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]]
    reference: tuple[Call, ...] = ()
    """What the ground truth calls at this step (its turn's calls at step 0, nothing after): the oracle's answer."""
