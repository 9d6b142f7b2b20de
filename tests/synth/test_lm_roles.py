"""The LM-backed role-players: scripted DSPy answers (DummyLM), an in-process engine, and real HTTP round
trips against a local OpenAI-compatible server (FakeOpenAIServer)."""

from __future__ import annotations

import logging
import random
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from dspy.utils import DummyLM

from inftool.catalog import Tool
from inftool.compile.programs import DEFAULT_INSTRUCTIONS, ROLE_IO
from inftool.core.episode import Call, Goal
from inftool.errors import StageError, UsageError
from inftool.spec.backends import EngineModelSpec, OpenAIModelSpec
from inftool.synth.roles.base import Result, RoleError, Turn
from inftool.synth.roles.lm import FailureBudget, LMClient, build_lm, client_for
from inftool.synth.roles.lm_factory import RoleFactory
from inftool.synth.roles.lm_roles import Assistant, ToolServer, UserSimulator, role_signature
from inftool.testing import FakeEngine, FakeOpenAIServer

KEY = "sk-inftool-FAKE-KEY-0123456789"
WEATHER = Tool(
    name="get_weather", original_name="get_weather", description="Current weather for a city.", source="test",
    parameters={"type": "object", "properties": {"city": {"type": "string"}, "unit": {"type": "string",
                "enum": ["celsius", "fahrenheit"]}}, "required": ["city"]},
    output_schema={"type": "object", "properties": {"temperature": {"type": "number"}}},
)
GOAL = Goal(complexity="multi_turn", target="get_weather", offered=["get_weather"],
            steps=[[Call("get_weather", {"city": "Reykjavik"})]], persona="A hurried sailor", withheld="city")


@pytest.fixture
def rng() -> random.Random:
    return random.Random(7)


@pytest.fixture
def server():
    with FakeOpenAIServer(delay_s=0.0) as fake:
        yield fake


def spec(url: str, **overrides) -> OpenAIModelSpec:
    values = {"backend": "openai", "model": "fake-model", "base_url": url, "api_key_env": "INFTOOL_TEST_KEY",
              "timeout_s": 5, "max_retries": 2} | overrides
    return OpenAIModelSpec(**values)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prompt(lm: DummyLM, call: int = -1) -> str:
    return "\n".join(m["content"] for m in lm.history[call]["messages"])


# --- signatures -------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["user", "assistant", "server"])
def test_signature_has_role_fields_descriptions_and_instructions(role):
    sig = role_signature(role, "Play it straight.")
    inputs, outputs = ROLE_IO[role]
    assert tuple(sig.input_fields) == inputs and tuple(sig.output_fields) == outputs
    assert sig.instructions == "Play it straight."
    assert all(f.json_schema_extra["desc"] for f in {**sig.input_fields, **sig.output_fields}.values())
    assert role_signature(role).instructions == DEFAULT_INSTRUCTIONS[role]


def test_recipe_instructions_reach_the_prompt(rng):
    lm = DummyLM([{"result": '{"temperature": 3}', "error": ""}])
    ToolServer(lm, "Answer like a 1990s weather service.").call(WEATHER, Call("get_weather", {"city": "Oslo"}),
                                                                 GOAL, [], rng)
    assert "Answer like a 1990s weather service." in lm.history[-1]["messages"][0]["content"]


# --- roles with scripted answers (DummyLM) -------------------------------------------------------------


def test_user_request_hides_the_withheld_argument(rng):
    lm = DummyLM([{"message": "  What's it like outside where I am headed?  "}])
    text = UserSimulator(lm).request(GOAL, {"get_weather": WEATHER}, rng)
    assert text == "What's it like outside where I am headed?"
    sent = prompt(lm)
    assert "A hurried sailor" in sent and "leave_out" in sent and "'city'" in sent and "give_now" not in sent


def test_user_clarify_gives_the_withheld_value(rng):
    lm = DummyLM([{"message": "Reykjavik, please."}])
    assert UserSimulator(lm).clarify(GOAL, "Which city?", rng) == "Reykjavik, please."
    sent = prompt(lm)
    assert '"give_now": {"city": "Reykjavik"}' in sent and "Which city?" in sent


