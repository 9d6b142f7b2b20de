"""The cluster trainer's job: flags OpenRLHF 0.11.2's parser accepts, a reward file that runs alone, launching."""

from __future__ import annotations

import argparse
import ast
import datetime
import importlib.util
import itertools
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from pydantic import ValidationError

import inftool
from inftool.errors import DataUnavailableError, StageError
from inftool.reward import RewardConfig
from inftool.spec.recipe import RecipeSpec
from inftool.train.openrlhf import OPENRLHF_VERSION, PYTHON_VARIABLE, TRAIN_MODULE, launch, write_job
from inftool.wheels import cache_dir, cached_wheel

REPO = Path(__file__).resolve().parents[2]
WHEEL = f"openrlhf-{OPENRLHF_VERSION}-cp311-cp311-manylinux1_x86_64.whl"  # fetched as data on any interpreter
MODEL = "Qwen/Qwen2.5-0.5B-Instruct"
PROMPT = ("<|im_start|>system\n# Tools: get_weather(city)<|im_end|>\n"
          "<|im_start|>user\nWeather in Paris, 'café' $HOME?<|im_end|>\n<|im_start|>assistant\n")
LABEL = json.dumps({"functions": [{"name": "get_weather", "description": "Weather of a city.",
                                   "parameters": {"type": "dict", "properties": {"city": {"type": "string"}},
                                                  "required": ["city"]}}],
                    "ground_truth": [{"get_weather": {"city": ["Paris"]}}], "category": "simple_python"})


def hermes(city: str) -> str:
    return f'<tool_call>\n{{"name": "get_weather", "arguments": {{"city": "{city}"}}}}\n</tool_call><|im_end|>'


def recipe(cluster: dict | None = None, grpo: dict | None = None, reward: dict | None = None) -> RecipeSpec:
    data = {"name": "cluster", "catalogs": [{"source": "openai", "path": str(REPO / "catalog" / "travel.yaml")}],
            "models": {"synth": {"backend": "procedural"}, "policy": {"backend": "local", "model": MODEL}},
            "train": {"trainer": "openrlhf", "cluster": cluster or {}, "grpo": grpo or {}}}
    return RecipeSpec.model_validate(data | ({"reward": reward} if reward else {}))


def rows(count: int) -> list[dict]:
    return [{"prompt": PROMPT.replace("Paris", f"Paris {i}"), "label": LABEL, "item_id": f"ep{i}", "category": "simple"}
            for i in range(count)]


def options(tokens: list[str]) -> dict[str, list[str]]:
    """``--flag value...`` tokens as flag -> its values."""
    found: dict[str, list[str]] = {}
    for token in tokens:
        if token.startswith("--"):
            found[token] = []
            flag = token
        else:
            found[flag].append(token)
    return found


