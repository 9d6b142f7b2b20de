"""The training stage: build the policy, then per iteration SFT and GRPO (local trainer), or write and launch
an OpenRLHF job (cluster trainer).

One entry point per step, used by the loop and by anyone driving training from Python. Each step reads
the iteration's verified training episodes from the run's store, writes its checkpoint (or job
directory) atomically under the run directory, records its curve in the store, and returns its counts
and its product (a checkpoint or job directory) as ``(counts, path)``.
"""

from __future__ import annotations

import json
import random
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inftool.errors import UsageError
from inftool.progress import Progress
from inftool.rundir import RunDir

StepResult = tuple[dict[str, Any], str | None]


def check_policy(spec: Any) -> None:
    """What would fail after synthesis, checked before it: the training libraries, a policy that exists here
    (its chat template renders the training prompts and it is evaluated locally), and, with constrained
    decoding, a chat template that writes the one call form it enforces."""
    from inftool.hf import require

    constrained = "constrained" in spec.evaluate.decoding
    require("torch", "transformers", *(("datasets", "trl") if spec.train.trainer == "local" else ()),
            *(("lmformatenforcer",) if constrained else ()))
    name, model = spec.train.policy, spec.models[spec.train.policy]
    try:
        start = model.start()  # a hub id must be in the local Hugging Face cache (compile checks it too)
    except UsageError as exc:
        raise UsageError(f"models.{name}.model: {exc}") from None
    if constrained and start is not None:  # tiny-scratch writes Hermes calls; a checkpoint's template may not
        from inftool.evaluate.constrained import check_template

        check_template(_tokenizer(start))


