"""The run store on real DuckDB files: round trips, idempotent writes, atomic batches, views."""

from __future__ import annotations

import duckdb
import pytest

from inftool.catalog.tool import Catalog, Tool
from inftool.compile import compile_recipe
from inftool.compile.plan import ScenarioCell
from inftool.core.episode import Call, Episode, Goal, Verdict
from inftool.errors import StageError, UsageError
from inftool.spec import load_recipe
from inftool.store import SCHEMA_VERSION, Store, rows

GATES = ["format", "schema", "execution", "consistency", "dedup"]


@pytest.fixture
def plan(write, tools_file):
    recipe = write("demo.yaml", "name: demo\nseed: 3\ncatalogs:\n  - {source: openai, path: cat/tools.yaml}\n")
    return compile_recipe(load_recipe(recipe)).plan


def tool(name: str, properties: dict) -> Tool:
    return Tool(name=name, original_name=name.replace("_", "."), description=f"{name} tool", source="test",
                parameters={"type": "object", "properties": properties})


CATALOG = Catalog([
    tool("get_weather", {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["c", "f"]}}),
    tool("convert_currency", {"amount": {"type": ["number", "null"]}, "from_currency": {"type": "string"}}),
    tool("ping", {}),
])


def episode(eid: str, complexity: str, target: str, outcome: str | int | None, *, index: int = 0, iteration: int = 0,
            split: str = "train", verdicts: list[Verdict] | None = None) -> Episode:
    """An episode whose gates all pass (outcome None), fail at gate number ``outcome``, or error ('error')."""
    call = Call(target, {"city": "Paris", "n": [1, 2.5, None], "note": "é ✓"})
    goal = Goal(complexity=complexity, target=target, offered=[target, "ping"],
                steps=[[call, call], [Call("ping", {})]], persona="a traveller")
    messages = [
        {"role": "system", "content": "You call tools."},
        {"role": "user", "content": f"request {eid}: weather in Paris?"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": target, "arguments": '{"city": "Paris"}'}}]},
        {"role": "tool", "tool_call_id": "c1", "content": '{"temp": 21}'},
        {"role": "assistant", "content": "It is 21 °C."},
    ]
    if verdicts is None:
        if outcome == "error":
            verdicts = []
        else:
            ran = GATES if outcome is None else GATES[: outcome + 1]
            verdicts = [Verdict(g, outcome is None or i < outcome, "" if outcome is None or i < outcome else f"bad {g}")
                        for i, g in enumerate(ran)]
    return Episode(id=eid, iteration=iteration, index=index, goal=goal, messages=messages,
                   tools=[CATALOG[target].to_openai()], verdicts=verdicts, split=split,
                   error="LM timed out" if outcome == "error" else None)


# The hand-computed example: 4 scenario cells (weights 2, 2, 1, 1 of 6), 8 episodes in iteration 0.
CELLS = [ScenarioCell(complexity="single", tool="get_weather", weight=2.0),
         ScenarioCell(complexity="single", tool="convert_currency", weight=2.0),
         ScenarioCell(complexity="multiple", tool="ping", weight=1.0),
         ScenarioCell(complexity="multiple", tool="get_weather", weight=1.0)]
EPISODES = [
    episode("e1", "single", "get_weather", None, index=0),
    episode("e2", "single", "get_weather", 1, index=1),        # schema fails
    episode("e3", "single", "get_weather", "error", index=2),  # role-play failed, no gate ran
    episode("e4", "single", "convert_currency", None, index=3),
    episode("e5", "single", "convert_currency", 3, index=4),   # consistency fails
    episode("e6", "single", "convert_currency", 3, index=5),
    episode("e7", "single", "convert_currency", 1, index=6),
    episode("e8", "multiple", "get_weather", 0, index=7),      # format fails
]


@pytest.fixture
def store(tmp_path, plan):
    with Store.open(tmp_path / "run") as s:
        run_id = s.ensure_run(plan)
        s.write_catalog(run_id, CATALOG)
        s.write_scenarios(run_id, 0, CELLS)
        s.write_episodes(run_id, EPISODES)
        yield s


def count(store: Store, sql: str) -> int:
    return store.query(sql)[1][0][0]


def test_open_creates_a_plain_duckdb_file_and_is_idempotent(tmp_path):
    for _ in range(2):
        with Store.open(tmp_path / "run") as s:
            assert s.path == tmp_path / "run" / "store.duckdb" and s.path.exists()
            assert s.query("SELECT value FROM meta WHERE key = 'schema_version'")[1] == [(str(SCHEMA_VERSION),)]
            assert s.current_run() is None and s.gaps() == [] and s.coverage() == []
    con = duckdb.connect(str(tmp_path / "run" / "store.duckdb"), read_only=True)
    tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    assert {"runs", "iterations", "tools", "scenarios", "episodes", "verdicts", "meta", "coverage", "gaps"} <= tables
    con.close()


def test_read_only_open_of_a_missing_store_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="no store yet"):
        Store.open(tmp_path / "nothing", read_only=True)


