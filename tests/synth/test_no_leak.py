"""No evaluation item reaches training data or generators.

- BFCL's question text never enters the synthetic requests: no request shares an 8-word sequence with a
  BFCL question over the catalog's tools beyond what the tools' own words say (descriptions, names and
  parameters are the spec, and both BFCL's authors and our User Simulator phrase requests from them):
  a shared sequence is a leak when two or more of its words are neither function words nor the catalog's.
- Held-out episodes and BFCL questions stay out of SFT and GRPO data: training reads only the split
  'train', and no evaluation item's id or question is among them.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from inftool.catalog.bfcl_data import bfcl_data
from inftool.compile import compile_recipe
from inftool.evaluate.stage import items_for
from inftool.spec import load_recipe
from inftool.store import Store
from inftool.synth import run_stage

REPO = Path(__file__).resolve().parents[2]
N = 8


FUNCTION_WORDS = set("a an the of to for in on at by with and or from into is are be it this that i me my you your "
                     "we us our can could would please want need like do some".split())


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def grams(text: str) -> set[tuple[str, ...]]:
    found = words(text)
    return {tuple(found[i : i + N]) for i in range(len(found) - N + 1)}


@pytest.fixture(scope="module")
def bfcl_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("leak")
    loaded = load_recipe(REPO / "recipes" / "bfcl.yaml", [f"run_dir={run}", "loop.episodes_per_iteration=1500"])
    compiled = compile_recipe(loaded)
    run_stage(loaded, compiled)
    return loaded, compiled, run


def test_no_request_repeats_bfcl_question_text(bfcl_run):
    loaded, compiled, run = bfcl_run
    data = bfcl_data()
    questions = set()
    for category in ("simple_python", "multiple", "parallel", "parallel_multiple", "irrelevance"):
        for entry in data.questions(category):
            for turn in entry["question"]:
                for message in turn:
                    questions |= grams(message.get("content") or "")
    spec_words = {w for tool in compiled.catalog for w in words(tool.name.replace("_", " ") + " " + tool.description + " "
                                                               + str(tool.parameters))}
    with Store.open(run, read_only=True) as store:
        requests = [r for _, r in store.accepted_requests(store.current_run())]
    leaks = [(request, gram) for request in requests for gram in grams(request) & questions
             if len(set(gram) - FUNCTION_WORDS - spec_words) >= 2]
    assert len(requests) > 1000 and leaks == []


def test_evaluation_items_stay_out_of_training_data(bfcl_run):
    loaded, compiled, run = bfcl_run
    with Store.open(run, read_only=True) as store:
        run_id = store.current_run()
        items, _ = items_for(loaded.spec, compiled.catalog, store, run_id)
        training = list(store.episodes(run_id, split="train"))
    train_ids = {e["episode_id"] for e in training}
    train_text = {m.get("content") for e in training for m in e["messages"] if m.get("role") == "user"}
    held = [i for i in items if i.suite == "heldout"]
    bfcl = [i for i in items if i.suite == "bfcl"]
    assert held and bfcl
    assert not train_ids & {i.item_id for i in held}
    assert not train_text & {m.get("content") for i in bfcl for m in i.messages if m.get("role") == "user"}
