"""The cluster trainer (``trainer: openrlhf``): one GRPO iteration as an OpenRLHF 0.11 job on Ray.

`write_job` writes, into one directory per loop iteration:

- ``prompts.jsonl``: the GRPO prompts, already rendered with the tools (OpenRLHF applies chat templates
  without ``tools=``, so the job runs without ``--data.apply_chat_template``) and their labels, the rows
  repeated in order to exactly ``grpo.steps * grpo.prompts_per_step`` lines, so that OpenRLHF's one pass
  over them (``--train.num_episodes 1``) is ``grpo.steps`` optimiser steps, its scheduler's length too;
- ``reward.py``: the recipe's gated reward (``--reward.remote_url``), importing only `inftool.reward`;
- or, for multi-turn GRPO on stateful episodes (``multi_turn=True``: one prompt per user turn, see
  `inftool.train.environments`), ``agent.py`` instead (``--train.agent_func_path``): OpenRLHF 0.11's agent API,
  an ``AgentExecutor(MultiTurnAgentExecutor)`` whose ``AgentInstanceBase`` plays each rollout's turn on a fresh
  world of its environment (`inftool.train.environments.AgentRollout`: each action's calls run there, their
  results come back rendered by the policy's chat template, and the rewards add up to the rollout's score:
  the gated reward plus the state reward);
- ``launch.sh``: ``python -m openrlhf.cli.train_ppo_ray`` with the job's flags, run where OpenRLHF is
  installed (``$INFTOOL_OPENRLHF_PYTHON`` picks the interpreter, default ``python``);
- ``submit.sh``: the same command through ``ray job submit`` to ``train.cluster.ray_address``.

The flags are OpenRLHF 0.11's dotted names (0.10.0 and older used flat ones); tests check every one of
them, and its value, against the 0.11.2 parser. Paths in them are absolute: the run directory must be
on a file system the Ray workers share, since the trained checkpoint is written there (``save_path``).
Nothing here imports OpenRLHF; the agent file does, where it runs.
"""

from __future__ import annotations

import json
import shlex
import subprocess
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from inftool.errors import StageError
from inftool.reward import RewardConfig

OPENRLHF_VERSION = "0.11.2"
TRAIN_MODULE = "openrlhf.cli.train_ppo_ray"
REWARD_FILE, AGENT_FILE = "reward.py", "agent.py"
PYTHON_VARIABLE = "INFTOOL_OPENRLHF_PYTHON"
"""Environment variable naming the interpreter of OpenRLHF's environment for ``launch.sh``."""

_HINT = (f"install OpenRLHF in its own GPU environment (pip install 'openrlhf[vllm]=={OPENRLHF_VERSION}') and "
         f"point {PYTHON_VARIABLE} at its python, or activate it; submitting with Ray needs the `ray` command")
_TAIL = 20

Flag = tuple[str, str | None]
"""An option of train_ppo_ray and its value (None for a switch)."""


@dataclass(frozen=True)
class OpenRLHFJob:
    """The files of one OpenRLHF GRPO job and the commands that run it."""

    directory: Path
    dataset: Path
    """``prompts.jsonl``: ``{"prompt", "label", ...}`` per line."""
    reward_file: Path
    """``reward.py``, defining ``reward_func(queries, prompts, labels, **kwargs)``; for a multi-turn job,
    ``agent.py``, defining ``AgentExecutor``."""
    script: Path
    """``launch.sh``: runs the job with this machine's OpenRLHF (and Ray)."""
    submit: list[str]
    """``ray job submit --address ... --working-dir ... -- python -m openrlhf.cli.train_ppo_ray ...``."""
    save_path: Path
    """Where OpenRLHF saves the trained Hugging Face checkpoint."""
    log: Path
    """Where `launch` writes the job's output."""

    @classmethod
    def at(cls, directory: Path) -> OpenRLHFJob:
        """The job `write_job` wrote into ``directory`` (``inftool run --resume --launch`` launches it later)."""
        submit = json.loads((directory / "job.json").read_text(encoding="utf-8"))["submit"]
        reward = directory / (AGENT_FILE if (directory / AGENT_FILE).is_file() else REWARD_FILE)
        return cls(directory, directory / "prompts.jsonl", reward, directory / "launch.sh", submit,
                   directory / "checkpoint", directory / "launch.log")

    @property
    def multi_turn(self) -> bool:
        """Whether the job trains multi-turn, through ``agent.py``."""
        return self.reward_file.name == AGENT_FILE

    def flags(self) -> list[str]:
        """train_ppo_ray's arguments (what follows ``-m openrlhf.cli.train_ppo_ray``)."""
        return self.submit[self.submit.index(TRAIN_MODULE) + 1:]


