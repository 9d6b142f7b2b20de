"""LMs for the role-players: building them from a recipe's model spec, and calling them robustly.

- ``build_lm(spec)``: a ``dspy.LM`` for an OpenAI-compatible endpoint (DSPy's native lm15 engine:
  one pooled HTTP client per LM, ``timeout`` as the transport's read/write/pool limit, no response
  cache, no DSPy-side retries; ``top_p`` and ``seed`` are sent with every request; with ``extra_body``,
  DSPy's LiteLLM engine, since lm15 refuses request fields it has no canonical place for, while LiteLLM
  merges ``extra_body`` into the body) or for a custom in-process engine made by a factory.
- ``LMClient``: one LM plus its call policy. Every role's LM call goes through ``LMClient.predict``:
  at most ``concurrency`` calls in flight, retries with exponential backoff and jitter on transport
  errors (refused or reset connections), timeouts, rate limits, server errors, replies that are not a
  completion (not JSON, cut short) and empty answers (no choices), and any failure or malformed answer
  turned into a ``RoleError`` with a reason that names the endpoint (never the API key).
- ``FailureBudget``: a thread-safe count of failed LM calls shared by the roles of a synthesis stage;
  past its cap it raises ``StageError``, so a dead endpoint stops the run with one clear message.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import random
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import dspy
from dspy.utils.exceptions import (
    AdapterParseError,
    LMError,
    LMProviderError,
    LMTimeoutError,
    is_retryable_lm_error,
)

from inftool.errors import StageError, UsageError
from inftool.spec.backends import EngineModelSpec, OpenAIModelSpec
from inftool.synth.roles.base import RoleError

OPENAI_DEFAULT_URL = "https://api.openai.com/v1"
DEFAULT_FAILURE_CAP = 50
"""Failed LM calls a stage tolerates when no spec says (``max_failures``)."""
ENDPOINT_PROVIDER = "inftool-endpoint"
_REGISTER_LOCK = threading.Lock()
PLACEHOLDER_KEY = "EMPTY"
"""The key sent to a local server (``base_url`` set) when ``api_key_env`` is unset: vLLM and most
local servers accept any key."""


def build_lm(spec: OpenAIModelSpec | EngineModelSpec) -> dspy.LM:
    """A ``dspy.LM`` for a role-player's model spec (no response cache: synthesis samples)."""
    if isinstance(spec, OpenAIModelSpec):
        return _openai_lm(spec)
    if isinstance(spec, EngineModelSpec):
        return _engine_lm(spec)
    raise UsageError(f"backend {getattr(spec, 'backend', spec)!r} is not an LM backend (expected 'openai' or 'engine')")


def _is_openai(spec: OpenAIModelSpec) -> bool:
    return not spec.base_url or spec.base_url.startswith(OPENAI_DEFAULT_URL)


def _api_key(spec: OpenAIModelSpec) -> str:
    key = os.environ.get(spec.api_key_env)
    if key:
        return key
    if not _is_openai(spec):
        return PLACEHOLDER_KEY
    raise UsageError(f"model {spec.model!r} uses the OpenAI API, but the environment variable "
                     f"{spec.api_key_env} (api_key_env) is not set")


def _endpoint_provider() -> str:
    """Declare (once; idempotent) the provider DSPy routes ``base_url`` endpoints through natively.

    A declared OpenAI-compatible provider (vLLM-style wire: ``max_tokens``, system role) with no
    metadata namespaces: DSPy neither looks the model up in its price/capability map on every call
    (a full scan for an unknown local model) nor guesses capabilities; ``api_base``, ``api_key`` and
    ``timeout`` are honoured per LM.
    """
    from dspy import lm15

    access = lm15.AccessPolicy(provider=ENDPOINT_PROVIDER, base_url="http://localhost:8000/v1")
    definition = lm15.ProviderDefinition.chat(access, compat=lm15.OpenAIChatCompat.preset("vllm"),
                                              placeholder_key=PLACEHOLDER_KEY)
    with _REGISTER_LOCK:
        lm15.register_provider(definition)
    return ENDPOINT_PROVIDER


def _request_options(spec: OpenAIModelSpec) -> tuple[str, dict[str, Any]]:
    """(DSPy engine, request fields beyond temperature and max_tokens) for a spec: lm15 carries top_p and seed;
    an ``extra_body`` needs LiteLLM, which merges it into every request body."""
    options: dict[str, Any] = {k: v for k, v in (("top_p", spec.top_p), ("seed", spec.seed)) if v is not None}
    if not spec.extra_body:
        return "lm15", options
    if importlib.util.find_spec("litellm") is None:
        raise UsageError(f"model {spec.model!r}: extra_body is sent through LiteLLM, which is not installed "
                         "(hint: pip install litellm)")
    return "litellm", {**options, "extra_body": dict(spec.extra_body)}


