"""Test doubles of an LM endpoint, for tests and benchmarks (never used by production code).

- ``FakeOpenAIServer``: a real OpenAI-compatible HTTP endpoint on 127.0.0.1, served from a background
  thread by the standard library (``FakeOpenAIProcess``: the same, in a child process).
- ``FakeEngine`` (factory ``inftool.testing:fake_engine``): an in-process DSPy engine.

Both answer in DSPy's ChatAdapter format for whichever output fields the prompt asks for, so the
LM-backed role-players can be exercised end to end without a model::

    with FakeOpenAIServer(delay_s=0.1) as server:
        client = client_for(OpenAIModelSpec(backend="openai", model="fake", base_url=server.base_url))
        server.fail_next(2)          # the next two requests get HTTP 500
        ...
        server.requests              # how many chat requests arrived

An unreliable endpoint: ``FakeOpenAIServer(fault_rate=0.2, seed=3)`` answers each request with one of
``ENDPOINT_FAULTS`` (drawn from a seeded generator) one time in five; ``deterministic=True`` makes every
answer depend on the request only, so runs whose requests arrive in another order (retries, threads) get
the same answers.
"""

from __future__ import annotations

import json
import random
import re
import socket
import struct
import sys
import threading
import time
import zlib
from collections import Counter
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

_HEADER = re.compile(r"\[\[ ## (\w+) ## \]\]")
_OUTPUTS = re.compile(r"Your output fields are:\n(.*?)(?:\nAll interactions|\Z)", re.DOTALL)
_FIELD = re.compile(r"^\d+\. `(\w+)`", re.MULTILINE)
ENDPOINT_FAULTS = ("500", "truncated", "reset", "empty", "slow")
"""Faults of the endpoint itself, never the model's answer: HTTP 500, a JSON body cut short (with HTTP 200), a
connection reset before any answer, a completion without choices, and an answer slower than ``slow_s``."""
FAIL_MODES = ("429", "malformed", "garbage", *ENDPOINT_FAULTS)


def _sections(text: str) -> dict[str, str]:
    """``{field: text}`` for every ``[[ ## field ## ]]`` section of a ChatAdapter message."""
    parts = _HEADER.split(text)
    return {parts[i]: parts[i + 1].strip() for i in range(1, len(parts) - 1, 2)}


def _text(message: dict[str, Any]) -> str:
    content = message.get("content") or ""
    if isinstance(content, list):
        return "\n".join(part.get("text", "") for part in content if isinstance(part, dict))
    return str(content)


def _example(schema: dict[str, Any]) -> Any:
    """A plausible value for a JSON schema (its first enum value, or a value of its type)."""
    if schema.get("enum"):
        return schema["enum"][0]
    kind = schema.get("type", "string")
    kind = kind[0] if isinstance(kind, list) and kind else kind
    return {"integer": 1, "number": 1.5, "boolean": True, "array": [], "object": {}, "null": None}.get(kind, "example")


def _arguments(parameters: dict[str, Any]) -> dict[str, Any]:
    properties = parameters.get("properties") or {}
    names = parameters.get("required") or list(properties)[:1]
    return {name: _example(properties.get(name, {})) for name in names}


def _answered(sections: dict[str, str]) -> bool:
    """Whether the conversation already holds a tool result (then the assistant answers in text)."""
    return bool(re.search(r'"role":\s*"tool"', sections.get("conversation", "")))


def _first_tool(body: dict[str, Any], sections: dict[str, str]) -> tuple[str, dict[str, Any]]:
    """(name, parameters) of the first tool a request offers: native ``tools``, or the prompt's tools field."""
    for tool in body.get("tools") or []:
        function = tool.get("function", tool)
        return function.get("name", "tool"), function.get("parameters") or {}
    try:  # the section may be followed by the adapter's output reminder: decode the leading JSON only
        tools = json.JSONDecoder().raw_decode(sections.get("tools", ""))[0]
    except ValueError:
        tools = None
    for tool in tools if isinstance(tools, list) else []:
        if isinstance(tool, dict) and "name" in tool:
            return tool["name"], tool.get("parameters") or {"properties": tool.get("args") or {}}
    match = re.search(r'"name"\s*:\s*"([\w-]+)"', sections.get("tools", ""))
    return (match.group(1) if match else "tool"), {}