def fake_program(path: Path, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return path


def print_args(path: Path) -> Path:
    """A stand-in for an interpreter or for `ray`: prints its arguments, one a line."""
    return fake_program(path, 'printf "%s\\n" "$@"')


def load(path: Path):
    spec = importlib.util.spec_from_file_location(f"reward_{abs(hash(path))}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- the flags, against OpenRLHF 0.11.2's own parser ----------------------------------------------


@pytest.fixture(scope="module")
def parser_source() -> str:
    """``openrlhf/cli/train_ppo_ray.py`` from the 0.11.2 wheel, fetched once into inftool's cache."""
    try:
        requirement = f"openrlhf=={OPENRLHF_VERSION}"
        wheel = cached_wheel(requirement, WHEEL, cache_dir("openrlhf"), what=f"OpenRLHF {OPENRLHF_VERSION} wheel",
                             hint=f"pip download --no-deps {requirement}")
    except DataUnavailableError as exc:
        if os.environ.get("INFTOOL_OFFLINE") == "1":
            pytest.skip(f"cannot check the flags against OpenRLHF's parser: {exc}")
        raise
    with zipfile.ZipFile(wheel) as archive:  # the wheel keeps its modules under openrlhf-<v>.data/purelib/
        name = next(n for n in archive.namelist() if n.endswith("openrlhf/cli/train_ppo_ray.py"))
        return archive.read(name).decode("utf-8")


def parser_options(source: str) -> dict[str, bool]:
    """Every option string of the file's ``add_argument`` calls -> whether it takes a value (is not a
    store_true/store_false switch). f-string names in ``for prefix in (...)`` loops are expanded."""
    found: dict[str, bool] = {}

    def text(node: ast.expr, names: dict[str, str]) -> str:
        if isinstance(node, ast.JoinedStr):
            parts = (part.value if isinstance(part, ast.FormattedValue) else part for part in node.values)
            return "".join(text(part, names) for part in parts)
        return names[node.id] if isinstance(node, ast.Name) else node.value if isinstance(node, ast.Constant) else ""

    def visit(node: ast.AST, names: dict[str, str]) -> None:
        if isinstance(node, ast.For) and isinstance(node.target, ast.Name) and isinstance(node.iter, ast.Tuple):
            for value in ast.literal_eval(node.iter):
                for child in node.body:
                    visit(child, names | {node.target.id: value})
            return
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "add_argument":
            action = next((k.value.value for k in node.keywords if k.arg == "action"), None)
            for argument in node.args:
                if (name := text(argument, names)).startswith("--"):
                    found[name] = action not in ("store_true", "store_false")
        for child in ast.iter_child_nodes(node):
            visit(child, names)

    visit(ast.parse(source), {})
    return found


def real_parser(source: str) -> argparse.ArgumentParser:
    """The parser itself: the ``__main__`` block's statements up to ``parse_args()`` (argparse calls only)."""
    main = next(n for n in ast.parse(source).body if isinstance(n, ast.If) and "__main__" in ast.unparse(n.test))
    building = list(itertools.takewhile(lambda s: "parse_args" not in ast.unparse(s), main.body))
    namespace = {"argparse": argparse, "datetime": datetime.datetime}
    exec(compile(ast.Module(building, []), "train_ppo_ray.py", "exec"), namespace)  # noqa: S102 - read above
    return namespace["parser"]


CLUSTERS = [{}, {"actor_gpus_per_node": 4, "ref_gpus_per_node": 4, "vllm_num_engines": 2, "vllm_tensor_parallel_size": 2},
            {"colocate_all": False, "vllm_num_engines": 4, "vllm_tensor_parallel_size": 2},
            {"actor_num_nodes": 2, "actor_gpus_per_node": 4, "ref_num_nodes": 2, "ref_gpus_per_node": 4}]


@pytest.mark.parametrize("cluster", CLUSTERS)
def test_every_flag_exists_in_the_0_11_2_parser_with_a_value_when_it_takes_one(parser_source, cluster, tmp_path):
    job = write_job(recipe(cluster), rows(3), MODEL, tmp_path / "job", iteration=0, seed=5)
    known = parser_options(parser_source)
    assert len(known) > 150 and known["--actor.adam.lr"] and not known["--train.colocate_all"]  # the parser was read
    python = print_args(tmp_path / "python")
    script_argv = subprocess.run(["bash", str(job.script)], env=os.environ | {PYTHON_VARIABLE: str(python)},
                                 capture_output=True, text=True, check=True).stdout.splitlines()
    assert script_argv == ["-m", TRAIN_MODULE, *job.flags()]  # launch.sh runs exactly these flags
    for flag, values in options(job.flags()).items():
        assert flag in known, f"{flag} is not an option of OpenRLHF {OPENRLHF_VERSION}'s train_ppo_ray"
        assert len(values) == (1 if known[flag] else 0), f"{flag} {values}: wrong number of values"


def test_the_0_11_2_parser_accepts_the_flags_and_reads_the_grpo_settings(parser_source, tmp_path):
    spec = recipe({"actor_gpus_per_node": 4, "ref_gpus_per_node": 4, "vllm_num_engines": 4},
                  grpo={"steps": 7, "group_size": 4, "prompts_per_step": 3, "learning_rate": 2e-5, "kl": 0.02,
                        "temperature": 0.7, "max_new_tokens": 96})
    job = write_job(spec, rows(5), MODEL, tmp_path / "job", iteration=2, seed=11)
    args = vars(real_parser(parser_source).parse_args(job.flags()))  # exits on an unknown flag or a bad value
    assert (args["actor.model_name_or_path"], args["data.prompt_dataset"], args["reward.remote_url"]) == (
        MODEL, str(job.dataset), str(job.reward_file))
    assert (args["data.input_key"], args["data.label_key"]) == ("prompt", "label")
    assert not args["data.apply_chat_template"]  # the prompts are rendered with their tools already
    assert (args["algo.advantage.estimator"], args["rollout.n_samples_per_prompt"]) == ("group_norm", 4)
    assert (args["algo.kl.use_loss"], args["algo.kl.estimator"], args["algo.kl.init_coef"]) == (True, "k3", 0.02)
    assert (args["actor.adam.lr"], args["rollout.temperature"], args["rollout.max_new_tokens"]) == (2e-5, 0.7, 96)
    assert (args["train.seed"], args["ckpt.output_dir"]) == (11, str(job.save_path))
    # OpenRLHF's step count (ppo_trainer.prepare_datasets) over the written dataset is grpo.steps
    prompts = len(job.dataset.read_text().splitlines())
    steps = (prompts * args["rollout.n_samples_per_prompt"] // args["train.batch_size"] * args["train.num_episodes"]
             * args["train.max_epochs"])
    assert (prompts, args["rollout.batch_size"], args["train.batch_size"], steps) == (21, 3, 12, 7)


# --- the reward file --------------------------------------------------------------------------------

CHILD = r"""
import importlib.abc, importlib.util, json, sys
mode, entry, reward_file, cases = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
BLOCKED = {"torch", "transformers", "dspy", "duckdb", "pydantic", "trl", "openrlhf"}

class Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            raise ImportError(f"{name} is blocked: OpenRLHF's reward file must not need it")

if mode == "isolated":
    sys.meta_path.insert(0, Blocker())
sys.path.insert(0, entry)
spec = importlib.util.spec_from_file_location("reward", reward_file)
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
results = [module.reward_func(*case) for case in cases]
files = sorted(m.__file__ for n, m in list(sys.modules.items()) if n.partition(".")[0] == "inftool")
print(json.dumps({"results": results, "files": files}))
"""


def run_child(mode: str, entry: Path, reward_file: Path, cases: list) -> dict:
    flags = ["-I", "-S"] if mode == "isolated" else ["-I"]  # isolated: the standard library and `entry` only
    done = subprocess.run([sys.executable, *flags, "-c", CHILD, mode, str(entry), str(reward_file), json.dumps(cases)],
                          check=False, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"the reward file failed in a {mode} interpreter:\n{done.stderr}"
    return json.loads(done.stdout)


def test_the_reward_file_scores_in_a_plain_interpreter_with_only_inftool_reward(tmp_path):
    job = write_job(recipe(), rows(1), MODEL, tmp_path / "job", iteration=0, seed=0)
    cases = [[[PROMPT + hermes("Paris")], [PROMPT], [LABEL]],  # OpenRLHF: one sample a call, query = prompt + response
             [[PROMPT + hermes("Rome")], [PROMPT], [LABEL]],
             [[PROMPT + hermes("Paris"), PROMPT + hermes("Rome")], [PROMPT, PROMPT], [LABEL, LABEL]],
             [[PROMPT + hermes("Paris")], [PROMPT], ["not json"]],
             [[PROMPT, PROMPT], [PROMPT], [LABEL]]]  # mismatched lists: scored 0, not raised
    root = Path(inftool.__file__).resolve().parents[1]
    recorded = run_child("record", root, job.reward_file, cases)  # which of inftool's files the reward needs
    isolated = tmp_path / "isolated"
    needed = sorted(Path(file).resolve().relative_to(root) for file in recorded["files"])
    assert Path("inftool/reward.py") in needed and not any(p.parts[1] in ("train", "store", "cli") for p in needed)
    for relative in needed:
        (isolated / relative).parent.mkdir(parents=True, exist_ok=True)
        (isolated / relative).write_bytes((root / relative).read_bytes())

    alone = run_child("isolated", isolated, job.reward_file, cases)
    assert all(Path(file).is_relative_to(isolated) for file in alone["files"])
    single = {"extra_logs": {"gated_reward_mean": 1.0}, "rewards": 1.0, "scores": 1.0}
    assert alone["results"][0] == single and isinstance(alone["results"][0]["rewards"], float)
    assert alone["results"][1]["rewards"] == pytest.approx(0.4, abs=1e-12)  # format + function names, wrong city
    assert alone["results"][2]["rewards"] == pytest.approx([1.0, 0.4], abs=1e-12)  # several: lists
    assert alone["results"][3]["rewards"] == 0.0 and alone["results"][4]["rewards"] == [0.0, 0.0]
    assert alone["results"] == recorded["results"]


def test_the_reward_file_embeds_the_recipes_reward(tmp_path):
    reward = {"gates": ["execution", "format", "function_names", "arguments"], "partial_credit": True,
              "values": {"format": 0.05, "function_names": 0.25, "arguments": 0.5, "execution": 0.2}}
    spec = recipe(reward=reward)
    module = load(write_job(spec, rows(1), MODEL, tmp_path / "job", iteration=0, seed=0).reward_file)
    assert module.CONFIG == RewardConfig.from_spec(spec.reward)
    assert module.CONFIG.gates == ("format", "function_names", "arguments", "execution")
    assert module.reward_func([PROMPT + hermes("Paris")], [PROMPT], [LABEL])["rewards"] == pytest.approx(1.0)
    assert module.reward_func(None, None, None)["rewards"] == 0.0  # total


# --- the dataset, the scripts, launching ------------------------------------------------------------


@pytest.mark.parametrize(("given", "steps", "per_step"), [(3, 2, 2), (5, 1, 2), (4, 2, 2)])
def test_the_dataset_is_the_rows_in_order_repeated_to_the_steps(given, steps, per_step, tmp_path):
    spec = recipe(grpo={"steps": steps, "prompts_per_step": per_step})
    job = write_job(spec, rows(given), MODEL, tmp_path / "job", iteration=0, seed=0)
    written = [json.loads(line) for line in job.dataset.read_text(encoding="utf-8").splitlines()]
    assert written == [rows(given)[i % given] for i in range(steps * per_step)]
    assert "café" in job.dataset.read_text(encoding="utf-8")


def test_nothing_to_train_is_an_error(tmp_path):
    with pytest.raises(StageError, match="0 GRPO prompts"):
        write_job(recipe(), [], MODEL, tmp_path / "a", iteration=0, seed=0)
    with pytest.raises(StageError, match=r"grpo\.steps = 0"):
        write_job(recipe(grpo={"steps": 0}), rows(2), MODEL, tmp_path / "b", iteration=0, seed=0)


def test_max_len_bounds_prompt_and_completion_and_a_local_checkpoint_caps_it(tmp_path):
    longest = max(len(row["prompt"].encode()) for row in rows(3))
    job = write_job(recipe(grpo={"max_new_tokens": 50}), rows(3), MODEL, tmp_path / "hub", iteration=0, seed=0)
    assert options(job.flags())["--data.max_len"] == [str(longest + 50)]
    checkpoint = tmp_path / "ckpt"
    checkpoint.mkdir()
    (checkpoint / "config.json").write_text(json.dumps({"max_position_embeddings": 128}))
    job = write_job(recipe(), rows(3), str(checkpoint), tmp_path / "local", iteration=1, seed=0)
    assert options(job.flags())["--data.max_len"] == ["128"]
    assert options(job.flags())["--actor.model_name_or_path"] == [str(checkpoint)]


def test_scripts_are_valid_bash_and_submit_sh_runs_the_submit_command(tmp_path):
    spec = recipe({"ray_address": "http://head:8265"})
    job = write_job(spec, rows(2), MODEL, tmp_path / "job dir", iteration=0, seed=0)
    submit_sh = job.directory / "submit.sh"
    for script in (job.script, submit_sh):
        assert subprocess.run(["bash", "-n", str(script)], check=False, capture_output=True).returncode == 0
        assert script.read_text().startswith("#!/usr/bin/env bash\n") and "set -euo pipefail\n" in script.read_text()
    assert job.submit[:11] == ["ray", "job", "submit", "--address", "http://head:8265", "--working-dir",
                               str(job.directory), "--", "python", "-m", TRAIN_MODULE]
    print_args(tmp_path / "bin" / "ray")
    path = f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}"
    ran = subprocess.run(["bash", str(submit_sh)], env=os.environ | {"PATH": path}, capture_output=True, text=True,
                         check=True)
    assert ran.stdout.splitlines() == job.submit[1:]


def test_launch_streams_the_output_to_echo_and_the_log(tmp_path, monkeypatch):
    job = write_job(recipe(), rows(2), MODEL, tmp_path / "job", iteration=0, seed=0)
    monkeypatch.setenv(PYTHON_VARIABLE, str(print_args(tmp_path / "python")))
    echoed: list[str] = []
    launch(job, echo=echoed.append)
    assert echoed == ["-m", TRAIN_MODULE, *job.flags()]
    assert job.log.read_text().splitlines() == echoed

    print_args(tmp_path / "bin" / "ray")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    echoed.clear()
    launch(job, echo=echoed.append, use_ray=True)
    assert echoed == job.submit[1:]


def test_a_failing_job_raises_with_the_last_lines_of_its_log(tmp_path, monkeypatch):
    job = write_job(recipe(), rows(2), MODEL, tmp_path / "job", iteration=0, seed=0)
    failing = fake_program(tmp_path / "python", 'seq -f "out-%02g" 1 30\necho boom >&2\nexit 3')
    monkeypatch.setenv(PYTHON_VARIABLE, str(failing))
    echoed: list[str] = []
    with pytest.raises(StageError, match="exit code 3") as failure:
        launch(job, echo=echoed.append)
    message = str(failure.value)
    assert "out-30" in message and "boom" in message and "out-10" not in message and str(job.log) in message
    assert "hint" not in message  # OpenRLHF ran and failed: no advice to install it
    assert echoed[0] == "out-01" and job.log.read_text().splitlines() == echoed

    monkeypatch.setenv(PYTHON_VARIABLE, sys.executable)  # a python without OpenRLHF
    with pytest.raises(StageError, match="No module named 'openrlhf'") as failure:
        launch(job, echo=lambda line: None)
    assert "its own GPU environment" in str(failure.value)

    monkeypatch.setenv(PYTHON_VARIABLE, str(tmp_path / "nowhere" / "python"))
    with pytest.raises(StageError, match="exit code 127(.|\n)*its own GPU environment"):
        launch(job, echo=lambda line: None)


def test_a_missing_ray_command_is_a_stage_error_with_a_hint(tmp_path, monkeypatch):
    job = write_job(recipe(), rows(2), MODEL, tmp_path / "job", iteration=0, seed=0)
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(StageError, match=r"cannot start the OpenRLHF job: ray: .*its own GPU environment"):
        launch(job, echo=lambda line: None, use_ray=True)


# --- placement ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("cluster", "grpo", "message"), [
    ({"vllm_num_engines": 0}, {}, "greater than or equal to 1"),
    ({"vllm_num_engines": 2}, {}, "colocate_all needs the actor's GPUs (8) to equal vllm_num_engines"),
    ({"ref_gpus_per_node": 4, "vllm_num_engines": 8}, {}, "reference model placed like the actor"),
    ({"colocate_all": False}, {"prompts_per_step": 3, "group_size": 3}, "divisible by the actor's 8 GPUs"),
])
def test_placements_openrlhf_would_reject_on_the_cluster_are_recipe_errors(cluster, grpo, message):
    with pytest.raises(ValidationError, match=re.escape(message)):
        recipe(cluster, grpo)