def write_job(spec: Any, rows: list[dict[str, Any]], pretrain: str, directory: Path, *,
              iteration: int, seed: int, multi_turn: bool = False) -> OpenRLHFJob:
    """Write the job for ``spec`` (a `RecipeSpec` whose ``train`` is an `OpenRLHFTrainSpec`) into ``directory``.

    ``rows`` are `inftool.train.data.prompt_rows`, or with ``multi_turn`` the rendered turns of stateful
    episodes (`inftool.train.environments.agent_rows`), trained through ``agent.py``; ``pretrain`` is the policy
    to start from, a Hugging Face model id or a checkpoint directory (the agent also loads its tokenizer, to
    render tool results as the policy's template does). Raises `StageError` when there is nothing to train on.
    """
    grpo = spec.train.grpo
    count = grpo.steps * grpo.prompts_per_step
    if not rows or not count:
        raise StageError(f"no OpenRLHF job to write: {len(rows)} GRPO prompts, grpo.steps = {grpo.steps}")
    directory = directory.expanduser().absolute()
    directory.mkdir(parents=True, exist_ok=True)
    job = OpenRLHFJob(directory, directory / "prompts.jsonl", directory / (AGENT_FILE if multi_turn else REWARD_FILE),
                      directory / "launch.sh", [], directory / "checkpoint", directory / "launch.log")
    (directory / (REWARD_FILE if multi_turn else AGENT_FILE)).unlink(missing_ok=True)  # from an earlier write
    prompts = [rows[i % len(rows)] for i in range(count)]
    job.dataset.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in prompts), encoding="utf-8")
    config = RewardConfig.from_spec(spec.reward)
    text = (_agent_file(config, spec.name, iteration, pretrain) if multi_turn
            else _reward_file(config, spec.name, iteration))
    job.reward_file.write_text(text, encoding="utf-8")
    flags = _flags(spec, job, pretrain, _max_len(prompts, grpo.max_new_tokens, pretrain), seed)
    header = f"# OpenRLHF {OPENRLHF_VERSION} GRPO job of recipe {spec.name}, iteration {iteration}, by inftool.\n"
    run = f'"${{{PYTHON_VARIABLE}:-python}}" -m {TRAIN_MODULE}'
    job.script.write_text(_script(header, directory, run, flags), encoding="utf-8")
    submit = ["ray", "job", "submit", "--address", spec.train.cluster.ray_address, "--working-dir", str(directory),
              "--", "python", "-m", TRAIN_MODULE]
    (directory / "submit.sh").write_text(_script(header, directory, shlex.join(submit), flags), encoding="utf-8")
    job = replace(job, submit=submit + [token for flag in flags for token in flag if token is not None])
    (directory / "job.json").write_text(json.dumps({"submit": job.submit}, indent=1) + "\n", encoding="utf-8")
    return job


def launch(job: OpenRLHFJob, *, echo: Callable[[str], None], use_ray: bool = False) -> None:
    """Run ``launch.sh`` (or, with ``use_ray``, the ``ray job submit`` command) and wait for it.

    Each output line goes to ``echo`` and to ``job.log``. Raises `StageError` with the log's last lines
    when the job fails, and with a hint when OpenRLHF (or ``ray``) is missing.
    """
    command = job.submit if use_ray else ["bash", str(job.script)]
    tail: deque[str] = deque(maxlen=_TAIL)
    try:
        process = subprocess.Popen(command, cwd=job.directory, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   text=True, errors="replace", bufsize=1)
    except OSError as exc:
        reason = exc.strerror or exc
        raise StageError(f"cannot start the OpenRLHF job: {command[0]}: {reason} (hint: {_HINT})") from None
    with process, job.log.open("w", encoding="utf-8") as log:
        for line in process.stdout:
            log.write(line)
            log.flush()
            text = line.rstrip("\n")
            tail.append(text)
            echo(text)
    if process.returncode:
        shown = "\n".join(f"  {line}" for line in tail)
        missing = process.returncode == 127 or any("No module named 'openrlhf" in line for line in tail)
        raise StageError(f"the OpenRLHF job failed (exit code {process.returncode}); the last lines of {job.log}:\n"
                         f"{shown}" + (f"\n(hint: {_HINT})" if missing else ""))


