"""The closed loop end to end with the real trainers (TRL on CPU) on a micro policy: stages recorded,
checkpoints per iteration, targeted weights used by the next synthesis, Ctrl-C and --resume."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

pytest.importorskip("trl", reason="the loop trains with the train extra (torch, transformers, trl)")

from inftool.cli import main  # noqa: E402
from inftool.compile import compile_recipe  # noqa: E402
from inftool.loop import Loop, Progress, run_recipe  # noqa: E402
from inftool.spec import load_recipe  # noqa: E402
from inftool.store import Store  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
RECIPE = """\
name: micro
seed: 3
catalogs:
  - {{source: openai, path: {catalog}, limit: 5}}
  - {{source: bfcl, categories: [simple_python], limit: 6, holdout: 0.5}}
models:
  synth: {{backend: procedural}}
  policy: {{backend: local, model: tiny-scratch, tiny: {{hidden_size: 32, layers: 1, heads: 2, kv_heads: 1, vocab_size: 400, max_length: 384}}}}
train:
  trainer: local
  threads: 1
  sft: {{epochs: 1, batch_size: 8, max_steps: 3, rename_tools: 0.5}}
  grpo: {{steps: 2, group_size: 2, prompts_per_step: 2, max_new_tokens: 8}}
loop: {{iterations: 2, episodes_per_iteration: 60, targeting: gaps, floor: 0.1}}
evaluate: {{bfcl: [simple_python, irrelevance, multi_turn_base], bfcl_limit: 8, heldout: 0.2, heldout_limit: 6,
           max_new_tokens: 8}}
