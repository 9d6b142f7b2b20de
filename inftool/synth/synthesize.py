"""The synthesis stage: scenario cells -> role-played episodes -> gate verdicts -> the DuckDB store.

Episode ``i`` of iteration ``k`` draws everything from ``Random(f"{seed}:{k}:{i}")``, so with
procedural backends the same recipe and seed give the same episodes, and an interrupted stage
resumes by skipping the indices already committed (dedup state is rebuilt from the store).
Episodes are verified in index order and written in batches, one transaction each.
"""

from __future__ import annotations

import bisect
import hashlib
import random
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from itertools import accumulate

from inftool.catalog.arguments import ArgumentChecks
from inftool.compile import Compiled
from inftool.core.episode import Episode, Goal
from inftool.errors import UsageError
from inftool.spec import LoadedRecipe
from inftool.synth.language.phrasing import PERSONAS
from inftool.synth.planner import ScenarioPlanner, ScenarioSettings, pinned_arguments
from inftool.synth.roles.base import RoleError
from inftool.synth.roles.cast import cast_roles
from inftool.synth.roles.dialogue import play
from inftool.synth.values.sampler import ValueSampler
from inftool.synth.verify.dedup import Deduplicator
from inftool.synth.verify.gates import Verifier
from inftool.synth.worlds import PlanError

BATCH = 1000


@dataclass
class SynthReport:
    run_id: str
    iteration: int
    requested: int
    already_stored: int = 0
    written: int = 0
    accepted: int = 0
    rejected: Counter = field(default_factory=Counter)
    """Rejected episodes by the gate that failed."""
    seconds: float = 0.0
    server_restarts: int = 0
    """Live MCP servers started again after their connection closed (``mode: execute``)."""

    @property
    def per_second(self) -> float:
        return self.written / self.seconds if self.seconds else 0.0


