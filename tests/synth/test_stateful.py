"""Stateful synthesis on BFCL's executed environments: goals planned on live worlds over several user turns, every
call answered by the episode's own environment, and the state gate.

- every tool of the eight environments can be planned, and every chain names real methods;
- the procedural teacher's episodes pass every gate (the state gate included) on all eight environments;
- the same seed gives the same episodes; other scenario kinds keep their goal JSON and gates;
- every result shown is the environment's real output, and the world ends in the planned state;
- later calls use earlier results (each link's value is in the real result of an earlier call);
- a tampered result, a wrong final state and a goal whose digest was changed are rejected with their reasons;
- the episodes export (OpenAI messages, MCP transcripts), and the LM user can open later turns;
- no request repeats BFCL multi-turn question text (the worlds and asks are generated, not copied).
"""

from __future__ import annotations

import copy
import json
import random
import re
from collections import Counter

import pytest
from dspy.utils import DummyLM

from inftool.catalog import Catalog, read_bfcl_envs
from inftool.catalog.bfcl_data import bfcl_data
from inftool.compile import compile_recipe
from inftool.core.episode import Episode
from inftool.envs import load_env, result_data, state_digest
from inftool.envs.bfcl import ENV_NAMES
from inftool.errors import RecipeError, UsageError
from inftool.export.chat import mcp_record, openai_record
from inftool.export.options import Options
from inftool.spec import load_recipe
from inftool.synth.roles.lm_roles import UserSimulator
from inftool.synth.synthesize import Synthesizer
from inftool.synth.verify.state import shown_results
from inftool.synth.worlds import WORLDS, StatefulPlanner
from inftool.synth.worlds.base import field_path

RECIPE = """\
name: stateful
seed: 11
catalogs:
  - {{source: bfcl_env{extra}}}
scenarios:
  mix: {mix}
loop: {{iterations: 1, episodes_per_iteration: 400}}
evaluate: {{bfcl: [], heldout: 0.1}}
"""
N = 400


pytestmark = pytest.mark.usefixtures("bfcl_available")


def synthesizer(tmp_path, mix: str = "{stateful: 1.0}", extra: str = "", seed: int = 11) -> Synthesizer:
    path = tmp_path / f"r{seed}{abs(hash((mix, extra)))}.yaml"
    path.write_text(RECIPE.format(mix=mix, extra=extra).replace("seed: 11", f"seed: {seed}"))
    loaded = load_recipe(path, [f"run_dir={tmp_path / 'run'}"])
    return Synthesizer(loaded, compile_recipe(loaded), "test-run")


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> tuple[Synthesizer, list[Episode]]:
    synth = synthesizer(tmp_path_factory.mktemp("stateful"))
    return synth, list(synth.run(0, list(range(N))))


def test_every_environment_tool_can_be_planned_and_chains_name_real_methods():
    tools = list(Catalog(read_bfcl_envs(list(ENV_NAMES)).tools))
    assert set(WORLDS) == set(ENV_NAMES)
    assert StatefulPlanner(tools).unplannable([t.name for t in tools]) == []
    for name, module in WORLDS.items():
        methods = set(load_env(f"bfcl_env:{name}").method_names)
        for chain in module.CHAINS:
            assert chain.covers <= methods, (name, chain.name, chain.covers - methods)


def test_procedural_episodes_pass_every_gate_on_all_eight_environments(made):
    _, episodes = made
    rejected = [(e.goal.env, e.rejection) for e in episodes if not e.accepted]
    assert [r for r in rejected if r[1].gate != "dedup"] == []
    assert len(rejected) <= len(episodes) // 100  # two short requests can come out alike: the dedup gate's job
    assert {e.goal.env for e in episodes} == {f"bfcl_env:{n}" for n in ENV_NAMES}
    assert all([v.gate for v in e.verdicts] == ["format", "schema", "execution", "state", "consistency", "dedup"]
               for e in episodes if e.accepted)
    for episode in episodes:
        users = [m for m in episode.messages if m["role"] == "user"]
        assert len(users) == len(episode.goal.turns) >= 1  # one user message opens each turn
        assert sum(t.steps for t in episode.goal.turns) == len(episode.goal.steps)
        assert episode.request == "\n".join(m["content"] for m in users)
    assert len({c.name for e in episodes for c in e.goal.calls}) > 100  # most of the 128 tools get called


def test_the_same_seed_gives_the_same_episodes(made, tmp_path):
    _, episodes = made
    again = list(synthesizer(tmp_path).run(0, list(range(60))))
    assert [(e.messages, e.goal.to_json()) for e in again] == [(e.messages, e.goal.to_json()) for e in episodes[:60]]
    other = list(synthesizer(tmp_path, seed=12).run(0, list(range(20))))
    assert [e.messages for e in other] != [e.messages for e in episodes[:20]]


