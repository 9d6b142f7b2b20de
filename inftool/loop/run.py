"""The closed loop: synthesise -> train (SFT, GRPO) -> evaluate -> target gaps, for ``loop.iterations``
rounds, each stage recorded in the store so that ``--resume`` continues after the last finished one.

The stages are the plan's schedule (``plan.loop.stages``, made by ``compile.loop_stages``)::

    0: synthesize, policy, baseline, sft, eval_sft, grpo, evaluate, target
    k: synthesize, sft, grpo, evaluate, target          (the last iteration has no target)

With ``trainer: openrlhf`` the sft/grpo stages are ``emit`` (write the job directory) and ``launch`` (run
it and follow its log); without ``launch`` the loop stops before launching. Each stage is one call into
its stage module: ``synth.stage``, ``train.stage``, ``evaluate.stage``; targeting is ``loop.targeting``.
A run ends, finished or stopped, with ``report.html`` and the verified episodes in ``datasets/``.

Every stage is idempotent given the store: synthesis skips stored episode indices, training writes
its checkpoint atomically under ``checkpoints/<run_id>/`` and only a finished stage names it, and
evaluation replaces its rows. Ctrl-C marks the running stage ``interrupted``; a killed process leaves
it ``running``; either way ``--resume`` runs it again from its start.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inftool.compile import Compiled, compile_recipe, write_plan
from inftool.errors import StageError, UsageError
from inftool.progress import Progress
from inftool.rundir import RunDir
from inftool.spec import LoadedRecipe, load_recipe

from . import targeting

CHECKPOINT_STAGES = ("policy", "sft", "grpo", "launch")
"""Stages whose product is a policy checkpoint."""


@dataclass
class LoopResult:
    run_id: str
    run_dir: Path
    completed: bool
    stopped_because: str | None = None
    stages: list[Any] = field(default_factory=list)
    report: Path | None = None
    datasets: dict[str, tuple[Path, int]] = field(default_factory=dict)
    """split -> (path, verified episodes), the OpenAI chat JSONL files under ``datasets/``."""
    already_complete: bool = False
    """Every stage had finished before this call: nothing ran, the report and datasets were rewritten."""


class Loop:
    """One run of a compiled recipe against its open store."""

    def __init__(self, loaded: LoadedRecipe, compiled: Compiled, store, *, progress: Progress | None = None,
                 launch: bool = False):
        from inftool.train.stage import Training

        self.loaded, self.compiled, self.store = loaded, compiled, store
        self.spec, self.plan = loaded.spec, compiled.plan
        self.progress = progress or Progress()
        self.launch = launch
        self.run_dir = RunDir(Path(self.plan.run_dir))
        self.run_id = store.ensure_run(self.plan)
        self.done = {(s.iteration, s.stage): s for s in store.stages(self.run_id) if s.status == "done"}
        self.training = Training(self.spec, self.plan, compiled.catalog, store, self.run_id, self.progress)
        self._items = None

    def stages(self) -> list[tuple[int, str]]:
        """The plan's schedule: the (iteration, stage) pairs this loop runs, in order."""
        return [(int(k), str(stage)) for k, stage in self.plan.loop.stages]

    def run(self) -> LoopResult:
        """Run every stage not yet done, then write the report and the datasets."""
        pending = [key for key in self.stages() if key not in self.done]
        stopped = None
        if pending:
            from inftool.train.stage import check_policy

            check_policy(self.spec)
        for iteration, stage in pending:
            if stage == "launch" and not self.launch:
                job = self.done[(iteration, "emit")].output
                stopped = (f"the OpenRLHF job is written to {job}; launch it there (or run again with --resume "
                           "--launch) to train and evaluate")
                break
            self._run_stage(iteration, stage)
        return self._finish(completed=stopped is None, stopped_because=stopped, already_complete=not pending)

    def _finish(self, **outcome: Any) -> LoopResult:
        from inftool.export import export
        from inftool.report import build_report

        report = build_report(self.store, self.run_id, self.run_dir.root)
        datasets = export(self.store, self.run_id, "openai", self.run_dir.datasets)
        return LoopResult(self.run_id, self.run_dir.root, stages=self.store.stages(self.run_id), report=report,
                          datasets=datasets, **outcome)

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

    def _checkpoint(self) -> Path:
        """The newest finished checkpoint (policy, sft, grpo or launch stage)."""
        for key in reversed(self.stages()):
            if key[1] in CHECKPOINT_STAGES and key in self.done:
                return Path(self.done[key].output)
        raise StageError("no policy checkpoint yet (the policy stage has not finished)")

    # --- stages: each one call into its stage module ----------------------------------------------------

    def _synthesize(self, iteration: int):
        from inftool.synth.stage import synthesize_into

        total = self.plan.loop.episodes_per_iteration
        with self.progress.track(f"iteration {iteration}: synthesizing", total) as advance:
            report = synthesize_into(self.store, self.run_id, self.loaded, self.compiled, iteration=iteration,
                                     progress=advance)
        return {"episodes": report.written + report.already_stored, "accepted": report.accepted,
                "rejected": dict(report.rejected), "per_second": round(report.per_second, 1)}, None

    def _policy(self, iteration: int):  # noqa: ARG002 - every stage method takes its iteration
        return self.training.build_policy()

    def _sft(self, iteration: int):
        return self.training.sft(iteration, self._checkpoint())

    def _grpo(self, iteration: int):
        return self.training.grpo(iteration, self._checkpoint())

    def _emit(self, iteration: int):
        return self.training.emit(iteration, self._checkpoint())

    def _launch(self, iteration: int):
        return self.training.launch(iteration, Path(self.done[(iteration, "emit")].output))

    def _baseline(self, iteration: int):
        return self._evaluate_as(iteration, "untrained", Path(self.done[(0, "policy")].output))

    def _eval_sft(self, iteration: int):
        return self._evaluate_as(iteration, "sft", self._checkpoint())

    def _evaluate(self, iteration: int):
        return self._evaluate_as(iteration, self._trained_label(), self._checkpoint())

    def _evaluate_as(self, iteration: int, label: str, checkpoint: Path):
        from inftool.evaluate import stage

        if self._items is None:
            self._items, _ = stage.items_for(self.spec, self.compiled.catalog, self.store, self.run_id)
        modes = self.spec.evaluate.decoding
        counts: dict[str, Any] = {}
        for decoding in modes:  # each mode stored under its own label, never mixed
            answer, concurrency = stage.policy_for(self.spec, checkpoint, decoding)
            stored_as = stage.decoded_label(label, decoding)
            results = stage.evaluate_into(self.store, self.run_id, iteration, stored_as, answer, self._items,
                                          concurrency=concurrency, progress=self.progress)
            stage.require_evaluated(results, self.spec.evaluate.max_not_evaluated)
            accuracy = stage.accuracy_counts(results)
            counts = counts or accuracy  # the first mode's, as targeting reads it
            if modes != ["free"]:
                counts.setdefault("decoding", {})[decoding] = accuracy["accuracy"]
        return counts, str(checkpoint)

    def _trained_label(self) -> str:
        return "grpo" if self.spec.train.trainer == "local" else "openrlhf"

    def _evaluated_policy(self) -> str:
        """The label of the verdicts targeting reads: the trained policy in the recipe's first decoding mode."""
        from inftool.evaluate.stage import decoded_label

        return decoded_label(self._trained_label(), self.spec.evaluate.decoding[0])

    def _target(self, iteration: int):
        loop = self.plan.loop
        rows = self.store.eval_rows(self.run_id, iteration, self._evaluated_policy())
        rejections = self.store.cell_rejections(self.run_id, iteration)
        names = {t.original_name: t.name for t in self.compiled.catalog}
        environments = {t.name: t.meta["env"] for t in self.compiled.catalog if t.meta.get("env")}
        chosen = targeting.targets(self.plan.scenarios.cells, rows, rejections, mode=loop.targeting,
                                   floor=loop.floor, tool_names=names, environments=environments)
        self.store.write_scenarios(self.run_id, iteration + 1, chosen)
        summary = targeting.summary(chosen, loop.targeting, loop.floor)
        self.store.finish_iteration(self.run_id, iteration, "done", weights=summary)
        return {"cells": len(chosen), "raised": sum(t.weight > t.base_weight for t in chosen)}, None