class Synthesizer:
    """Everything one run needs to turn scenario cells into verified episodes. ``close`` it when done: in
    ``mode: execute`` it holds live MCP servers."""

    def __init__(self, loaded: LoadedRecipe, compiled: Compiled, run_id: str):
        spec, plan = loaded.spec, compiled.plan
        self.run_id, self.seed, self.heldout = run_id, plan.seed, plan.evaluation.heldout
        self.catalog = {tool.name: tool for tool in compiled.catalog}
        self.openai_tools = {tool.name: tool.to_openai() for tool in compiled.catalog}
        values = ValueSampler(plan.seed, _locale(spec))
        for tool in compiled.catalog:  # compile each tool's value generators now, not inside the loop
            values.arguments(tool, random.Random(0))
        settings = ScenarioSettings(plan.scenarios.distractors, plan.scenarios.max_parallel,
                                    near_miss=plan.scenarios.near_miss, call_mix=plan.scenarios.mix,
                                    pins=pinned_arguments(spec.roles.server.pin, compiled.catalog))
        self.planner = ScenarioPlanner(compiled.catalog, values, settings, spec.roles.user.personas or PERSONAS)
        checks = ArgumentChecks()
        self.verifier = Verifier(self.catalog, plan.gates.verify, checks, Deduplicator(plan.gates.dedup_threshold))
        self.cells = [(c.complexity, c.tool) for c in plan.scenarios.cells]
        _check_stateful(self.planner, [tool for kind, tool in self.cells if kind == "stateful"])
        self.set_weights({(c.complexity, c.tool): c.weight for c in plan.scenarios.cells})
        self._resources = ExitStack()
        try:
            self.cast, self.concurrency = cast_roles(spec, plan, values, checks, self.catalog, self._resources)
        except BaseException:
            self._resources.close()
            raise

    def close(self) -> None:
        """Stop what the cast holds open (live MCP servers)."""
        self._resources.close()

    @property
    def server_restarts(self) -> int:
        """Restarts of live MCP servers so far (``mode: execute``; 0 otherwise)."""
        return getattr(self.cast.server, "restarts", 0)

    def set_weights(self, weights: dict[tuple[str, str], float]) -> None:
        """Sampling weights per (complexity, tool) cell (gap targeting changes them between iterations)."""
        self._cumulative = list(accumulate(weights.get(cell, 0.0) for cell in self.cells))

    def remember(self, accepted_requests: Iterable[str]) -> None:
        """Feed requests already accepted (earlier iterations, an interrupted run) to the dedup gate."""
        for request in accepted_requests:
            _, key = self.verifier.dedup.check(request)
            if key is not None:
                self.verifier.dedup.add(key)

    def episode(self, iteration: int, index: int) -> Episode:
        """Role-play one episode (not yet verified)."""
        rng = random.Random(f"{self.seed}:{iteration}:{index}")
        point = rng.random() * self._cumulative[-1]
        complexity, tool = self.cells[min(bisect.bisect_right(self._cumulative, point), len(self.cells) - 1)]
        episode_id = hashlib.sha1(f"{self.run_id}:{iteration}:{index}".encode()).hexdigest()[:20]
        try:
            goal = self.planner.plan(complexity, tool, rng)
        except PlanError as exc:  # a stateful goal no world of 12 could serve: a rejected episode, with the reason
            goal = Goal(complexity, tool, [], [])
            return Episode(episode_id, iteration, index, goal, [], [], split=self._split(iteration, index),
                           error=f"planning failed: {exc}")
        tools = [self.openai_tools[name] for name in goal.offered]
        episode = Episode(episode_id, iteration, index, goal, [], tools, split=self._split(iteration, index))
        try:
            played = play(goal, self.cast, self.catalog, rng)
            episode.messages, episode.call_errors = played.messages, played.call_errors
            episode.final_state = played.final_state
        except RoleError as exc:
            episode.error = str(exc)
        return episode

    def _split(self, iteration: int, index: int) -> str:
        """Held out or not by the seed and the episode's place alone, not by the run id: recipes that differ only
        in what synthesis does not read (training, evaluation) hold out the same episodes, so they compare."""
        draw = int(hashlib.sha1(f"{self.seed}:split:{iteration}:{index}".encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
        return "heldout" if draw < self.heldout else "train"

    def run(self, iteration: int, indices: list[int]) -> Iterator[Episode]:
        """Verified episodes for ``indices``, in order; LM-backed roles play ``concurrency`` episodes at once."""
        if self.concurrency <= 1:
            for i in indices:
                yield self._verified(self.episode(iteration, i))
            return
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            window: deque[Future] = deque()
            for i in indices:  # the pool plays `concurrency` at once; up to 4x that wait, so a long
                window.append(pool.submit(self.episode, iteration, i))  # episode at the head idles no worker
                if len(window) > 4 * self.concurrency:
                    yield self._verified(window.popleft().result())
            while window:
                yield self._verified(window.popleft().result())

    def _verified(self, episode: Episode) -> Episode:
        episode.verdicts = self.verifier.verify(episode)
        return episode


def synthesize(synthesizer: Synthesizer, store, iteration: int, count: int,
               progress: Callable[[int], None] | None = None) -> SynthReport:
    """Make episodes 0..count-1 of ``iteration`` that are not stored yet, and store them.

    Batches are written by one background thread while the next batch is played (DuckDB works
    without the GIL), one transaction each and in order; at most one batch is in flight, and an
    interruption waits for it, so the store holds whole batches only.
    """
    run_id = synthesizer.run_id
    existing = store.existing_indices(run_id, iteration)
    report = SynthReport(run_id, iteration, count, already_stored=len(existing & set(range(count))))
    synthesizer.remember(r for _, r in store.accepted_requests(run_id))
    todo = [i for i in range(count) if i not in existing]
    if progress:
        progress(report.already_stored)
    start, batch = time.perf_counter(), []
    with ThreadPoolExecutor(max_workers=1) as writer:
        pending: Future | None = None
        try:
            for episode in synthesizer.run(iteration, todo):
                batch.append(episode)
                _count(report, episode)
                if len(batch) >= BATCH:
                    pending = _hand_over(writer, pending, store, run_id, batch, report, progress)
                    batch = []
            pending = _hand_over(writer, pending, store, run_id, batch, report, progress)
        finally:
            if pending is not None:
                pending.result()
    report.seconds = time.perf_counter() - start
    report.server_restarts = synthesizer.server_restarts
    return report


def _count(report: SynthReport, episode: Episode) -> None:
    if episode.accepted:
        report.accepted += 1
    else:
        report.rejected[episode.rejection.gate if episode.rejection else "format"] += 1


def _hand_over(writer: ThreadPoolExecutor, pending: Future | None, store, run_id: str, batch: list[Episode],
               report: SynthReport, progress) -> Future | None:
    """Wait for the batch in flight (raising its error, if any), then start writing ``batch``."""
    if pending is not None:
        pending.result()
    if not batch:
        return None

    def write() -> None:
        store.write_episodes(run_id, batch)
        report.written += len(batch)
        if progress:
            progress(len(batch))

    return writer.submit(write)


def _check_stateful(planner: ScenarioPlanner, targets: list[str]) -> None:
    """Every stateful cell's tool must have a chain that plans a goal for it (UsageError listing those without)."""
    if not targets:
        return
    missing = planner.stateful_planner().unplannable(targets)
    if missing:
        raise UsageError(f"stateful scenarios cannot be planned for {len(missing)} tools: {', '.join(missing[:10])}"
                         f"{' ...' if len(missing) > 10 else ''} (each needs a chain of its environment whose other "
                         "tools the catalog offers; see inftool.synth.worlds). Include the environment's other tools, "
                         "or give 'stateful' no share")


def _locale(spec) -> str:
    models = [spec.models[getattr(spec.roles, role).model] for role in ("user", "server")]
    return next((m.locale for m in models if m.backend == "procedural"), "en_US")