def test_results_shown_are_the_environments_real_outputs_and_the_world_ends_as_planned(made):
    synth, episodes = made
    for episode in episodes[:150]:
        goal = episode.goal
        world = load_env(goal.env)
        world.reset(goal.initial_state)
        for call, text in shown_results(episode.messages):
            assert text == world.call(synth.catalog[call.name].original_name, call.arguments)
        assert world.state() == episode.final_state
        assert state_digest(world.state()) == goal.final_state


def test_later_calls_use_earlier_results(made):
    _, episodes = made
    linked = 0
    for episode in episodes:
        shown = [result_data(text) for _, text in shown_results(episode.messages)]
        for link in episode.goal.links:
            assert link.from_step < link.to_step
            value = episode.goal.steps[link.to_step][0].arguments[link.argument]
            assert field_path(shown[link.from_step], value) is not None, (episode.goal.target, link)
            linked += 1
    with_links = sum(bool(e.goal.links) for e in episodes)
    assert linked > N and with_links > 0.7 * N


def test_find_then_cd_then_mv_takes_the_folder_from_finds_result(made):
    _, episodes = made
    moves = [e for e in episodes
             if [c.name for c in e.goal.calls][:2] == ["find", "cd"] and e.goal.calls[-1].name == "mv"]
    assert moves
    for episode in moves:
        shown = shown_results(episode.messages)
        match = json.loads(shown[0][1])["matches"][0]  # './<folder>/.../<file>'
        folders = [c.arguments["folder"] for c in episode.goal.calls if c.name == "cd"]
        assert match.split("/")[1:-1] == folders
        assert episode.goal.calls[-1].arguments["source"] == match.split("/")[-1]


def fresh_verifier(synth: Synthesizer):
    from inftool.synth.verify.dedup import Deduplicator
    from inftool.synth.verify.gates import Verifier

    return Verifier(synth.catalog, ["format", "schema", "execution", "consistency", "dedup"], synth.verifier.checks,
                    Deduplicator(0.9))


def test_a_tampered_result_is_rejected_by_the_state_gate(made):
    synth, episodes = made
    episode = copy.deepcopy(next(e for e in episodes if e.goal.env == "bfcl_env:trading_bot"))
    tool = next(m for m in episode.messages if m["role"] == "tool")
    tool["content"] = tool["content"].replace("1", "7") if "1" in tool["content"] else tool["content"] + " "
    verdicts = fresh_verifier(synth).verify(episode)
    assert (verdicts[-1].gate, verdicts[-1].passed) == ("state", False)
    assert "is not the environment's output" in verdicts[-1].reason


def test_a_wrong_final_state_is_rejected_by_the_state_gate(made):
    synth, episodes = made
    episode = copy.deepcopy(next(e for e in episodes if e.goal.env == "bfcl_env:gorilla_file_system"))
    world = load_env(episode.goal.env)
    world.reset(episode.goal.initial_state)
    world.call("mkdir", {"dir_name": "not_planned"})  # a world the conversation's calls never made
    episode.final_state = world.state()
    verdict = fresh_verifier(synth).verify(episode)[-1]
    assert (verdict.gate, verdict.passed) == ("state", False)
    assert "final state differs" in verdict.reason and "not_planned" in verdict.reason

    episode.final_state = None
    assert "no final state" in fresh_verifier(synth).verify(episode)[-1].reason


def test_a_goal_whose_planned_digest_was_changed_is_rejected(made):
    synth, episodes = made
    episode = copy.deepcopy(episodes[0])
    episode.goal.final_state = "0" * 16
    verdict = fresh_verifier(synth).verify(episode)[-1]
    assert (verdict.gate, verdict.passed) == ("state", False) and "digest" in verdict.reason


def test_calls_that_differ_from_the_plan_reach_another_state(made):
    synth, episodes = made
    episode = copy.deepcopy(next(e for e in episodes if e.goal.env == "bfcl_env:ticket_api"
                                 and any(c.name == "create_ticket" for c in e.goal.calls)))
    episode.goal.steps = episode.goal.steps[:-1]  # the plan stops one call earlier than the conversation
    verdict = fresh_verifier(synth).verify(episode)[-1]
    assert (verdict.gate, verdict.passed) == ("state", False) and "final state differs" in verdict.reason


def test_other_kinds_keep_their_goal_json_and_gates(tmp_path):
    synth = synthesizer(tmp_path, mix="{single: 0.5, irrelevance: 0.2, stateful: 0.3}")
    episodes = list(synth.run(0, list(range(60))))
    kinds = Counter(e.goal.complexity for e in episodes)
    assert kinds["single"] and kinds["irrelevance"] and kinds["stateful"]
    for episode in episodes:
        stateful = episode.goal.complexity == "stateful"
        assert ("env" in episode.goal.to_json()) is stateful
        assert ("state" in [v.gate for v in episode.verdicts]) is stateful
        assert episode.accepted, episode.rejection


