"""The run store: one DuckDB file per run directory, and the only code in inftool that speaks SQL."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from itertools import count
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from inftool.errors import StageError, UsageError
from inftool.rundir import RunDir
from inftool.store import rows
from inftool.store.read import StoreReader

if TYPE_CHECKING:
    from inftool.catalog.tool import Catalog, Tool
    from inftool.compile.plan import Plan
    from inftool.core.episode import Episode
    from inftool.core.scenarios import ScenarioCell, Target

SCHEMA_VERSION = 2
_HERE = Path(__file__).parent
_names = count()
_INSERT_EPISODES = (
    "{how} INTO episodes SELECT episode_id, ?, iteration, idx, complexity, tool, called_tools::VARCHAR[], "
    "offered::VARCHAR[], persona, request, messages::JSON, tools::JSON, goal::JSON, accepted, failed_gate, reason, "
    "split, error, ?::TIMESTAMP FROM {batch} {returning}")
_VERDICT_COLUMNS = "episode_id, position, gate, passed, reason"


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Store(StoreReader):
    """A run directory's ``store.duckdb``: runs, iterations, tools, scenarios, episodes and gate verdicts,
    with the views ``current_run``, ``coverage``, ``coverage_cells``, ``gaps`` and ``gate_pass_rates``.
    The reading methods are those of :class:`StoreReader`.

    Open it with ``Store.open(run_dir)`` (a context manager). DuckDB lets one process write a file at a
    time; ``read_only=True`` opens may share it with each other but not with a writer. A Store is not
    meant to be shared between threads.
    """

    @classmethod
    def open(cls, run_dir: Path | str, *, read_only: bool = False) -> Store:
        """Open (and create, unless ``read_only``) ``run_dir/store.duckdb``, with its tables and views."""
        path = RunDir(Path(run_dir)).store
        if read_only and not path.exists():
            raise UsageError(f"{path}: no store yet (nothing has been synthesised for this run)")
        if not read_only:
            path.parent.mkdir(parents=True, exist_ok=True)
        try:
            con = duckdb.connect(str(path), read_only=read_only)
        except duckdb.Error as error:
            raise StageError(f"{path}: cannot open the store ({error}); DuckDB allows one writing process "
                             "at a time, is another inftool using this run?") from error
        store = cls(con, path, read_only)
        try:
            if not read_only:
                # Checkpoint (compress the WAL into the file) every 64 MB of WAL instead of 16: each
                # checkpoint re-compresses the row group still being filled, so fewer is less work
                # (writing 20k episodes of ~5 KB: ~15% faster, the last checkpoint included).
                store._all("SET checkpoint_threshold = '64MB'")
            store._check_version() if read_only else store._create()
        except BaseException:
            con.close()
            raise
        return store

    def _create(self) -> None:
        with self._transaction("create the schema"):
            self._all((_HERE / "schema.sql").read_text(encoding="utf-8"))
            self._check_version()
            self._all("INSERT INTO meta VALUES ('schema_version', ?) ON CONFLICT DO NOTHING", [str(SCHEMA_VERSION)])
            self._all((_HERE / "views.sql").read_text(encoding="utf-8"))

    def _check_version(self) -> None:
        found = self._all("SELECT value FROM meta WHERE key = 'schema_version'")
        if found and int(found[0][0]) != SCHEMA_VERSION:
            raise StageError(f"{self.path}: store schema version {found[0][0]}, this inftool reads version "
                             f"{SCHEMA_VERSION}; use a new run directory or the matching inftool")

    @contextmanager
    def _transaction(self, what: str, passthrough: tuple[type[Exception], ...] = ()) -> Iterator[None]:
        """One transaction: committed when the block ends, rolled back on any error. DuckDB errors become
        StageError naming ``what``, except those in ``passthrough``, re-raised as they are."""
        self._con.begin()
        try:
            yield
        except passthrough:
            self._con.rollback()
            raise
        except duckdb.Error as error:
            self._con.rollback()
            raise StageError(f"{self.path}: could not {what}: {error}") from error
        except BaseException:
            self._con.rollback()
            raise
        self._con.commit()

    @contextmanager
    def _registered(self, **frames: dict[str, Any]) -> Iterator[dict[str, str]]:
        """Register column dicts as uniquely named relations for the duration of the block."""
        names = {key: f"_batch_{key}_{next(_names)}" for key in frames}
        for key, frame in frames.items():
            self._con.register(names[key], frame)
        try:
            yield names
        except BaseException:
            for name in names.values():  # the connection may refuse (an aborted transaction): keep the cause
                with suppress(duckdb.Error):
                    self._con.unregister(name)
            raise
        for name in names.values():
            self._con.unregister(name)

    # --- writing -------------------------------------------------------------------------------

    def ensure_run(self, plan: Plan) -> str:
        """Record the run of ``plan`` once (later calls change nothing); returns its run_id."""
        run_id = plan.content_hash[:16]
        with self._transaction("record the run"):
            self._all(
                "INSERT INTO runs SELECT ?, seq, ?, ?, ?, ?, ? FROM (SELECT coalesce(max(seq), 0) + 1 AS seq "
                "FROM runs) WHERE NOT EXISTS (SELECT 1 FROM runs WHERE run_id = ?)",
                [run_id, plan.name, plan.recipe, plan.content_hash, plan.seed, _now(), run_id])
        return run_id

    def write_catalog(self, run_id: str, catalog: Catalog | Iterable[Tool]) -> None:
        """Replace the run's tools with ``catalog``."""
        with self._transaction("write the catalog"), self._registered(t=rows.tool_columns(catalog)) as n:
            self._all("DELETE FROM tools WHERE run_id = ?", [run_id])
            self._all(
                f"INSERT INTO tools SELECT ?, name, original_name, source, description, parameters::JSON, "
                f"output_schema::JSON, param_names::VARCHAR[], param_types::VARCHAR[] FROM {n['t']}", [run_id])

    def write_scenarios(self, run_id: str, iteration: int, cells: Iterable[ScenarioCell | Target]) -> None:
        """Replace the scenario cells (with their weights) of one iteration; gap-targeted cells
        (``inftool.core.scenarios.Target``) also carry their base weight, need and drivers."""
        with self._transaction("write the scenarios"), self._registered(s=rows.scenario_columns(cells)) as n:
            self._all("DELETE FROM scenarios WHERE run_id = ? AND iteration = ?", [run_id, iteration])
            self._all(f"INSERT INTO scenarios SELECT ?, ?, complexity, tool, weight, base_weight, need, drivers::JSON "
                      f"FROM {n['s']}", [run_id, iteration])

    def start_stage(self, run_id: str, iteration: int, stage: str) -> None:
        """Mark a loop stage running from now (again, on resume)."""
        with self._transaction("record the stage"):
            self._all("INSERT OR REPLACE INTO stages VALUES (?, ?, ?, 'running', ?, NULL, NULL, NULL, NULL)",
                      [run_id, iteration, stage, _now()])

    def finish_stage(self, run_id: str, iteration: int, stage: str, status: str = "done", *,
                     counts: dict[str, Any] | None = None, output: str | None = None) -> None:
        """Mark a loop stage finished now with ``status``, what it made and where its product is."""
        now = _now()
        with self._transaction("record the stage"):
            self._all("UPDATE stages SET status = ?, finished_at = ?, seconds = date_diff('microsecond', started_at, ?) "
                      "/ 1e6, counts = ?::JSON, output = ? WHERE run_id = ? AND iteration = ? AND stage = ?",
                      [status, now, now, None if counts is None else rows.dumps(counts), output, run_id, iteration,
                       stage])

    def write_train_log(self, run_id: str, iteration: int, phase: str, logs: Sequence[dict[str, Any]]) -> None:
        """Replace the training curve of one phase ('sft' or 'grpo') of one iteration: dicts with ``step``
        and whatever the trainer logged (loss, reward, reward_std, kl, learning_rate are also columns)."""
        frame = rows.train_log_columns(logs)
        with self._transaction("store the training log"), self._registered(t=frame) as n:
            self._all("DELETE FROM train_log WHERE run_id = ? AND iteration = ? AND phase = ?", [run_id, iteration, phase])
            self._all(f"INSERT OR REPLACE INTO train_log SELECT ?, ?, ?, step, loss, reward, reward_std, kl, learning_rate, "
                      f"metrics::JSON FROM {n['t']}", [run_id, iteration, phase])

    def start_iteration(self, run_id: str, iteration: int, status: str = "running",
                        weights: dict[str, Any] | None = None) -> None:
        """Mark an iteration running; the first start is kept (a resumed or multi-stage iteration started
        when its first stage did), its finish time is cleared."""
        self._set_iteration(run_id, iteration, status, weights, started=True)

    def finish_iteration(self, run_id: str, iteration: int, status: str = "done",
                         weights: dict[str, Any] | None = None) -> None:
        """Mark an iteration finished now with ``status``; ``weights`` (if given) replace the stored ones."""
        self._set_iteration(run_id, iteration, status, weights, started=False)

    def _set_iteration(self, run_id: str, iteration: int, status: str, weights: Any, started: bool) -> None:
        now = _now()
        with self._transaction("record the iteration"):
            self._all(
                "INSERT INTO iterations VALUES (?, ?, ?, ?, ?, ?::JSON) ON CONFLICT (run_id, iteration) DO UPDATE SET "
                "status = excluded.status, started_at = coalesce(iterations.started_at, excluded.started_at), "
                "finished_at = excluded.finished_at, weights = coalesce(excluded.weights, iterations.weights)",
                [run_id, iteration, status, now if started else None, None if started else now,
                 None if weights is None else rows.dumps(weights)])

    def write_eval(self, run_id: str, iteration: int, policy: str, results: Sequence[dict[str, Any]]) -> None:
        """Store evaluation results (dicts with suite, category, item_id, tool, valid, error_kind, message,
        output) in one transaction; evaluating the same items again replaces their rows."""
        names = ("suite", "category", "item_id", "tool", "seen", "valid", "error_kind", "message", "output")
        frame = {name: rows.objects([r.get(name) for r in results]) for name in names}
        with self._transaction(f"store {len(results)} evaluation results"), self._registered(results=frame) as relation:
            self._all(f"INSERT OR REPLACE INTO eval_results SELECT ?, ?, ?, suite, category, item_id, tool, seen, "
                      f"valid::BOOLEAN, error_kind, message, output, ? FROM {relation['results']}",
                      [run_id, iteration, policy, _now()])

    def write_episodes(self, run_id: str, episodes: Sequence[Episode]) -> int:
        """Write episodes and their verdicts in one transaction; episodes whose id is already stored
        are skipped (so a re-run never duplicates). Returns how many episodes were new. On any error
        nothing of this call is written."""
        if not episodes:
            return 0
        eps, verdicts = rows.episode_columns(episodes)
        what = f"write {len(eps['episode_id'])} episodes"
        with self._registered(e=eps, v=verdicts) as n:
            try:  # the usual case: every id is new, plain inserts are fastest
                with self._transaction(what, passthrough=(duckdb.ConstraintException,)):
                    self._all(_INSERT_EPISODES.format(how="INSERT", batch=n["e"], returning=""), [run_id, _now()])
                    self._all(f"INSERT INTO verdicts SELECT {_VERDICT_COLUMNS} FROM {n['v']}")
                return len(eps["episode_id"])
            except duckdb.ConstraintException:
                pass  # some ids are stored already (a resumed run), or a bad batch: the careful way below tells
            with self._transaction(what):
                # OR IGNORE checks each id against the primary-key index (no scan of the table); RETURNING
                # gives the ids that were new, and only their verdicts go in.
                new = [i for (i,) in self._all(
                    _INSERT_EPISODES.format(how="INSERT OR IGNORE", batch=n["e"], returning="RETURNING episode_id"),
                    [run_id, _now()])]
                if new:
                    self._all(f"INSERT INTO verdicts SELECT {_VERDICT_COLUMNS} FROM {n['v']} WHERE episode_id IN "
                              "(SELECT unnest(?::VARCHAR[]))", [new])
        return len(new)
