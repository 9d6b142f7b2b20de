"""The run directory: the one place that names every path a run writes, and clears a run.

``runs/<name>/`` (or the recipe's ``run_dir``) holds::

    plan.json  tools.json          the compiled plan and its resolved catalog (inftool compile)
    store.duckdb[.wal]             episodes, verdicts, stages, training curves, evaluation results
    checkpoints/<run_id>/<name>/   the local trainer's checkpoints (untrained, iter<k>-sft, iter<k>-grpo)
    openrlhf/<run_id>/iter<k>/     the emitted OpenRLHF jobs
    datasets/                      the verified episodes `inftool run` exports at the end
    export/<format>/               `inftool export` (default destination)
    report.html  report/           the run report and its figures
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

STORE_FILE = "store.duckdb"


@dataclass(frozen=True)
class RunDir:
    """A run directory and the paths in it."""

    root: Path

    @classmethod
    def of(cls, spec: Any) -> RunDir:
        """A recipe's run directory: ``run_dir`` if it sets one, else ``runs/<name>`` in the working directory."""
        return cls(Path(spec.run_dir) if spec.run_dir else Path.cwd() / "runs" / spec.name)

    @property
    def plan(self) -> Path:
        return self.root / "plan.json"

    @property
    def tools(self) -> Path:
        return self.root / "tools.json"

    @property
    def store(self) -> Path:
        return self.root / STORE_FILE

    @property
    def all_checkpoints(self) -> Path:
        """The checkpoints of every run in this directory (one folder per run id)."""
        return self.root / "checkpoints"

    def checkpoints(self, run_id: str) -> Path:
        """Where the local trainer writes a run's checkpoints."""
        return self.all_checkpoints / run_id

    def openrlhf_job(self, run_id: str, iteration: int) -> Path:
        return self.root / "openrlhf" / run_id / f"iter{iteration}"

    @property
    def datasets(self) -> Path:
        return self.root / "datasets"

    def export(self, fmt: str) -> Path:
        return self.root / "export" / fmt

    @property
    def report(self) -> Path:
        return self.root / "report.html"

    @property
    def figures(self) -> Path:
        return self.root / "report"

    def clear(self) -> None:
        """Delete what runs wrote here (store, checkpoints, jobs, datasets, exports, report); the plan stays."""
        wal = self.store.with_name(STORE_FILE + ".wal")
        for path in (self.store, wal, self.all_checkpoints, self.root / "openrlhf", self.datasets,
                     self.root / "export", self.figures, self.report):
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()