def test_stateful_needs_environment_tools_and_a_chain_for_each_target(tmp_path):
    path = tmp_path / "plain.yaml"
    path.write_text("name: plain\ncatalogs:\n  - {source: bfcl, categories: [simple_python], limit: 5}\n"
                    "scenarios:\n  mix: {single: 0.5, stateful: 0.5}\n")
    with pytest.raises(RecipeError, match="stateful"):
        compile_recipe(load_recipe(path))
    with pytest.raises(UsageError, match="stateful scenarios cannot be planned for 1 tools: rm"):
        synthesizer(tmp_path, extra=", envs: [gorilla_file_system], include: [rm]")


def test_stateful_episodes_export_as_openai_messages_and_mcp_transcripts(made):
    _, episodes = made
    options = Options()
    for episode in episodes[:40]:
        stored = {"episode_id": episode.id, "messages": episode.messages, "tools": episode.tools}
        record = openai_record(stored, 0, options)
        assert [m["role"] for m in record["messages"]] == [m["role"] for m in episode.messages]
        transcript = mcp_record(stored, 0, options)["transcript"]
        texts = [t["result"]["content"][0]["text"] for t in transcript[2:] if "result" in t]
        refusals = [result_data(text) for _, text in shown_results(episode.messages)]  # {"error": x} shows x
        assert texts == [str(r["error"]) if isinstance(r, dict) and set(r) == {"error"} else text
                         for r, (_, text) in zip(refusals, shown_results(episode.messages), strict=True)]
        json.dumps(transcript)


def test_the_lm_user_opens_later_turns_with_only_that_turns_part(made):
    _, episodes = made
    goal = next(e.goal for e in episodes if len(e.goal.turns) >= 2)
    lm = DummyLM([{"message": "Now the second part, please."}])
    text = UserSimulator(lm).follow_up(goal, 1, [{"role": "user", "content": "first"}], random.Random(0))
    sent = "\n".join(m["content"] for m in lm.history[-1]["messages"])
    assert text == "Now the second part, please."
    assert goal.turns[1].ask in sent and "2 of" in sent and goal.turns[0].ask not in sent


def grams(text: str, n: int = 8) -> set[tuple[str, ...]]:
    words = re.findall(r"[a-z0-9]+", text.lower())
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def test_no_request_repeats_bfcl_multi_turn_question_text(made):
    _, episodes = made
    questions = set()
    for category in ("multi_turn_base", "multi_turn_miss_func", "multi_turn_miss_param", "multi_turn_long_context"):
        for entry in bfcl_data().questions(category):
            questions |= {g for turn in entry["question"] for m in turn for g in grams(m.get("content") or "")}
    shared = [(e.request, g) for e in episodes for g in grams(e.request) & questions]
    assert shared == []


def test_a_goal_no_world_could_serve_is_a_rejected_episode_with_its_reason(tmp_path, monkeypatch):
    from inftool.synth import worlds

    monkeypatch.setattr(worlds, "ATTEMPTS", 0)  # no world may be drawn: planning cannot succeed
    synth = synthesizer(tmp_path)
    episode = next(synth.run(0, [0]))
    rejection = episode.rejection
    assert rejection.gate == "format" and "planning failed: no stateful goal calling" in rejection.reason


def test_lm_roles_play_stateful_goals_against_the_environment(tmp_path):
    path = tmp_path / "lm.yaml"
    path.write_text("name: lmstate\nseed: 2\ncatalogs:\n"
                    "  - {source: bfcl_env, envs: [gorilla_file_system, ticket_api]}\n"
                    "models:\n  policy: {backend: local, model: tiny-scratch}\n"
                    "  lm: {backend: engine, factory: 'inftool.testing:fake_engine', "
                    "options: {supports_function_calling: true}}\n"
                    "roles: {user: {model: lm}, assistant: {model: lm}, server: {model: lm}}\n"
                    "scenarios:\n  mix: {stateful: 1.0}\n")
    loaded = load_recipe(path, [f"run_dir={tmp_path / 'run'}"])
    synth = Synthesizer(loaded, compile_recipe(loaded), "lm-run")
    episodes = list(synth.run(0, list(range(4))))
    for episode in episodes:
        assert episode.error is None and len([m for m in episode.messages if m["role"] == "user"]) >= 2
        world = load_env(episode.goal.env)
        world.reset(episode.goal.initial_state)
        shown = shown_results(episode.messages)
        assert shown and [text for _, text in shown] == [world.call(c.name, c.arguments) for c, _ in shown]
    assert {e.rejection.gate for e in episodes} <= {"state", "consistency"}  # a scripted LM does not follow the plan
