"""Refactors keep the episodes: the digest of `recipes/smoke.yaml`'s episodes is pinned.

The procedural backends are seeded (``Random(f"{seed}:{k}:{i}")``), so the same recipe and seed give the
same episodes on every machine and every version of inftool that does not mean to change them. A change
that does mean to (new phrasings, new value pools) updates the digest here and says so in its commit.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from inftool.compile import compile_recipe
from inftool.spec import load_recipe
from inftool.store import Store
from inftool.synth import run_stage

REPO = Path(__file__).resolve().parents[2]
SMOKE_DIGEST = "508d60b7e8b6bf27782e9645751187821879d5317b48dd52b6dfd09e4223df51"


def episodes_digest(run_dir: Path) -> str:
    """sha256 over every stored episode: index, messages, tools, goal, verdict, split, in index order."""
    with Store.open(run_dir, read_only=True) as store:
        _, rows = store.query("SELECT idx, messages, tools, goal, accepted, failed_gate, reason, split "
                              "FROM episodes ORDER BY iteration, idx")
    canonical = [[idx, json.loads(m), json.loads(t), json.loads(g), a, f, r, s] for idx, m, t, g, a, f, r, s in rows]
    return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode("utf-8")).hexdigest()


def test_smoke_episodes_are_unchanged(tmp_path):
    loaded = load_recipe(REPO / "recipes" / "smoke.yaml", [f"run_dir={tmp_path}"])
    run_stage(loaded, compile_recipe(loaded))
    assert episodes_digest(tmp_path) == SMOKE_DIGEST


def held_out(run_dir: Path) -> list[tuple[int, int]]:
    with Store.open(run_dir, read_only=True) as store:
        _, rows = store.query("SELECT iteration, idx FROM episodes WHERE split = 'heldout' ORDER BY iteration, idx")
    return [tuple(row) for row in rows]


def test_training_settings_leave_the_held_out_split_alone(tmp_path):
    """Two recipes that differ in what synthesis does not read (here the SFT batch size, which changes the run
    id) hold out the same episodes, so an ablation of a training setting is scored on the same items."""
    splits = []
    for batch in (4, 16):
        loaded = load_recipe(REPO / "recipes" / "smoke.yaml", [f"run_dir={tmp_path / str(batch)}",
                                                               f"train.sft.batch_size={batch}"])
        compiled = compile_recipe(loaded)
        run_stage(loaded, compiled)
        splits.append((compiled.plan.content_hash, held_out(tmp_path / str(batch))))
    (first_hash, first), (second_hash, second) = splits
    assert first_hash != second_hash and first and first == second