def test_colocation_adds_the_colocate_and_sleep_flags_and_placement_follows_the_cluster(tmp_path):
    cluster = {"actor_num_nodes": 2, "actor_gpus_per_node": 4, "ref_num_nodes": 2, "ref_gpus_per_node": 4,
               "vllm_num_engines": 4, "vllm_tensor_parallel_size": 2}
    flags = options(write_job(recipe(cluster), rows(2), MODEL, tmp_path / "a", iteration=0, seed=0).flags())
    assert {flag: flags[flag] for flag in flags if flag.split(".")[0] in ("--actor", "--ref", "--vllm")} | {
        flag: flags[flag] for flag in ("--train.colocate_all", "--ds.enable_sleep")} == {
        "--actor.model_name_or_path": [MODEL], "--actor.adam.lr": ["0.0001"],
        "--actor.num_nodes": ["2"], "--actor.num_gpus_per_node": ["4"], "--ref.num_nodes": ["2"],
        "--ref.num_gpus_per_node": ["4"], "--vllm.num_engines": ["4"], "--vllm.tensor_parallel_size": ["2"],
        "--vllm.enable_sleep": [], "--train.colocate_all": [], "--ds.enable_sleep": []}
    apart = options(write_job(recipe(cluster | {"colocate_all": False}), rows(2), MODEL, tmp_path / "b", iteration=0,
                              seed=0).flags())
    assert not {"--train.colocate_all", "--vllm.enable_sleep", "--ds.enable_sleep"} & set(apart)


