"""Catalogs at the paper's scale: `inftool compile` and `inftool synth -n 5000` on generated OpenAPI specs.

Run: python benchmarks/bench_catalog_scale.py [--sizes 1000 5000 20000] [--episodes 5000] [--requests 200000]

For each size, a generated OpenAPI 3.0 spec of that many operations (3 query parameters each, names,
descriptions and response fields drawn from a few hundred API words, so TF-IDF has real work: common
and rare terms, and operations that differ only in a generic verb such as get/list/search, which
refinement merges) and a recipe over it with refinement on. Each command runs in a fresh process; its
wall time and peak resident memory (the kernel's ``ru_maxrss`` for that child, from ``wait4``) are
printed. Then the near-duplicate gate on its own: ``--requests`` generated requests fed through it,
with the bytes it holds per accepted request (tracemalloc: every Python object and numpy buffer it
keeps). Exits non-zero when a command fails.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VERBS = ("list", "get", "create", "update", "delete", "search", "archive", "export", "import", "approve", "cancel",
         "schedule", "assign", "close", "restore", "validate", "publish", "sync", "merge", "summarize", "estimate",
         "reserve", "refund", "transfer", "verify")
QUALIFIERS = ("recent", "pending", "archived", "monthly", "regional", "shared", "public", "private", "draft",
              "active", "expired", "overdue", "scheduled", "recurring", "primary", "external", "internal",
              "default", "custom", "daily", "weekly", "annual", "open", "closed", "flagged", "verified", "unpaid",
              "partial", "bulk", "remote", "local", "premium", "trial", "legacy")
RESOURCES = ("account", "invoice", "order", "shipment", "customer", "ticket", "payment", "refund", "subscription",
             "product", "review", "coupon", "warehouse", "supplier", "employee", "project", "task", "milestone",
             "document", "report", "campaign", "lead", "contact", "meeting", "calendar", "reservation", "flight",
             "hotel", "booking", "itinerary", "vehicle", "driver", "route", "parcel", "prescription", "patient",
             "appointment", "claim", "policy", "premium", "loan", "transaction", "budget", "expense", "receipt",
             "payroll", "asset", "license", "device", "sensor", "alert", "incident", "deployment", "cluster",
             "container", "repository", "branch", "commit", "build", "release", "issue", "comment", "playlist",
             "track", "album", "artist", "podcast", "episode", "course", "lesson", "student", "grade", "exam",
             "recipe", "ingredient", "menu", "restaurant", "table", "listing", "property", "tenant", "lease",
             "inspection", "permit", "certificate")
FIELDS = ("customerId", "accountId", "orderId", "region", "currency", "startDate", "endDate", "limit", "offset",
          "status", "category", "language", "timezone", "country", "city", "postalCode", "email", "phone",
          "priority", "owner", "team", "channel", "sortBy", "pageSize", "fromDate", "toDate", "amount", "quantity",
          "tag", "label", "severity", "environment", "version", "format")
FILLER = ("returns", "the", "matching", "records", "with", "their", "current", "state", "and", "history", "for",
          "the", "caller", "using", "filters", "such", "as", "dates", "owners", "and", "status", "optionally",
          "paginated", "sorted", "by", "creation", "time", "includes", "totals", "audit", "trail", "metadata",
          "links", "related", "entities", "only", "visible", "to", "authorized", "users", "of", "the", "workspace",
          "supports", "partial", "matches", "across", "names", "notes", "and", "identifiers", "respects", "rate",
          "limits", "and", "quotas")


def make_spec(operations: int, seed: int = 0) -> dict:
    """An OpenAPI 3.0 spec of ``operations`` operations: a distinct (verb, qualifier, resource) each, three query
    parameters, a short response object and a description of a dozen words."""
    rng = random.Random(seed)
    combos = rng.sample(range(len(VERBS) * len(QUALIFIERS) * len(RESOURCES)), operations)
    paths = {}
    for combo in combos:
        verb, rest = VERBS[combo % len(VERBS)], combo // len(VERBS)
        qualifier, resource = QUALIFIERS[rest % len(QUALIFIERS)], RESOURCES[rest // len(QUALIFIERS)]
        paths[f"/{resource}s/{qualifier}/{verb}"] = {"get": _operation(rng, verb, qualifier, resource)}
    return {"openapi": "3.0.3", "info": {"title": "scale", "version": "1"},
            "servers": [{"url": "https://api.example.com"}], "paths": paths}


def _operation(rng: random.Random, verb: str, qualifier: str, resource: str) -> dict:
    fields = rng.sample(FIELDS, 4)
    described = " ".join(rng.sample(FILLER, rng.randint(6, 12)))
    parameters = [{"name": f"{resource}Id", "in": "query", "required": True, "description": f"The {resource}.",
                   "schema": {"type": "string"}}]
    parameters += [{"name": f, "in": "query", "schema": {"type": "string"}} for f in fields[:2]]
    output = {"type": "object", "properties": {f"{resource}Id": {"type": "string"}, "name": {"type": "string"},
                                               **{f: {"type": "string"} for f in fields[2:]}}}
    return {"operationId": f"{verb}_{qualifier}_{resource}", "summary": f"{verb.title()} {qualifier} {resource}s",
            "description": f"{verb.title()} {qualifier} {resource}s: {described}.", "parameters": parameters,
            "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": output}}}}}


def recipe(spec: Path) -> str:
    return (f"name: scale\nseed: 7\ncatalogs:\n  - {{source: openapi, path: {spec}}}\n"
            "refine: {threshold: 0.6, action: merge}\nevaluate: {bfcl: []}\n")


def inftool() -> list[str]:
    exe = shutil.which("inftool")
    return [exe] if exe else [sys.executable, "-m", "inftool"]


def measured(args: list[str], cwd: Path) -> tuple[float, float]:
    """Wall seconds and peak resident memory (MiB) of one CLI command in its own process."""
    start = time.perf_counter()
    with open(cwd / "log.txt", "a") as log:
        child = subprocess.Popen(inftool() + args, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        sys.exit(f"inftool {' '.join(args)} failed ({child.returncode}); see {cwd / 'log.txt'}")
    return time.perf_counter() - start, usage.ru_maxrss / 1024  # Linux: KiB


def scale_row(operations: int, episodes: int, tmp: Path) -> tuple[int, tuple[float, float], tuple[float, float]]:
    """(tools after refinement, compile (s, MiB), synth (s, MiB)) on a spec of ``operations`` operations."""
    work = tmp / str(operations)
    work.mkdir()
    (work / "spec.json").write_text(json.dumps(make_spec(operations)), encoding="utf-8")
    (work / "recipe.yaml").write_text(recipe(work / "spec.json"), encoding="utf-8")
    run_dir = f"run_dir={work / 'run'}"
    compiled = measured(["compile", "recipe.yaml", "--set", run_dir], work)
    synthesised = measured(["synth", "recipe.yaml", "-n", str(episodes), "--set", run_dir], work)
    tools = len(json.loads((work / "run" / "tools.json").read_text(encoding="utf-8")))
    return tools, compiled, synthesised


def dedup_bytes(requests: int, threshold: float = 0.9) -> tuple[int, float, float]:
    """(accepted requests, bytes the near-duplicate gate holds per accepted one, seconds per request) on
    generated requests of 12-30 words from a 5,000-word vocabulary."""
    from inftool.synth.verify.dedup import Deduplicator

    rng, vocabulary = random.Random(1), [f"w{i}" for i in range(5000)]
    texts = [" ".join(rng.choices(vocabulary, k=rng.randint(12, 30))) for _ in range(requests)]
    Deduplicator(threshold).check(texts[0])  # what the first use imports is not per request
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    dedup, accepted, start = Deduplicator(threshold), 0, time.perf_counter()
    for text in texts:
        _, key = dedup.check(text)
        if key is not None:
            dedup.add(key)
            accepted += 1
    seconds = time.perf_counter() - start
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    return accepted, held / accepted, seconds / requests


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000, 20000])
    parser.add_argument("--episodes", type=int, default=5000)
    parser.add_argument("--requests", type=int, default=200_000)
    args = parser.parse_args()
    print(f"{'operations':>10} {'tools':>7} {'compile s':>10} {'MiB':>7} {'synth s':>9} {'MiB':>7}")
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            tools, (compile_s, compile_mib), (synth_s, synth_mib) = scale_row(size, args.episodes, Path(tmp))
            print(f"{size:>10} {tools:>7} {compile_s:>10.1f} {compile_mib:>7.0f} {synth_s:>9.1f} {synth_mib:>7.0f}",
                  flush=True)
    accepted, per_request, seconds = dedup_bytes(args.requests)
    print(f"near-duplicate gate: {accepted:,} accepted of {args.requests:,} requests, "
          f"{per_request:,.0f} bytes per accepted request, {seconds * 1e6:.0f} us per request (under tracemalloc)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
