"""A policy served by an OpenAI-compatible endpoint, and the line between the endpoint's faults and the model's
answers.

The client's own retries are off; `EndpointPolicy` retries every fault of the endpoint itself, with exponential
backoff and full jitter (`Backoff`), up to the model's ``max_retries`` times: a timeout, HTTP 408, 409, 429 or
5xx, a connection refused or reset, a reply that is not a completion (not JSON, cut short) and a completion
without choices. An answer is never made up for an item: when the endpoint still fails, or refuses the request
for good (another 4xx: a bad key, an unknown model, a prompt too long), the policy raises `NotEvaluated` with
the reason, and the evaluation records the item as ``not_evaluated`` (``ERROR_KINDS``), out of every accuracy.
"""

from __future__ import annotations

import os
import random
import threading
import time
from dataclasses import dataclass
from typing import Any

from .checker import NOT_EVALUATED, Verdict

RETRIED_STATUSES = frozenset({408, 409, 429})
"""HTTP statuses below 500 that say "try again": request timeout, conflict (a lock), rate limit."""


class NotEvaluated(Exception):
    """The policy could not be asked (its endpoint kept failing); ``reason`` says how, for ``eval_results.message``."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason

    @property
    def verdict(self) -> Verdict:
        """The item's outcome: no verdict, with the reason."""
        return Verdict(False, NOT_EVALUATED, self.reason)


class _Fault(Exception):
    """One failed attempt: what went wrong, whether trying again may help, and a server's retry-after hint."""

    def __init__(self, reason: str, *, retry: bool = True, after: float | None = None):
        super().__init__(reason)
        self.reason, self.retry, self.after = reason, retry, after


@dataclass(frozen=True)
class Backoff:
    """How often and how patiently a failed request is tried again."""

    retries: int = 3
    base_s: float = 0.25
    max_s: float = 8.0

    def delay(self, attempt: int, rng: random.Random, hint: float | None = None) -> float:
        """Seconds to wait before try ``attempt + 2``: ``base_s * 2**attempt`` (at most ``max_s``) with full jitter
        in [50%, 100%]; a server's retry-after hint wins (capped at ``max_s``)."""
        if hint is not None and hint >= 0:
            return min(hint, self.max_s)
        return min(self.max_s, self.base_s * 2**attempt) * (0.5 + rng.random() / 2)


class EndpointPolicy:
    """Asks the model ``spec`` names (``backend: openai``) with native tool calling (``tools=``), greedily
    (temperature 0), with the model's ``max_tokens``, ``top_p``, ``seed`` and ``extra_body``; each answer is the
    completion's message. Thread-safe: the evaluation asks ``concurrency`` items at a time."""

    def __init__(self, spec: Any, backoff: Backoff | None = None):
        from openai import OpenAI

        self.spec = spec
        self.backoff = backoff or Backoff(retries=spec.max_retries)
        self._key = os.environ.get(spec.api_key_env) or "EMPTY"
        self._client = OpenAI(base_url=spec.base_url, api_key=self._key, timeout=spec.timeout_s, max_retries=0)
        self._options = {k: v for k, v in (("top_p", spec.top_p), ("seed", spec.seed)) if v is not None}
        if spec.extra_body:
            self._options["extra_body"] = dict(spec.extra_body)  # merged into the request body
        self._rng, self._lock = random.Random(0), threading.Lock()
        self.endpoint = spec.base_url or "https://api.openai.com/v1"

    def __call__(self, item: Any) -> dict[str, Any]:
        """The model's answer to an item (or a step of a conversation); raises `NotEvaluated` when there is none."""
        attempts = self.backoff.retries + 1
        for attempt in range(attempts):
            try:
                return self._ask(item.messages, item.tools)
            except _Fault as fault:
                if not fault.retry or attempt + 1 == attempts:
                    tries = f"{attempt + 1} attempt(s)" + ("" if fault.retry else " (a refusal, not retried)")
                    raise NotEvaluated(self._redact(f"endpoint {self.endpoint} failed after {tries}: "
                                                    f"{fault.reason}")) from None
                with self._lock:
                    pause = self.backoff.delay(attempt, self._rng, fault.after)
                time.sleep(pause)
        raise AssertionError("unreachable")

    def _ask(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> dict[str, Any]:
        """One request; every way it can fail becomes a `_Fault`."""
        import openai

        try:
            response = self._client.chat.completions.create(
                model=self.spec.model, messages=messages, tools=tools, temperature=0.0,
                max_tokens=self.spec.max_tokens, **self._options)
        except openai.APITimeoutError:
            raise _Fault(f"timeout (limit {self.spec.timeout_s:g}s)") from None
        except openai.APIConnectionError as exc:
            raise _Fault(f"connection error: {_cause(exc)}") from None
        except openai.APIStatusError as exc:
            retry = exc.status_code >= 500 or exc.status_code in RETRIED_STATUSES
            raise _Fault(f"HTTP {exc.status_code}: {exc.message}", retry=retry, after=_retry_after(exc)) from None
        except (openai.APIResponseValidationError, ValueError) as exc:  # JSONDecodeError: a body cut short
            raise _Fault(f"unreadable reply: {type(exc).__name__}: {exc}") from None
        choices = getattr(response, "choices", None)
        if not choices or getattr(choices[0], "message", None) is None:
            raise _Fault("a completion without choices")
        return choices[0].message.model_dump(exclude_none=True)

    def _redact(self, text: str) -> str:
        return text.replace(self._key, "***") if len(self._key) >= 4 and self._key != "EMPTY" else text


def _cause(exc: BaseException) -> str:
    """The innermost cause of a connection error, in words (e.g. ``ConnectError: [Errno 111] Connection refused``)."""
    while exc.__cause__ is not None:
        exc = exc.__cause__
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _retry_after(exc: Any) -> float | None:
    """A ``Retry-After`` header in seconds, if the reply has one that is a number."""
    response = getattr(exc, "response", None)
    value = response.headers.get("retry-after") if response is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