def _flags(spec: Any, job: OpenRLHFJob, pretrain: str, max_len: int, seed: int) -> list[Flag]:
    """train_ppo_ray's options for GRPO: one rollout of ``prompts_per_step`` prompts, ``group_size``
    samples each, is one optimiser step (``--train.batch_size`` counts samples)."""
    grpo = spec.train.grpo
    return [
        ("--actor.model_name_or_path", pretrain),
        ("--data.prompt_dataset", str(job.dataset)),
        ("--data.input_key", "prompt"),
        ("--data.label_key", "label"),
        ("--data.max_len", str(max_len)),
        ("--train.agent_func_path" if job.multi_turn else "--reward.remote_url", str(job.reward_file)),
        ("--algo.advantage.estimator", "group_norm"),
        ("--rollout.n_samples_per_prompt", str(grpo.group_size)),
        ("--rollout.batch_size", str(grpo.prompts_per_step)),
        ("--rollout.max_new_tokens", str(grpo.max_new_tokens)),
        ("--rollout.temperature", str(grpo.temperature)),
        ("--train.batch_size", str(grpo.prompts_per_step * grpo.group_size)),
        ("--train.num_episodes", "1"),
        ("--train.max_epochs", "1"),
        ("--actor.adam.lr", str(grpo.learning_rate)),
        ("--algo.kl.use_loss", None),
        ("--algo.kl.estimator", "k3"),
        ("--algo.kl.init_coef", str(grpo.kl)),
        ("--train.seed", str(seed)),
        ("--ckpt.output_dir", str(job.save_path)),
        *_placement(spec.train.cluster),
    ]


def _placement(cluster: Any) -> list[Flag]:
    """Actor and reference placement, the vLLM engines, and colocation with sleep mode."""
    flags: list[Flag] = [
        ("--actor.num_nodes", str(cluster.actor_num_nodes)),
        ("--actor.num_gpus_per_node", str(cluster.actor_gpus_per_node)),
        ("--ref.num_nodes", str(cluster.ref_num_nodes)),
        ("--ref.num_gpus_per_node", str(cluster.ref_gpus_per_node)),
        ("--vllm.num_engines", str(cluster.vllm_num_engines)),
        ("--vllm.tensor_parallel_size", str(cluster.vllm_tensor_parallel_size)),
    ]
    if cluster.colocate_all:
        flags += [("--train.colocate_all", None), ("--ds.enable_sleep", None), ("--vllm.enable_sleep", None)]
    return flags


def _max_len(rows: list[dict[str, Any]], max_new_tokens: int, pretrain: str) -> int:
    """``--data.max_len``, prompt plus completion in tokens: OpenRLHF cuts longer prompts from the left,
    which would drop the tools. A token spans at least one byte, so the longest prompt's UTF-8 length
    bounds its tokens; a local checkpoint's context length caps the bound."""
    bound = max(len(row["prompt"].encode("utf-8")) for row in rows) + max_new_tokens
    config = Path(pretrain).expanduser() / "config.json"
    if not config.is_file():
        return bound
    context = json.loads(config.read_text(encoding="utf-8")).get("max_position_embeddings")
    return min(bound, context) if isinstance(context, int) else bound


def _script(header: str, directory: Path, command: str, flags: list[Flag]) -> str:
    """A bash script that runs ``command`` in ``directory``, one flag (and its shell-quoted value) a line."""
    lines = [f"exec {command}"] + [shlex.join(token for token in flag if token is not None) for flag in flags]
    return (f"#!/usr/bin/env bash\n{header}set -euo pipefail\ncd {shlex.quote(str(directory))}\n"
            + " \\\n  ".join(lines) + "\n")