def test_a_run_is_recorded_once_and_the_newest_run_is_current(tmp_path, plan):
    with Store.open(tmp_path) as s:
        first = s.ensure_run(plan)
        assert first == plan.content_hash[:16] and s.ensure_run(plan) == first
        assert s.query("SELECT run_id, seq, name, seed FROM runs")[1] == [(first, 1, "demo", 3)]
        other = plan.model_copy(update={"content_hash": "f" * 64, "name": "demo2"})
        second = s.ensure_run(other)
        assert s.current_run() == second and s.query("SELECT name FROM current_run")[1] == [("demo2",)]
        s.ensure_run(plan)  # an older run seen again stays older
        assert s.current_run() == second


def test_catalog_stores_parameter_types_and_is_replaced(store):
    run = store.current_run()
    columns, found = store.query("SELECT name, original_name, param_names, param_types, parameters->>'$.type' "
                                 "FROM tools ORDER BY name")
    assert found == [("convert_currency", "convert.currency", ["amount", "from_currency"], ["number", "string"],
                      "object"),
                     ("get_weather", "get.weather", ["city", "unit"], ["string", "string"], "object"),
                     ("ping", "ping", [], [], "object")]
    odd = tool("odd", {"a": {}, "b": {"anyOf": [{"type": "null"}, {"type": "integer"}]},
                       "c": {"type": ["null", "boolean"]}})
    store.write_catalog(run, [odd])
    assert store.query("SELECT name, param_types FROM tools")[1] == [("odd", ["any", "integer", "boolean"])]


def test_episodes_round_trip(store):
    run = store.current_run()
    rows = {r["episode_id"]: r for r in store.episodes(run, accepted=None)}
    assert list(rows) == [f"e{i}" for i in range(1, 9)]  # (iteration, index) order
    for original in EPISODES:
        row = rows[original.id]
        assert row["messages"] == original.messages
        assert row["tools"] == original.tools
        assert row["goal"] == original.goal.to_json()
        assert row["request"] == original.request and row["request"].startswith(f"request {original.id}")
        assert row["called_tools"] == [original.goal.target, "ping"] and row["offered"] == original.goal.offered
        assert (row["run_id"], row["iteration"], row["idx"], row["persona"]) == (run, 0, original.index, "a traveller")
        assert row["accepted"] is original.accepted
        rejection = original.rejection
        failure = (rejection.gate, rejection.reason) if rejection else (None, None)
        assert (row["failed_gate"], row["reason"]) == failure
        assert row["error"] == original.error and row["split"] == "train"
        stored = [(v.gate, v.passed, v.reason) for v in store.verdicts(original.id)]
        assert stored == [(v.gate, v.passed, v.reason) for v in original.verdicts]
    assert [r["episode_id"] for r in store.episodes(run)] == ["e1", "e4"]
    assert [r["episode_id"] for r in store.episodes(run, split="heldout", accepted=None)] == []
    assert store.accepted_requests(run) == [("e1", "request e1: weather in Paris?"),
                                            ("e4", "request e4: weather in Paris?")]
    assert store.existing_indices(run, 0) == set(range(8)) and store.existing_indices(run, 1) == set()


def test_rewriting_episodes_does_not_duplicate(store):
    run = store.current_run()
    assert store.write_episodes(run, EPISODES) == 0
    fresh = episode("e9", "single", "ping", None, index=8, split="heldout")
    assert store.write_episodes(run, [EPISODES[0], fresh, fresh]) == 1  # repeated id in one batch kept once
    assert count(store, "SELECT count(*) FROM episodes") == 9
    assert count(store, "SELECT count(*) FROM verdicts") == 5 + 2 + 5 + 4 + 4 + 2 + 1 + 5
    assert [r["episode_id"] for r in store.episodes(run, split="heldout")] == ["e9"]
    # a re-run that judged an old episode differently changes nothing of it
    changed = episode("e1", "single", "get_weather", 0, index=0)
    assert store.write_episodes(run, [changed]) == 0
    assert [v.gate for v in store.verdicts("e1")] == GATES