def test_assistant_tool_calls_become_calls_and_it_never_sees_the_goal(rng):
    lm = DummyLM([{"tool_calls": {"tool_calls": [{"name": "get_weather", "args": {"city": "Oslo"}}]}, "answer": ""}])
    turn = Assistant(lm).respond([{"role": "user", "content": "Weather in Oslo?"}], [WEATHER], GOAL, rng)
    assert turn == Turn(calls=[Call("get_weather", {"city": "Oslo"})])
    sent = prompt(lm)
    assert "Reykjavik" not in sent and "hurried sailor" not in sent
    assert '"required": ["city"]' in sent  # the full schema, `required` included (dspy.Tool drops it)


@pytest.mark.parametrize("calls", ['{"tool_calls": []}', "[]", "None", ""])
def test_assistant_text_answer(rng, calls):
    lm = DummyLM([{"tool_calls": calls, "answer": "It is 3 degrees in Oslo."}])
    turn = Assistant(lm).respond([{"role": "user", "content": "Weather in Oslo?"}], [WEATHER], GOAL, rng)
    assert turn == Turn(content="It is 3 degrees in Oslo.")


def test_server_parses_json_results_and_errors(rng):
    lm = DummyLM([{"result": '```json\n{"temperature": 3.5}\n```', "error": "None"},
                  {"result": "", "error": "city must be a string"}])
    server = ToolServer(lm)
    assert server.call(WEATHER, Call("get_weather", {"city": "Oslo"}), GOAL, [], rng) == Result({"temperature": 3.5})
    failed = server.call(WEATHER, Call("get_weather", {"city": 5}), GOAL, [], rng)
    assert failed == Result({"error": "city must be a string"}, error=True)


def test_server_same_call_in_an_episode_hits_the_lm_once(rng):
    lm = DummyLM([{"result": '{"temperature": 1}', "error": ""}, {"result": '{"temperature": 2}', "error": ""}])
    server, earlier = ToolServer(lm), []
    for _ in range(2):
        call = Call("get_weather", {"unit": "celsius", "city": "Oslo"})
        earlier.append((call, server.call(WEATHER, call, GOAL, earlier, rng)))
    assert len(lm.history) == 1 and earlier[0][1] is earlier[1][1]
    assert server.call(WEATHER, Call("get_weather", {"city": "Bergen"}), GOAL, earlier, rng).content == {
        "temperature": 2}


@pytest.mark.parametrize(("role", "answer", "reason"), [
    ("assistant", {"tool_calls": '{"tool_calls": "not a list"}', "answer": ""}, "malformed answer"),
    ("assistant", {"tool_calls": '[{"name": "get_weather", "args": "Oslo"}]', "answer": ""}, "malformed answer"),
    ("assistant", {"tool_calls": "[]", "answer": ""}, "neither tool calls nor a text answer"),
    ("server", {"result": "sunny, I think", "error": ""}, "the result is not JSON"),
    ("server", {"result": '["sunny"]', "error": ""}, "the result is not a JSON object"),
    ("server", {"result": "", "error": ""}, "neither a result nor an error"),
    ("user", {"message": "   "}, "the message is empty"),
])
def test_malformed_answers_raise_role_errors_with_a_reason(rng, role, answer, reason):
    lm = DummyLM([answer])
    with pytest.raises(RoleError, match=reason):
        if role == "assistant":
            Assistant(lm).respond([{"role": "user", "content": "hi"}], [WEATHER], GOAL, rng)
        elif role == "server":
            ToolServer(lm).call(WEATHER, Call("get_weather", {"city": "Oslo"}), GOAL, [], rng)
        else:
            UserSimulator(lm).request(GOAL, {"get_weather": WEATHER}, rng)
    assert len(lm.history) == 1  # a malformed answer is not retried


def test_roles_use_their_own_lms_without_global_configuration(rng):
    user_lm, server_lm = DummyLM([{"message": "hello"}]), DummyLM([{"result": "{}", "error": ""}])
    assert UserSimulator(user_lm).request(GOAL, {}, rng) == "hello"
    assert ToolServer(server_lm).call(WEATHER, Call("get_weather", {"city": "x"}), GOAL, [], rng) == Result({})
    assert len(user_lm.history) == len(server_lm.history) == 1


# --- building LMs ------------------------------------------------------------------------------------------


def test_engine_factory_and_native_function_calling(rng):
    lm = build_lm(EngineModelSpec(backend="engine", factory="inftool.testing:fake_engine",
                                  options={"supports_function_calling": True}))
    engine: FakeEngine = lm.engine
    turn = Assistant(lm).respond([{"role": "user", "content": "Weather?"}], [WEATHER], GOAL, rng)
    assert turn == Turn(calls=[Call("get_weather", {"city": "example"})])
    tools = engine.requests[-1].tools
    assert [t.name for t in tools] == ["get_weather"] and tools[0].parameters["required"] == ["city"]