# --- multi-turn: the agent file ---------------------------------------------------------------------

AGENT_STUB = '''"""A stand-in for OpenRLHF 0.11.2's openrlhf.utils.agent, for inftool's tests only: the base classes the emitted
agent file subclasses, with OpenRLHF's contract (an instance class built without arguments, async reset and step)."""

from abc import ABC, abstractmethod


class AgentExecutorBase(ABC):
    pass


class AgentInstanceBase(ABC):
    @abstractmethod
    def __init__(self, *args, **kwargs):
        pass

    async def reset(self, states, **kwargs):
        return states

    @abstractmethod
    async def step(self, states, **kwargs):
        raise NotImplementedError


class MultiTurnAgentExecutor(AgentExecutorBase):
    def __init__(self, agent_instance_cls):
        assert issubclass(agent_instance_cls, AgentInstanceBase)
        self.agent_instance_cls = agent_instance_cls
'''


@pytest.fixture
def openrlhf_stub(tmp_path, monkeypatch):
    """``openrlhf.utils.agent`` as `AGENT_STUB`, importable for this test only."""
    package = tmp_path / "openrlhf_stub" / "openrlhf"
    (package / "utils").mkdir(parents=True)
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "utils" / "__init__.py").write_text("", encoding="utf-8")
    (package / "utils" / "agent.py").write_text(AGENT_STUB, encoding="utf-8")
    monkeypatch.syspath_prepend(str(package.parent))
    yield
    for name in [n for n in sys.modules if n.partition(".")[0] == "openrlhf"]:
        del sys.modules[name]


