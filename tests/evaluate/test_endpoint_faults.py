"""An endpoint's faults are never a model's verdict: `inftool eval` through a local endpoint that fails at random
gives the verdicts of a clean run, and what still fails is stored as not evaluated, out of accuracy, and fails the
stage past `evaluate.max_not_evaluated`."""

from __future__ import annotations

import json
import shutil
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from inftool.cli import main
from inftool.errors import DataUnavailableError
from inftool.evaluate import runner
from inftool.evaluate.endpoint import Backoff, EndpointPolicy, NotEvaluated
from inftool.spec.backends import OpenAIModelSpec
from inftool.store import Store
from inftool.testing import ENDPOINT_FAULTS, FakeOpenAIServer

REPO = Path(__file__).resolve().parents[2]
TRAVEL = REPO / "catalog" / "travel.yaml"
VERDICT = "SELECT item_id, valid, error_kind, output FROM eval_results WHERE iteration = ? ORDER BY item_id"


@pytest.fixture(scope="module", autouse=True)
def bfcl_or_skip():
    try:
        runner.bfcl_items(["simple_python", "multi_turn_base"], 1)
    except DataUnavailableError as error:
        pytest.skip(f"BFCL data unavailable: {error}")


def recipe(tmp_path: Path, server: FakeOpenAIServer, *, max_retries: int, concurrency: int, bfcl: str,
           limit: int) -> Path:
    shutil.copy(TRAVEL, tmp_path / TRAVEL.name)  # beside the recipe: the plan hash, so the split, is checkout-free
    path = tmp_path / "r.yaml"
    path.write_text(f"""name: faults
run_dir: run
catalogs: [{{source: openai, path: {TRAVEL.name}}}]
models:
  synth: {{backend: procedural}}
  policy: {{backend: local}}
  endpoint: {{backend: openai, model: fake-model, base_url: "{server.base_url}", timeout_s: 0.5,
             max_retries: {max_retries}, concurrency: {concurrency}}}
evaluate: {{bfcl: [{bfcl}], bfcl_limit: {limit}, heldout: 0.3, heldout_limit: 8}}
""")
    return path