def answer(body: dict[str, Any], n: int = 0, malformed: bool = False) -> dict[str, Any]:
    """The assistant message for a chat request body: tool calls (native tools offered, and the conversation
    does not end with a tool result) or ChatAdapter text."""
    messages = body.get("messages") or []
    system = "\n".join(_text(m) for m in messages if m.get("role") == "system")
    user = next((_text(m) for m in reversed(messages) if m.get("role") == "user"), "")
    match = _OUTPUTS.search(system)
    fields = _FIELD.findall(match.group(1)) if match else []
    sections = _sections(user)
    if malformed:
        return {"role": "assistant", "content": "Sure! Here is my answer, without any of the requested field markers."}
    replied = bool(messages) and messages[-1].get("role") == "tool"  # native calling: the results are in
    if body.get("tools") and not _answered(sections) and not replied:
        name, parameters = _first_tool(body, sections)
        call = {"id": f"call_{n}", "type": "function",
                "function": {"name": name, "arguments": json.dumps(_arguments(parameters))}}
        return {"role": "assistant", "content": None, "tool_calls": [call]}
    return {"role": "assistant", "content": _fields(fields, body, sections, n)}


def _fields(fields: list[str], body: dict[str, Any], sections: dict[str, str], n: int) -> str:
    answered, values = _answered(sections), []
    for field in fields:
        if field == "tool_calls":
            name, parameters = _first_tool(body, sections)
            value = json.dumps({"tool_calls": [] if answered else [{"name": name, "args": _arguments(parameters)}]})
        elif field == "result":
            value = json.dumps({"status": "ok", "id": n})
        elif field == "error":
            value = ""
        elif field == "answer":
            value = "Here is what I found." if answered or "tool_calls" not in fields else ""
        else:
            value = "Could you help me with this, please? I need it done today."
        values.append(f"[[ ## {field} ## ]]\n{value}")
    return "\n\n".join([*values, "[[ ## completed ## ]]"])


