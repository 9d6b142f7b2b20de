"""The run report on real DuckDB stores: every section from a full store, "no data yet" notes from a
store that only synthesised, the heatmap's tool selection, determinism, and `inftool report`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from inftool.cli import main
from inftool.compile.plan import ScenarioCell
from inftool.core.episode import Call, Episode, Goal, Verdict
from inftool.report import FIGURES, build_report, compact, heatmap_tools
from inftool.store import Store

GATES = ["format", "schema", "execution", "consistency", "dedup"]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
RECIPE = "name: demo\nseed: 3\nrun_dir: run\ncatalogs:\n  - {source: openai, path: cat/tools.yaml}\n"


@dataclass
class Plan:  # what Store.ensure_run reads of a compiled plan (compiling is not what these tests are about)
    name: str = "demo"
    recipe: str = "demo.yaml"
    content_hash: str = "c0ffee" * 10 + "abcd"
    seed: int = 3


@dataclass
class Target:  # the shape of inftool.loop.targeting.Target that Store.write_scenarios reads
    complexity: str
    tool: str
    weight: float
    base_weight: float
    need: float
    drivers: dict[str, Any]


def episode(eid: str, complexity: str, target: str, fail_at: int | None, *, index: int, iteration: int = 0,
            split: str = "train") -> Episode:
    goal = Goal(complexity=complexity, target=target, offered=[target], steps=[[Call(target, {"city": "Paris"})]])
    messages = [{"role": "user", "content": f"request {eid}"},
                {"role": "assistant", "content": None, "tool_calls": [
                    {"id": "c1", "type": "function", "function": {"name": target, "arguments": '{"city": "Paris"}'}}]},
                {"role": "tool", "tool_call_id": "c1", "content": "{}"},
                {"role": "assistant", "content": "done"}]
    ran = GATES if fail_at is None else GATES[: fail_at + 1]
    verdicts = [Verdict(g, fail_at is None or i < fail_at, "") for i, g in enumerate(ran)]
    return Episode(id=eid, iteration=iteration, index=index, goal=goal, messages=messages, tools=[], verdicts=verdicts,
                   split=split)


def results(suite: str, category: str, seen: str | None, correct: int, items: int, prefix: str) -> list[dict]:
    return [{"suite": suite, "category": category, "item_id": f"{prefix}-{suite}-{category}-{seen}-{i}", "tool": "t",
             "seen": seen, "valid": i < correct, "error_kind": None if i < correct else "wrong_arguments",
             "message": None, "output": "[]"} for i in range(items)]


# (iteration, policy) -> (correct, items) of bfcl simple seen, bfcl simple unseen, bfcl multiple seen, heldout
# single, bfcl irrelevance (labelled seen, yet a series of its own)
EVALS = {
    (0, "untrained"): [(2, 9), (1, 8), (0, 4), (3, 10), (1, 3)],
    (0, "sft"): [(5, 9), (2, 8), (1, 4), (6, 10), (1, 3)],
    (0, "grpo"): [(6, 9), (3, 8), (2, 4), (7, 10), (2, 3)],
    (1, "sft"): [(6, 9), (3, 8), (2, 4), (8, 10), (2, 3)],
    (1, "grpo"): [(7, 9), (4, 8), (3, 4), (9, 10), (2, 3)],
    (0, "oracle"): [(9, 9), (8, 8), (4, 4), (10, 10), (3, 3)],
}


def write_evals(store: Store, run_id: str) -> None:
    for (iteration, policy), numbers in EVALS.items():
        (a, b, c, d, e) = numbers
        rows = (results("bfcl", "simple", "seen", *a, policy) + results("bfcl", "simple", "unseen", *b, policy)
                + results("bfcl", "multiple", "seen", *c, policy) + results("heldout", "single", None, *d, policy)
                + results("bfcl", "irrelevance", "seen", *e, policy))
        store.write_eval(run_id, iteration, policy, rows)


@pytest.fixture
def recipe(write, tools_file) -> Path:
    return write("demo.yaml", RECIPE)


def synthesised(store: Store, recipe: Path) -> str:
    run_id = store.ensure_run(Plan())
    store.write_scenarios(run_id, 0, [ScenarioCell(complexity="single", tool="get_weather", weight=2.0),
                                      ScenarioCell(complexity="single", tool="convert_currency", weight=2.0),
                                      ScenarioCell(complexity="parallel", tool="get_weather", weight=1.0),
                                      ScenarioCell(complexity="parallel", tool="convert_currency", weight=1.0)])
    eps = [episode(f"a{i}", "single", "get_weather", None if i < 5 else 1, index=i) for i in range(7)]
    eps += [episode(f"b{i}", "single", "convert_currency", None if i < 2 else 3, index=10 + i) for i in range(6)]
    eps += [episode(f"c{i}", "parallel", "get_weather", 0, index=20 + i, split="heldout") for i in range(2)]
    store.write_episodes(run_id, eps)
    return run_id


@pytest.fixture
def full(tmp_path, recipe) -> tuple[Path, str]:
    run_dir = tmp_path / "run"
    with Store.open(run_dir) as store:
        run_id = synthesised(store, recipe)
        store.write_scenarios(run_id, 1, [
            Target("single", "get_weather", 1.0, 2.0, 0.1, {"fail_rate": 0.05}),
            Target("single", "convert_currency", 6.0, 2.0, 0.9, {"fail_rate": 0.75, "rejected": {"consistency": 4}}),
            Target("parallel", "get_weather", 3.0, 1.0, 0.8, {"errors": ["wrong_arguments", "missing_call"]}),
            Target("parallel", "convert_currency", 1.0, 1.0, 0.5, {})])
        store.write_episodes(run_id, [episode(f"d{i}", "single", "convert_currency", None, index=i, iteration=1)
                                      for i in range(4)])
        write_evals(store, run_id)
        for iteration in (0, 1):
            store.write_train_log(run_id, iteration, "sft", [{"step": s, "loss": 2.0 / s} for s in range(1, 21)])
            store.write_train_log(run_id, iteration, "grpo", [
                {"step": s, "loss": 0.01 * s, "reward": 0.3 + 0.02 * s + 0.1 * iteration, "reward_std": 0.1,
                 "kl": 0.001 * s} for s in range(1, 31)])
        for iteration, stage in [(0, "baseline"), (0, "synthesize"), (0, "sft"), (0, "grpo"), (0, "evaluate"),
                                 (0, "target"), (1, "synthesize"), (1, "sft"), (1, "grpo"), (1, "evaluate")]:
            store.start_stage(run_id, iteration, stage)
            store.finish_stage(run_id, iteration, stage, counts={"items": 31, "accuracy": 0.5},
                               output=f"checkpoints/{iteration}/{stage}")
    return run_dir, run_id


def pngs_of(page: str) -> list[str]:
    return re.findall(r'<img src="report/([^"]+)"', page)


def check_figures(out: Path, page: str) -> list[str]:
    referenced = pngs_of(page)
    on_disk = sorted(p.name for p in (out / "report").glob("*.png"))
    assert sorted(referenced) == on_disk
    for name in on_disk:
        data = (out / "report" / name).read_bytes()
        assert data.startswith(PNG_MAGIC) and len(data) > 5000, name
    return on_disk


def test_full_store_report_has_every_section_and_its_numbers(full, tmp_path):
    run_dir, run_id = full
    out = tmp_path / "out"
    with Store.open(run_dir, read_only=True) as store:
        path = build_report(store, run_id, out)
    assert path == out / "report.html"
    page = path.read_text(encoding="utf-8")
    assert check_figures(out, page) == sorted(FIGURES)
    # header and stages
    assert f"<td>{run_id}</td>" in page and "Run report: demo" in page and "<td>3</td>" in page
    assert page.count("checkpoints/1/") == 4 and "items=31, accuracy=0.5" in page and "0: running" not in page
    # accuracy: per category per checkpoint, in checkpoint order, and the means over categories
    header = re.search(r"<th>suite / split</th>(.*?)</tr>", page).group(1)
    assert re.findall(r"<th class=num>([^<]+)</th>", header) == [
        "it0 untrained", "it0 sft", "it0 grpo", "it1 sft", "it1 grpo", "it0 oracle (ref)"]
    assert "77.8% <small>7/9</small>" in page  # it1 grpo, BFCL seen simple
    assert "22.2% <small>2/9</small>" in page  # untrained
    seen_mean = (7 / 9 + 3 / 4) / 2  # it1 grpo, BFCL seen: mean of simple and multiple
    all_simple = (7 + 4) / (9 + 8)  # BFCL all merges seen and unseen per category
    assert f"{100 * seen_mean:.1f}%" in page and f"{100 * all_simple:.1f}% <small>11/17</small>" in page
    assert "90.0% <small>9/10</small>" in page and "held-out" in page
    series = re.findall(r"<tr class=total><td>([^<]+)</td><td>mean of categories</td>", page)
    assert series == ["BFCL seen", "BFCL unseen", "BFCL irrelevance", "BFCL all", "held-out"]
    bfcl_all = (11 / 17 + 3 / 4 + 2 / 3) / 3  # it1 grpo: simple, multiple, irrelevance
    all_row = re.search(r"<td>BFCL all</td><td>mean of categories</td>(.*?)</tr>", page).group(1)
    assert re.findall(r">([^<]*)</td>", all_row)[4] == f"{100 * bfcl_all:.1f}%"
    assert "wrong_arguments" in page  # error kinds of the wrong answers
    # training summary
    training = page[page.index('id="training"'):page.index('id="coverage"')]
    grpo = re.search(r"<tr><td class=num>1</td><td>grpo</td>(.*?)</tr>", training).group(1)
    assert re.findall(r"<td class=num>([^<]*)</td>", grpo) == ["30", "0.01", "0.3", "0.71", "1", "0.016"]
    assert "<td>1–30</td>" in grpo
    # coverage: get_weather single 5 accepted of 7; gates; gaps; targeting weights with drivers
    assert "all 2 tools, most covered first" in page
    rates = re.search(r"<td>format</td>(.*?)</tr>", page).group(1)
    assert re.findall(r"<td class=num>([^<]+) <small>(\d+/\d+)</small>", rates) == [
        ("100.0%", "17/17"), ("0.0%", "0/2"), ("89.5%", "17/19")]  # single, parallel, all
    assert "Top 4 gaps (iteration 1)" in page
    targeted = page[page.index("Iteration 1: top 4 cells"):]
    order = [t for t in re.findall(r"<tr><td>(single|parallel)</td><td>(\w+)</td>", targeted)]
    assert order == [("single", "convert_currency"), ("parallel", "get_weather"), ("parallel", "convert_currency"),
                     ("single", "get_weather")]  # by share ratio (18/11, 18/11, 6/11, 3/11), ties by need (0.9 > 0.8)
    assert f"<td class=num>{18 / 11:.3f}</td>" in targeted
    summary = re.search(r"max need</th>.*?<tbody>(.*?)</tbody>", page).group(1)
    assert re.findall(r">([^<>]+)</td>", summary) == ["1", "4", "2", "2", "0.575", "0.9"]
    assert "fail_rate=0.75, rejected={consistency=4}" in page and "errors=[wrong_arguments, missing_call]" in page


def test_the_report_is_deterministic_and_removes_stale_figures(full, tmp_path):
    run_dir, run_id = full
    with Store.open(run_dir, read_only=True) as store:
        first = build_report(store, run_id, tmp_path / "a")
        second = build_report(store, run_id, tmp_path / "b")
    assert first.read_bytes() == second.read_bytes()
    for name in FIGURES:
        assert (tmp_path / "a" / "report" / name).read_bytes() == (tmp_path / "b" / "report" / name).read_bytes()


def test_a_store_that_only_synthesised_gives_notes(tmp_path, recipe):
    with Store.open(tmp_path / "run") as store:
        run_id = synthesised(store, recipe)
    out = tmp_path / "run"
    (out / "report").mkdir()
    (out / "report" / "accuracy.png").write_bytes(PNG_MAGIC + b"stale")  # from an earlier build
    with Store.open(tmp_path / "run", read_only=True) as store:
        page = build_report(store, run_id, out).read_text(encoding="utf-8")
    assert check_figures(out, page) == ["coverage.png", "gates.png"]
    for note in ("No stages recorded yet", "No evaluation results yet.", "No training logged yet.",
                 "No gap-targeted iteration yet."):
        assert note in page
    assert "Top 4 gaps (iteration 0)" in page and "15 (7 accepted)" in page


def test_an_empty_run_builds_with_notes_everywhere(tmp_path, recipe):
    with Store.open(tmp_path / "run") as store:
        run_id = store.ensure_run(Plan())
        page = build_report(store, run_id, tmp_path / "run").read_text(encoding="utf-8")
    assert pngs_of(page) == [] and not list((tmp_path / "run" / "report").glob("*.png"))
    assert page.count('class="note"') == 7  # stages, accuracy, training, coverage, gates, gaps, targeting


def test_heatmap_shows_the_most_and_least_covered_tools(tmp_path, recipe):
    totals = {f"tool{i:02d}": i for i in range(60)}
    shown, how = heatmap_tools(totals, 40)
    assert shown[:2] == ["tool59", "tool58"] and shown[19] == "tool40" and shown[20] is None
    assert shown[21] == "tool19" and shown[-1] == "tool00" and len(shown) == 41
    assert "20 most and the 20 least covered of 60 tools" in how and "20 tools in between" in how
    with Store.open(tmp_path / "run") as store:
        run_id = store.ensure_run(Plan())
        store.write_scenarios(run_id, 0, [ScenarioCell(complexity=c, tool=f"tool{i:02d}", weight=1.0)
                                          for i in range(60) for c in ("single", "multi_turn")])
        page = build_report(store, run_id, tmp_path / "out").read_text(encoding="utf-8")
    assert "20 most and the 20 least covered of 60 tools" in page and "60 of 60 tools have no accepted" in page
    assert (tmp_path / "out" / "report" / "coverage.png").read_bytes().startswith(PNG_MAGIC)


def test_compact_renders_json_in_one_line():
    assert compact({"a": 0.123456, "b": {"c": [1, None]}, "d": "x"}) == "a=0.123, b={c=[1, null]}, d=x"
    assert compact(None) == "" and compact({"k": "v" * 300}, limit=20) == "k=vvvvvvvvvvvvvvv..."


@pytest.fixture
def cli():
    runner = CliRunner()
    return lambda *args: runner.invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_cli_report(full, recipe, tmp_path, cli):
    run_dir, _ = full
    done = cli("report", recipe)
    assert done.exit_code == 0, done.output
    assert done.stdout.strip() == f"report: {run_dir / 'report.html'}"
    assert "accuracy.png" in (run_dir / "report.html").read_text(encoding="utf-8")
    elsewhere = cli("report", recipe, "--out", tmp_path / "elsewhere")
    assert elsewhere.exit_code == 0 and (tmp_path / "elsewhere" / "report" / "reward.png").is_file()


def test_cli_report_without_a_store_exits_2_with_a_hint(write, tools_file, cli, tmp_path):
    recipe = write("other.yaml", RECIPE.replace("run_dir: run", "run_dir: nothing-here"))
    done = cli("report", recipe)
    assert done.exit_code == 2 and "no store at" in done.stderr and "inftool synth" in done.stderr
    Store.open(tmp_path / "nothing-here").close()  # a store without any run
    empty = cli("report", recipe)
    assert empty.exit_code == 2 and "holds no run yet" in empty.stderr


def test_items_not_evaluated_are_counted_apart_and_left_out_of_accuracy(tmp_path, recipe):
    from rich.console import Console

    from inftool.render import loop_summary

    lost = [{**row, "valid": False, "error_kind": "not_evaluated", "message": "endpoint down", "output": "null"}
            for row in results("bfcl", "simple", "seen", 0, 2, "lost")]
    with Store.open(tmp_path / "run") as store:
        run_id = synthesised(store, recipe)
        store.write_eval(run_id, 0, "grpo", results("bfcl", "simple", "seen", 3, 4, "grpo") + lost)
        page = build_report(store, run_id, tmp_path / "run").read_text(encoding="utf-8")
        [row] = store.checkpoint_accuracy(run_id)
        [counts] = store.eval_counts(run_id)
        console = Console(record=True, width=160)
        loop_summary(console, store, run_id)
    assert (row.items, row.correct, row.accuracy, row.not_evaluated) == (4, 3, 0.75, 2)
    assert (counts.items, counts.correct, counts.not_evaluated) == (4, 3, 2)
    assert "<small>3/4</small>" in page and "Items not evaluated" in page
    assert "not_evaluated" not in page.split("Wrong answers by error kind")[-1]  # no answer is no wrong answer
    summary = console.export_text()
    assert "bfcl seen (6)" in summary and "75.0% / 75%" in summary and "not evaluated" in summary
