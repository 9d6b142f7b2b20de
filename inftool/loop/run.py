"""The closed loop: synthesise -> train (SFT, GRPO) -> evaluate -> target gaps, for ``loop.iterations``
rounds, each stage recorded in the store so that ``--resume`` continues after the last finished one.

Stages, in order (iteration 0 also builds the policy and scores it untrained):

    0: synthesize, policy, baseline, sft, eval_sft, grpo, evaluate, target
    k: synthesize, sft, grpo, evaluate, target          (the last iteration has no target)

With ``trainer: openrlhf`` the sft/grpo stages become ``emit`` (the job directory) and, with
``launch``, ``launch`` (run it and follow its log); without ``launch`` the loop stops after emitting.

Every stage is idempotent given the store: synthesis skips stored episode indices, training writes
its checkpoint atomically under ``checkpoints/<run_id>/`` and only a finished stage names it, and
evaluation replaces its rows. Ctrl-C marks the running stage ``interrupted``; a killed process leaves
it ``running``; either way ``--resume`` runs it again from its start.
"""

from __future__ import annotations

import random
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inftool.compile import Compiled
from inftool.errors import StageError, UsageError
from inftool.spec import LoadedRecipe

from . import targeting


@dataclass
class Progress:
    """How the loop shows long work: ``bar(label, total)`` returns an ``advance(n)`` callable inside a
    context manager; ``say(text)`` prints a line. The CLI passes rich bars; tests pass nothing."""

    bar: Callable[[str, int], Any] | None = None
    say: Callable[[str], None] = lambda text: None

    @contextmanager
    def track(self, label: str, total: int) -> Iterator[Callable[[int], None]]:
        if self.bar is None:
            yield lambda n=1: None
            return
        with self.bar(label, total) as advance:
            yield advance


@dataclass
class LoopResult:
    run_id: str
    run_dir: Path
    completed: bool
    stopped_because: str | None = None
    stages: list[Any] = field(default_factory=list)