@pytest.mark.parametrize("bad", [
    # fails in the second statement (verdicts), after the episodes went in: the same gate twice
    episode("x2", "single", "ping", None, index=11, verdicts=[Verdict("format", True), Verdict("format", True)]),
    # fails in the first statement (episodes): split must be train or heldout
    episode("x2", "single", "ping", None, index=11, split="validation"),
], ids=["verdicts", "episodes"])
def test_a_failing_batch_writes_nothing_and_keeps_earlier_batches(store, bad):
    run = store.current_run()
    before = store.query("SELECT count(*) FROM episodes UNION ALL SELECT count(*) FROM verdicts")[1]
    good = episode("x1", "single", "ping", None, index=10)
    with pytest.raises(StageError, match="could not write 2 episodes"):
        store.write_episodes(run, [good, bad])
    assert store.query("SELECT count(*) FROM episodes UNION ALL SELECT count(*) FROM verdicts")[1] == before
    assert store.existing_indices(run, 0) == set(range(8)) and store.verdicts("x1") == []
    assert store.write_episodes(run, [good]) == 1  # the store is still usable


def test_a_failing_batch_of_a_resumed_run_writes_nothing_either(store):
    run = store.current_run()
    bad = episode("x2", "single", "ping", None, index=11, verdicts=[Verdict("format", True), Verdict("format", False)])
    with pytest.raises(StageError, match="could not write 3 episodes.*duplicate key \"x2, format\""):
        store.write_episodes(run, [EPISODES[0], episode("x1", "single", "ping", None, index=10), bad])
    assert store.existing_indices(run, 0) == set(range(8))


def test_coverage_counts_accepted_episodes_per_parameter_type(store):
    assert [tuple(r) for r in store.coverage()] == [
        ("convert_currency", "single", "number", 1),
        ("convert_currency", "single", "string", 1),
        ("get_weather", "multiple", "string", 0),  # two string parameters, counted once
        ("get_weather", "single", "string", 1),
        ("ping", "multiple", "none", 0),           # no parameters, no episodes
    ]
    assert [tuple(r) for r in store.coverage_cells()] == [
        ("convert_currency", "single", 1, 3, 4), ("get_weather", "multiple", 0, 1, 1),
        ("get_weather", "single", 1, 2, 3), ("ping", "multiple", 0, 0, 0)]


def test_gaps_rank_most_rejected_and_least_covered_first(store):
    gaps = store.gaps()
    # n = 8 episodes; expected = 8 * weight / 6
    assert [(g.rank, g.complexity, g.tool, g.accepted, g.rejected, g.top_reason, g.top_reason_count) for g in gaps] == [
        (1, "multiple", "get_weather", 0, 1, "format", 1),        # score 1 + 1
        (2, "single", "convert_currency", 1, 3, "consistency", 2),  # (1 - 1/(8/3)) + 3/4
        (3, "single", "get_weather", 1, 2, "error", 1),           # (1 - 1/(8/3)) + 2/3; error/schema tie: alphabetical
        (4, "multiple", "ping", 0, 0, None, None),                # no episode at all: 1 + 0
    ]
    assert [g.expected for g in gaps] == pytest.approx([8 / 6, 16 / 6, 16 / 6, 8 / 6])
    assert [g.coverage_ratio for g in gaps] == pytest.approx([0, 0.375, 0.375, 0])
    assert [g.rejection_rate for g in gaps[:3]] == pytest.approx([1, 0.75, 2 / 3]) and gaps[3].rejection_rate is None
    assert [g.score for g in gaps] == pytest.approx([2, 1.375, 0.625 + 2 / 3, 1])
    assert {g.iteration for g in gaps} == {0} and len(store.gaps(limit=2)) == 2


def test_gaps_follow_the_latest_iteration(store):
    run = store.current_run()
    store.write_scenarios(run, 1, CELLS[:2])
    store.write_scenarios(run, 1, CELLS[1:3])  # replaces iteration 1's cells
    store.write_episodes(run, [episode("n1", "single", "convert_currency", None, iteration=1, index=0),
                               episode("n2", "single", "convert_currency", None, iteration=1, index=1)])
    gaps = store.gaps()
    assert [(g.iteration, g.tool, g.accepted, g.rejected) for g in gaps] == [
        (1, "ping", 0, 0), (1, "convert_currency", 2, 0)]
    assert gaps[1].expected == pytest.approx(2 * 2 / 3) and gaps[1].score == 0  # over-covered: no shortfall
    assert store.existing_indices(run, 1) == {0, 1}
    assert [eid for eid, _ in store.accepted_requests(run)] == ["e1", "e4", "n1", "n2"]