def test_engine_text_mode_roles(rng):
    factory = RoleFactory()
    engine = EngineModelSpec(backend="engine", factory="inftool.testing:fake_engine")
    assert factory.build("user", engine).request(GOAL, {"get_weather": WEATHER}, rng)
    assert factory.build("assistant", engine).respond([], [WEATHER], GOAL, rng).calls[0].name == "get_weather"
    assert factory.client(engine) is factory.client(engine)


@pytest.mark.parametrize(("factory", "message"), [
    ("inftool.no_such_module:make", "cannot be imported"),
    ("inftool.testing:no_such_factory", "has no callable 'no_such_factory'"),
    ("inftool.testing:FakeOpenAIServer", "failed with options"),
])
def test_bad_engine_factories_are_usage_errors(factory, message):
    options = {"bogus": 1} if factory.endswith("FakeOpenAIServer") else {}
    with pytest.raises(UsageError, match=message):
        build_lm(EngineModelSpec(backend="engine", factory=factory, options=options))


def test_openai_api_without_a_key_is_a_usage_error(monkeypatch):
    monkeypatch.delenv("INFTOOL_TEST_KEY", raising=False)
    with pytest.raises(UsageError, match="INFTOOL_TEST_KEY"):
        build_lm(spec(None))


# --- real HTTP round trips -------------------------------------------------------------------------------


def test_http_round_trips_for_all_three_roles(server, rng, monkeypatch):
    monkeypatch.setenv("INFTOOL_TEST_KEY", KEY)
    client = client_for(spec(server.base_url))
    user, assistant, tool_server = UserSimulator(client), Assistant(client), ToolServer(client)
    assert user.request(GOAL, {"get_weather": WEATHER}, rng)
    turn = assistant.respond([{"role": "user", "content": "Weather?"}], [WEATHER], GOAL, rng)
    assert turn == Turn(calls=[Call("get_weather", {"city": "example"})])
    result = tool_server.call(WEATHER, turn.calls[0], GOAL, [], rng)
    assert not result.error and result.content["status"] == "ok"
    final = assistant.respond([{"role": "user", "content": "Weather?"}, {"role": "tool", "content": "{}"}],
                              [WEATHER], GOAL, rng)
    assert final.content and not final.calls
    assert server.requests == 4 and set(server.authorizations) == {f"Bearer {KEY}"}
    assert {b["model"] for b in server.bodies} == {"fake-model"}


def test_local_server_without_a_key_gets_a_placeholder(server, rng, monkeypatch):
    monkeypatch.delenv("INFTOOL_TEST_KEY", raising=False)
    ToolServer(client_for(spec(server.base_url))).call(WEATHER, Call("get_weather", {"city": "x"}), GOAL, [], rng)
    assert server.authorizations == ["Bearer EMPTY"]


@pytest.mark.parametrize("mode", ["500", "429"])
def test_transient_failures_are_retried_then_succeed(server, rng, mode):
    server.fail_next(2, mode)
    client = client_for(spec(server.base_url, max_retries=2))
    result = ToolServer(client).call(WEATHER, Call("get_weather", {"city": "x"}), GOAL, [], rng)
    assert not result.error and server.requests == 3


@pytest.mark.parametrize("engine", ["lm15", "litellm"])
def test_every_endpoint_fault_is_retried_then_succeeds(rng, engine):
    """HTTP 500, a JSON body cut short, a reset connection, a completion without choices, an answer past the
    timeout, and a body that is not JSON: each is the endpoint's fault, retried, through both DSPy engines."""
    extra = {"extra_body": THINKING_OFF} if engine == "litellm" else {}
    with FakeOpenAIServer(delay_s=0.0, slow_s=1.0) as fake:
        client = client_for(spec(fake.base_url, timeout_s=0.3, max_retries=1, **extra))
        for mode in ("500", "truncated", "reset", "empty", "slow", "garbage"):
            fake.fail_next(1, mode)
            result = ToolServer(client).call(WEATHER, Call("get_weather", {"city": mode}), GOAL, [], rng)
            assert not result.error, mode
        assert fake.faults == dict.fromkeys(("500", "truncated", "reset", "empty", "slow", "garbage"), 1)
        fake.always_fail("empty")
        with pytest.raises(RoleError, match=r"failed after 2 attempt\(s\): empty answer"):
            ToolServer(client).call(WEATHER, Call("get_weather", {"city": "x"}), GOAL, [], rng)


