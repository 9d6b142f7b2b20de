"""The evaluation runner: oracle and no-call policies, held-out synthetic episodes, an HTTP endpoint."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from inftool.compile import compile_recipe
from inftool.evaluate import runner
from inftool.spec import load_recipe
from inftool.store import Store
from inftool.synth import run_stage
from inftool.testing import FakeOpenAIServer

AST = ["simple_python", "simple_java", "simple_javascript", "multiple", "parallel", "parallel_multiple",
       "live_simple", "live_multiple", "live_parallel", "live_parallel_multiple"]
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def bfcl():
    return runner.bfcl_items(AST + ["irrelevance", "live_irrelevance"])


def test_oracle_scores_every_scorable_ast_question(bfcl):
    items, aside = runner.scorable(bfcl)
    assert sorted(i.item_id for i in aside) == sorted([
        "simple_java_36", "simple_java_64", "simple_java_65", "parallel_multiple_12", "parallel_multiple_26",
        "live_simple_106-63-0", "live_simple_112-68-0", "live_multiple_507-149-4", "live_multiple_862-181-3",
        "live_multiple_964-207-0"])  # their ground truth fails the official checker too
    table = runner.accuracy(runner.evaluate(items, runner.oracle))
    assert all(correct == total for correct, total in table.values())
    assert runner.overall(table, "bfcl") == 1.0


def test_no_call_scores_irrelevance_only(bfcl):
    table = runner.accuracy(runner.evaluate(runner.scorable(bfcl)[0], runner.no_call))
    for (_, category), (correct, total) in table.items():
        assert correct == (total if category.endswith("irrelevance") else 0), category


def test_heldout_synthetic_episodes_are_scored_like_bfcl(tmp_path):
    loaded = load_recipe(REPO / "recipes" / "assistants.yaml", [f"run_dir={tmp_path}", "evaluate.heldout=0.5"])
    run_stage(loaded, compile_recipe(loaded), episodes=300)
    with Store.open(tmp_path, read_only=True) as store:
        items = runner.episode_items(store.episodes(store.current_run(), split="heldout"))
    assert len(items) > 100 and {i.category for i in items} >= {"multiple", "parallel_multiple", "irrelevance"}
    assert all(r["valid"] for r in runner.evaluate(items, runner.oracle))
    wrong = runner.evaluate(items, runner.no_call)
    assert all(r["valid"] == (r["category"] == "irrelevance") for r in wrong)
    assert {r["error_kind"] for r in wrong if not r["valid"]} == {"missing_call"}


def test_an_endpoint_policy_answers_over_http_and_failures_are_scored_not_raised():
    items = runner.scorable(runner.bfcl_items(["simple_python"], limit=6))[0]
    from inftool.spec.backends import OpenAIModelSpec

    with FakeOpenAIServer(delay_s=0.0) as server:
        spec = OpenAIModelSpec(backend="openai", model="fake-model", base_url=server.base_url, max_retries=0)
        results = runner.evaluate(items, runner.endpoint_policy(spec), concurrency=3)
        assert server.requests >= 6
        server.always_fail("500")
        failed = runner.evaluate(items[:2], runner.endpoint_policy(spec))
    assert len(results) == 6 and all(r["error_kind"] in (None, *runner_kinds()) for r in results)
    assert all(not r["valid"] and "endpoint error" in json.loads(r["output"])["content"] for r in failed)


def runner_kinds():
    from inftool.evaluate import ERROR_KINDS

    return tuple(ERROR_KINDS)


def test_eval_command_stores_results_and_rejects_unknown_policies(tmp_path):
    recipe = tmp_path / "r.yaml"
    recipe.write_text(f"name: ev\nrun_dir: run\ncatalogs: [{{source: openai, path: {REPO / 'catalog' / 'travel.yaml'}}}]\n"
                      "evaluate: {bfcl: [simple_python, irrelevance], bfcl_limit: 20, heldout: 0.3}\n")
    cli = [sys.executable, "-m", "inftool"]
    assert subprocess.run(cli + ["synth", str(recipe), "-n", "60"], capture_output=True).returncode == 0
    done = subprocess.run(cli + ["eval", str(recipe)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "Evaluation of oracle" in done.stdout and "overall (mean of categories)" in done.stdout
    with Store.open(tmp_path / "run", read_only=True) as store:
        _, rows = store.query("SELECT suite, category, items, accuracy FROM eval_accuracy ORDER BY 1, 2")
    assert ("bfcl", "simple_python", 20, 1.0) in rows and ("bfcl", "irrelevance", 20, 1.0) in rows
    assert any(suite == "heldout" for suite, *_ in rows)
    bad = subprocess.run(cli + ["eval", str(recipe), "--policy", "orcale"], capture_output=True, text=True)
    assert bad.returncode == 2 and "did you mean 'oracle'?" in bad.stderr
