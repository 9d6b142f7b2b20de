"""Loading recipes: extends, --set, paths relative to the recipe that sets them, line numbers."""

from __future__ import annotations


import pytest

from inftool.errors import RecipeError, UsageError
from inftool.spec import load_recipe


def test_minimal_recipe_gets_defaults_and_name_from_file(write, tools_file):
    recipe = write("my-run.yaml", "catalogs: [{source: openai, path: cat/tools.yaml}]\n")
    spec = load_recipe(recipe).spec
    assert spec.name == "my-run"
    assert spec.catalogs[0].path == tools_file
    assert spec.models["synth"].backend == "procedural" and spec.models["policy"].backend == "local"
    assert sum(spec.scenarios.mix.values()) == pytest.approx(1.0)
    assert spec.loop.iterations == 3


def test_paths_resolve_relative_to_the_file_that_sets_them(write, tools_file, tmp_path, monkeypatch):
    write("base/parent.yaml", """
        seed: 3
        catalogs: [{source: openai, path: ../cat/tools.yaml}]
        loop: {iterations: 5, episodes_per_iteration: 10}
    """)
    child = write("deep/er/child.yaml", """
        extends: ../../base/parent.yaml
        loop: {iterations: 2}
    """)
    monkeypatch.chdir(tmp_path / "deep")
    spec = load_recipe(child).spec
    assert spec.catalogs[0].path == tools_file  # resolved against base/, not the child or the cwd
    assert spec.loop.iterations == 2 and spec.loop.episodes_per_iteration == 10  # mappings merge
    assert spec.seed == 3 and spec.name == "child"


def test_lists_replace_and_several_parents_merge_in_order(write, tools_file):
    write("a.yaml", "seed: 1\ncatalogs: [{source: openai, path: cat/tools.yaml, limit: 1}]\nscenarios: {distractors: 5}\n")
    write("b.yaml", "seed: 2\nscenarios: {max_parallel: 4}\n")
    child = write("c.yaml", "extends: [a.yaml, b.yaml]\ncatalogs: [{source: openai, path: cat/tools.yaml}]\n")
    spec = load_recipe(child).spec
    assert spec.seed == 2
    assert (spec.scenarios.distractors, spec.scenarios.max_parallel) == (5, 4)
    assert len(spec.catalogs) == 1 and spec.catalogs[0].limit is None


def test_overrides_set_values_lists_and_paths_relative_to_cwd(write, tools_file, tmp_path, monkeypatch):
    recipe = write("r.yaml", "catalogs: [{source: openai, path: cat/tools.yaml}]\n")
    monkeypatch.chdir(tools_file.parent)
    spec = load_recipe(recipe, [
        "loop.iterations=7",
        "scenarios.mix={single: 0.5, irrelevance: 0.5}",
        "catalogs.0.path=tools.yaml",
        "catalogs.0.include=[get_*]",
        "refine.threshold=0.7",
    ]).spec
    assert spec.loop.iterations == 7
    assert spec.scenarios.mix == {"single": 0.5, "irrelevance": 0.5}
    assert spec.catalogs[0].path == tools_file and spec.catalogs[0].include == ["get_*"]
    assert spec.refine.threshold == 0.7 and spec.refine.action == "merge"


def test_override_problems_name_the_override(write, tools_file):
    recipe = write("r.yaml", "catalogs: [{source: openai, path: cat/tools.yaml}]\n")
    with pytest.raises(UsageError, match="--set expects KEY=VALUE"):
        load_recipe(recipe, ["loop.iterations"])
    with pytest.raises(RecipeError) as info:
        load_recipe(recipe, ["catalogs.3.path=x.yaml"])
    assert str(info.value.problems[0]) == ("--set catalogs.3.path=x.yaml: catalogs.3: no item 3 in a list of 1 "
                                           "(expected an index from 0 to 0)")
    with pytest.raises(RecipeError) as info:
        load_recipe(recipe, ["loop.iteratons=2"])
    assert str(info.value.problems[0]).startswith("--set loop.iteratons=2: loop.iteratons: unknown key 'iteratons'")
    assert "did you mean 'iterations'?" in str(info.value)


def test_extends_cycle_and_missing_parent(write, tools_file):
    write("a.yaml", "extends: b.yaml\n")
    b = write("b.yaml", "extends: a.yaml\ncatalogs: [{source: openai, path: cat/tools.yaml}]\n")
    with pytest.raises(RecipeError, match=r"`extends` forms a cycle: \S*b.yaml -> \S*a.yaml -> \S*b.yaml") as info:
        load_recipe(b)
    assert info.value.exit_code == 2
    orphan = write("orphan.yaml", "extends: nowhere.yaml\n")
    with pytest.raises(RecipeError) as info:
        load_recipe(orphan)
    assert "orphan.yaml:1: extends:" in str(info.value) and "nowhere.yaml: file not found" in str(info.value)


def test_invalid_yaml_and_non_mapping_are_located(write):
    bad = write("bad.yaml", "name: x\ncatalogs: [\n  {source: openai\nseed: 1\n")
    with pytest.raises(RecipeError) as info:
        load_recipe(bad)
    assert "bad.yaml:" in str(info.value) and "invalid YAML" in str(info.value)
    scalar = write("scalar.yaml", "- just\n- a list\n")
    with pytest.raises(RecipeError, match="a recipe must be a mapping of keys, got a CommentedSeq|got a list"):
        load_recipe(scalar)


def test_missing_recipe_file_is_a_usage_error(tmp_path):
    with pytest.raises(RecipeError, match="file not found"):
        load_recipe(tmp_path / "absent.yaml")


def test_locations_point_at_lines(write, tools_file):
    recipe = write("r.yaml", """
        name: located
        catalogs:
          - source: openai
            path: cat/tools.yaml
        loop:
          iterations: 2
    """)
    loaded = load_recipe(recipe)
    assert loaded.where(("loop", "iterations")).endswith("r.yaml:6")
    assert loaded.where(("catalogs", 0, "path")).endswith("r.yaml:4")
    assert loaded.where(("catalogs", 0)).endswith("r.yaml:3")
    assert loaded.where(("evaluate", "heldout")).endswith("r.yaml:1")  # not written: the file itself


def test_yaml_scalars_become_plain_values(write, tools_file):
    recipe = write("r.yaml", """
        name: !!str 2024
        catalogs: [{source: openai, path: cat/tools.yaml, name: 2024-01-02}]
        refine: {threshold: 0.5}
        reward: {partial_credit: yes}
    """)
    spec = load_recipe(recipe).spec  # a date and a tagged scalar arrive as text; 'yes' is read as true
    assert spec.name == "2024" and spec.catalogs[0].name == "2024-01-02" and spec.reward.partial_credit is True