def test_a_failing_server_gives_a_role_error_naming_the_url_after_max_retries(server, rng):
    server.always_fail("500")
    client = client_for(spec(server.base_url, max_retries=2), FailureBudget(10))
    with pytest.raises(RoleError) as raised:
        ToolServer(client).call(WEATHER, Call("get_weather", {"city": "x"}), GOAL, [], rng)
    reason = str(raised.value)
    assert server.base_url in reason and "after 3 attempt(s)" in reason and "fake server_error" in reason
    assert server.requests == 3 and client.budget.count == 1


def test_malformed_http_answer_is_not_retried(server, rng):
    server.fail_next(1, "malformed")
    with pytest.raises(RoleError, match="malformed answer from http://127.0.0.1"):
        ToolServer(client_for(spec(server.base_url))).call(WEATHER, Call("get_weather", {}), GOAL, [], rng)
    assert server.requests == 1


def test_a_dead_endpoint_names_url_and_connection_error(rng):
    url = f"http://127.0.0.1:{closed_port()}/v1"
    with pytest.raises(RoleError) as raised:
        ToolServer(client_for(spec(url, max_retries=1))).call(WEATHER, Call("get_weather", {}), GOAL, [], rng)
    assert url in str(raised.value) and "Connection refused" in str(raised.value)


def test_failure_budget_stops_the_run_past_its_cap(server, rng):
    server.always_fail("500")
    client = client_for(spec(server.base_url, max_retries=0), FailureBudget(2))
    tool_server = ToolServer(client)
    for _ in range(2):
        with pytest.raises(RoleError):
            tool_server.call(WEATHER, Call("get_weather", {}), GOAL, [], rng)
    with pytest.raises(StageError, match="LM failures exceeded the cap of 2") as raised:
        tool_server.call(WEATHER, Call("get_weather", {}), GOAL, [], rng)
    assert server.base_url in str(raised.value)
    with pytest.raises(StageError):  # stopped: no further requests
        tool_server.call(WEATHER, Call("get_weather", {}), GOAL, [], rng)
    assert server.requests == 3


