"""The dataset card (``README.md``) of an export directory: Hugging Face metadata in YAML front matter
(``configs`` with each split's file, licence, task category, tags, and the JSON Lines formats' features),
then what the data is: recipe, content hash and seed, catalogs with their sources and licences, episode
counts per complexity and split, and the verification gates' pass rates.
"""

from __future__ import annotations

import io
from collections import defaultdict
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from inftool.catalog.document import read_document
from inftool.compile.plan import CatalogEntry, Plan
from inftool.errors import CatalogError
from inftool.rundir import RunDir

from .options import Format

BFCL_LICENCE = "Apache-2.0"
"""The licence of BFCL v4's data (gorilla-llm/berkeley-function-call-leaderboard)."""
HF_LICENCES = {"apache-2.0", "mit", "bsd-2-clause", "bsd-3-clause", "cc0-1.0", "cc-by-4.0", "cc-by-sa-4.0",
               "gpl-3.0", "lgpl-3.0", "mpl-2.0", "unlicense", "odc-by", "cdla-permissive-2.0"}
"""Licence identifiers the Hub's card metadata knows (lower case); any other is ``other``."""
_SIZES = ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M"),
          (10_000_000, "1M<n<10M"), (100_000_000, "10M<n<100M"))
"""The Hub's ``size_categories``: (rows below, label)."""


def run_plan(store: Any, run_id: str) -> Plan | None:
    """The run's compiled plan (``plan.json`` next to the store), or None when it is missing, unreadable or
    the plan of another run (a later recipe change rewrites it)."""
    path = RunDir(Path(store.path).parent).plan
    try:
        plan = Plan.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # pydantic's ValidationError is a ValueError
        return None
    return plan if plan.content_hash[:16] == run_id else None


def catalog_licence(entry: CatalogEntry) -> str:
    """A catalog's licence: Apache-2.0 for BFCL data, a spec file's own (OpenAPI ``info.license``: its SPDX
    identifier, else its name or URL), else ``unknown``."""
    if entry.source in ("bfcl", "bfcl_env"):
        return BFCL_LICENCE
    path = Path(entry.location)
    path = path if path.is_absolute() else Path.cwd() / path
    if not path.is_file():
        return "unknown"
    try:
        document = read_document(path)
    except CatalogError:
        return "unknown"
    info = document.get("info") if isinstance(document, dict) else None
    licence = info.get("license") if isinstance(info, dict) else None
    if isinstance(licence, str) and licence.strip():
        return licence.strip()
    if not isinstance(licence, dict):
        return "unknown"
    identifier, name, url = (str(licence.get(k) or "").strip() for k in ("identifier", "name", "url"))
    shown = identifier or name or url or "unknown"
    return f"{shown} ({name})" if identifier and name and name != identifier else shown


def licence_metadata(licences: list[str]) -> dict[str, str]:
    """The card's ``license`` (and ``license_name`` for ``other``): one Hub identifier when every catalog has it."""
    ids = {licence.split(" ")[0].lower() for licence in licences}
    if len(ids) == 1 and ids <= HF_LICENCES:
        return {"license": ids.pop()}
    return {"license": "other", "license_name": "per-catalog"}


def write_card(store: Any, run_id: str, fmt: Format, out_dir: Path, written: dict[str, tuple[Path, int]]) -> Path:
    """Write ``out_dir/README.md`` for an export of ``run_id`` in ``fmt``; returns its path."""
    run, plan = store.run_info(run_id), run_plan(store, run_id)
    catalogs = [(entry, catalog_licence(entry)) for entry in (plan.catalogs if plan else [])]
    front = _front_matter(run.name, fmt, written, [licence for _, licence in catalogs])
    body = [*_summary(run, fmt, plan), *_loading(fmt, written), *_catalog_table(catalogs),
            *_count_table(store.episode_counts(run_id, accepted=fmt.accepted), fmt.accepted),
            *_gate_table(store.gate_pass_rates(run_id))]
    path = out_dir / "README.md"
    path.write_text(f"---\n{front}---\n\n" + "\n".join(body) + "\n", encoding="utf-8")
    return path