def test_gate_pass_rates_count_only_gates_that_ran(store):
    found = [(r.gate, r.complexity, r.evaluated, r.passed) for r in store.gate_pass_rates(store.current_run())]
    assert found == [("format", "multiple", 1, 0), ("format", "single", 6, 6), ("schema", "single", 6, 4),
                     ("execution", "single", 4, 4), ("consistency", "single", 4, 2), ("dedup", "single", 2, 2)]
    assert [r.pass_rate for r in store.gate_pass_rates()] == pytest.approx([0, 1, 4 / 6, 1, 0.5, 1])
    gate, complexity, evaluated, passed, rate = store.gate_pass_rates()[0]  # rows unpack positionally too
    assert (gate, evaluated) == ("format", 1)


def test_views_answer_in_a_plain_read_only_duckdb_connection(store, plan):
    path = store.path
    run = store.current_run()
    expected_gaps = [tuple(g) for g in store.gaps(limit=None)]
    # a newer run becomes current: the views answer for it, the *_of macros for any run
    store.close()
    with Store.open(path.parent) as s:
        newer = s.ensure_run(plan.model_copy(update={"content_hash": "a" * 64}))
        s.write_scenarios(newer, 0, CELLS[2:3])
    con = duckdb.connect(str(path), read_only=True)
    assert con.execute("SELECT run_id FROM current_run").fetchall() == [(newer,)]
    assert con.execute("SELECT tool, accepted, rejected FROM gaps").fetchall() == [("ping", 0, 0)]
    assert con.execute("SELECT count(*) FROM coverage").fetchone() == (1,)
    assert con.execute("SELECT * FROM gaps_of(?)", [run]).fetchall() == expected_gaps
    assert con.execute("SELECT count(*) FROM gate_pass_rates").fetchone() == (0,)
    con.close()


def test_reopening_keeps_data_and_read_only_stores_refuse_writes(store):
    path, run = store.path, store.current_run()
    store.close()
    with Store.open(path.parent) as s:
        assert count(s, "SELECT count(*) FROM episodes") == 8 and s.current_run() == run
    with Store.open(path.parent, read_only=True) as s:
        assert len(s.gaps()) == 4 and s.query("SELECT count(*) FROM verdicts")[1] == [(23,)]
        with pytest.raises(UsageError, match="SQL error"):
            s.query("DELETE FROM episodes")
    with Store.open(path.parent) as s:
        assert count(s, "SELECT count(*) FROM episodes") == 8


def test_iterations_record_status_times_and_weights(store):
    run = store.current_run()
    store.start_iteration(run, 0)
    (row,) = store.iterations(run)
    assert (row.iteration, row.status, row.finished_at, row.weights) == (0, "running", None, None)
    store.finish_iteration(run, 0, "done", weights={"single/get_weather": 0.5})
    (row,) = store.iterations(run)
    assert row.status == "done" and row.started_at <= row.finished_at and row.weights == {"single/get_weather": 0.5}
    store.start_iteration(run, 0)  # resumed: weights kept, finish cleared
    (row,) = store.iterations(run)
    assert (row.status, row.finished_at, row.weights) == ("running", None, {"single/get_weather": 0.5})


def test_query_returns_columns_and_rows_and_names_sql_errors(store):
    columns, found = store.query("SELECT tool, count(*) AS n FROM episodes WHERE accepted GROUP BY tool ORDER BY tool")
    assert columns == ["tool", "n"] and found == [("convert_currency", 1), ("get_weather", 1)]
    assert store.query("SELECT ? + 1", [1])[1] == [(2,)]
    with pytest.raises(UsageError, match="SQL error: .*no_such_table"):
        store.query("SELECT * FROM no_such_table")


@pytest.mark.parametrize("fast", [True, False], ids=["orjson", "json"])
def test_json_text_is_standard_json_with_or_without_orjson(monkeypatch, fast):
    if not fast:
        monkeypatch.setattr(rows, "orjson", None)
    value = {"a": [1, 2.5, float("nan"), float("inf")], "é": "✓", 3: None, "big": 2**70}
    assert rows.loads(rows.dumps(value)) == {"a": [1, 2.5, None, None], "é": "✓", "3": None, "big": 2**70}
    assert rows.dumps({"when": rows}).startswith('{"when":"<module')  # what JSON cannot hold becomes text


def test_offered_tools_are_dumped_once_per_batch_but_never_confused():
    weather = CATALOG["get_weather"]
    other = weather.model_copy(update={"parameters": {"type": "object", "properties": {"x": {"type": "integer"}}}})
    strict = {**weather.to_openai(), "strict": True}
    cache: dict = {}
    texts = [rows.tools_json(tools, cache) for tools in
             ([weather.to_openai()], [weather.to_openai(), other.to_openai()], [strict], [{"odd": [1]}])]
    assert [rows.loads(t) for t in texts] == [[weather.to_openai()], [weather.to_openai(), other.to_openai()],
                                              [strict], [{"odd": [1]}]]
    assert len(cache) == 2  # the two well-formed entries with distinct parameters