class Loop:
    """One run of a compiled recipe against its store."""

    def __init__(self, loaded: LoadedRecipe, compiled: Compiled, store, *, progress: Progress | None = None,
                 launch: bool = False):
        self.loaded, self.compiled, self.store = loaded, compiled, store
        self.spec, self.plan = loaded.spec, compiled.plan
        self.progress = progress or Progress()
        self.launch = launch
        self.run_dir = Path(self.plan.run_dir)
        self.run_id = store.ensure_run(self.plan)
        self.checkpoints = self.run_dir / "checkpoints" / self.run_id
        self.done = {(s.iteration, s.stage): s for s in store.stages(self.run_id) if s.status == "done"}
        self._items = None

    # --- the schedule --------------------------------------------------------------------------------

    def stages(self) -> list[tuple[int, str]]:
        cluster = self.spec.train.trainer == "openrlhf"
        out = []
        for k in range(self.plan.loop.iterations):
            out.append((k, "synthesize"))
            if k == 0:
                out += [(0, "policy"), (0, "baseline")]
            if cluster:
                out += [(k, "emit")] + ([(k, "launch")] if self.launch else [])
            else:
                out += [(k, "sft")] + ([(0, "eval_sft")] if k == 0 else []) + [(k, "grpo")]
            out.append((k, "evaluate"))
            if k + 1 < self.plan.loop.iterations:
                out.append((k, "target"))
        return out

    def run(self) -> LoopResult:
        self._preflight()
        for iteration, stage in self.stages():
            if (iteration, stage) in self.done:
                continue
            if stage == "evaluate" and self.spec.train.trainer == "openrlhf" and not self.launch:
                job = self.done[(iteration, "emit")].output
                return LoopResult(self.run_id, self.run_dir, False,
                                  f"the OpenRLHF job is written to {job}; launch it there (or run again with "
                                  "--resume --launch) to train and evaluate", self.store.stages(self.run_id))
            self._run_stage(iteration, stage)
        return LoopResult(self.run_id, self.run_dir, True, None, self.store.stages(self.run_id))

    def _preflight(self) -> None:
        """What would fail after synthesis, checked before it: the training libraries, and a policy that
        exists here (its chat template renders the training prompts and it is evaluated locally)."""
        from inftool.hf import require

        require("torch", "transformers", *(("datasets", "trl") if self.spec.train.trainer == "local" else ()))
        name, model = self.spec.train.policy, self.spec.models[self.spec.train.policy]
        if model.checkpoint_path is None and model.model != "tiny-scratch":
            raise UsageError(f"models.{name}.model is {model.model!r}: the policy starts from 'tiny-scratch' or a "
                             f"local checkpoint (hint: download {model.model} and set models.{name}.checkpoint_path "
                             "to that directory; the loop renders prompts with its chat template and evaluates it here)")

    def _run_stage(self, iteration: int, stage: str) -> None:
        self.store.start_stage(self.run_id, iteration, stage)
        self.store.start_iteration(self.run_id, iteration)
        try:
            counts, output = getattr(self, f"_{stage}")(iteration)
        except KeyboardInterrupt:
            self.store.finish_stage(self.run_id, iteration, stage, "interrupted")
            self.store.finish_iteration(self.run_id, iteration, "interrupted")
            raise
        except BaseException as exc:
            self.store.finish_stage(self.run_id, iteration, stage, "failed", counts={"error": str(exc)[:500]})
            self.store.finish_iteration(self.run_id, iteration, "failed")
            raise
        self.store.finish_stage(self.run_id, iteration, stage, "done", counts=counts, output=output)
        self.done[(iteration, stage)] = next(s for s in self.store.stages(self.run_id)
                                             if (s.iteration, s.stage) == (iteration, stage))
        if (iteration, stage) == [key for key in self.stages() if key[0] == iteration][-1]:
            self.store.finish_iteration(self.run_id, iteration, "done")

    # --- stages --------------------------------------------------------------------------------------

    def _synthesize(self, iteration: int):
        from inftool.synth.stage import synthesize_into

        total = self.plan.loop.episodes_per_iteration
        with self.progress.track(f"iteration {iteration}: synthesizing", total) as advance:
            report = synthesize_into(self.store, self.run_id, self.loaded, self.compiled, iteration=iteration,
                                     progress=advance)
        return {"episodes": report.written + report.already_stored, "accepted": report.accepted,
                "rejected": dict(report.rejected), "per_second": round(report.per_second, 1)}, None

    def _policy(self, iteration: int):
        model = self.spec.models[self.spec.train.policy]
        out = self.checkpoints / "untrained"
        if model.checkpoint_path is not None:
            return {"from": str(model.checkpoint_path)}, str(model.checkpoint_path)
        from inftool.train.tiny import build_tiny

        episodes = list(self.store.episodes(self.run_id, split="train", iteration=0))
        tools = [tool.to_openai() for tool in self.compiled.catalog]
        partial = out.with_name(out.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        build_tiny(model.tiny, tools, [e["messages"] for e in episodes], partial, seed=self.plan.seed)
        shutil.rmtree(out, ignore_errors=True)
        partial.rename(out)
        return {"model": "tiny-scratch", **model.tiny.model_dump()}, str(out)

    def _checkpoint(self) -> str:
        """The newest finished checkpoint (policy, sft, grpo or launch stage)."""
        for key in reversed(self.stages()):
            if key[1] in ("grpo", "sft", "launch", "policy") and key in self.done:
                return self.done[key].output
        raise StageError("no policy checkpoint yet (the policy stage has not finished)")

    def _runtime(self):
        from inftool.train.local import Runtime

        return Runtime(self.spec.train.device, self.spec.train.threads, self.plan.seed)

    def _sft(self, iteration: int):
        from inftool.train import local
        from inftool.train.data import sft_data

        start, spec = Path(self._checkpoint()), self.spec.train.sft
        data = sft_data(self.store.episodes(self.run_id, split="train", iteration=iteration), _tokenizer(start),
                        self._max_length(start))
        out = self.checkpoints / f"iter{iteration}-sft"
        with self.progress.track(f"iteration {iteration}: SFT", local.sft_steps(len(data.rows), spec)) as advance:
            phase = local.sft(start, data.rows, spec, out, self._runtime(), max_length=self._max_length(start),
                              on_step=advance)
        self.store.write_train_log(self.run_id, iteration, "sft", phase.logs)
        return {**phase.summary, "tokens": data.tokens, "truncated": data.truncated}, str(out)

    def _grpo(self, iteration: int):
        from inftool.reward import RewardConfig
        from inftool.train import local

        start, spec = Path(self._checkpoint()), self.spec.train.grpo
        if spec.steps == 0:
            return {"steps": 0, "skipped": "grpo.steps is 0"}, str(start)
        prompts = self._prompts(start, iteration)
        out = self.checkpoints / f"iter{iteration}-grpo"
        with self.progress.track(f"iteration {iteration}: GRPO", spec.steps) as advance:
            phase = local.grpo(start, prompts, spec, RewardConfig.from_spec(self.spec.reward), out, self._runtime(),
                               on_step=advance)
        self.store.write_train_log(self.run_id, iteration, "grpo", phase.logs)
        return phase.summary, str(out)

    def _prompts(self, start: Path, iteration: int) -> list[dict[str, str]]:
        """The iteration's training prompts that fit the policy with room for a completion, shuffled by the seed."""
        from inftool.train.data import prompt_items, prompt_rows

        tokenizer = _tokenizer(start)
        room = self._max_length(start) - self.spec.train.grpo.max_new_tokens
        rows = prompt_rows(prompt_items(self.store.episodes(self.run_id, split="train", iteration=iteration)), tokenizer)
        rows = [r for r in rows if len(tokenizer(r["prompt"], add_special_tokens=False)["input_ids"]) <= room]
        random.Random(f"{self.plan.seed}:grpo:{iteration}").shuffle(rows)
        return rows

    def _max_length(self, start: Path) -> int:
        import json

        config = json.loads((start / "config.json").read_text(encoding="utf-8"))
        return int(config.get("max_position_embeddings") or 2048)

    def _emit(self, iteration: int):
        from inftool.train.openrlhf import write_job

        start = self._checkpoint()
        prompts = self._prompts(Path(start), iteration)
        job = write_job(self.spec, prompts, start, self.run_dir / "openrlhf" / self.run_id / f"iter{iteration}",
                        iteration=iteration, seed=self.plan.seed)
        return {"prompts": len(prompts)}, str(job.directory)

    def _launch(self, iteration: int):
        from inftool.train.openrlhf import OpenRLHFJob, launch

        job = OpenRLHFJob.at(Path(self.done[(iteration, "emit")].output))
        launch(job, echo=self.progress.say)
        return {"log": str(job.log)}, str(job.save_path)

    def _evaluate_as(self, iteration: int, policy: str, with_checkpoint: str | None = None):
        from inftool.evaluate import runner
        from inftool.evaluate.local import LocalPolicy

        items = self._eval_items()
        checkpoint = Path(with_checkpoint or self._checkpoint())
        answer = LocalPolicy(checkpoint, max_new_tokens=self.spec.evaluate.max_new_tokens, batch_size=32)
        with self.progress.track(f"iteration {iteration}: evaluating {policy}", len(items)) as advance:
            results = runner.evaluate(items, answer, progress=advance)
        self.store.write_eval(self.run_id, iteration, policy, results)
        return _accuracy_counts(results), str(checkpoint)

    def _baseline(self, iteration: int):
        return self._evaluate_as(iteration, "untrained", self.done[(0, "policy")].output)

    def _eval_sft(self, iteration: int):
        return self._evaluate_as(iteration, "sft")

    def _evaluate(self, iteration: int):
        return self._evaluate_as(iteration, self._evaluated_policy())

    def _evaluated_policy(self) -> str:
        return "grpo" if self.spec.train.trainer == "local" else "openrlhf"

    def _eval_items(self):
        """BFCL questions (marked seen/unseen by the synthesis catalog) and the run's held-out episodes
        (at most ``evaluate.heldout_limit``, the same ones at every iteration)."""
        if self._items is None:
            from inftool.evaluate import runner

            evaluation = self.spec.evaluate
            seen = runner.tool_names(self.compiled.catalog)
            bfcl, _ = runner.scorable(runner.bfcl_items(evaluation.bfcl, evaluation.bfcl_limit, seen))
            held = runner.episode_items(self.store.episodes(self.run_id, split="heldout", iteration=0))
            self._items = bfcl + held[: evaluation.heldout_limit]
        return self._items

    def _target(self, iteration: int):
        loop = self.plan.loop
        rows = self.store.eval_rows(self.run_id, iteration, self._evaluated_policy())
        rejections = self.store.cell_rejections(self.run_id, iteration)
        names = {t.original_name: t.name for t in self.compiled.catalog}
        chosen = targeting.targets(self.plan.scenarios.cells, rows, rejections, mode=loop.targeting,
                                   floor=loop.floor, tool_names=names)
        self.store.write_scenarios(self.run_id, iteration + 1, chosen)
        summary = targeting.summary(chosen, loop.targeting, loop.floor)
        self.store.finish_iteration(self.run_id, iteration, "done", weights=summary)
        return {"cells": len(chosen), "raised": sum(t.weight > t.base_weight for t in chosen)}, None


def _tokenizer(path: Path):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(path)


def _accuracy_counts(results: list[dict[str, Any]]) -> dict[str, Any]:
    from inftool.evaluate import runner

    table: dict[str, list[int]] = {}
    for r in results:
        key = r["suite"] + (f"-{r['seen']}" if r.get("seen") else "")
        cell = table.setdefault(key, [0, 0])
        cell[0] += bool(r["valid"])
        cell[1] += 1
    by_category = runner.accuracy(results)
    return {"items": len(results),
            "accuracy": {k: round(c / n, 4) for k, (c, n) in sorted(table.items())},
            "mean_over_categories": {s: round(runner.overall(by_category, s) or 0.0, 4)
                                     for s in sorted({s for s, _ in by_category})}}
