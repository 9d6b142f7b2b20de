"""BFCL v4 multi-turn evaluation: conversations driven turn by turn on BFCL's environments, for every policy."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from inftool.evaluate import runner
from inftool.evaluate.multi_turn import CATEGORIES
from inftool.evaluate.rollout import run_one
from inftool.testing import FakeOpenAIServer

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def items(bfcl_items_or_skip):
    return bfcl_items_or_skip(list(CATEGORIES))


@pytest.fixture(scope="module")
def bfcl_items_or_skip():
    from inftool.errors import DataUnavailableError

    def load(categories, limit=None):
        try:
            return runner.bfcl_items(categories, limit)
        except DataUnavailableError as error:
            pytest.skip(f"BFCL data unavailable: {error}")

    return load


class Recorder:
    """A policy that remembers every step it was asked."""

    def __init__(self, inner):
        self.inner, self.steps = inner, []

    def __call__(self, step):
        self.steps.append(step)
        return self.inner(step)


def test_the_oracle_passes_every_entry_and_no_call_none(items):
    assert Counter(i.category for i in items) == {c: 200 for c in CATEGORIES}
    assert runner.scorable(items) == (items, [])
    oracle = runner.evaluate(items, runner.oracle)
    assert all(r["valid"] for r in oracle), [r["message"] for r in oracle if not r["valid"]][:3]
    assert runner.overall(runner.accuracy(oracle), "bfcl") == 1.0
    silent = runner.evaluate(items, runner.no_call)
    assert not any(r["valid"] for r in silent) and {r["error_kind"] for r in silent} == {"missing_call"}
    first = json.loads(oracle[0]["output"])
    assert len(first) == len(items[0].conversation.turns) and first[0][0]["tool_calls"]  # the answers, turn by turn


def test_held_back_functions_appear_at_the_turn_bfcl_hands_them_over(items):
    from inftool.envs.bfcl import handover_prompt

    item = next(i for i in items if i.item_id == "multi_turn_miss_func_0")
    assert list(item.conversation.handover) == [3] and [t["function"]["name"] for t in item.conversation.handover[3]] \
        == ["sort"]
    policy = Recorder(runner.oracle)
    assert run_one(item, policy).verdict.valid
    for step in policy.steps:
        names = [t["function"]["name"] for t in step.tools]
        assert ("sort" in names) == (step.turn >= 3), step.turn
    handover = next(s for s in policy.steps if s.turn == 3)
    assert handover.messages[-1] == {"role": "user", "content": handover_prompt()}
    assert handover.tools[-1]["function"]["name"] == "sort"  # appended, as BFCL extends its function list
    assert next(s for s in policy.steps if s.turn == 2).reference == ()  # the missing function: nothing to call


def test_results_come_back_as_tool_messages_and_the_turn_ends_without_a_call(items):
    item = items[0]
    policy = Recorder(runner.oracle)
    rollout = run_one(item, policy)
    assert rollout.verdict.valid and [s.index for s in policy.steps if s.turn == 0] == [0, 1]
    after = policy.steps[1].messages  # the second step of turn 0 sees the first step's calls and their results
    calls = after[-1 - len(item.conversation.reference[0])]["tool_calls"]
    results = after[-len(item.conversation.reference[0]):]
    assert [c["function"]["name"] for c in calls] == [c.name for c in item.conversation.reference[0]]
    assert [r["tool_call_id"] for r in results] == [c["id"] for c in calls]
    assert all(r["role"] == "tool" for r in results)
    assert policy.steps[2].messages[-1] == item.conversation.turns[1][-1]  # then the next user turn


def test_a_policy_that_never_stops_is_stopped_at_bfcl_s_step_limit(items):
    from inftool.envs.bfcl import step_limit

    item = items[0]
    looping = {"role": "assistant", "content": None, "tool_calls": [
        {"id": "x", "type": "function", "function": {"name": "pwd", "arguments": "{}"}}]}
    rollout = run_one(item, lambda step: looping)
    assert len(rollout.outputs) == 1 and len(rollout.outputs[0]) == step_limit() + 1
    assert rollout.verdict.error_kind == "step_limit"


def test_wrong_conversations_get_the_failing_turn_and_its_kind(items):
    from inftool.evaluate.items import Step

    item = next(i for i in items if i.item_id == "multi_turn_base_0")

    def skipping_mkdir(step: Step):
        return runner.oracle(Step(step.item, step.turn, step.index, step.messages, step.tools,
                                  tuple(c for c in step.reference if c.name != "mkdir")))

    verdict = run_one(item, skipping_mkdir).verdict
    assert verdict.error_kind == "state_mismatch" and verdict.message.startswith("turn 0:")

    def reading_nothing(step: Step):
        return runner.oracle(Step(step.item, step.turn, step.index, step.messages, step.tools,
                                  tuple(c for c in step.reference if c.name != "grep")))

    verdict = run_one(item, reading_nothing).verdict  # grep changes nothing, but its result never reached the model
    assert verdict.error_kind == "response_mismatch" and verdict.message.startswith("turn 1:")


def test_an_endpoint_policy_is_driven_with_native_tool_calling(bfcl_items_or_skip):
    from inftool.spec.backends import OpenAIModelSpec

    items = bfcl_items_or_skip(["multi_turn_base", "multi_turn_miss_param"], 3)
    with FakeOpenAIServer(delay_s=0.0) as server:
        spec = OpenAIModelSpec(backend="openai", model="fake-model", base_url=server.base_url, max_retries=0)
        results = runner.evaluate(items, runner.endpoint_policy(spec), concurrency=2)
        bodies = list(server.bodies)
    assert len(results) == 6 and all(not r["valid"] and r["error_kind"] for r in results)  # the fake calls any tool
    answered = [b for b in bodies if b["messages"][-1]["role"] == "tool"]
    assert answered and all(b["tools"] for b in bodies)  # after its call, the fake got the result and stopped
    call = answered[0]["messages"][-2]["tool_calls"][0]
    assert answered[0]["messages"][-1]["tool_call_id"] == call["id"] and isinstance(call["function"]["arguments"], str)
    assert all(len(json.loads(r["output"])[0]) == 2 for r in results)  # step 0 called, step 1 ended the turn


def test_eval_command_stores_multi_turn_results_per_category(tmp_path, bfcl_items_or_skip):
    bfcl_items_or_skip(["multi_turn_base"], 1)
    from inftool.report.accuracy import BFCL_MULTI_TURN, accuracy
    from inftool.store import Store

    recipe = tmp_path / "r.yaml"
    recipe.write_text("name: mt\nrun_dir: run\ncatalogs: [{source: bfcl_env, envs: [gorilla_file_system]}]\n"
                      "evaluate: {bfcl: [multi_turn_base, multi_turn_miss_func, irrelevance], bfcl_limit: 6}\n")
    cli = [sys.executable, "-m", "inftool", "eval", str(recipe), "--no-heldout"]
    done = subprocess.run(cli, capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert "multi_turn_base" in done.stdout and "multi_turn_miss_func" in done.stdout
    done = subprocess.run([*cli, "--policy", "no-call", "--categories", "multi_turn_base"], capture_output=True,
                          text=True, cwd=REPO)
    assert done.returncode == 0, done.stderr
    with Store.open(tmp_path / "run", read_only=True) as store:
        _, rows = store.query("SELECT policy, category, count(*), avg(valid::INT) FROM eval_results WHERE category "
                              "LIKE 'multi%' GROUP BY ALL ORDER BY ALL")
        _, seen = store.query("SELECT DISTINCT seen FROM eval_results WHERE category LIKE 'multi%'")
        splits = {(r.policy, r.split): r.accuracy for r in store.checkpoint_accuracy()}
        table = accuracy(store, store.current_run())
    assert rows == [("no-call", "multi_turn_base", 6, 0.0), ("oracle", "multi_turn_base", 6, 1.0),
                    ("oracle", "multi_turn_miss_func", 6, 1.0)]
    assert {s for (s,) in seen} <= {"seen", "mixed", "unseen"} and ("seen",) in seen  # file-system-only entries
    assert splits[("oracle", "bfcl multi_turn")] == 1.0 and splits[("no-call", "bfcl multi_turn")] == 0.0
    assert BFCL_MULTI_TURN in table.series and table.categories[BFCL_MULTI_TURN] == [
        "multi_turn_base", "multi_turn_miss_func"]
    bad = subprocess.run([*cli, "--categories", "multi_turn_bse"], capture_output=True, text=True, cwd=REPO)
    assert bad.returncode == 2 and "did you mean 'multi_turn_base'" in bad.stderr


# ---------------------------------------------------------------- a local checkpoint


@pytest.fixture(scope="module")
def tiny(tmp_path_factory, bfcl_items_or_skip):
    """A tiny-scratch checkpoint (random weights) whose template renders tools, calls and tool results."""
    pytest.importorskip("torch", reason="the local policy needs the train extra (torch, transformers)")
    pytest.importorskip("transformers")
    from inftool.spec.backends import TinyScratchSpec
    from inftool.train.tiny import build_tiny

    items = bfcl_items_or_skip(["multi_turn_base", "multi_turn_miss_func"], 3)
    spec = TinyScratchSpec(hidden_size=32, layers=1, heads=2, kv_heads=1, vocab_size=400, max_length=8192)
    conversations = [turn for item in items for turn in item.conversation.turns]
    tools = [tool for item in items for tool in item.tools]
    return build_tiny(spec, tools, conversations, tmp_path_factory.mktemp("tiny")), items


def _replaying(policy, items):
    """Make the checkpoint's ``generate`` answer as the oracle would: the ground truth's calls of the turn whose
    user message ends the prompt, ``Done.`` once tool results end it (so the batches mix steps of all kinds)."""
    import torch

    tokenizer, by_request = policy.tokenizer, {}
    for item in items:
        for turn, messages in enumerate(item.conversation.turns):
            by_request[messages[-1]["content"]] = "".join(
                f'<tool_call>{{"name": {json.dumps(c.name)}, "arguments": {json.dumps(c.arguments)}}}</tool_call>'
                for c in item.conversation.reference[turn])

    def answer(prompt: str) -> str:
        last = prompt.rsplit("<|im_start|>", 2)[-2]  # the message before the generation prompt
        return "Done." if last.startswith("tool\n") else by_request[last.split("\n", 1)[1].removesuffix("<|im_end|>\n")]

    def generate(input_ids, **_):
        prompts = tokenizer.batch_decode(input_ids, skip_special_tokens=False)
        rows = [tokenizer(answer(p) + tokenizer.eos_token, add_special_tokens=False)["input_ids"] for p in prompts]
        width = max(len(row) for row in rows)
        rows = [row + [tokenizer.pad_token_id] * (width - len(row)) for row in rows]
        return torch.cat([input_ids, torch.tensor(rows, dtype=input_ids.dtype)], dim=1)

    policy.model.generate = generate


def test_a_local_checkpoint_is_driven_step_by_step_in_batches(tiny):
    from inftool.evaluate.local import LocalPolicy

    checkpoint, items = tiny
    items = [i for i in items if i.category == "multi_turn_base"]
    policy = LocalPolicy(checkpoint, max_new_tokens=8, batch_size=2)
    _replaying(policy, items)
    results = runner.evaluate(items, policy)
    assert all(r["valid"] for r in results), [r["message"] for r in results]
    outputs = json.loads(results[0]["output"])
    assert outputs[0][-1] == "Done." and "<tool_call>" in outputs[0][0]  # generated text, read by parse_calls
    step = items[0]
    assert "<tool_call>" in policy.generate(step.messages, step.tools)  # the per-step interface


def test_a_random_checkpoint_is_scored_without_errors(tiny):
    from inftool.evaluate import ERROR_KINDS
    from inftool.evaluate.local import LocalPolicy

    checkpoint, items = tiny
    policy = LocalPolicy(checkpoint, max_new_tokens=6, batch_size=4)
    results = runner.evaluate(items, policy)
    assert len(results) == len(items) and all(r["valid"] or r["error_kind"] in ERROR_KINDS for r in results)
    assert runner.evaluate(items, policy) == results  # greedy: the same conversations again