def cli(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_eval_through_an_endpoint_failing_one_time_in_five_gives_the_clean_verdicts(tmp_path):
    """Every fault kind (HTTP 500, JSON cut short with HTTP 200, a reset connection, no choices, an answer past the
    client's timeout) at 20% of requests, retried: the same verdicts and outputs per item as without faults."""
    with FakeOpenAIServer(delay_s=0.0, slow_s=1.5, seed=24, deterministic=True) as server:  # each kind in 30 draws
        path = recipe(tmp_path, server, max_retries=8, concurrency=4, limit=6,
                      bfcl="simple_python, parallel, irrelevance, multi_turn_base")
        assert cli("synth", path, "-n", "40").exit_code == 0
        clean = cli("eval", path, "--policy", "endpoint", "--iteration", "0")
        assert clean.exit_code == 0, clean.output
        server.fault_rate = 0.2
        faulty = cli("eval", path, "--policy", "endpoint", "--iteration", "1")
        assert faulty.exit_code == 0, faulty.output
    assert set(server.faults) == set(ENDPOINT_FAULTS), server.faults  # each kind was served, and retried
    with Store.open(tmp_path / "run", read_only=True) as store:
        _, before = store.query(VERDICT, [0])
        _, after = store.query(VERDICT, [1])
        _, accuracy = store.query("SELECT iteration, suite, category, items, correct, accuracy, not_evaluated "
                                  "FROM eval_accuracy ORDER BY ALL")
    assert len(before) == 6 * 3 + 6 + 8 and after == before
    assert {kind for _, _, kind, _ in before} - {None} <= set(runner_kinds()) - {"not_evaluated"}
    assert any(json.loads(output).get("tool_calls") for item, _, _, output in before if item.startswith("simple"))
    assert [row[1:] for row in accuracy if row[0] == 0] == [row[1:] for row in accuracy if row[0] == 1]
    assert all(row[-1] == 0 for row in accuracy)
    assert "not evaluated" not in faulty.output


def runner_kinds():
    from inftool.evaluate import ERROR_KINDS

    return ERROR_KINDS


def test_items_an_endpoint_cannot_answer_are_not_evaluated_and_fail_the_stage_past_the_threshold(tmp_path):
    from inftool.report.accuracy import accuracy

    with FakeOpenAIServer(delay_s=0.0) as server:
        path = recipe(tmp_path, server, max_retries=1, concurrency=1, bfcl="simple_python, multi_turn_base", limit=4)
        server.fail_next(2, "500")  # one item: the first try and its one retry
        one = cli("eval", path, "--policy", "endpoint", "--no-heldout")
        assert one.exit_code == 1
        assert "1 of 8 items (12.5%) could not be evaluated, more than evaluate.max_not_evaluated (2.0%)" in one.output
        assert "failed after 2 attempt(s): HTTP 500" in one.output
        server.fail_next(2, "500")
        allowed = cli("eval", path, "--policy", "endpoint", "--no-heldout", "--set", "evaluate.max_not_evaluated=0.2")
        assert allowed.exit_code == 0, allowed.output
        assert "not evaluated: 1 items had no answer" in " ".join(allowed.output.split())
        server.always_fail("reset")
        dead = cli("eval", path, "--policy", "endpoint", "--no-heldout", "--iteration", "2", "--set",
                   "evaluate.max_not_evaluated=0.2")
        assert dead.exit_code == 1 and "8 of 8 items (100.0%) could not be evaluated" in dead.output
    with Store.open(tmp_path / "run", read_only=True) as store:
        _, first = store.query("SELECT category, valid, error_kind, message, output FROM eval_results WHERE run_id = "
                               "(SELECT run_id FROM runs ORDER BY seq LIMIT 1) AND error_kind = 'not_evaluated'")
        _, views = store.query("SELECT category, items, correct, accuracy, not_evaluated FROM eval_accuracy "
                               "WHERE iteration = 2 ORDER BY category")
        rows = [r for r in store.checkpoint_accuracy() if r.iteration == 2]
        table = accuracy(store, store.current_run())
        errors = store.eval_errors(store.current_run())
    [(_, valid, kind, message, output)] = first
    assert not valid and kind == "not_evaluated" and "HTTP 500" in message and json.loads(output) in (None, [[]])
    assert views == [("multi_turn_base", 0, 0, None, 4), ("simple_python", 0, 0, None, 4)]  # all stored, none scored
    assert {(r.split, r.items, r.accuracy, r.not_evaluated) for r in rows} == {
        ("bfcl multi_turn", 0, None, 4), ("bfcl unseen", 0, None, 4)}
    assert sum(n for p, n in table.not_evaluated.items() if p.iteration == 2) == 8
    assert table.mean("BFCL multi-turn", next(p for p in table.references if p.iteration == 2)) is None
    assert all(e.kind != "not_evaluated" for e in errors)


def test_every_fault_is_retried_and_what_still_fails_is_not_a_verdict():
    item = runner.bfcl_items(["simple_python"], 1)[0]
    with FakeOpenAIServer(delay_s=0.0, slow_s=1.0) as server:
        spec = OpenAIModelSpec(backend="openai", model="fake-model", base_url=server.base_url, timeout_s=0.3,
                               max_retries=1)
        policy = EndpointPolicy(spec, Backoff(retries=1, base_s=0.01))
        for mode in (*ENDPOINT_FAULTS, "429", "garbage"):
            server.fail_next(1, mode)
            assert policy(item)["tool_calls"], mode
        server.always_fail("empty")
        with pytest.raises(NotEvaluated, match=r"failed after 2 attempt\(s\): a completion without choices"):
            policy(item)
    with socket.socket() as probe:  # a port nothing listens on: connection refused, retried, then no verdict
        probe.bind(("127.0.0.1", 0))
        dead = spec.model_copy(update={"base_url": f"http://127.0.0.1:{probe.getsockname()[1]}/v1"})
    with pytest.raises(NotEvaluated, match=r"failed after 2 attempt\(s\): connection error: .*Connect"):
        EndpointPolicy(dead, Backoff(retries=1, base_s=0.01))(item)
    [row] = runner.evaluate([item], lambda _: (_ for _ in ()).throw(NotEvaluated("endpoint down")))
    assert (row["valid"], row["error_kind"], row["message"], row["output"]) == (False, "not_evaluated",
                                                                               "endpoint down", "null")
    assert runner.accuracy([row]) == {("bfcl", "simple_python"): (0, 0)}
    assert runner.not_evaluated([row]) == {("bfcl", "simple_python"): 1}


def test_backoff_grows_with_jitter_and_honours_a_retry_after_hint():
    import random

    backoff, rng = Backoff(retries=5, base_s=0.5, max_s=4.0), random.Random(0)
    delays = [backoff.delay(attempt, rng) for attempt in range(6)]
    assert all(min(4.0, 0.5 * 2**a) / 2 <= d <= min(4.0, 0.5 * 2**a) for a, d in enumerate(delays))
    assert backoff.delay(0, rng, hint=2.0) == 2.0 and backoff.delay(0, rng, hint=60.0) == 4.0