def _agent_file(config: RewardConfig, recipe: str, iteration: int, pretrain: str) -> str:
    """OpenRLHF's agent file: the recipe's stateful turns played on their environments, rewarded as the local
    trainer rewards them (`inftool.train.environments.AgentRollout`)."""
    return f'''"""The multi-turn agent of recipe {recipe}, iteration {iteration}, for OpenRLHF {OPENRLHF_VERSION}.

Written by inftool for --train.agent_func_path: OpenRLHF builds AgentExecutor() and, for every rollout, an
InftoolEnvironment. Its reset() starts the row's user turn on a fresh world of the turn's environment (the initial
state, the earlier turns' calls made again); its step() runs the calls of each action there and answers with
their results, rendered by the policy's chat template, until an action makes no call. The step rewards add up to
the rollout's score: the gated reward of its calls, plus the state reward when the turn ends in the planned state.
This file needs inftool importable in OpenRLHF's environment (pip install --no-deps /path/to/inftool, and the
BFCL data for BFCL's environments: see inftool's README) and the policy's tokenizer at TOKENIZER.
"""

import functools
import logging

import torch
from openrlhf.utils.agent import AgentInstanceBase, MultiTurnAgentExecutor

from inftool.reward import STATE, RewardConfig
from inftool.train.environments import AgentRollout

CONFIG = RewardConfig(gates={config.gates!r}, values={config.values!r}, partial_credit={config.partial_credit!r},
                      state={config.state!r})
TOKENIZER = {pretrain!r}
log = logging.getLogger("inftool.reward")


@functools.lru_cache(maxsize=1)
def tokenizer():
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(TOKENIZER)


class InftoolEnvironment(AgentInstanceBase):
    """One rollout's world."""

    def __init__(self, *args, **kwargs):
        self.rollout = None

    async def reset(self, states, **kwargs):
        self.rollout = AgentRollout(states["label"], tokenizer(), CONFIG)
        return {{"observation": states["observation"]}}

    async def step(self, states, **kwargs):
        try:
            reward, feedback, done = self.rollout.step(states["action_text"])
        except Exception as exc:  # a step that fails ends the rollout with what it has earned so far
            log.warning("agent: the rollout stopped after %s: %s", type(exc).__name__, exc)
            reward, feedback, done = 0.0, "", True
        passed = float(STATE in self.rollout.scored.passed)
        return {{"rewards": torch.tensor(reward), "scores": torch.tensor(self.rollout.score),
                "environment_feedback": feedback, "done": done,
                "extra_logs": {{"state_passed": torch.tensor(passed)}}}}


class AgentExecutor(MultiTurnAgentExecutor):
    def __init__(self):
        super().__init__(InftoolEnvironment)
'''


def _reward_file(config: RewardConfig, recipe: str, iteration: int) -> str:
    """OpenRLHF's custom reward file: the gated reward with this recipe's gates and values as literals."""
    return f'''"""The gated reward of recipe {recipe}, iteration {iteration}, for OpenRLHF {OPENRLHF_VERSION}.

Written by inftool for --reward.remote_url: OpenRLHF calls reward_func(queries, prompts, labels) one sample
at a time. This file needs inftool importable in OpenRLHF's environment (pip install --no-deps
/path/to/inftool), and nothing of it but inftool.reward.
"""

import logging

from inftool.reward import RewardConfig, openrlhf_reward

CONFIG = RewardConfig(gates={config.gates!r}, values={config.values!r}, partial_credit={config.partial_credit!r})
log = logging.getLogger("inftool.reward")


def reward_func(queries, prompts, labels, **kwargs):
    """The gated reward; never raises (OpenRLHF would leave the reward unset): a failure scores 0."""
    try:
        return openrlhf_reward(queries, prompts, labels, CONFIG)
    except Exception as exc:  # total by contract: any failure scores 0
        log.warning("reward: scored 0 after %s: %s", type(exc).__name__, exc)
        count = len(queries) if isinstance(queries, (list, tuple)) else 1
        zero = 0.0 if count == 1 else [0.0] * count
        return {{"rewards": zero, "scores": zero, "extra_logs": {{"gated_reward_mean": 0.0}}}}
'''
