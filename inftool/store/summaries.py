"""Aggregates over a run for its report and summary: computed in SQL (never a Python loop over episodes),
every result sorted, so the same store gives the same report. Part of the store's reader."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from inftool.store import rows


class RunSummaries:
    """Mixed into :class:`~inftool.store.read.StoreReader`, which supplies ``_rows``; rows are named tuples."""

    _rows: Callable[[str, list[Any]], list[Any]]

    def run_info(self, run_id: str) -> Any | None:
        """The run's row (run_id, seq, name, recipe, content_hash, seed, created_at), or None."""
        found = self._rows("SELECT run_id, seq, name, recipe, content_hash, seed, created_at FROM runs "
                           "WHERE run_id = ?", [run_id])
        return found[0] if found else None

    def episode_summary(self, run_id: str) -> list[Any]:
        """Per iteration: episodes, accepted, accepted held-out, role-play errors."""
        return self._rows("""
            SELECT iteration, count(*) AS episodes,
                   count(*) FILTER (WHERE accepted) AS accepted,
                   count(*) FILTER (WHERE accepted AND split = 'heldout') AS heldout,
                   count(*) FILTER (WHERE error IS NOT NULL) AS errors
            FROM episodes WHERE run_id = ? GROUP BY iteration ORDER BY iteration""", [run_id])

    def eval_counts(self, run_id: str) -> list[Any]:
        """Rows (iteration, policy, suite, seen, category, items, correct, not_evaluated) of every evaluation of the
        run: ``items`` are the items evaluated; those without a verdict (``not_evaluated``) only in the last column."""
        return self._rows("""
            SELECT iteration, policy, suite, seen, category,
                   count(*) FILTER (WHERE error_kind IS DISTINCT FROM 'not_evaluated') AS items,
                   count(*) FILTER (WHERE valid) AS correct,
                   count(*) FILTER (WHERE error_kind = 'not_evaluated') AS not_evaluated
            FROM eval_results WHERE run_id = ? GROUP BY ALL ORDER BY ALL""", [run_id])

    def eval_errors(self, run_id: str) -> list[Any]:
        """Rows (iteration, policy, kind, n): wrong answers per error kind and evaluated policy (items not
        evaluated are no answers: see ``eval_counts``)."""
        return self._rows("""
            SELECT iteration, policy, coalesce(error_kind, '(unspecified)') AS kind, count(*) AS n
            FROM eval_results WHERE run_id = ? AND NOT valid AND error_kind IS DISTINCT FROM 'not_evaluated'
            GROUP BY ALL ORDER BY ALL""", [run_id])

    def train_summary(self, run_id: str) -> list[Any]:
        """Per (iteration, phase): logged steps, first and last loss, mean and last reward, mean KL."""
        return self._rows("""
            SELECT iteration, phase, count(*) AS logged, min(step) AS first_step, max(step) AS last_step,
                   arg_min(loss, step) FILTER (WHERE loss IS NOT NULL) AS first_loss,
                   arg_max(loss, step) FILTER (WHERE loss IS NOT NULL) AS last_loss,
                   avg(reward) AS mean_reward,
                   arg_max(reward, step) FILTER (WHERE reward IS NOT NULL) AS last_reward,
                   avg(kl) AS mean_kl
            FROM train_log WHERE run_id = ?
            GROUP BY iteration, phase
            ORDER BY iteration, CASE phase WHEN 'sft' THEN 0 WHEN 'grpo' THEN 1 ELSE 2 END, phase""", [run_id])

    def targeting(self, run_id: str, limit: int = 15) -> tuple[list[Any], list[Any]]:
        """(per targeted iteration: cells, boosted, lowered, mean and max need; the top ``limit`` cells of
        each by ``ratio``, drivers parsed).

        ``ratio`` compares shares, not raw weights: (weight / the iteration's total weight) / (base_weight /
        its total base weight), so it reads the same whether or not the loop normalised the weights; > 1
        means the cell gets a larger share of the iteration's episodes than the plan gave it. Boosted and
        lowered count cells whose share moved by more than 0.1%."""
        cells = """
            SELECT *, CASE WHEN base_weight > 0 AND total_weight > 0
                           THEN (weight / total_weight) / (base_weight / total_base) END AS ratio
            FROM (SELECT *, sum(weight) OVER w AS total_weight, sum(base_weight) OVER w AS total_base
                  FROM scenarios WHERE run_id = ? AND base_weight IS NOT NULL
                  WINDOW w AS (PARTITION BY iteration))"""
        summary = self._rows(f"""
            SELECT iteration, count(*) AS cells,
                   count(*) FILTER (WHERE ratio > 1.001) AS boosted,
                   count(*) FILTER (WHERE ratio < 0.999) AS lowered,
                   avg(need) AS mean_need, max(need) AS max_need
            FROM ({cells}) GROUP BY iteration ORDER BY iteration""", [run_id])
        top = self._rows(f"""
            SELECT iteration, complexity, tool, weight, base_weight, ratio, need, drivers FROM (
                SELECT *, row_number() OVER (PARTITION BY iteration ORDER BY round(ratio, 9) DESC NULLS LAST,
                                             need DESC NULLS LAST, complexity, tool) AS r
                FROM ({cells}))
            WHERE r <= {int(limit)} ORDER BY iteration, r""", [run_id])
        return summary, [t._replace(drivers=_parsed(t.drivers)) for t in top]


def _parsed(value: Any) -> Any:
    """JSON text parsed; anything else (or text that is not JSON) as it is."""
    if not isinstance(value, str):
        return value
    try:
        return rows.loads(value)
    except ValueError:
        return value
