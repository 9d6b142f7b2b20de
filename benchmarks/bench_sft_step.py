"""SFT seconds per step on the CPU: TRL's SFTTrainer as it is against the local trainer's CPU loss.

Run: python benchmarks/bench_sft_step.py [--recipe recipes/bfcl.yaml] [--episodes 1200] [--steps 40]
Synthesises --episodes episodes of the recipe, builds its untrained tiny-scratch policy, and trains it for
--steps optimiser steps twice from the same start, with the recipe's SFT batch size: once with TRL's
SFTTrainer (its fused LM head: tiled log-probabilities, plain torch tiles on the CPU), once with the trainer
`inftool.train.local.sft` uses on the CPU (the loss at the scored positions through the LM head and torch's
cross-entropy). Prints the seconds per step of each and their first logged losses (the same quantity; logged
every --logging-steps steps), and the examples' mean length in tokens (what the policy's template and tokenizer
make of the recipe's episodes). When the recipe trains with `optimizer: muon`, a third run times the local
trainer's CPU loss with that optimizer (the other two use AdamW, transformers' default).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _machine import cpu_model

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", type=Path, default=REPO / "recipes" / "bfcl.yaml")
    parser.add_argument("--episodes", type=int, default=1200)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--logging-steps", type=int, default=5,
                        help="Log every N steps (the local trainer's 5). The CPU loss measures its entropy and top-1 "
                             "only on the steps that log: --logging-steps 1 shows what measuring them costs.")
    args = parser.parse_args()

    import torch
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    from inftool.spec import load_recipe
    from inftool.store import Store
    from inftool.train import local
    from inftool.train.data import sft_data
    from inftool.train.tiny import build_tiny

    with tempfile.TemporaryDirectory(prefix="inftool-bench-sft-") as scratch:
        run = Path(scratch) / "run"
        subprocess.run([sys.executable, "-m", "inftool", "synth", str(args.recipe), "-n", str(args.episodes),
                        "--set", f"run_dir={run}"], check=True, capture_output=True, text=True)
        spec = load_recipe(args.recipe, [f"run_dir={run}"]).spec
        with Store.open(run, read_only=True) as store:
            episodes = list(store.episodes(store.current_run(), split="train"))
        tools = json.loads((run / "tools.json").read_text())
        tiny = spec.models[spec.train.policy].tiny
        start = build_tiny(tiny, tools, [e["messages"] for e in episodes], Path(scratch) / "tiny", seed=spec.seed)
        tokenizer = AutoTokenizer.from_pretrained(start)
        data = sft_data(episodes, tokenizer, tiny.max_length)
        rows = data.rows
        torch.set_num_threads(spec.train.threads or 2)
        found = {}
        variants = [("trl", SFTTrainer, False), ("inftool cpu", local._cpu_sft_trainer(SFTTrainer), False)]
        if spec.train.sft.optimizer == "muon":  # the recipe's optimizer too, on the local trainer's loss
            variants.append(("inftool cpu, muon", local._cpu_sft_trainer(SFTTrainer), True))
        for name, trainer_class, recipe_optimizer in variants:
            config = SFTConfig(output_dir=str(Path(scratch) / name), use_cpu=True, report_to="none", seed=0,
                               per_device_train_batch_size=spec.train.sft.batch_size, max_steps=args.steps,
                               learning_rate=spec.train.sft.learning_rate, completion_only_loss=True,
                               max_length=tiny.max_length, train_sampling_strategy="group_by_length",
                               logging_steps=args.logging_steps, save_strategy="no", disable_tqdm=True,
                               activation_checkpointing=False)
            optimizer = local._optimizer(spec.train.sft, config) if recipe_optimizer else None
            trainer = local._quiet(trainer_class(model=AutoModelForCausalLM.from_pretrained(start), args=config,
                                                 train_dataset=Dataset.from_list(rows), processing_class=tokenizer,
                                                 optimizer_cls_and_kwargs=optimizer))
            started = time.perf_counter()
            trainer.train()
            seconds = time.perf_counter() - started
            losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
            found[name] = {"seconds_per_step": round(seconds / args.steps, 3), "first_losses": losses[:3]}
    print(json.dumps({"recipe": str(args.recipe), "examples": len(rows),
                      "tokens_per_example": round(data.tokens / len(rows), 1), "steps": args.steps,
                      "batch_size": spec.train.sft.batch_size, "machine": cpu_model(), **found}, indent=1))


if __name__ == "__main__":
    main()