def _front_matter(name: str, fmt: Format, written: dict[str, tuple[Path, int]], licences: list[str]) -> str:
    """The card's YAML metadata. Splits without rows are left out of ``configs`` (``datasets`` refuses
    an empty data file)."""
    total = sum(count for _, count in written.values())
    files = [{"split": split, "path": path.name} for split, (path, count) in written.items() if count]
    metadata: dict[str, Any] = {
        "pretty_name": f"{name} ({fmt.name})",
        **licence_metadata(licences or ["unknown"]),
        "task_categories": ["text-generation"],
        "tags": ["tool-calling", "function-calling", "synthetic", "inftool", *fmt.tags],
        "size_categories": [next((label for bound, label in _SIZES if total < bound), "100M<n<1B")],
        "configs": [{"config_name": "default", "data_files": files}],
    }
    if fmt.features:
        metadata["dataset_info"] = {"features": fmt.features}
    yaml, text = YAML(typ="rt"), io.StringIO()
    yaml.default_flow_style = False
    yaml.width = 4096
    yaml.dump(metadata, text)
    return text.getvalue()


def _summary(run: Any, fmt: Format, plan: Plan | None) -> list[str]:
    """The title and what the data is, from which run."""
    source = (f"Synthesised and verified by inftool from recipe `{run.name}` (`{run.recipe}`), seed {run.seed}, "
              f"content hash `{run.content_hash}` (run `{run.run_id}`), exported with `inftool export --format "
              f"{fmt.name}`. The split of every episode (train / heldout) is fixed by the seed.")
    lines = [f"# {run.name}: tool-use episodes ({fmt.name})", "", source, "", fmt.about, ""]
    if plan is None:
        lines += ["The run's plan (`plan.json`) was not found next to its store, so its catalogs are not listed.", ""]
    return lines


def _loading(fmt: Format, written: dict[str, tuple[Path, int]]) -> list[str]:
    """How to load the files with ``datasets``, then how the format's trainer takes them."""
    present = [(split, path.name) for split, (path, count) in written.items() if count]
    if fmt.columns is None:  # JSON Lines: the json builder infers every split's features from the first file's rows
        alone = [f'{split} = load_dataset("json", data_files="{name}", split="train")  # a file alone'
                 for split, name in present]
    else:
        files = ", ".join(f'"{split}": "{name}"' for split, name in present)
        alone = [f'ds = load_dataset("parquet", data_files={{{files}}})  # the files alone']
    return ["## Loading", "", "```python", "from datasets import load_dataset",
            'ds = load_dataset("path/to/this/directory")  # or its Hub repository: the splits and features here',
            *alone, "```", "", *([fmt.usage, ""] if fmt.usage else [])]


def _catalog_table(catalogs: list[tuple[CatalogEntry, str]]) -> list[str]:
    if not catalogs:
        return []
    rows = [f"| {e.name} | {e.source} | `{e.location}` | {e.tools} | {licence} |" for e, licence in catalogs]
    return ["## Catalogs", "", "The tools come from these specifications; their licences are the specifications' own.",
            "", "| catalog | source | location | tools | licence |", "|---|---|---|---:|---|", *rows, ""]


def _count_table(counts: list[Any], accepted: bool) -> list[str]:
    splits = sorted({row.split for row in counts}, key=lambda s: (s != "train", s))
    table: dict[str, dict[str, int]] = defaultdict(dict)
    for row in counts:
        table[row.complexity][row.split] = row.episodes
    kind = "verified" if accepted else "rejected"
    head = ["## Episodes", "", f"{kind.capitalize()} episodes per complexity and split:", "",
            "| complexity | " + " | ".join(splits) + " | total |", "|---|" + "---:|" * (len(splits) + 1)]
    rows = [f"| {c} | " + " | ".join(str(cells.get(s, 0)) for s in splits) + f" | {sum(cells.values())} |"
            for c, cells in sorted(table.items())]
    totals = [sum(table[c].get(s, 0) for c in table) for s in splits]
    return [*head, *rows, "| **all** | " + " | ".join(map(str, totals)) + f" | {sum(totals)} |", ""]


def _gate_table(rates: list[Any]) -> list[str]:
    """Pass rates of every verification gate per complexity (passed / episodes the gate judged)."""
    if not rates:
        return []
    gates = list(dict.fromkeys(row.gate for row in rates))
    table: dict[str, dict[str, Any]] = defaultdict(dict)
    for row in rates:
        table[row.complexity][row.gate] = row
    rows = [f"| {c} | " + " | ".join(_rate(cells.get(g)) for g in gates) + " |" for c, cells in sorted(table.items())]
    intro = ("Share of the episodes each gate judged that passed it (a gate after a failed one does not run), "
             "accepted and rejected episodes alike:")
    return ["## Verification", "", intro, "",
            "| complexity | " + " | ".join(gates) + " |", "|---|" + "---:|" * len(gates), *rows, ""]


def _rate(row: Any) -> str:
    return "-" if row is None else f"{row.pass_rate:.1%} ({row.passed}/{row.evaluated})"
