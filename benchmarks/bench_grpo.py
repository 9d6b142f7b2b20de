"""Does GRPO earn its place? SFT+GRPO against SFT alone at equal wall time, on the main job's recipe.

Runs the recipe twice in fresh directories:
- ``sft+grpo``: the recipe as it is;
- ``sft only``: GRPO off (``train.grpo.steps=0``) and SFT given the seconds GRPO took in the first run, as
  extra optimiser steps at the first run's measured SFT speed (seconds per step, per iteration).
Then prints, for the last checkpoint of each, held-out synthetic exact accuracy, BFCL seen exact accuracy
and BFCL irrelevance, with the training seconds each spent, and every checkpoint's accuracy and the seconds
per stage kind of both runs (the first is the main job as ``bench_loop.py`` runs it), as a JSON object. Both runs use the same seed,
so they start from the same synthesised episodes and the same untrained policy.

    python benchmarks/bench_grpo.py [--recipe recipes/bfcl.yaml] [--set KEY=VALUE ...]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from bench_loop import run, signal  # noqa: E402

SPLITS = {"heldout": "held-out exact", "bfcl seen": "BFCL seen exact", "bfcl irrelevance": "BFCL irrelevance"}


def training_seconds(run_dir: Path) -> dict[str, float]:
    """Seconds and optimiser steps of the run's SFT and GRPO phases, summed over iterations."""
    from inftool.store import Store

    with Store.open(run_dir, read_only=True) as store:
        stages = store.stages(store.current_run())
    out: dict[str, float] = {}
    for stage in stages:
        if stage.stage in ("sft", "grpo"):
            out[f"{stage.stage}_seconds"] = out.get(f"{stage.stage}_seconds", 0.0) + (stage.seconds or 0.0)
            out[f"{stage.stage}_steps"] = out.get(f"{stage.stage}_steps", 0) + int(stage.counts.get("steps") or 0)
    return {k: round(v, 1) for k, v in out.items()}


def last_checkpoint(found: dict) -> dict[str, float]:
    """The last evaluated checkpoint's accuracy on the splits that matter here."""
    name = list(found["checkpoints"])[-1]
    scores = found["checkpoints"][name]
    return {"checkpoint": name, **{label: scores[split]["accuracy"] for split, label in SPLITS.items()
                                   if split in scores}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", type=Path, default=REPO / "recipes" / "bfcl.yaml")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()
    from inftool.spec import load_recipe

    spec = load_recipe(args.recipe, args.overrides).spec
    iterations = spec.loop.iterations
    with tempfile.TemporaryDirectory(prefix="inftool-bench-grpo-") as scratch:
        both_dir, sft_dir = Path(scratch) / "both", Path(scratch) / "sft"
        both_dir.mkdir(), sft_dir.mkdir()
        run(args.recipe.resolve(), args.overrides, both_dir)
        both = training_seconds(both_dir / "run")
        per_step = both["sft_seconds"] / max(1, both["sft_steps"])
        extra = round(both.get("grpo_seconds", 0.0) / per_step / iterations)
        base_steps = spec.train.sft.max_steps or both["sft_steps"] // iterations
        run(args.recipe.resolve(), [*args.overrides, "train.grpo.steps=0",
                                    f"train.sft.max_steps={base_steps + extra}"], sft_dir)
        runs = {"sft+grpo": (signal(both_dir / "run"), both),
                "sft only": (signal(sft_dir / "run"), training_seconds(sft_dir / "run"))}
        result = {"recipe": str(args.recipe),
                  **{name: {**last_checkpoint(found), **spent} for name, (found, spent) in runs.items()},
                  "every checkpoint": {name: found["checkpoints"] for name, (found, _) in runs.items()},
                  "stage seconds": {name: found["stage_seconds"] for name, (found, _) in runs.items()}}
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
