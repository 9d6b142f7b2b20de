"""Reading the run store: every query inftool asks of it (the report's aggregates are in ``summaries``),
and ``query`` for ``inftool sql``."""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Iterator, Sequence
from functools import cache
from pathlib import Path
from typing import Any, Self

import duckdb

from inftool.errors import UsageError
from inftool.store import rows
from inftool.store.summaries import RunSummaries

_JSON_COLUMNS = ("messages", "tools", "goal")


def _literal(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


@cache
def _row_type(columns: tuple[str, ...]) -> type:
    return namedtuple("Row", columns, rename=True)


class StoreReader(RunSummaries):
    """The reading half of :class:`~inftool.store.Store`. Methods returning rows give named tuples
    (``row.tool`` or unpacked in column order); ``run_id=None`` means the current (newest) run."""

    def __init__(self, con: duckdb.DuckDBPyConnection, path: Path, read_only: bool = False):
        self._con, self.path, self.read_only = con, path, read_only

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- reading -------------------------------------------------------------------------------

    def current_run(self) -> str | None:
        """The newest run's id, or None in an empty store."""
        found = self._all("SELECT run_id FROM current_run")
        return found[0][0] if found else None

    def iterations(self, run_id: str) -> list[Any]:
        """Rows (iteration, status, started_at, finished_at, weights) of the run, weights parsed."""
        found = self._rows("SELECT iteration, status, started_at, finished_at, weights FROM iterations "
                           "WHERE run_id = ? ORDER BY iteration", [run_id])
        return [r._replace(weights=None if r.weights is None else rows.loads(r.weights)) for r in found]

    def stages(self, run_id: str) -> list[Any]:
        """Rows (iteration, stage, status, started_at, finished_at, seconds, counts, output), counts parsed,
        in the order the stages started."""
        found = self._rows("SELECT iteration, stage, status, started_at, finished_at, seconds, counts, output "
                           "FROM stages WHERE run_id = ? ORDER BY started_at NULLS LAST, iteration, stage", [run_id])
        return [r._replace(counts=None if r.counts is None else rows.loads(r.counts)) for r in found]

    def scenario_weights(self, run_id: str, iteration: int) -> dict[tuple[str, str], float]:
        """{(complexity, tool): weight} stored for one iteration ({} when none is stored)."""
        found = self._all("SELECT complexity, tool, weight FROM scenarios WHERE run_id = ? AND iteration = ?",
                          [run_id, iteration])
        return {(complexity, tool): weight for complexity, tool, weight in found}

    def train_log(self, run_id: str) -> list[Any]:
        """Rows (iteration, phase, step, loss, reward, reward_std, kl, learning_rate) of the run."""
        return self._rows("SELECT iteration, phase, step, loss, reward, reward_std, kl, learning_rate FROM train_log "
                          "WHERE run_id = ? ORDER BY iteration, phase DESC, step", [run_id])

    def eval_rows(self, run_id: str, iteration: int, policy: str) -> list[dict[str, Any]]:
        """The verdicts of one policy at one iteration, as dicts (suite, category, tool, seen, valid, error_kind);
        items not evaluated have none and are left out."""
        found = self._rows("SELECT suite, category, tool, seen, valid, error_kind FROM eval_results WHERE run_id = ? "
                           "AND iteration = ? AND policy = ? AND error_kind IS DISTINCT FROM 'not_evaluated' "
                           "ORDER BY suite, item_id", [run_id, iteration, policy])
        return [r._asdict() for r in found]

    def cell_rejections(self, run_id: str, iteration: int) -> dict[tuple[str, str], tuple[int, int]]:
        """(complexity, tool) -> (rejected, total) episodes of one iteration."""
        found = self._all("SELECT complexity, tool, count(*) FILTER (WHERE NOT accepted), count(*) FROM episodes "
                          "WHERE run_id = ? AND iteration = ? GROUP BY ALL", [run_id, iteration])
        return {(c, t): (rejected, total) for c, t, rejected, total in found}

    def existing_indices(self, run_id: str, iteration: int) -> set[int]:
        """The ``index`` of every episode stored for one iteration (accepted or not)."""
        found = self._all("SELECT idx FROM episodes WHERE run_id = ? AND iteration = ?", [run_id, iteration])
        return {i for (i,) in found}

    def accepted_requests(self, run_id: str) -> list[tuple[str, str]]:
        """(episode id, first user message) of accepted episodes in (iteration, index) order."""
        return self._all("SELECT episode_id, request FROM episodes WHERE run_id = ? AND accepted "
                         "ORDER BY iteration, idx", [run_id])

    def episodes(self, run_id: str, *, accepted: bool | None = True, split: str | None = None,
                 iteration: int | None = None, batch: int = 1000) -> Iterator[dict[str, Any]]:
        """Stored episodes as dicts (table columns; messages, tools and goal parsed) in (iteration, index)
        order, streamed. ``accepted=None`` yields accepted and rejected ones alike."""
        where, params = ["run_id = ?"], [run_id]
        for column, value in (("accepted", accepted), ("split", split), ("iteration", iteration)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        cursor = self._con.cursor()
        try:
            cursor.execute(f"SELECT * FROM episodes WHERE {' AND '.join(where)} ORDER BY iteration, idx", params)
            columns = [d[0] for d in cursor.description]
            while chunk := cursor.fetchmany(batch):
                for values in chunk:
                    row = dict(zip(columns, values, strict=True))
                    for key in _JSON_COLUMNS:
                        row[key] = rows.loads(row[key])
                    yield row
        finally:
            cursor.close()

    def copy_parquet(self, source: Path, columns: dict[str, str], path: Path) -> int:
        """Convert a JSON Lines file to a Parquet file, each column of the given DuckDB type; returns the row
        count. ``JSON`` columns (and ``JSON[]``, lists of them) become Parquet's JSON logical type, which
        ``datasets`` (4.7 and later) reads back as objects of any shape: one schema holds tool-call arguments
        and parameter schemas that differ from row to row. ``source`` may be empty (a file with the schema
        and no rows)."""
        types = ", ".join(f"{_literal(name)}: {_literal(kind)}" for name, kind in columns.items())
        names = ", ".join('"' + name.replace('"', '""') + '"' for name in columns)
        select = (f"SELECT {names} FROM read_json({_literal(str(source))}, columns={{{types}}}, "
                  "format='newline_delimited', maximum_object_size=1073741824)")
        cursor = self._con.cursor()  # COPY takes no parameters; a cursor leaves the reader's results alone
        try:
            cursor.execute(f"COPY ({select}) TO {_literal(str(path))} (FORMAT parquet, COMPRESSION zstd)").fetchall()
            return cursor.execute(f"SELECT count(*) FROM read_parquet({_literal(str(path))})").fetchone()[0]
        finally:
            cursor.close()

    def episode_counts(self, run_id: str, *, accepted: bool | None = True) -> list[Any]:
        """Rows (complexity, split, episodes) of the run's episodes (``accepted=None``: accepted and rejected)."""
        where = "" if accepted is None else f" AND accepted = {bool(accepted)}"
        return self._rows(f"SELECT complexity, split, count(*) AS episodes FROM episodes WHERE run_id = ?{where} "
                          "GROUP BY ALL ORDER BY complexity, split", [run_id])

    def verdicts(self, episode_id: str) -> list[Any]:
        """Rows (position, gate, passed, reason) of one episode, in the order the gates ran."""
        return self._rows("SELECT position, gate, passed, reason FROM verdicts WHERE episode_id = ? ORDER BY position",
                          [episode_id])

    def coverage(self, run_id: str | None = None) -> list[Any]:
        """Rows (tool, complexity, param_type, accepted) of the run (default: the current one)."""
        return self._rows("SELECT * FROM coverage_of(?)", [self._run(run_id)])

    def coverage_cells(self, run_id: str | None = None) -> list[Any]:
        """Rows (tool, complexity, accepted, rejected, total) of the run (default: the current one)."""
        return self._rows("SELECT * FROM coverage_cells_of(?) ORDER BY tool, complexity", [self._run(run_id)])

    def gaps(self, run_id: str | None = None, limit: int | None = 20) -> list[Any]:
        """The latest iteration's scenario cells ranked worst first: rows (rank, iteration, complexity, tool,
        weight, expected, accepted, rejected, coverage_ratio, rejection_rate, top_reason,
        top_reason_count, score). expected = n * weight / sum(weight) with n the iteration's episodes;
        score = max(0, 1 - accepted / expected) + rejected / (accepted + rejected), missing rates as 0,
        so 0 (fully covered, nothing rejected) .. 2 (nothing accepted, everything rejected); cells
        without episodes score 1. ``limit=None`` returns every cell."""
        sql = "SELECT * FROM gaps_of(?) ORDER BY rank" + ("" if limit is None else f" LIMIT {int(limit)}")
        return self._rows(sql, [self._run(run_id)])

    def gate_pass_rates(self, run_id: str | None = None) -> list[Any]:
        """Rows (gate, complexity, evaluated, passed, pass_rate): a gate counts as evaluated for an
        episode only when it ran (gates after a failure do not)."""
        return self._rows("SELECT * FROM gate_pass_rates_of(?)", [self._run(run_id)])

    def checkpoint_accuracy(self, run_id: str | None = None) -> list[Any]:
        """Rows (iteration, policy, split, items, correct, accuracy, mean_accuracy, right_tool, not_evaluated) per
        evaluated checkpoint; splits: heldout, bfcl seen / unseen / mixed, bfcl irrelevance, bfcl multi_turn.
        right_tool: the share of items whose calls named the right functions (argument mistakes aside). items and
        the shares are over the items evaluated (None where none was); not_evaluated: the items without a verdict."""
        return self._rows("SELECT * FROM checkpoint_accuracy_of(?)", [self._run(run_id)])

    def query(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> tuple[list[str], list[tuple]]:
        """Run SQL for ``inftool sql``: (column names, rows of the last statement). Meant for reads (the
        views answer for the current run). Nothing is blocked: on a store opened for writing a write
        statement does write (and commits at once); open with ``read_only=True`` to forbid writes.
        DuckDB errors become UsageError("SQL error: ...")."""
        cursor = self._con.cursor()
        try:
            cursor.execute(sql, params)
            if cursor.description is None:
                return [], []
            return [d[0] for d in cursor.description], cursor.fetchall()
        except duckdb.Error as error:
            raise UsageError(f"SQL error: {error}") from error
        finally:
            cursor.close()

    def _run(self, run_id: str | None) -> str | None:
        return run_id if run_id is not None else self.current_run()

    def _all(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple]:
        """Every row of ``sql``. Always read to the end: DuckDB 2 refuses other work on a connection
        (registering a relation, for one) while a result of execute() is unfinished."""
        return self._con.execute(sql, params).fetchall()

    def _rows(self, sql: str, params: Sequence[Any]) -> list[Any]:
        result = self._con.execute(sql, params)
        row = _row_type(tuple(d[0] for d in result.description))
        return [row(*values) for values in result.fetchall()]
