"""Words for goals of several turns (stateful): the user's message opening each turn, and the assistant's short
reply closing one. A turn's wish comes with the goal (``UserTurn.ask``, a verb phrase or a question); the first
turn is framed and wrapped like any first request, later ones follow on from the conversation."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from inftool.core.episode import Call, Goal
from inftool.synth.language.parts import FRAMES, capitalise, finish, frame

_ASKING = tuple(f for f in FRAMES if f == "{c}." or f.startswith(("Please", "Kindly", "Go ahead", "Quick favor"))
                or ("you" in f and "me {c}" not in f and " we " not in f and "for me" not in f))
"""The frames that ask the assistant (a wish such as "log me in" cannot follow "I need to" or "Help me")."""
_LEADS = ("", "", "", "", "Thanks.", "Great.", "Okay.", "Perfect.", "Nice.", "Got it, thanks.", "Good.", "Alright.")
_NOW = ("", "", "Now ", "Next, ", "Now, ", "And ", "Also, ", "Then ")
_DONE = ("Done.", "All done.", "That's done.", "Done. Anything else?", "Finished.", "It's done.", "Okay, done.",
         "Done, that went through.")


class TurnWords:
    """Mixed into ``Phraser``, which provides ``_wrap`` (openings, persona, closings) and ``final_answer``."""

    _wrap: Callable[[str, random.Random, str], str]
    final_answer: Callable[[Goal, list[tuple[Call, Any]], random.Random], str]

    def turn_request(self, goal: Goal, turn: int, rng: random.Random, *, persona: str = "") -> str:
        """The user's message opening turn ``turn`` (0: the first request) of a goal of several turns."""
        ask = goal.turns[turn].ask
        question = ask.rstrip().endswith("?")
        if turn == 0:
            body = capitalise(ask) if question else frame(_ASKING, clause=ask, rng=rng)
            return self._wrap(body, rng, persona)
        lead = rng.choice(_LEADS)
        if question:
            body = capitalise(ask)
        elif rng.random() < 0.5:
            body = frame(_ASKING, clause=ask, rng=rng)
        else:
            body = capitalise(rng.choice(_NOW) + ask) + "."
        return finish(f"{lead} {body}".strip(), rng)

    def turn_answer(self, goal: Goal, results: list[tuple[Call, Any]], rng: random.Random) -> str:
        """The assistant's reply ending a turn: what its calls found, or that it is done when they returned nothing."""
        found = [(call, value) for call, value in results if value not in (None, "None", "", {}, [])]
        if not found:
            return rng.choice(_DONE)
        return self.final_answer(goal, found, rng)
