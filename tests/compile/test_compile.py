"""Compiling a recipe into a plan: catalogs, cells, roles, gates, training, loop and a portable hash."""

from __future__ import annotations

import json
import shutil

import pytest

from inftool.compile import compile_recipe, write_plan
from inftool.errors import RecipeError
from inftool.spec import load_recipe

RECIPE = """
name: demo
seed: 4
catalogs:
  - {source: openai, path: cat/tools.yaml}
models:
  synth: {backend: procedural}
  teacher: {backend: openai, model: qwen-72b, base_url: "http://127.0.0.1:8000/v1"}
  policy: {backend: local}
roles:
  assistant: {model: teacher, instructions: Call tools carefully.}
scenarios:
  mix: {single: 0.5, multi_turn: 0.25, multiple: 0.25}
reward: {gates: [format, function_names, arguments], values: {format: 0.2, function_names: 0.3, arguments: 0.5}}
train:
  trainer: openrlhf
  cluster: {actor_gpus_per_node: 4, ref_gpus_per_node: 4, vllm_num_engines: 4}
"""


@pytest.fixture
def recipe(write, tools_file):
    return write("demo.yaml", RECIPE)


def test_plan_describes_every_part_of_the_run(recipe, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    plan = compile_recipe(load_recipe(recipe)).plan
    assert [(c.name, c.source, c.tools) for c in plan.catalogs] == [("tools", "openai", 2)]
    assert plan.tools == 2 and plan.seed == 4
    cells = {(c.complexity, c.tool): c.weight for c in plan.scenarios.cells}
    assert cells == {("single", "get_weather"): 0.25, ("single", "convert_currency"): 0.25,
                     ("multiple", "get_weather"): 0.125, ("multiple", "convert_currency"): 0.125,
                     ("multi_turn", "get_weather"): 0.125, ("multi_turn", "convert_currency"): 0.125}
    roles = {r.role: r for r in plan.roles}
    assert (roles["assistant"].backend, roles["assistant"].engine) == ("openai", "qwen-72b")
    assert roles["assistant"].instructions == "Call tools carefully."
    assert roles["server"].signature == "tool, arguments, earlier_calls -> result, error"
    assert roles["user"].backend == "procedural" and roles["user"].instructions.startswith("You are a user")
    assert plan.gates.verify == ["format", "schema", "execution", "consistency", "dedup"]
    assert plan.gates.reward_values == {"format": 0.2, "function_names": 0.3, "arguments": 0.5}
    assert plan.training.trainer == "openrlhf" and plan.training.options["actor_gpus_per_node"] == 4
    assert plan.training.policy["name"] == "policy" and plan.training.policy["model"] == "tiny-scratch"
    assert plan.loop.stages[:5] == [(0, "synthesize"), (0, "policy"), (0, "baseline"), (0, "emit"), (0, "launch")]
    assert plan.loop.stages[5:] == [(0, "evaluate"), (0, "target"), (1, "synthesize"), (1, "emit"), (1, "launch"),
                                    (1, "evaluate"), (1, "target"), (2, "synthesize"), (2, "emit"), (2, "launch"),
                                    (2, "evaluate")]
    assert plan.run_dir == str(tmp_path / "runs" / "demo")
    assert "api_key" not in plan.model_dump_json()  # only the name of the variable holding it
    assert len(plan.content_hash) == 64


def test_hash_is_stable_portable_and_sensitive(recipe, tmp_path):
    first = compile_recipe(load_recipe(recipe)).plan.content_hash
    assert compile_recipe(load_recipe(recipe)).plan.content_hash == first
    moved = tmp_path / "elsewhere"
    shutil.copytree(tmp_path / "cat", moved / "cat")
    shutil.copy(recipe, moved / "demo.yaml")
    assert compile_recipe(load_recipe(moved / "demo.yaml")).plan.content_hash == first  # same content, other place
    tools = moved / "cat" / "tools.yaml"
    tools.write_text(tools.read_text().replace("e.g. Paris", "e.g. Lyon"))
    assert compile_recipe(load_recipe(moved / "demo.yaml")).plan.content_hash != first  # a catalog changed
    assert compile_recipe(load_recipe(recipe, ["seed=5"])).plan.content_hash != first  # a setting changed


def test_scenario_kind_no_tool_can_serve_is_reported_at_the_mix(write):
    write("cat/noargs.yaml", "tools: [{name: ping, description: Check the service is up.}]\n")
    recipe = write("r.yaml", """
        catalogs: [{source: openai, path: cat/noargs.yaml}]
        scenarios:
          mix: {single: 0.5, multi_turn: 0.3, multiple: 0.2}
    """)
    with pytest.raises(RecipeError) as info:
        compile_recipe(load_recipe(recipe))
    assert [str(p).split("r.yaml")[1] for p in info.value.problems] == [
        ":3: scenarios.mix.multiple: no tool in the catalog can serve 'multiple' scenarios (at least two tools; "
        "set its share to 0 or add such tools (1 tools now))",
        ":3: scenarios.mix.multi_turn: no tool in the catalog can serve 'multi_turn' scenarios (a tool with a required "
        "parameter; set its share to 0 or add such tools (1 tools now))",
    ]


def test_bad_catalog_is_reported_at_the_recipe_line_that_names_it(write, tools_file):
    write("cat/broken.json", '{"tools": [')
    recipe = write("r.yaml", """
        catalogs:
          - {source: openai, path: cat/tools.yaml}
          - {source: mcp, path: cat/broken.json}
    """)
    with pytest.raises(RecipeError) as info:
        compile_recipe(load_recipe(recipe))
    problem = str(info.value.problems[0])
    assert "r.yaml:3: catalogs.1:" in problem and "broken.json:1: invalid JSON" in problem


def test_refine_runs_in_compile_and_write_plan_writes_artifacts(write, tools_file, tmp_path):
    write("cat/dup.yaml", """
        tools:
          - name: current_weather
            description: Current weather for a city, e.g. Paris.
            parameters: {type: object, properties: {city: {type: string}}, required: [city]}
    """)
    recipe = write("r.yaml", """
        run_dir: out/run
        catalogs:
          - {source: openai, path: cat/tools.yaml}
          - {source: openai, path: cat/dup.yaml}
        refine: {threshold: 0.5, action: drop}
    """)
    compiled = compile_recipe(load_recipe(recipe))
    refine = compiled.plan.refine
    assert (refine.tools_before, refine.tools_after) == (3, 2)
    assert refine.groups[0].kept == "get_weather" and refine.groups[0].absorbed == ["current_weather"]
    path = write_plan(compiled)
    assert path == tmp_path / "out" / "run" / "plan.json"
    assert json.loads(path.read_text())["content_hash"] == compiled.plan.content_hash
    tools = json.loads((path.parent / "tools.json").read_text())
    assert [t["name"] for t in tools] == ["get_weather", "convert_currency"]


def test_the_default_mix_drops_kinds_the_catalog_cannot_serve(write):
    write("cat/noargs.yaml", "tools: [{name: ping, description: Check the service is up.}, "
                             "{name: version, description: The service version.}]\n")
    recipe = write("r.yaml", "catalogs: [{source: openai, path: cat/noargs.yaml}]\n")
    plan = compile_recipe(load_recipe(recipe)).plan
    assert set(plan.scenarios.mix) == {"single", "multiple", "irrelevance"}
    assert sum(plan.scenarios.mix.values()) == pytest.approx(1.0)
    assert sum(c.weight for c in plan.scenarios.cells) == pytest.approx(1.0)
    assert plan.warnings and "drops 'parallel'" in plan.warnings[0] and "'multi_turn'" in plan.warnings[0]
