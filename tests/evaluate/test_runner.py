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


SET_ASIDE = ["simple_java_36", "simple_java_64", "simple_java_65", "live_simple_106-63-0", "live_simple_112-68-0",
             "live_multiple_507-149-4", "live_multiple_862-181-3", "live_multiple_964-207-0"]
"""The BFCL v4 AST entries whose own ground truth no acceptable form passes (answers naming a parameter the
function lacks or leaving out a required one, Java values of another type than the ground truth's)."""


def test_oracle_scores_every_scorable_ast_question(bfcl):
    items, aside = runner.scorable(bfcl)
    assert sorted(i.item_id for i in aside) == sorted(SET_ASIDE)
    table = runner.accuracy(runner.evaluate(items, runner.oracle))
    assert all(correct == total for correct, total in table.values())
    assert runner.overall(table, "bfcl") == 1.0


def test_the_oracle_prefers_the_form_the_checker_accepts(bfcl):
    """parallel_multiple_12 and _26 list optional values for parameters the function does not have, next to ""
    (omit): the oracle leaves them out, as the official checker accepts, instead of filling them in."""
    by_id = {item.item_id: item for item in bfcl}
    for item_id, param in (("parallel_multiple_12", "permeability"), ("parallel_multiple_26", "type")):
        calls = runner.oracle(by_id[item_id])["tool_calls"]
        assert all(param not in json.loads(c["function"]["arguments"]) for c in calls)
        assert runner.verdict(by_id[item_id], runner.oracle(by_id[item_id])).valid


def test_set_aside_entries_agree_with_the_official_checker_on_every_form_tried(bfcl, official):
    """bfcl-eval's own ast_checker accepts the oracle's answer to every kept AST entry, and rejects every form the
    oracle tried for each set-aside one: each acceptable form of each expected call, beside the oracle's answer to
    the other calls."""
    from inftool.evaluate import call_forms, language_of

    def official_valid(item, calls) -> bool:
        decoded = [{c.name: c.arguments} for c in calls]
        return official.valid(item.functions, decoded, item.ground_truth, category=item.category,
                              language=language_of(item.category))

    items, aside = runner.scorable([item for item in bfcl if item.ground_truth])
    assert sorted(i.item_id for i in aside) == sorted(SET_ASIDE)
    accepted = [item.item_id for item in items if official_valid(item, oracle_calls_of(item))]
    assert len(accepted) == len(items) > 2400
    for item in aside:
        answer, tried = oracle_calls_of(item), 0
        for index, expected in enumerate(item.ground_truth):
            for form in call_forms(item.functions, expected, language=language_of(item.category)):
                tried += 1
                assert not official_valid(item, [*answer[:index], form, *answer[index + 1:]]), (item.item_id, form)
        assert tried >= len(item.ground_truth)


def oracle_calls_of(item):
    from inftool.core.episode import Call

    message = runner.oracle(item)
    return [Call(c["function"]["name"], json.loads(c["function"]["arguments"])) for c in message["tool_calls"]]


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


def test_an_endpoint_policy_answers_over_http_and_failures_are_not_evaluated_not_raised():
    items = runner.scorable(runner.bfcl_items(["simple_python"], limit=6))[0]
    from inftool.spec.backends import OpenAIModelSpec

    with FakeOpenAIServer(delay_s=0.0) as server:
        spec = OpenAIModelSpec(backend="openai", model="fake-model", base_url=server.base_url, max_retries=0)
        results = runner.evaluate(items, runner.endpoint_policy(spec), concurrency=3)
        assert server.requests >= 6
        server.always_fail("500")
        failed = runner.evaluate(items[:2], runner.endpoint_policy(spec))
    assert len(results) == 6 and all(r["error_kind"] in (None, *runner_kinds()) for r in results)
    assert all(r["error_kind"] != "not_evaluated" for r in results)
    assert all(not r["valid"] and r["error_kind"] == "not_evaluated" and "HTTP 500" in r["message"]
               and json.loads(r["output"]) is None for r in failed)
    assert runner.accuracy(failed) == {("bfcl", "simple_python"): (0, 0)}


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