@dataclass
class Training:
    """The training steps of one run: ``spec`` is the recipe, ``plan`` and ``catalog`` its compiled form."""

    spec: Any
    plan: Any
    catalog: Any
    store: Any
    run_id: str
    progress: Progress = field(default_factory=Progress)

    @property
    def checkpoints(self) -> Path:
        return RunDir(Path(self.plan.run_dir)).checkpoints(self.run_id)

    def build_policy(self) -> StepResult:
        """The untrained policy: the recipe's local checkpoint as it is, or a tiny-scratch model built here
        (tokenizer trained on the catalog and iteration 0's training episodes)."""
        model = self.spec.models[self.spec.train.policy]
        start = model.start()  # checkpoint_path, or a hub id's snapshot in the local Hugging Face cache
        if start is not None:
            return {"from": str(start), **({"model": model.model} if model.from_hub else {})}, str(start)
        from .tiny import build_tiny

        out = self.checkpoints / "untrained"
        episodes = self.store.episodes(self.run_id, split="train", iteration=0)
        tools = [tool.to_openai() for tool in self.catalog]
        with _atomic(out) as partial:
            build_tiny(model.tiny, tools, [e["messages"] for e in episodes], partial, seed=self.plan.seed)
        return {"model": "tiny-scratch", **model.tiny.model_dump()}, str(out)

    def sft(self, iteration: int, start: Path) -> StepResult:
        """Supervised fine-tuning of ``start`` on the iteration's training episodes (loss on the assistant's turns)."""
        from . import local
        from .aliases import renamed
        from .data import sft_data

        spec, max_length = self.spec.train.sft, _max_length(start)
        episodes = list(self.store.episodes(self.run_id, split="train", iteration=iteration))
        replayed = self.replay(iteration, round(spec.replay * len(episodes)))
        chosen = episodes + replayed
        examples = renamed(chosen, spec.rename_tools, self.plan.seed, {tool.name for tool in self.catalog})
        data = sft_data(examples, _tokenizer(start), max_length)
        out = self.checkpoints / f"iter{iteration}-sft"
        with self.progress.track(f"iteration {iteration}: SFT", local.sft_steps(len(data.rows), spec)) as advance:
            phase = local.sft(start, data.rows, spec, out, self._runtime(), max_length=max_length,
                              segment=(iteration, self.spec.loop.iterations), on_step=advance)
        self.store.write_train_log(self.run_id, iteration, "sft", phase.logs)
        return {**phase.summary, "tokens": data.tokens, "replayed": len(replayed),
                "renamed": sum(a is not b for a, b in zip(chosen, examples)), "truncated": data.truncated,
                "unmasked_turns": data.unmasked_turns, **data.template}, str(out)

    def replay(self, iteration: int, count: int) -> list[dict[str, Any]]:
        """``count`` training episodes of earlier iterations, drawn by the seed (all of them when fewer): a
        reservoir sample of the stored stream, so memory holds ``count`` episodes however long the run."""
        if iteration == 0 or count <= 0:
            return []
        rng, chosen = random.Random(f"{self.plan.seed}:replay:{iteration}"), []
        for seen, episode in enumerate(self.store.episodes(self.run_id, split="train")):
            if episode["iteration"] >= iteration:  # the stream is in iteration order
                break
            if len(chosen) < count:
                chosen.append(episode)
            elif (slot := rng.randrange(seen + 1)) < count:
                chosen[slot] = episode
        return chosen

    def grpo(self, iteration: int, start: Path) -> StepResult:
        """GRPO of ``start`` on the iteration's prompts, rewarded by the recipe's gated reward; multi-turn, on the
        user turns of its stateful episodes played on their environments, when it has any (`turns`)."""
        from inftool.reward import RewardConfig

        from . import local

        spec = self.spec.train.grpo
        if spec.steps == 0:
            return {"steps": 0, "skipped": "grpo.steps is 0"}, str(start)
        turns = self.turns(iteration, start)
        prompts = turns or self.prompts(iteration, start)
        out = self.checkpoints / f"iter{iteration}-grpo"
        with self.progress.track(f"iteration {iteration}: GRPO" + (" (multi-turn)" if turns else ""),
                                 spec.steps) as advance:
            phase = local.grpo(start, prompts, spec, RewardConfig.from_spec(self.spec.reward), out, self._runtime(),
                               on_step=advance)
        self.store.write_train_log(self.run_id, iteration, "grpo", phase.logs)
        return {**phase.summary, **({"multi_turn": True} if turns else {})}, str(out)

    def emit(self, iteration: int, start: Path) -> StepResult:
        """Write the iteration's OpenRLHF job (prompts, reward or agent file, launch and submit scripts): multi-turn,
        through OpenRLHF's agent API, on the user turns of its stateful episodes when it has any."""
        from .environments import agent_rows
        from .openrlhf import write_job

        turns = self.turns(iteration, start)
        prompts = agent_rows(turns, _tokenizer(start)) if turns else self.prompts(iteration, start)
        directory = RunDir(Path(self.plan.run_dir)).openrlhf_job(self.run_id, iteration)
        job = write_job(self.spec, prompts, str(start), directory, iteration=iteration, seed=self.plan.seed,
                        multi_turn=bool(turns))
        return {"prompts": len(prompts), **({"multi_turn": True} if turns else {})}, str(job.directory)

    def launch(self, iteration: int, job_dir: Path) -> StepResult:  # noqa: ARG002 - the same signature as the others
        """Run an emitted OpenRLHF job here, following its log; its product is the checkpoint it saves."""
        from .openrlhf import OpenRLHFJob, launch

        job = OpenRLHFJob.at(job_dir)
        launch(job, echo=self.progress.say)
        return {"log": str(job.log)}, str(job.save_path)

    def prompts(self, iteration: int, start: Path) -> list[dict[str, str]]:
        """The iteration's training prompts that fit the policy with room for a completion, shuffled by the seed."""
        from .data import prompt_items, prompt_rows

        tokenizer = _tokenizer(start)
        room = _max_length(start) - self.spec.train.grpo.max_new_tokens
        rows = prompt_rows(prompt_items(self.store.episodes(self.run_id, split="train", iteration=iteration)),
                           tokenizer)
        rows = [r for r in rows if len(tokenizer(r["prompt"], add_special_tokens=False)["input_ids"]) <= room]
        random.Random(f"{self.plan.seed}:grpo:{iteration}").shuffle(rows)
        return rows

    def turns(self, iteration: int, start: Path) -> list[Any]:
        """The user turns of the iteration's stateful training episodes (`inftool.train.environments.TurnTask`)
        whose prompts fit the policy with room for a completion, shuffled by the seed; [] without stateful
        episodes. With them, GRPO is multi-turn and trains on these turns only (the other episodes are SFT's)."""
        from .environments import rendered, turn_tasks

        methods = {tool.name: tool.original_name for tool in self.catalog if tool.meta.get("env")}
        tasks = turn_tasks(self.store.episodes(self.run_id, split="train", iteration=iteration), methods)
        if not tasks:
            return []
        tokenizer = _tokenizer(start)
        room = _max_length(start) - self.spec.train.grpo.max_new_tokens
        tasks = [t for t in tasks if len(tokenizer(rendered(t, tokenizer), add_special_tokens=False)["input_ids"]) <= room]
        random.Random(f"{self.plan.seed}:grpo:{iteration}").shuffle(tasks)
        return tasks

    def _runtime(self):
        from .local import Runtime

        return Runtime.of(self.spec.train, self.plan.seed, self.plan.name)


class _atomic:
    """``with _atomic(out) as partial:`` write into ``out.partial``; renamed to ``out`` only when complete."""

    def __init__(self, out: Path):
        self.out, self.partial = out, out.with_name(out.name + ".partial")

    def __enter__(self) -> Path:
        shutil.rmtree(self.partial, ignore_errors=True)
        return self.partial

    def __exit__(self, kind: Any, *exc: Any) -> None:
        if kind is None:
            shutil.rmtree(self.out, ignore_errors=True)
            self.partial.rename(self.out)


def _tokenizer(path: Path):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(path)


def _max_length(start: Path) -> int:
    config = json.loads((Path(start) / "config.json").read_text(encoding="utf-8"))
    return int(config.get("max_position_embeddings") or 2048)
