"""How far the synthetic requests are from how people ask: a discriminator between synthetic requests and
BFCL's real questions over the same tools.

Synthesises ``--episodes`` episodes of a recipe (default ``recipes/bfcl.yaml``), takes the first user
message of each accepted one that calls a tool, and BFCL's questions whose ground truth calls only the
catalog's tools (``simple_python``, ``multiple``, ``parallel``, ``parallel_multiple``). A word n-gram
TF-IDF (1-2 grams) + logistic regression classifier is cross-validated (5 folds, balanced classes by
sampling as many synthetic requests as there are questions); its ROC AUC, averaged over ``--samples`` draws of
the synthetic requests (one draw of ~90 moves it by several hundredths), is the figure: 0.5 means the
two cannot be told apart, 1.0 that every request gives itself away. Goal: <= 0.8. It also prints the
n-grams that give synthetic requests away most. The questions are only measured against here; nothing
of them reaches a generator.

    pip install -c constraints.txt scikit-learn   # the classifier (not a dependency of inftool)
    python benchmarks/bench_realism.py [--recipe recipes/bfcl.yaml] [--episodes 3000] [--seed 0] [--samples 10]
    python benchmarks/bench_realism.py --set seed=8    # another synthesis seed (any recipe override)
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from inftool.catalog.bfcl_data import bfcl_data  # noqa: E402
from inftool.compile import compile_recipe  # noqa: E402
from inftool.spec import load_recipe  # noqa: E402
from inftool.store import Store  # noqa: E402
from inftool.synth import run_stage  # noqa: E402

CATEGORIES = ("simple_python", "multiple", "parallel", "parallel_multiple")


def synthetic(recipe: Path, episodes: int, overrides: Sequence[str] = ()) -> tuple[list[str], set[str]]:
    """Requests of accepted tool-calling episodes, and the catalog's original tool names."""
    run = Path(tempfile.mkdtemp())
    loaded = load_recipe(recipe, [f"run_dir={run}", f"loop.episodes_per_iteration={episodes}", *overrides])
    compiled = compile_recipe(loaded)
    run_stage(loaded, compiled)
    with Store.open(run, read_only=True) as store:
        requests = [e["request"] for e in store.episodes(store.current_run()) if e["complexity"] != "irrelevance"]
    return requests, {t.original_name for t in compiled.catalog}


def real(tools: set[str]) -> list[str]:
    """BFCL questions whose ground truth calls only the catalog's tools."""
    data, found = bfcl_data(), []
    for category in CATEGORIES:
        answers = data.answers(category)
        for entry in data.questions(category):
            called = {name for call in answers.get(entry["id"], []) for name in call}
            if called and called <= tools:
                found.append(entry["question"][0][0]["content"])
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipe", type=Path, default=REPO / "recipes" / "bfcl.yaml")
    parser.add_argument("--episodes", type=int, default=3000)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="recipe override")
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic draws (not the recipe's seed)")
    parser.add_argument("--samples", type=int, default=10,
                        help="draws of synthetic requests to average over: one draw of ~90 moves the AUC by +-0.04")
    args = parser.parse_args()
    try:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import cross_val_score
        from sklearn.pipeline import make_pipeline
    except ImportError:
        sys.exit("needs scikit-learn: pip install -c constraints.txt scikit-learn")
    requests, tools = synthetic(args.recipe, args.episodes, args.set)
    questions = real(tools)
    aucs = []
    for draw in range(args.samples):  # each draw: as many synthetic requests as there are questions
        sample = random.Random(args.seed * 1000 + draw).sample(requests, min(len(requests), len(questions)))
        texts, labels = sample + questions, [1] * len(sample) + [0] * len(questions)
        model = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2),
                              LogisticRegression(max_iter=2000, C=1.0))
        aucs.append(cross_val_score(model, texts, labels, cv=5, scoring="roc_auc").mean())
    model.fit(texts, labels)
    vectorizer, classifier = model.steps[0][1], model.steps[1][1]
    names = vectorizer.get_feature_names_out()
    order = classifier.coef_[0].argsort()
    print(f"{len(sample)} synthetic requests vs {len(questions)} BFCL questions over {len(tools)} tools")
    mean = sum(aucs) / len(aucs)
    print(f"discriminator ROC AUC, 5-fold, mean of {len(aucs)} draws: {mean:.3f} "
          f"(draws {min(aucs):.3f}-{max(aucs):.3f}); goal <= 0.8")
    print("gives a synthetic request away:", ", ".join(names[i] for i in order[::-1][:20]))
    print("gives a real question away:    ", ", ".join(names[i] for i in order[:20]))


if __name__ == "__main__":
    main()