def _openai_lm(spec: OpenAIModelSpec) -> dspy.LM:
    # DSPy reads a remote model-metadata map on first use (5 s timeout); use its bundled copy instead.
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    client: dict[str, Any] = {"api_key": _api_key(spec), "timeout": spec.timeout_s}
    provider = "openai"  # the OpenAI API itself: DSPy knows its models' capabilities (native tool calls)
    if not _is_openai(spec):
        client["api_base"] = spec.base_url
        provider = _endpoint_provider()
    engine, options = _request_options(spec)
    try:
        return dspy.LM(f"{provider}/{spec.model}", temperature=spec.temperature, max_tokens=spec.max_tokens,
                       cache=False, num_retries=0, engine=engine, **options, **client)
    except (LMError, ValueError, TypeError) as exc:
        raise UsageError(f"model {spec.model!r}: {exc}") from None


def _import_factory(path: str) -> Any:
    module_name, _, attr = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # noqa: BLE001 - ImportError, or any error raised while importing user code
        raise UsageError(f"engine factory {path!r} cannot be imported: {type(exc).__name__}: {exc}") from None
    factory = getattr(module, attr, None)
    if not callable(factory):
        raise UsageError(f"engine factory {path!r}: module {module_name!r} has no callable {attr!r}")
    return factory


def _engine_lm(spec: EngineModelSpec) -> dspy.LM:
    factory = _import_factory(spec.factory)
    try:
        engine = factory(**spec.options)
    except Exception as exc:  # noqa: BLE001 - the factory is user code: any failure is a usage problem
        raise UsageError(f"engine factory {spec.factory!r} failed with options {sorted(spec.options)}: "
                         f"{type(exc).__name__}: {exc}") from None
    try:
        return dspy.LM(f"local/{spec.factory.partition(':')[2]}", engine=engine, cache=False, num_retries=0)
    except (TypeError, ValueError) as exc:
        raise UsageError(f"engine factory {spec.factory!r} did not return a DSPy engine: {exc}") from None


class FailureBudget:
    """Counts failed LM calls across roles and threads; raises ``StageError`` once more than ``cap`` failed."""

    def __init__(self, cap: int):
        if cap < 0:
            raise ValueError("cap must be >= 0")
        self.cap = cap
        self.count = 0
        self.last_reason = ""
        self._lock = threading.Lock()

    @property
    def exceeded(self) -> bool:
        return self.count > self.cap

    def _error(self) -> StageError:
        return StageError(f"synthesis stopped: LM failures exceeded the cap of {self.cap} "
                          f"({self.count} failed calls); last failure: {self.last_reason}")

    def check(self) -> None:
        """Raise ``StageError`` if the cap is already exceeded (called before each LM call)."""
        if self.exceeded:
            raise self._error()

    def record(self, reason: str) -> None:
        """Count one failed LM call; raise ``StageError`` when the count exceeds the cap."""
        with self._lock:
            self.count += 1
            self.last_reason = reason
            if self.exceeded:
                raise self._error()


@dataclass(frozen=True)
class CallPolicy:
    """How one LM is called: the time limit (applied by the transport), retries and backoff."""

    timeout_s: float | None = None
    max_retries: int = 2
    backoff_s: float = 0.25
    max_backoff_s: float = 8.0
    concurrency: int = 16

    def delay(self, attempt: int, rng: random.Random, hint: float | None = None) -> float:
        """Exponential backoff with full jitter in [50%, 100%]; a server's retry-after hint wins (capped)."""
        if hint is not None and hint >= 0:
            return min(hint, self.max_backoff_s)
        return min(self.max_backoff_s, self.backoff_s * 2**attempt) * (0.5 + rng.random() / 2)


