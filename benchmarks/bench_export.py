"""Export throughput: every `inftool export` format of a 20,000-episode store, and loading it with `datasets`.

Run: python benchmarks/bench_export.py [--episodes N] [--recipe PATH] [--formats a,b]
Synthesises N episodes of recipes/bfcl.yaml (procedural, one process) into a temporary run directory, then
for each format times the export (the split files and the dataset card; verl's reward file too) and
``datasets.load_dataset`` of the written files (the json or parquet builder, offline, a fresh cache: reading,
converting to Arrow, and the first pass over the rows) and prints the files' size.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from _machine import cpu_model

from inftool.compile import compile_recipe
from inftool.export import FORMATS, export
from inftool.spec import load_recipe
from inftool.store import Store
from inftool.synth import run_stage

REPO = Path(__file__).resolve().parents[1]


def synthesise(recipe: Path, episodes: int, run_dir: Path) -> float:
    """Fill ``run_dir`` with ``episodes`` episodes of ``recipe``; returns the seconds it took."""
    loaded = load_recipe(recipe, [f"run_dir={run_dir}"])
    start = time.perf_counter()
    report = run_stage(loaded, compile_recipe(loaded), iteration=0, episodes=episodes)
    seconds = time.perf_counter() - start
    print(f"synthesised {report.written} episodes ({report.accepted} verified) of {recipe.name} in {seconds:.1f} s")
    return seconds


def time_format(store: Store, run_id: str, fmt: str, out: Path, cache: Path) -> tuple[int, float, float, float]:
    """(records, MB written, export seconds, load seconds) of one format."""
    import datasets

    start = time.perf_counter()
    written = export(store, run_id, fmt, out)
    exported = time.perf_counter() - start
    files = {split: str(path) for split, (path, count) in written.items() if count}
    size = sum(Path(path).stat().st_size for path in files.values()) / 1e6
    start = time.perf_counter()
    loaded = datasets.load_dataset("json" if FORMATS[fmt].columns is None else "parquet", data_files=files,
                                   cache_dir=str(cache))
    rows = sum(1 for split in loaded.values() for _ in split)  # decode every row once
    return rows, size, exported, time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=20000)
    parser.add_argument("--recipe", type=Path, default=REPO / "recipes" / "bfcl.yaml")
    parser.add_argument("--formats", default=",".join(FORMATS), help="comma-separated formats (default: all)")
    args = parser.parse_args()
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    import datasets

    datasets.disable_progress_bars()
    datasets.logging.set_verbosity_error()
    print(f"machine: {cpu_model()}, {os.cpu_count()} CPU cores; datasets {datasets.__version__}")
    with tempfile.TemporaryDirectory(prefix="inftool-bench-export-") as tmp:
        run_dir = Path(tmp) / "run"
        synthesise(args.recipe, args.episodes, run_dir)
        print(f"\n{'format':<10} {'records':>8} {'MB':>8} {'export s':>9} {'load s':>8}")
        with Store.open(run_dir, read_only=True) as store:
            run_id = store.current_run()
            for fmt in args.formats.split(","):
                rows, size, exported, loaded = time_format(store, run_id, fmt, Path(tmp) / "export" / fmt,
                                                           Path(tmp) / "hf-cache" / fmt)
                print(f"{fmt:<10} {rows:>8} {size:>8.1f} {exported:>9.2f} {loaded:>8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
