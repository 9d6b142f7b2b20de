"""The command line: exit codes, messages without tracebacks, and every command on real inputs."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from inftool.cli import main

REPO = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "transformers", "trl", "litellm", "dspy", "datasets", "mcp", "duckdb", "pydantic", "numpy")


def inftool(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "inftool", *args], capture_output=True, text=True, cwd=cwd)


@pytest.fixture
def cli():
    runner = CliRunner()
    return lambda *args: runner.invoke(main, list(args), catch_exceptions=False)


def test_help_is_fast_and_imports_nothing_heavy():
    code = ("import sys, time; t = time.perf_counter(); sys.argv = ['inftool', '--help']\n"
            "from inftool.cli import main\n"
            "try: main()\nexcept SystemExit: pass\n"
            f"print('HEAVY', sorted(m for m in {HEAVY!r} if m in sys.modules))")
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    assert "Commands:" in done.stdout and "HEAVY []" in done.stdout
    assert elapsed < 1.0, f"inftool --help took {elapsed:.2f} s"  # target 0.5 s; see benchmarks/bench_cli.py


def test_bad_recipe_exits_2_without_traceback_and_debug_shows_one(write, tools_file):
    recipe = write("r.yaml", "catalogs: [{source: openai, path: cat/tools.yaml}]\nloop: {iteratons: 2}\n")
    done = inftool("validate", str(recipe))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "r.yaml:2: loop.iteratons: unknown key 'iteratons'" in done.stderr and "did you mean 'iterations'?" in done.stderr
    debug = inftool("--debug", "validate", str(recipe))
    assert debug.returncode != 0 and "Traceback" in debug.stderr and "RecipeError" in debug.stderr


def test_usage_errors_exit_2(write, tools_file, cli):
    assert inftool("validate", "no/such/recipe.yaml").returncode == 2
    recipe = write("r.yaml", "catalogs: [{source: openai, path: cat/tools.yaml}]\n")
    done = inftool("validate", str(recipe), "--set", "loop.iterations")
    assert done.returncode == 2 and "--set expects KEY=VALUE" in done.stderr
    assert inftool("frobnicate").returncode == 2


def test_validate_and_compile(write, tools_file, tmp_path):
    recipe = write("r.yaml", "name: cli-demo\ncatalogs: [{source: openai, path: cat/tools.yaml}]\n")
    done = inftool("validate", str(recipe), "--set", "loop.iterations=1")
    assert done.returncode == 0 and "ok (2 tools from 1 catalogs)" in done.stdout
    done = inftool("compile", str(recipe), "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    plan = json.loads(done.stdout)
    assert plan["name"] == "cli-demo" and plan["tools"] == 2
    assert json.loads((tmp_path / "runs" / "cli-demo" / "plan.json").read_text())["content_hash"] == plan["content_hash"]
    table = inftool("compile", str(recipe), cwd=tmp_path)
    assert "Scenario cells" in table.stdout and plan["content_hash"] in table.stdout


def test_schema_ls_and_cp(tmp_path, cli):
    assert json.loads(cli("schema").output) == json.loads((REPO / "schemas" / "recipe.schema.json").read_text())
    listing = cli("ls").output
    assert "bfcl" in listing and "library_openapi" in listing
    copied = cli("cp", "library_openapi", str(tmp_path))
    target = tmp_path / "library_openapi.yaml"
    assert copied.exit_code == 0 and target.is_file()
    text = target.read_text()
    assert text.splitlines()[0].startswith("# yaml-language-server: $schema=") and "../schemas" not in text.splitlines()[0]
    assert (tmp_path / text.splitlines()[0].split("$schema=")[1]).resolve() == (REPO / "schemas" / "recipe.schema.json")
    assert "An OpenAPI service as the catalog" in text  # comments kept
    assert inftool("validate", str(target)).returncode == 0  # its relative paths still work from the new place
    again = inftool("cp", "library_openapi", str(target))
    assert again.returncode == 2 and "already exists" in again.stderr
    unknown = inftool("cp", "bfc", str(tmp_path))
    assert unknown.returncode == 2 and "did you mean 'bfcl'?" in unknown.stderr


def test_catalog_show(tools_file, cli):
    tools = json.loads(cli("catalog", "show", str(tools_file), "--format", "json").output)
    assert [t["type"] for t in tools] == ["function", "function"]
    assert tools[0]["function"]["name"] == "get_weather"
    assert tools[0]["function"]["parameters"]["required"] == ["city"]
    table = cli("catalog", "show", str(REPO / "catalog" / "openapi" / "library.yaml")).output
    assert "searchCatalog" in table and "13 tools" in table
    bad = inftool("catalog", "show", "bfcl:simpel_python")
    assert bad.returncode == 2 and "did you mean 'simple_python'?" in bad.stderr
    missing = inftool("catalog", "show", "nope.json")
    assert missing.returncode == 2 and "no such file" in missing.stderr


def test_catalog_show_refine_reports_merges():
    done = inftool("catalog", "show", str(REPO / "catalog" / "near_duplicates.yaml"), "--refine", "0.5", "--format", "json")
    assert done.returncode == 0
    assert "merged into" in done.stderr
    assert len(json.loads(done.stdout)) < 8


def test_catalog_show_bfcl():
    done = inftool("catalog", "show", "bfcl:simple_java", "--format", "json")
    assert done.returncode == 0, done.stderr
    tools = json.loads(done.stdout)
    assert len(tools) >= 50
    assert all(p["type"] == "string" for t in tools for p in t["function"]["parameters"]["properties"].values())


def test_run_refuses_contradictory_flags_before_doing_anything(write, tools_file, tmp_path):
    recipe = write("r.yaml", "name: runner\ncatalogs: [{source: openai, path: cat/tools.yaml}]\n")
    done = inftool("run", str(recipe), "--resume", "--fresh", cwd=tmp_path)
    assert done.returncode == 2 and "contradict" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "runs").exists()


def test_synth_gaps_sql_export_from_the_command_line(write, tools_file, tmp_path):
    recipe = write("r.yaml", "name: clisynth\ncatalogs: [{source: openai, path: cat/tools.yaml}]\n"
                             "evaluate: {bfcl: [], heldout: 0.5}\n")
    before = inftool("gaps", str(recipe), cwd=tmp_path)
    assert before.returncode == 2 and "run `inftool synth" in before.stderr
    done = inftool("synth", str(recipe), "-n", "40", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "40 episodes written" in done.stdout and "store: " in done.stdout
    gaps = inftool("gaps", str(recipe), cwd=tmp_path)
    assert gaps.returncode == 0 and "Top 20 gaps" in gaps.stdout and "Gate pass rates" in gaps.stdout
    rows = inftool("sql", str(recipe), "SELECT complexity, count(*) AS n FROM episodes GROUP BY 1 ORDER BY 1", "--json",
                   cwd=tmp_path)
    assert rows.returncode == 0
    assert sum(json.loads(line)["n"] for line in rows.stdout.splitlines()) == 40
    bad = inftool("sql", str(recipe), "SELEC nonsense", cwd=tmp_path)
    assert bad.returncode == 2 and "SQL error" in bad.stderr and "Traceback" not in bad.stderr
    out = inftool("export", str(recipe), "--format", "openai", cwd=tmp_path)
    assert out.returncode == 0 and (tmp_path / "runs" / "clisynth" / "export" / "openai" / "train.jsonl").is_file()
    again = inftool("synth", str(recipe), "-n", "40", cwd=tmp_path)
    assert "0 episodes written (40 already stored)" in again.stdout