def multi_turn_job(tasks, tiny: Path, directory: Path, **grpo):
    from transformers import AutoTokenizer

    from inftool.train.environments import agent_rows

    turns = agent_rows(tasks, AutoTokenizer.from_pretrained(tiny))
    return write_job(recipe(grpo=grpo or None), turns, str(tiny), directory, iteration=1, seed=3, multi_turn=True), turns


def test_a_multi_turn_job_trains_through_the_agent_file(parser_source, stateful_tasks, stateful_tiny, tmp_path):
    from inftool.train.openrlhf import OpenRLHFJob

    job, turns = multi_turn_job(stateful_tasks[:3], stateful_tiny, tmp_path / "job")
    flags = options(job.flags())
    assert job.multi_turn and job.reward_file.name == "agent.py" and not (job.directory / "reward.py").exists()
    assert flags["--train.agent_func_path"] == [str(job.reward_file)] and "--reward.remote_url" not in flags
    known = parser_options(parser_source)
    assert all(flag in known and len(values) == (1 if known[flag] else 0) for flag, values in flags.items())
    args = vars(real_parser(parser_source).parse_args(job.flags()))
    assert args["train.agent_func_path"] == str(job.reward_file) and args["reward.remote_url"] is None
    assert (args["data.input_key"], args["data.label_key"], args["data.apply_chat_template"]) == ("prompt", "label",
                                                                                                   False)
    assert OpenRLHFJob.at(job.directory).multi_turn
    written = [json.loads(line) for line in job.dataset.read_text(encoding="utf-8").splitlines()]
    assert written[:3] == turns and all(json.loads(row["label"])["env"] == "bfcl_env:ticket_api" for row in written)
    assert all(row["prompt"].endswith("<|im_start|>assistant\n") for row in written)  # rendered with the tools
    single = write_job(recipe(), rows(2), MODEL, job.directory, iteration=1, seed=3)  # the same directory, plainly
    assert not single.multi_turn and not (job.directory / "agent.py").exists()