def run_recipe(recipe: str | Path | LoadedRecipe, overrides: tuple[str, ...] | list[str] = (), *,
               compiled: Compiled | None = None, resume: bool = False, fresh: bool = False, launch: bool = False,
               progress: Progress | None = None) -> LoopResult:
    """``inftool run`` from Python: compile the recipe, write the plan, run the loop in the run's store,
    and write the report and datasets.

    A run with stages recorded but not all done is refused (``UsageError``) unless ``resume``; ``fresh``
    clears the run directory first. Ctrl-C leaves the store consistent for ``resume=True``."""
    from inftool.store import Store

    if resume and fresh:
        raise UsageError("--resume and --fresh contradict each other (hint: pick one)")
    loaded = recipe if isinstance(recipe, LoadedRecipe) else load_recipe(Path(recipe), list(overrides))
    compiled = compiled or compile_recipe(loaded)
    run_dir = RunDir(Path(compiled.plan.run_dir))
    if fresh:
        run_dir.clear()
    write_plan(compiled)
    with Store.open(run_dir.root) as store:
        loop = Loop(loaded, compiled, store, progress=progress, launch=launch)
        recorded = store.stages(loop.run_id)
        unfinished = recorded and len(loop.done) < len(loop.stages())
        if unfinished and not resume:
            raise UsageError(f"{run_dir.store} already holds part of this run ({len(recorded)} stages recorded); "
                             f"continue it with `inftool run {loaded.path} --resume`, or start over with --fresh")
        return loop.run()


