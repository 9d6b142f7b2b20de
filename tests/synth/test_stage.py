"""The synthesis stage end to end: real roles, gates and DuckDB store; determinism, resume, LM paths."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inftool.compile import compile_recipe
from inftool.errors import StageError
from inftool.spec import load_recipe
from inftool.store import Store
from inftool.synth import run_stage, synthesize as synthesize_module
from inftool.testing import FakeOpenAIServer

REPO = Path(__file__).resolve().parents[2]
TRAVEL = REPO / "catalog" / "travel.yaml"


def recipe(write, run_dir: str, extra: str = "") -> tuple:
    path = write(f"{run_dir}.yaml", f"""
        name: stage
        seed: 3
        run_dir: {run_dir}
        catalogs: [{{source: openai, path: {TRAVEL}}}]
        loop: {{episodes_per_iteration: 120}}
        evaluate: {{bfcl: [], heldout: 0.25}}
    """ + extra)
    loaded = load_recipe(path)
    return loaded, compile_recipe(loaded)


def stored(run_dir: Path) -> dict[int, tuple]:
    with Store.open(run_dir, read_only=True) as store:
        columns, rows = store.query("SELECT idx, episode_id, messages, accepted, split FROM episodes ORDER BY idx")
    return {row[0]: (row[1], json.loads(row[2]), row[3], row[4]) for row in rows}


def test_procedural_stage_stores_verified_episodes_with_all_gates(write, tmp_path):
    loaded, compiled = recipe(write, "a")
    report = run_stage(loaded, compiled)
    assert (report.written, report.already_stored) == (120, 0)
    assert report.accepted >= 110 and set(report.rejected) <= {"dedup"}
    with Store.open(tmp_path / "a", read_only=True) as store:
        rates = {(r.gate, r.complexity): r.pass_rate for r in store.gate_pass_rates()}
        _, complexities = store.query("SELECT DISTINCT complexity FROM episodes")
        _, splits = store.query("SELECT split, count(*) FROM episodes GROUP BY split")
    assert {c for (c,) in complexities} == {"single", "parallel", "multiple", "parallel_multiple", "multi_step",
                                            "multi_turn", "irrelevance"}
    assert all(rates[(gate, c)] == 1.0 for gate, c in rates if gate != "dedup")
    assert 10 <= dict(splits)["heldout"] <= 50  # heldout share 0.25 of 120


def test_near_miss_irrelevance_episodes_pass_the_gates_and_ask_for_a_tool_not_offered(write, tmp_path):
    """``scenarios.near_miss: 1``: every irrelevance episode asks for what its target does, the target is not
    offered, the assistant declines, and the gates accept it."""
    loaded, compiled = recipe(write, str(tmp_path / "near"), """
        scenarios: {mix: {single: 0.5, irrelevance: 0.5}, near_miss: 1.0}
    """)
    run_stage(loaded, compiled)
    with Store.open(tmp_path / "near", read_only=True) as store:
        episodes = [e for e in store.episodes(store.current_run()) if e["complexity"] == "irrelevance"]
    assert len(episodes) >= 40 and all(e["accepted"] for e in episodes)
    for episode in episodes:
        assert episode["goal"]["topic"] == episode["tool"] and episode["tool"] not in episode["offered"]
        assert not any(m.get("tool_calls") for m in episode["messages"])


def test_same_recipe_and_seed_give_identical_episodes(write, tmp_path):
    for name in ("one", "two"):
        run_stage(*recipe(write, name))
    assert stored(tmp_path / "one") == stored(tmp_path / "two")


def test_interrupted_stage_resumes_without_duplicates_or_changes(write, tmp_path, monkeypatch):
    run_stage(*recipe(write, "whole"))
    monkeypatch.setattr(synthesize_module, "BATCH", 25)
    loaded, compiled = recipe(write, "cut")
    written = []

    def interrupt(n: int) -> None:
        written.append(n)
        if sum(written) >= 50:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_stage(loaded, compiled, progress=interrupt)
    partial = stored(tmp_path / "cut")
    assert len(partial) % 25 == 0 and 0 < len(partial) < 120  # whole batches only
    report = run_stage(loaded, compiled)
    assert report.already_stored == len(partial) and report.written == 120 - len(partial)
    assert stored(tmp_path / "cut") == stored(tmp_path / "whole")  # same episodes as an uninterrupted run
    again = run_stage(loaded, compiled)
    assert (again.written, again.already_stored) == (0, 120)


def test_lm_assistant_over_http_gets_gate_verdicts_not_crashes(write, tmp_path):
    with FakeOpenAIServer(delay_s=0.0) as server:
        loaded, compiled = recipe(write, "lm", f"""
        models:
          synth: {{backend: procedural}}
          teacher: {{backend: openai, model: fake-model, base_url: "{server.base_url}", concurrency: 8}}
          policy: {{backend: local}}
        roles: {{assistant: {{model: teacher}}}}
        """)
        report = run_stage(loaded, compiled, episodes=24)
        assert server.requests > 24
    assert report.written == 24
    episodes = stored(tmp_path / "lm")
    assert all(messages[0]["role"] == "user" for _, messages, _, _ in episodes.values())
    with Store.open(tmp_path / "lm", read_only=True) as store:
        _, reasons = store.query("SELECT failed_gate, reason FROM episodes WHERE NOT accepted")
    assert reasons and all(gate and reason for gate, reason in reasons)  # every rejection says why


def test_malformed_lm_answers_are_format_failures_and_a_dead_endpoint_stops_the_stage(write, tmp_path):
    with FakeOpenAIServer(delay_s=0.0) as server:
        extra = f"""
        models:
          synth: {{backend: procedural}}
          teacher: {{backend: openai, model: fake-model, base_url: "{server.base_url}", max_retries: 0,
                     max_failures: 200, concurrency: 4}}
          policy: {{backend: local}}
        roles: {{assistant: {{model: teacher}}}}
        """
        loaded, compiled = recipe(write, "bad", extra)
        server.always_fail("garbage")
        report = run_stage(loaded, compiled, episodes=6)
        assert report.rejected == {"format": 6}
        with Store.open(tmp_path / "bad", read_only=True) as store:
            _, reasons = store.query("SELECT reason FROM episodes")
        assert all(r.startswith("role-play failed: ") for (r,) in reasons)

        loaded, compiled = recipe(write, "dead", extra.replace("max_failures: 200", "max_failures: 3"))
        server.always_fail("500")
        with pytest.raises(StageError, match="LM failures exceeded the cap of 3"):
            run_stage(loaded, compiled, episodes=40)


def test_a_custom_dspy_engine_plays_the_server(write, tmp_path):
    loaded, compiled = recipe(write, "engine", """
        models:
          synth: {backend: procedural}
          sim: {backend: engine, factory: "inftool.testing:fake_engine"}
          policy: {backend: local}
        roles: {server: {model: sim}}
    """)
    report = run_stage(loaded, compiled, episodes=10)
    assert report.written == 10
    tool_messages = [m for _, messages, _, _ in stored(tmp_path / "engine").values() for m in messages if m["role"] == "tool"]
    assert tool_messages and all(isinstance(json.loads(m["content"]), (dict, list, str, int, float)) for m in tool_messages)