class LMClient:
    """One LM with its policy, endpoint label and failure budget; the one door for every role's LM calls."""

    def __init__(self, lm: dspy.BaseLM, policy: CallPolicy | None = None, budget: FailureBudget | None = None,
                 endpoint: str | None = None, secrets: Iterable[str] = ()):
        self.lm = lm
        self.policy = policy or CallPolicy()
        self.budget = budget
        kwargs = getattr(lm, "kwargs", {}) or {}
        self.endpoint = endpoint or kwargs.get("api_base") or getattr(lm, "model", "LM")
        key = kwargs.get("api_key")
        self._secrets = [s for s in (*secrets, key) if isinstance(s, str) and len(s) >= 4 and s != PLACEHOLDER_KEY]
        self._slots = threading.BoundedSemaphore(self.policy.concurrency)
        self._rng = random.Random(0)

    def __deepcopy__(self, memo: dict[int, Any]) -> LMClient:
        return self  # shared: copies of a role module (e.g. by an optimizer) keep the same LM, budget and slots

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def predict(self, predictor: dspy.Predict, adapter: dspy.ChatAdapter, **inputs: Any) -> dspy.Prediction:
        """Run ``predictor`` on this LM; the endpoint's faults are retried, others raise ``RoleError``.

        Retried with backoff (``retryable``): rate limits, timeouts, server and transport errors (a connection
        refused or reset), a reply that is not a completion (not JSON, cut short), and an empty answer (no
        choices; DSPy's native engine cannot tell one from an empty text). A malformed answer is the model's
        and is not retried. Backoff jitter comes from the client's own seeded generator, so a retry never
        shifts an episode's random stream.
        """
        if self.budget is not None:
            self.budget.check()
        attempts = self.policy.max_retries + 1
        for attempt in range(attempts):
            prediction, fault = self._attempt(predictor, adapter, inputs, attempt + 1)
            if prediction is not None:
                return prediction
            if attempt + 1 == attempts:
                raise self.failure(fault.reason(attempt + 1))
            time.sleep(self.policy.delay(attempt, self._rng, fault.retry_after))
        raise AssertionError("unreachable")

    def _attempt(self, predictor: dspy.Predict, adapter: dspy.ChatAdapter, inputs: dict[str, Any],
                 attempt: int) -> tuple[dspy.Prediction | None, _Fault | None]:
        """One call: (the prediction, None), or (None, the fault to retry); a failure not worth retrying raises."""
        try:
            with self._slots, dspy.context(lm=self.lm, adapter=adapter):
                prediction = predictor(**inputs)
        except AdapterParseError as exc:
            if (exc.lm_response or "").strip():
                raise self.failure(f"malformed answer from {self.endpoint}: {_first_line(exc)}") from None
            return None, _Fault(self, "empty answer (no choices, or no text)")
        except LMError as exc:
            if not retryable(exc):
                raise self.failure(self._describe(exc, attempt)) from None
            return None, _Fault(self, exc)
        except ValueError as exc:  # a value the adapter could not turn into the output types
            raise self.failure(f"malformed answer from {self.endpoint}: {type(exc).__name__}: {exc}") from None
        if not prediction.keys():  # DSPy's LiteLLM engine: a completion without choices gives no output at all
            return None, _Fault(self, "empty answer (a completion without choices)")
        return prediction, None

    def _describe(self, exc: LMError, attempts: int) -> str:
        message = str(exc)
        kind = "timeout" if isinstance(exc, LMTimeoutError) or "timed out" in message else type(exc).__name__
        limit = f" (limit {self.policy.timeout_s:g}s)" if kind == "timeout" and self.policy.timeout_s else ""
        return f"LM call to {self.endpoint} failed after {attempts} attempt(s): {kind}{limit}: {message}"

    def failure(self, reason: str) -> RoleError:
        """A ``RoleError`` for a failed call (redacted), counted in the failure budget (may raise ``StageError``)."""
        reason = self.redact(reason)
        if self.budget is not None:
            self.budget.record(reason)
        return RoleError(reason)


def retryable(exc: LMError) -> bool:
    """Whether an LM error is the endpoint's passing fault: DSPy's transient kinds (rate limit, timeout, server,
    transport, lock timeout), or a provider reply of no more definite kind (DSPy's native engine: a body that is
    not JSON, or cut short). Authentication, billing and invalid requests are not retried."""
    return is_retryable_lm_error(exc) or type(exc) is LMProviderError


class _Fault:
    """One failed attempt worth retrying: an LM error, or an empty answer; ``reason`` says it for a RoleError."""

    def __init__(self, client: LMClient, what: LMError | str):
        self.client, self.what = client, what
        self.retry_after = getattr(what, "retry_after", None)

    def reason(self, attempts: int) -> str:
        if isinstance(self.what, LMError):
            return self.client._describe(self.what, attempts)
        return f"LM call to {self.client.endpoint} failed after {attempts} attempt(s): {self.what}"


def _first_line(exc: AdapterParseError) -> str:
    text = " ".join(str(exc).split())
    return text[:300] + ("..." if len(text) > 300 else "")


def client_for(spec: OpenAIModelSpec | EngineModelSpec, budget: FailureBudget | None = None) -> LMClient:
    """The ``LMClient`` for a model spec: its LM, timeout, retries and concurrency, and the shared budget."""
    lm = build_lm(spec)
    if isinstance(spec, OpenAIModelSpec):
        policy = CallPolicy(timeout_s=spec.timeout_s, max_retries=spec.max_retries, concurrency=spec.concurrency)
        secrets = [os.environ.get(spec.api_key_env, "")]
        return LMClient(lm, policy, budget, endpoint=spec.base_url or OPENAI_DEFAULT_URL, secrets=secrets)
    policy = CallPolicy(max_retries=0, concurrency=getattr(spec, "concurrency", 1))
    return LMClient(lm, policy, budget, endpoint=f"engine {spec.factory}")


def as_client(lm: LMClient | dspy.BaseLM) -> LMClient:
    """Accept either an ``LMClient`` or a bare DSPy LM (wrapped with the default policy)."""
    return lm if isinstance(lm, LMClient) else LMClient(lm)
