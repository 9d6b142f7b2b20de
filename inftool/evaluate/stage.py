"""The evaluation stage: which items a run is scored on, which policy answers them, and the verdicts stored.

`inftool eval` and the loop both come here, so a checkpoint scored by either gets the same items (the
recipe's BFCL categories, each question marked seen or unseen by the synthesis catalog, and at most
``evaluate.heldout_limit`` held-out episodes of iteration 0, the same ones at every iteration) and the
same decoding (greedy, ``evaluate.max_new_tokens``, batches of ``LOCAL_BATCH``), hence the same verdicts.
Both fail the stage (`require_evaluated`) when more than ``evaluate.max_not_evaluated`` of the items could not
be evaluated, after storing every row.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from inftool.errors import StageError, UsageError, did_you_mean
from inftool.progress import Progress

from . import runner
from .runner import Item

LOCAL_BATCH = 32
"""Prompts a local checkpoint answers at once (left-padded, so the batch is part of the decoding)."""

HELDOUT_ITERATION = 0
"""The held-out synthetic episodes are iteration 0's: the same items for every checkpoint of a run."""


def items_for(spec: Any, catalog: Any, store: Any, run_id: str, *, categories: list[str] | None = None,
              limit: int | None = None, heldout: bool = True) -> tuple[list[Item], list[Item]]:
    """The items to score and the BFCL questions set aside (their own ground truth fails the checker).

    ``categories`` and ``limit`` default to the recipe's ``evaluate.bfcl`` and ``evaluate.bfcl_limit``."""
    evaluation = spec.evaluate
    chosen = list(evaluation.bfcl) if categories is None else categories
    bfcl = runner.bfcl_items(chosen, limit or evaluation.bfcl_limit, runner.tool_names(catalog))
    items, aside = runner.scorable(bfcl)
    if heldout:
        episodes = store.episodes(run_id, split="heldout", iteration=HELDOUT_ITERATION)
        items += runner.episode_items(episodes)[: evaluation.heldout_limit]
    return items, aside


def decoded_label(label: str, decoding: str) -> str:
    """The label a policy's verdicts are stored under in a decoding mode: free decoding keeps the label."""
    return label if decoding == "free" else f"{label}+{decoding}"


def policy_for(spec: Any, policy: str | Path, decoding: str = "free") -> tuple[Any, int]:
    """The answering function for ``policy`` and how many items it may answer at once: ``oracle``,
    ``no-call``, a model of the recipe (``backend: openai``, or ``local`` with ``checkpoint_path``), or a
    local Hugging Face checkpoint directory, decoded as the recipe's ``evaluate`` says (``decoding``:
    ``free``, or ``constrained``, which only a local checkpoint has)."""
    name = str(policy)
    if decoding != "free" and (name in ("oracle", "no-call") or getattr(spec.models.get(name), "backend", "")
                               == "openai"):
        raise UsageError(f"--policy {name!r}: {decoding} decoding needs a local checkpoint, whose generation "
                         "inftool drives token by token (hint: evaluate it with free decoding)")
    if name == "oracle":
        return runner.oracle, 1
    if name == "no-call":
        return runner.no_call, 1
    model = spec.models.get(name)
    if model is not None and model.backend == "openai":
        return runner.endpoint_policy(model), model.concurrency
    checkpoint = model.start() if model is not None and model.backend == "local" else Path(name)
    if checkpoint is not None and Path(checkpoint).is_dir():
        from .local import LocalPolicy

        return LocalPolicy(Path(checkpoint), max_new_tokens=spec.evaluate.max_new_tokens, batch_size=LOCAL_BATCH,
                           decoding=decoding), 1
    candidates = ["oracle", "no-call", *(n for n, m in spec.models.items() if m.backend in ("openai", "local"))]
    hint = did_you_mean(name, candidates)
    raise UsageError(f"--policy {name!r}: expected one of: {', '.join(candidates)}, or a checkpoint directory"
                     + (f" (did you mean {hint!r}?)" if hint else "")
                     + (f"; model {name!r} is tiny-scratch, built by `inftool run` (evaluate its checkpoint "
                        "directory instead)" if model is not None else ""))


def evaluate_into(store: Any, run_id: str, iteration: int, label: str, answer: Any, items: list[Item], *,
                  concurrency: int = 1, progress: Progress | None = None) -> list[dict[str, Any]]:
    """Score ``answer`` on ``items`` and store the verdicts as policy ``label`` of ``iteration`` (replacing
    any earlier ones of that label); returns them."""
    with (progress or Progress()).track(f"iteration {iteration}: evaluating {label}", len(items)) as advance:
        results = runner.evaluate(items, answer, concurrency, progress=advance)
    store.write_eval(run_id, iteration, label, results)
    return results


def require_evaluated(results: list[dict[str, Any]], max_share: float) -> None:
    """Raise ``StageError`` when more than ``max_share`` of the items could not be evaluated (``not_evaluated``:
    the endpoint kept failing), saying how many and the first distinct reasons. Their rows are stored first."""
    failed = [r for r in results if not runner.evaluated(r)]
    if not failed or len(failed) <= max_share * len(results):
        return
    reasons = list(dict.fromkeys(r.get("message") or "no reason given" for r in failed))
    raise StageError(f"evaluation failed: {len(failed)} of {len(results)} items ({len(failed) / len(results):.1%}) "
                     f"could not be evaluated, more than evaluate.max_not_evaluated ({max_share:.1%}) allows; they "
                     f"are stored as not_evaluated and left out of accuracy; first reasons: " + "; ".join(reasons[:3])
                     + (f" (and {len(reasons) - 3} more)" if len(reasons) > 3 else ""))


def accuracy_counts(results: list[dict[str, Any]]) -> dict[str, Any]:
    """A stage's counts: items, those not evaluated, accuracy per suite (BFCL split by seen/unseen) and each
    suite's mean over categories, both over the items evaluated."""
    table: dict[str, list[int]] = {}
    for r in filter(runner.evaluated, results):
        key = r["suite"] + (f"-{r['seen']}" if r.get("seen") else "")
        cell = table.setdefault(key, [0, 0])
        cell[0] += bool(r["valid"])
        cell[1] += 1
    by_category = runner.accuracy(results)
    return {"items": len(results), "not_evaluated": sum(not runner.evaluated(r) for r in results),
            "accuracy": {k: round(c / n, 4) for k, (c, n) in sorted(table.items())},
            "mean_over_categories": {s: round(runner.overall(by_category, s) or 0.0, 4)
                                     for s in sorted({s for s, _ in by_category})}}