def completion(body: dict[str, Any], n: int = 0, model: str = "fake-model", malformed: bool = False) -> dict[str, Any]:
    """A whole chat-completion response body for a request body."""
    message = answer(body, n, malformed)
    return {"id": f"chatcmpl-{n}", "object": "chat.completion", "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "message": message,
                         "finish_reason": "tool_calls" if message.get("tool_calls") else "stop"}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20}}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so a client's connection pool is exercised
    disable_nagle_algorithm = True  # headers and body go in separate writes: without this, +40 ms per request
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, payload: Any = None, raw: bytes | None = None) -> None:
        data = raw if raw is not None else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        owner, path = self.server.owner, self.path.rstrip("/")
        if path.endswith("/models"):
            self._send(200, {"object": "list", "data": [{"id": owner.model, "object": "model"}]})
        elif path.endswith("/stats"):  # not OpenAI: the request count, for a server in another process
            self._send(200, {"requests": owner.requests})
        else:
            self._send(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self._send(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})
            return
        owner = self.server.owner
        n, failure = owner._admit(self.headers.get("Authorization", ""))
        time.sleep(owner.slow_s if failure == "slow" else owner.delay_s)  # outside any lock: requests overlap
        if failure in ("500", "429"):
            kind = "server_error" if failure == "500" else "rate_limit_exceeded"
            self._send(int(failure), {"error": {"message": f"fake {kind}", "type": kind}})
        elif failure == "garbage":
            self._send(200, raw=b"<html>not json</html>")
        elif failure == "reset":
            self._reset()
        else:
            body = json.loads(raw or b"{}")
            owner._record(body)
            n = _stable_number(body) if owner.deterministic else n
            reply = completion(body, n, owner.model, malformed=failure == "malformed")
            if failure == "empty":
                reply["choices"] = []
            data = json.dumps(reply).encode()
            self._send(200, raw=data[: len(data) // 2] if failure == "truncated" else data)

    def _reset(self) -> None:
        """Drop the connection without answering: a zero linger time makes closing it send a TCP reset."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()


def _stable_number(body: dict[str, Any]) -> int:
    """A number that depends only on a request's messages and tools (for call and result ids)."""
    text = json.dumps([body.get("messages"), body.get("tools")], sort_keys=True, default=str)
    return zlib.crc32(text.encode()) % 1_000_000


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # many clients connect at once
    owner: FakeOpenAIServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away (it timed out, or the connection was reset on purpose) is no error here."""
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


class FakeOpenAIServer:
    """A local OpenAI-compatible chat endpoint answering in DSPy's ChatAdapter format (a context manager).

    It sleeps ``delay_s`` per request without holding a lock, counts requests (``requests``), keeps the
    ``Authorization`` headers and the first 1,000 request bodies, and fails on demand (``fail_next``,
    ``always_fail``): HTTP 500 or 429, a reply without the field markers, a body that is not JSON, or one of
    the ``ENDPOINT_FAULTS``. With ``fault_rate`` it also fails at random: each request that no demand
    fails gets one of ``fault_modes`` with that probability, drawn from ``Random(seed)``; ``faults`` counts
    the failures served, per mode. ``deterministic`` makes the answers depend on the request only.
    """

    def __init__(self, delay_s: float = 0.1, port: int = 0, model: str = "fake-model", *, fault_rate: float = 0.0,
                 fault_modes: Sequence[str] = ENDPOINT_FAULTS, seed: int = 0, slow_s: float = 2.0,
                 deterministic: bool = False):
        if not 0.0 <= fault_rate <= 1.0:
            raise ValueError("fault_rate must be in [0, 1]")
        unknown = set(fault_modes) - set(FAIL_MODES)
        if unknown or not fault_modes:
            raise ValueError(f"fault_modes must be some of {FAIL_MODES}, got {sorted(unknown) or 'none'}")
        self.delay_s, self.slow_s = delay_s, slow_s
        self.model = model
        self.fault_rate, self.fault_modes = fault_rate, tuple(fault_modes)
        self.deterministic = deterministic
        self.requests = 0
        self.faults: Counter[str] = Counter()
        self.authorizations: list[str] = []
        self.bodies: list[dict[str, Any]] = []
        self._failures: list[str] = []
        self._always: str | None = None
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", port), _Handler)
        self._server.owner = self
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> FakeOpenAIServer:
        if self._thread is None:
            self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name="fake-openai",
                                            daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def fail_next(self, n: int, mode: str = "500") -> None:
        """Fail the next ``n`` chat requests: '500', '429', 'malformed' (no field markers), 'garbage', or
        one of the other ``ENDPOINT_FAULTS``."""
        if mode not in FAIL_MODES:
            raise ValueError(f"mode must be one of {FAIL_MODES}")
        with self._lock:
            self._failures.extend([mode] * n)

    def always_fail(self, mode: str | None = "500") -> None:
        """Fail every chat request in ``mode`` (None: stop failing)."""
        if mode is not None and mode not in FAIL_MODES:
            raise ValueError(f"mode must be one of {FAIL_MODES}")
        self._always = mode

    def _admit(self, authorization: str) -> tuple[int, str | None]:
        """Count a request; (its number, how it fails or None)."""
        with self._lock:
            self.requests += 1
            if len(self.authorizations) < 1000:
                self.authorizations.append(authorization)
            failure = self._failures.pop(0) if self._failures else self._always
            if failure is None and self.fault_rate and self._random.random() < self.fault_rate:
                failure = self._random.choice(self.fault_modes)
            if failure is not None:
                self.faults[failure] += 1
            return self.requests, failure

    def _record(self, body: dict[str, Any]) -> None:
        with self._lock:
            if len(self.bodies) < 1000:
                self.bodies.append(body)


def _serve(delay_s: float, ports: Any, stop: Any) -> None:
    with FakeOpenAIServer(delay_s=delay_s) as server:
        ports.put(server.port)
        stop.wait()


class FakeOpenAIProcess:
    """A ``FakeOpenAIServer`` in a child process (a context manager), so that serving does not take the
    client's GIL, as with a real endpoint. ``requests`` asks the server for its count."""

    def __init__(self, delay_s: float = 0.1):
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        self._ports, self._stop = context.Queue(), context.Event()
        self._process = context.Process(target=_serve, args=(delay_s, self._ports, self._stop), daemon=True)
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def requests(self) -> int:
        from urllib.request import urlopen

        with urlopen(f"{self.base_url}/stats", timeout=10) as reply:
            return int(json.load(reply)["requests"])

    def __enter__(self) -> Self:
        self._process.start()
        self.port = self._ports.get(timeout=60)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._process.join(10)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join()


class FakeEngine:
    """An in-process DSPy engine (``complete(Request) -> Response``) answering like ``FakeOpenAIServer``.

    With ``supports_function_calling=True`` DSPy offers the tools natively and this engine answers with
    native tool calls. ``requests`` keeps every ``dspy.lm15.Request`` it got.
    """

    def __init__(self, supports_function_calling: bool = False):
        self.supports_function_calling = supports_function_calling
        self.requests: list[Any] = []

    def complete(self, request: Any) -> Any:
        from dspy.lm15 import Message, Response, TextPart, ToolCallPart, Usage

        self.requests.append(request)
        system = request.system if isinstance(request.system, str) else ""
        body: dict[str, Any] = {"messages": [{"role": "system", "content": system}]
                                + [{"role": m.role, "content": m.text or ""} for m in request.messages]}
        if request.tools:
            body["tools"] = [{"function": {"name": t.name, "parameters": t.parameters}} for t in request.tools]
        message = answer(body, len(self.requests))
        calls = message.get("tool_calls") or []
        parts = [ToolCallPart(id=c["id"], name=c["function"]["name"], input=json.loads(c["function"]["arguments"]))
                 for c in calls] or [TextPart(message["content"] or "")]
        return Response(id=None, model=request.model, message=Message.assistant(parts),
                        finish_reason="tool_call" if calls else "stop", usage=Usage(0, 0))

    def close(self) -> None:
        pass


def fake_engine(supports_function_calling: bool = False) -> FakeEngine:
    """The factory of ``EngineModelSpec(backend="engine", factory="inftool.testing:fake_engine")``."""
    return FakeEngine(supports_function_calling)