def hermes_calls(calls) -> str:
    return "".join(f"<tool_call>{json.dumps({'name': c.name, 'arguments': c.arguments})}</tool_call>" for c in calls)


def test_the_agent_file_plays_a_turn_on_its_environment(openrlhf_stub, stateful_tasks, stateful_tiny, tmp_path):
    import asyncio

    from inftool.core.episode import Call
    from inftool.reward import StatefulTurn

    job, turns = multi_turn_job(stateful_tasks, stateful_tiny, tmp_path / "job")
    module = load(job.reward_file)  # imports openrlhf.utils.agent: the stub
    assert module.CONFIG == RewardConfig.from_spec(recipe().reward) and module.TOKENIZER == str(stateful_tiny)
    full = sum(module.CONFIG.values[g] for g in module.CONFIG.gates) + module.CONFIG.state
    row = next(r for r in turns if any(c.arguments for c in StatefulTurn.of(r["label"]).planned))
    turn = StatefulTurn.of(row["label"])
    world, _ = turn.start()
    expected = [world.call(c.name, c.arguments) for c in turn.planned]

    def play(*actions: str) -> list[dict]:
        """The rollout as MultiTurnAgentExecutor.execute drives it: reset, then a step per action until done."""
        environment = module.AgentExecutor().agent_instance_cls()
        reset = asyncio.run(environment.reset({"observation": row["prompt"], "label": row["label"]}))
        assert reset["observation"] == row["prompt"]
        steps = []
        for action in actions:
            steps.append(asyncio.run(environment.step({"observation_text": row["prompt"], "action_text": action,
                                                       "label": row["label"], "sampling_params": None})))
            if steps[-1]["done"]:
                break
        return steps

    oracle = play(hermes_calls(turn.planned) + "<|im_end|>", "All done.<|im_end|>")
    assert [s["done"] for s in oracle] == [False, True]
    feedback = oracle[0]["environment_feedback"]
    assert feedback.startswith("\n<|im_start|>tool\n") and feedback.endswith("<|im_start|>assistant\n")
    assert all(result in feedback for result in expected)  # the environment's own results come back
    assert sum(s["rewards"].item() for s in oracle) == pytest.approx(full)
    assert oracle[-1]["scores"].item() == pytest.approx(full) and oracle[-1]["extra_logs"]["state_passed"].item() == 1

    first, *rest = turn.planned
    name, value = next(iter(first.arguments.items()))
    changed = [Call(first.name, {**first.arguments, name: value + 1 if isinstance(value, int) else f"{value}x"})]
    wrong = play(hermes_calls(changed + rest) + "<|im_end|>", "Done.<|im_end|>")
    assert sum(s["rewards"].item() for s in wrong) < full and wrong[-1]["extra_logs"]["state_passed"].item() == 0
    silent = play("I would rather not.<|im_end|>")  # no call: done at once, format credit only
    assert [s["done"] for s in silent] == [True] and silent[0]["rewards"].item() == pytest.approx(0.1)
    assert play('<tool_call>{"name": "close_ti<|im_end|>')[0]["rewards"].item() == 0.0  # unreadable: nothing