def test_failure_budget_is_thread_safe():
    budget, stops = FailureBudget(50), []

    def fail() -> None:
        for _ in range(10):
            try:
                budget.record("boom")
            except StageError:
                stops.append(1)

    threads = [threading.Thread(target=fail) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert budget.count == 80 and len(stops) == 30


def test_a_slow_server_beyond_the_timeout_is_a_role_error(rng):
    with FakeOpenAIServer(delay_s=1.5) as slow:
        client = client_for(spec(slow.base_url, timeout_s=0.2, max_retries=0))
        start = time.perf_counter()
        with pytest.raises(RoleError, match="timeout") as raised:
            ToolServer(client).call(WEATHER, Call("get_weather", {}), GOAL, [], rng)
        assert time.perf_counter() - start < 1.2 and slow.base_url in str(raised.value)


def test_concurrent_calls_overlap(rng):
    with FakeOpenAIServer(delay_s=0.3) as fake:
        tool_server = ToolServer(client_for(spec(fake.base_url, concurrency=16)))
        start = time.perf_counter()
        with ThreadPoolExecutor(16) as pool:
            results = list(pool.map(lambda i: tool_server.call(WEATHER, Call("get_weather", {"city": str(i)}), GOAL,
                                                               [], random.Random(i)), range(16)))
        assert time.perf_counter() - start < 2.0 and all(not r.error for r in results) and fake.requests == 16


def test_the_api_key_is_never_logged_nor_in_errors(server, rng, monkeypatch, caplog):
    monkeypatch.setenv("INFTOOL_TEST_KEY", KEY)
    caplog.set_level(logging.DEBUG)
    client = client_for(spec(server.base_url, max_retries=1), FailureBudget(3))
    messages = []
    ToolServer(client).call(WEATHER, Call("get_weather", {"city": "x"}), GOAL, [], rng)
    for mode, count in (("500", 2), ("garbage", 2), ("malformed", 1), ("429", 2)):
        server.fail_next(count, mode)
        with pytest.raises((RoleError, StageError)) as raised:
            ToolServer(client).call(WEATHER, Call("get_weather", {"city": mode}), GOAL, [], rng)
        messages += [str(raised.value), repr(raised.value), str(raised.value.__context__)]
    assert isinstance(raised.value, StageError)
    dead = client_for(spec(f"http://127.0.0.1:{closed_port()}/v1", max_retries=0))
    with pytest.raises(RoleError) as raised:
        ToolServer(dead).call(WEATHER, Call("get_weather", {}), GOAL, [], rng)
    messages += [str(raised.value), str(raised.value.__context__)]
    assert f"Bearer {KEY}" in server.authorizations  # the key was used...
    assert KEY not in caplog.text and not any(KEY in m for m in messages)  # ...and never shown
    assert KEY not in str(client.lm.dump_state())


def test_redaction_of_a_key_echoed_by_an_endpoint():
    client = LMClient(DummyLM([]), secrets=[KEY])
    assert client.failure(f"server said: bad key {KEY}").args[0] == "server said: bad key ***"


def test_role_factory_shares_one_budget_capped_by_the_strictest_spec(server):
    factory = RoleFactory()
    loose, strict = spec(server.base_url, max_failures=9), spec(server.base_url, model="other", max_failures=3)
    user, tool_server = factory.build("user", loose, "Be brief."), factory.build("server", strict)
    assert user.client.budget is tool_server.client.budget is factory.budget and factory.budget.cap == 3
    assert user.signature.instructions == "Be brief." and factory.build("assistant", loose).client is user.client
    with pytest.raises(UsageError, match="unknown role"):
        factory.build("judge", loose)


# --- request fields: top_p, seed, extra_body ----------------------------------------------------------------

THINKING_OFF = {"chat_template_kwargs": {"enable_thinking": False}}


def test_top_p_and_seed_reach_the_request_body(server, rng):
    client = client_for(spec(server.base_url, top_p=0.9, seed=11))
    ToolServer(client).call(WEATHER, Call("get_weather", {"city": "x"}), GOAL, [], rng)
    [body] = server.bodies
    assert (body["top_p"], body["seed"], body["temperature"]) == (0.9, 11, 0.8) and "chat_template_kwargs" not in body


def test_extra_body_is_merged_into_every_request_body_and_failures_are_still_retried(server, rng):
    client = client_for(spec(server.base_url, top_p=0.5, seed=3, extra_body=THINKING_OFF, max_retries=2))
    server.fail_next(1, "500")
    user, tool_server = UserSimulator(client), ToolServer(client)
    assert user.request(GOAL, {"get_weather": WEATHER}, rng)
    assert not tool_server.call(WEATHER, Call("get_weather", {"city": "x"}), GOAL, [], rng).error
    assert server.requests == 3 and len(server.bodies) == 2
    for body in server.bodies:
        assert body["chat_template_kwargs"] == {"enable_thinking": False}
        assert (body["top_p"], body["seed"], body["model"]) == (0.5, 3, "fake-model")


def test_extra_body_with_a_dead_endpoint_names_the_url(rng):
    url = f"http://127.0.0.1:{closed_port()}/v1"
    with pytest.raises(RoleError) as raised:
        ToolServer(client_for(spec(url, max_retries=0, extra_body=THINKING_OFF))).call(
            WEATHER, Call("get_weather", {}), GOAL, [], rng)
    assert url in str(raised.value) and "failed after 1 attempt(s)" in str(raised.value)


def test_extra_body_may_not_set_what_inftool_sets():
    with pytest.raises(ValueError, match="'temperature' is set by inftool in every request"):
        spec("http://127.0.0.1:1/v1", extra_body={"temperature": 0.0})


def test_the_evaluation_endpoint_sends_top_p_seed_and_extra_body(server):
    from inftool.evaluate.runner import Item, endpoint_policy

    item = Item("heldout", "single", "e1", [{"role": "user", "content": "Weather in Oslo?"}], [WEATHER.to_openai()],
                [WEATHER.to_openai()["function"]], [])
    answer = endpoint_policy(spec(server.base_url, top_p=0.7, seed=5, extra_body=THINKING_OFF))(item)
    assert answer["tool_calls"][0]["function"]["name"] == "get_weather"
    plain = endpoint_policy(spec(server.base_url))(item)
    assert plain["tool_calls"]
    with_fields, without = server.bodies
    assert (with_fields["top_p"], with_fields["seed"], with_fields["temperature"]) == (0.7, 5, 0.0)
    assert with_fields["chat_template_kwargs"] == {"enable_thinking": False}
    assert not {"top_p", "seed", "chat_template_kwargs"} & set(without)