"""
STAGES = [(0, "synthesize"), (0, "policy"), (0, "baseline"), (0, "sft"), (0, "eval_sft"), (0, "grpo"),
          (0, "evaluate"), (0, "target"), (1, "synthesize"), (1, "sft"), (1, "grpo"), (1, "evaluate")]


def write_recipe(tmp_path: Path) -> Path:
    path = tmp_path / "micro.yaml"
    path.write_text(RECIPE.format(catalog=REPO / "catalog" / "travel.yaml"), encoding="utf-8")
    return path


def loop_for(recipe: Path, run_dir: Path, store, progress=None) -> Loop:
    loaded = load_recipe(recipe, [f"run_dir={run_dir}"])
    return Loop(loaded, compile_recipe(loaded), store, progress=progress)


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("loop")
    recipe = write_recipe(tmp)
    result = CliRunner().invoke(main, ["run", str(recipe), "--set", f"run_dir={tmp / 'run'}"])
    assert result.exit_code == 0, result.output
    return tmp, result


def test_run_records_every_stage_with_counts_and_timing(finished):
    tmp, result = finished
    with Store.open(tmp / "run", read_only=True) as store:
        stages = store.stages(store.current_run())
    assert [(s.iteration, s.stage) for s in stages] == STAGES
    assert all(s.status == "done" and s.seconds is not None and s.seconds >= 0 for s in stages)
    by_name = {(s.iteration, s.stage): s for s in stages}
    assert by_name[(0, "synthesize")].counts["episodes"] == 60
    with Store.open(tmp / "run", read_only=True) as store:
        iterations = store.iterations(store.current_run())
    assert [(i.iteration, i.status) for i in iterations] == [(0, "done"), (1, "done")]
    first, last = by_name[(0, "synthesize")], by_name[(0, "target")]
    assert first.started_at <= iterations[0].started_at <= first.finished_at  # it starts with its first stage
    assert last.started_at <= iterations[0].finished_at  # and ends with its last
    assert by_name[(0, "sft")].counts["steps"] == 3
    assert by_name[(0, "sft")].counts["replayed"] == 0  # iteration 1 adds half as many of iteration 0's episodes
    assert 0 < by_name[(1, "sft")].counts["replayed"] <= by_name[(0, "synthesize")].counts["episodes"]
    assert 0 < by_name[(0, "sft")].counts["renamed"] < by_name[(0, "synthesize")].counts["episodes"]  # about half
    assert by_name[(1, "grpo")].counts["steps"] == 2
    for key in [(0, "sft"), (0, "grpo"), (1, "sft"), (1, "grpo")]:
        assert (Path(by_name[key].output) / "config.json").is_file(), key
    assert "report:" in result.output and "store:" in result.output and "dataset (train):" in result.output
    assert (tmp / "run" / "report.html").is_file()
    assert (tmp / "run" / "datasets" / "train.jsonl").is_file()


def test_the_plan_lists_exactly_the_stages_the_loop_ran(finished):
    tmp, result = finished
    plan = compile_recipe(load_recipe(tmp / "micro.yaml", [f"run_dir={tmp / 'run'}"])).plan
    with Store.open(tmp / "run", read_only=True) as store:
        ran = [(s.iteration, s.stage) for s in store.stages(store.current_run())]
    assert plan.loop.stages == ran
    assert "iteration 1: synthesize -> sft -> grpo -> evaluate" in " ".join(result.output.split())


EVALUATED = [(0, "policy", "untrained"), (0, "sft", "sft"), (0, "grpo", "grpo"), (1, "grpo", "grpo")]


@pytest.mark.parametrize(("iteration", "stage", "label"), EVALUATED)
def test_inftool_eval_of_a_loop_checkpoint_stores_the_verdicts_the_loop_stored(finished, tmp_path, iteration, stage,
                                                                               label):
    tmp, _ = finished
    run = tmp_path / "run"
    shutil.copytree(tmp / "run", run)  # the checkpoints stay where the loop wrote them (absolute paths)
    with Store.open(run, read_only=True) as store:
        products = {(s.iteration, s.stage): s.output for s in store.stages(store.current_run())}
    checkpoint = products[(iteration, stage)]
    result = CliRunner().invoke(main, ["eval", str(tmp / "micro.yaml"), "--set", f"run_dir={run}",
                                       "--policy", checkpoint, "--iteration", str(iteration)])
    assert result.exit_code == 0, result.output
    sql = ("SELECT suite, category, item_id, tool, seen, valid, error_kind, message, output FROM eval_results "
           "WHERE iteration = ? AND policy = ? ORDER BY suite, item_id")
    with Store.open(run, read_only=True) as store:
        _, by_loop = store.query(sql, [iteration, label])
        _, by_eval = store.query(sql, [iteration, checkpoint])
    assert len(by_loop) == 8 + 8 + 8 + 6 and by_eval == by_loop  # multi-turn conversations included


def test_run_recipe_from_python_writes_what_the_command_writes(tmp_path):
    recipe, run_dir = write_recipe(tmp_path), tmp_path / "run"
    openrlhf = "train={trainer: openrlhf, grpo: {steps: 3, max_new_tokens: 8}}"
    result = run_recipe(recipe, [f"run_dir={run_dir}", openrlhf])
    assert not result.completed and "the OpenRLHF job is written to" in result.stopped_because
    assert result.report == run_dir / "report.html" and result.report.is_file()
    assert (run_dir / "plan.json").is_file() and (run_dir / "report" / "accuracy.png").is_file()
    train, count = result.datasets["train"]
    assert train == run_dir / "datasets" / "train.jsonl" and count > 0
    assert len(train.read_text(encoding="utf-8").splitlines()) == count
    assert [(s.iteration, s.stage) for s in result.stages] == [(0, "synthesize"), (0, "policy"), (0, "baseline"),
                                                                (0, "emit")]


def test_each_checkpoint_is_evaluated_on_bfcl_seen_unseen_and_heldout(finished):
    tmp, _ = finished
    with Store.open(tmp / "run", read_only=True) as store:
        rows = store.checkpoint_accuracy(store.current_run())
        curve = store.train_log(store.current_run())
    checkpoints = list(dict.fromkeys((r.iteration, r.policy) for r in rows))
    assert checkpoints == [(0, "untrained"), (0, "sft"), (0, "grpo"), (1, "grpo")]
    splits = {r.split for r in rows}
    assert {"heldout", "bfcl seen", "bfcl unseen", "bfcl irrelevance", "bfcl multi_turn"} <= splits
    assert {(r.phase, r.iteration) for r in curve} == {("sft", 0), ("grpo", 0), ("sft", 1), ("grpo", 1)}
    assert all(r.reward is not None for r in curve if r.phase == "grpo")
    assert all(r.loss is not None for r in curve if r.phase == "sft")


def test_targeted_weights_are_stored_with_their_drivers_and_used_by_the_next_synthesis(finished):
    tmp, result = finished
    with Store.open(tmp / "run", read_only=True) as store:
        run_id = store.current_run()
        _, targeted = store.query("SELECT complexity, tool, weight, base_weight, need, drivers FROM scenarios "
                                  "WHERE run_id = ? AND iteration = 1", [run_id])
        weights = store.iterations(run_id)[0].weights
        _, mix = store.query("SELECT complexity, tool, count(*) FROM episodes WHERE run_id = ? AND iteration = 1 "
                             "GROUP BY ALL", [run_id])
    assert targeted and all(base is not None and need is not None for _, _, _, base, need, _ in targeted)
    assert all("failure_rate" in json.loads(drivers) for *_, drivers in targeted)
    assert len({round(w / b, 6) for _, _, w, b, _, _ in targeted}) > 1  # targeting moved some weights
    assert weights["targeting"] == "gaps" and weights["most_raised"]
    sampled = {(c, t) for c, t, _ in mix}
    assert sampled <= {(c, t) for c, t, w, *_ in targeted if w > 0}
    assert "Targeting (gaps)" in result.output


def test_running_again_without_resume_says_it_is_complete(finished):
    tmp, _ = finished
    result = CliRunner().invoke(main, ["run", str(tmp / "micro.yaml"), "--set", f"run_dir={tmp / 'run'}"])
    assert result.exit_code == 0 and "already complete" in result.output


def test_ctrl_c_leaves_a_consistent_store_and_resume_finishes_without_repeating_work(tmp_path, finished):
    recipe, run_dir = write_recipe(tmp_path), tmp_path / "run"

    class Interrupt(Progress):
        """Ctrl-C arrives during the second GRPO step of iteration 0."""

        def track(self, label, total):
            from contextlib import contextmanager

            @contextmanager
            def bar():
                seen = []

                def advance(n=1):
                    seen.append(n)
                    if "GRPO" in label and len(seen) == 2:
                        raise KeyboardInterrupt

                yield advance

            return bar()

    with Store.open(run_dir) as store, pytest.raises(KeyboardInterrupt):
        loop_for(recipe, run_dir, store, Interrupt()).run()
    with Store.open(run_dir, read_only=True) as store:
        stages = {(s.iteration, s.stage): s for s in store.stages(store.current_run())}
    assert stages[(0, "grpo")].status == "interrupted"
    sft_started = stages[(0, "sft")].started_at

    result = CliRunner().invoke(main, ["run", str(recipe), "--set", f"run_dir={run_dir}"])
    assert result.exit_code == 2 and "--resume" in result.output

    result = CliRunner().invoke(main, ["run", str(recipe), "--set", f"run_dir={run_dir}", "--resume"])
    assert result.exit_code == 0, result.output
    with Store.open(run_dir, read_only=True) as store:
        run_id = store.current_run()
        stages = store.stages(run_id)
        _, dupes = store.query("SELECT iteration, idx, count(*) FROM episodes GROUP BY ALL HAVING count(*) > 1")
        _, episodes = store.query("SELECT iteration, idx, request, accepted FROM episodes ORDER BY ALL")
    assert [(s.iteration, s.stage) for s in stages] == STAGES and all(s.status == "done" for s in stages)
    assert {(s.iteration, s.stage): s for s in stages}[(0, "sft")].started_at == sft_started  # not trained again
    assert dupes == []
    with Store.open(finished[0] / "run", read_only=True) as store:
        _, uninterrupted = store.query("SELECT iteration, idx, request, accepted FROM episodes ORDER BY ALL")
    assert episodes == uninterrupted  # the same episodes as a run that was never interrupted


def test_any_local_checkpoint_can_stand_in_for_tiny_scratch(tmp_path, finished):
    with Store.open(finished[0] / "run", read_only=True) as store:
        start = next(s.output for s in store.stages(store.current_run()) if s.stage == "sft")
    recipe, run_dir = write_recipe(tmp_path), tmp_path / "run"
    result = CliRunner().invoke(main, ["run", str(recipe), "--set", f"run_dir={run_dir}", "--set", "loop.iterations=1",
                                       "--set", f"models.policy.checkpoint_path={start}"])
    assert result.exit_code == 0, result.output
    with Store.open(run_dir, read_only=True) as store:
        stages = {s.stage: s for s in store.stages(store.current_run())}
    assert stages["policy"].output == start and stages["policy"].counts == {"from": start}
    assert (Path(stages["grpo"].output) / "model.safetensors").is_file()


def test_the_openrlhf_trainer_writes_its_job_and_stops_until_launched(tmp_path):
    recipe, run_dir = write_recipe(tmp_path), tmp_path / "run"
    result = CliRunner().invoke(main, ["run", str(recipe), "--set", f"run_dir={run_dir}",
                                       "--set", "train={trainer: openrlhf, grpo: {steps: 3, max_new_tokens: 8}}"])
    assert result.exit_code == 0, result.output
    assert "the OpenRLHF job is written to" in result.output and "--resume --launch" in result.output
    with Store.open(run_dir, read_only=True) as store:
        stages = {(s.iteration, s.stage): s for s in store.stages(store.current_run())}
    assert list(stages) == [(0, "synthesize"), (0, "policy"), (0, "baseline"), (0, "emit")]
    job = Path(stages[(0, "emit")].output)
    assert (job / "launch.sh").is_file() and (job / "reward.py").is_file() and (job / "job.json").is_file()
    prompts = (job / "prompts.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(prompts) == 3 * 2 and all("<tools>" in json.loads(line)["prompt"] for line in prompts)


def test_fresh_clears_what_earlier_runs_left(tmp_path):
    recipe, run_dir = write_recipe(tmp_path), tmp_path / "run"
    for leftover in ("datasets/stale.jsonl", "checkpoints/old/config.json", "report/stale.png", "openrlhf/x/y"):
        (run_dir / leftover).parent.mkdir(parents=True, exist_ok=True)
        (run_dir / leftover).write_text("old", encoding="utf-8")
    result = CliRunner().invoke(main, ["run", str(recipe), "--fresh", "--set", f"run_dir={run_dir}",
                                       "--set", "train={trainer: openrlhf}"])
    assert result.exit_code == 0, result.output
    assert not any((run_dir / name).exists() for name in ("datasets/stale.jsonl", "checkpoints/old", "report/stale.png",
                                                          "openrlhf/x"))
    assert (run_dir / "datasets" / "train.jsonl").is_file()


def test_a_policy_not_on_this_machine_fails_at_compile_before_anything_is_written(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    recipe, run_dir = write_recipe(tmp_path), tmp_path / "run"
    result = CliRunner().invoke(main, ["run", str(recipe), "--set", f"run_dir={run_dir}",
                                       "--set", "models.policy.model=Qwen/Qwen2.5-0.5B-Instruct"])
    assert result.exit_code == 2, result.output
    assert "'Qwen/Qwen2.5-0.5B-Instruct' is not in the local Hugging Face cache" in result.output
    assert "Traceback" not in result.output and not (run_dir / "store.duckdb").exists()


def test_constrained_decoding_is_stored_as_its_own_policy_mode(tmp_path, finished):
    """``evaluate.decoding: [free, constrained]`` scores every checkpoint both ways under two labels; targeting
    reads the free verdicts, and `inftool eval --decoding constrained` stores what the loop stored."""
    with Store.open(finished[0] / "run", read_only=True) as store:
        start = next(s.output for s in store.stages(store.current_run()) if s.stage == "sft")
    recipe, run_dir = write_recipe(tmp_path), tmp_path / "run"
    sets = ["--set", f"run_dir={run_dir}", "--set", "loop.iterations=1", "--set",
            f"models.policy.checkpoint_path={start}", "--set", "evaluate.decoding=[free, constrained]",
            "--set", "evaluate.bfcl=[simple_python, irrelevance]"]
    result = CliRunner().invoke(main, ["run", str(recipe), *sets])
    assert result.exit_code == 0, result.output
    sql = ("SELECT suite, item_id, valid, error_kind, output FROM eval_results WHERE iteration = 0 AND policy = ? "
           "ORDER BY suite, item_id")
    with Store.open(run_dir, read_only=True) as store:
        stages = {s.stage: s for s in store.stages(store.current_run())}
        _, free = store.query(sql, ["grpo"])
        _, constrained = store.query(sql, ["grpo+constrained"])
        _, policies = store.query("SELECT DISTINCT policy FROM eval_results ORDER BY policy")
    assert [p for (p,) in policies] == ["grpo", "grpo+constrained", "sft", "sft+constrained", "untrained",
                                        "untrained+constrained"]
    assert [r[:2] for r in free] == [r[:2] for r in constrained] and len(free) == 8 + 8 + 6
    counts = stages["evaluate"].counts
    assert set(counts["decoding"]) == {"free", "constrained"} and counts["decoding"]["free"] == counts["accuracy"]
    checkpoint = stages["grpo"].output
    result = CliRunner().invoke(main, ["eval", str(recipe), *sets, "--policy", checkpoint, "--decoding", "constrained"])
    assert result.exit_code == 0, result.output
    with Store.open(run_dir, read_only=True) as store:
        _, by_eval = store.query(sql, [f"{checkpoint}+constrained"])
    assert by_eval == constrained
    refused = CliRunner().invoke(main, ["eval", str(recipe), *sets, "--decoding", "constrained"])  # the oracle's
    # answers are not generated token by token
    assert refused.exit_code == 2 and "needs a local checkpoint" in refused.output
