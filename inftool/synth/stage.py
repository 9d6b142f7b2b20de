"""The synthesis stage as a whole: open the run's store, record the run, synthesise, close."""

from __future__ import annotations

import gc
from collections.abc import Callable
from contextlib import closing

from inftool.compile import Compiled, write_plan
from inftool.spec import LoadedRecipe
from inftool.synth.synthesize import Synthesizer, SynthReport
from inftool.synth.synthesize import synthesize as _synthesize


def run_stage(loaded: LoadedRecipe, compiled: Compiled, *, iteration: int = 0, episodes: int | None = None,
              progress: Callable[[int], None] | None = None) -> SynthReport:
    """Synthesise (up to) ``episodes`` episodes of ``iteration`` into the run's store; resumable."""
    from inftool.store import Store

    write_plan(compiled)
    with Store.open(compiled.plan.run_dir) as store:
        run_id = store.ensure_run(compiled.plan)
        store.start_iteration(run_id, iteration)
        report = synthesize_into(store, run_id, loaded, compiled, iteration=iteration, episodes=episodes,
                                 progress=progress)
        store.finish_iteration(run_id, iteration, "synthesized")
    return report


def synthesize_into(store, run_id: str, loaded: LoadedRecipe, compiled: Compiled, *, iteration: int,
                    episodes: int | None = None, progress: Callable[[int], None] | None = None) -> SynthReport:
    """Synthesise into an open store. The iteration samples scenario cells with the weights stored for
    it (gap targeting writes them), else with the plan's, which it then stores."""
    count = episodes or compiled.plan.loop.episodes_per_iteration
    store.write_catalog(run_id, compiled.catalog)
    with closing(Synthesizer(loaded, compiled, run_id)) as synthesizer:
        targeted = store.scenario_weights(run_id, iteration)
        if targeted:
            synthesizer.set_weights(targeted)
        else:
            store.write_scenarios(run_id, iteration, compiled.plan.scenarios.cells)
        thresholds = gc.get_threshold()
        gc.freeze()  # the catalog, value pools and planner live all run: keep collections from walking them
        gc.set_threshold(50_000, 20, 20)  # episodes are acyclic trees of dicts: collect rarely
        try:
            return _synthesize(synthesizer, store, iteration, count, progress)
        finally:
            gc.set_threshold(*thresholds)
            gc.unfreeze()
