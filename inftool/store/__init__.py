"""The run store: one DuckDB file per run directory (``store.duckdb``), the only code that speaks SQL.

Tables ``runs``, ``iterations``, ``tools``, ``scenarios``, ``episodes``, ``verdicts`` and ``meta``
(see ``schema.sql``); views ``current_run``, ``coverage``, ``coverage_cells``, ``gaps`` and
``gate_pass_rates`` answering for the newest run, with table macros ``*_of(run_id)`` for any run
(see ``views.sql``). The file opens in the DuckDB CLI as it is: ``duckdb runs/x/store.duckdb
"SELECT * FROM gaps LIMIT 10"``.
"""

from inftool.store.db import SCHEMA_VERSION, Store

__all__ = ["SCHEMA_VERSION", "Store"]
