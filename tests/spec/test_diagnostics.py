"""Every problem in a recipe is reported at once as `file:line: key.path: what (expected; hint)`."""

from __future__ import annotations

import pytest

from inftool.errors import RecipeError
from inftool.spec import load_recipe

BROKEN = """
name: broken
catalogs:
  - {source: bfcl, categories: [simple_python, multipel]}
  - source: opnapi
    path: spec.yaml
  - source: openapi
    path: missing.yaml
models:
  synth: {backend: procedural}
  pol: {backend: local}
roles:
  user: {model: synht}
  assistant: {model: synth, instructons: be brief}
scenarios:
  mix: {single: 0.5, irrelevance: 0.3}
verify: {gates: [format, shema]}
reward: {gates: [format, function_name]}
train: {trainer: local, policy: synth}
loop: {iterations: 0}
"""


def problems(write, text: str, overrides=()) -> list[str]:
    with pytest.raises(RecipeError) as info:
        load_recipe(write("r.yaml", text), list(overrides))
    assert info.value.exit_code == 2
    return [str(p).split("r.yaml", 1)[-1] for p in info.value.problems]


def test_all_problems_at_once_in_file_order(write):
    found = problems(write, BROKEN)
    assert found == [
        ":3: catalogs.0.categories.1: 'multipel' is not allowed (expected one of: simple_python, simple_java, "
        "simple_javascript, multiple, parallel, parallel_multiple, irrelevance, live_simple, live_multiple, "
        "live_parallel, live_parallel_multiple, live_irrelevance, live_relevance; did you mean 'multiple'?)",
        ":4: catalogs.1.source: unknown source 'opnapi' (expected one of: bfcl, bfcl_env, openai, openapi, mcp; did you mean 'openapi'?)",
        ":7: catalogs.2.path: file not found: " + found[2].split("file not found: ")[1],
        ":12: roles.user.model: no model named 'synht' (expected one of the names under `models`: synth, pol; "
        "did you mean 'synth'?)",
        ":13: roles.assistant.instructons: unknown key 'instructons' (expected one of: model, instructions; "
        "did you mean 'instructions'?)",
        ":15: scenarios.mix: shares must sum to 1, they sum to 0.8",
        ":16: verify.gates.1: 'shema' is not allowed (expected one of: format, schema, execution, consistency, dedup; "
        "did you mean 'schema'?)",
        ":17: reward.gates.1: 'function_name' is not allowed (expected one of: format, function_names, arguments, "
        "execution; did you mean 'function_names'?)",
        ":18: train.policy: model 'synth' has backend 'procedural' (expected backend 'local': the trained policy is a "
        "local or hub checkpoint)",
        ":19: loop.iterations: input should be greater than or equal to 1 (got 0)",
    ]
    assert "missing.yaml (expected an existing file; paths resolve relative to the recipe that sets them)" in found[2]


def test_unknown_mix_key_and_unknown_top_level_key(write):
    found = problems(write, "catalogz: []\nscenarios: {mix: {singel: 1.0}}\n")
    assert found == [
        ":1: catalogs: missing required key (expected: tool catalogs to read; their tools are merged into one catalog "
        "with unique names)",
        ":1: catalogz: unknown key 'catalogz' (expected one of: extends, name, seed, run_dir, catalogs, refine, models, "
        "roles, scenarios, verify, reward, train, loop, evaluate; did you mean 'catalogs'?)",
        ":2: scenarios.mix.singel: unknown key 'singel' (expected one of: single, parallel, multiple, parallel_multiple, "
        "multi_step, multi_turn, irrelevance, stateful; did you mean 'single'?)",
    ]


def test_discriminator_missing_and_backend_typo(write, tools_file):
    found = problems(write, """
        catalogs: [{path: cat/tools.yaml}]
        models: {synth: {backend: procedual}}
    """)
    assert found[0] == ":1: catalogs.0.source: missing key 'source' (expected one of: bfcl, bfcl_env, mcp, openai, openapi)"
    # the default roles name 'synth', which still exists; the default policy 'policy' does not any more
    assert found[1] == ":1: train.policy: no model named 'policy' (expected one of the names under `models`: synth)"
    assert found[2] == (":2: models.synth.backend: unknown backend 'procedual' (expected one of: procedural, "
                        "openai, engine, local; did you mean 'procedural'?)")


def test_repeated_gate_negative_share_and_zero_rewards(write, tools_file):
    found = problems(write, """
        catalogs: [{source: openai, path: cat/tools.yaml}]
        scenarios: {mix: {single: 1.2, parallel: -0.2}}
        verify: {gates: [format, format]}
        reward: {gates: [format], values: {format: 0.0, arguments: 1.0}}
    """)
    assert found == [
        ":2: scenarios.mix: shares must be >= 0, got a negative share for parallel",
        ":3: verify.gates: each gate may appear once, repeated: format",
        ":4: reward: no listed reward gate pays anything: give at least one of them a positive value",
    ]


def test_a_repeated_decoding_mode_is_refused_at_its_line(write, tools_file):
    found = problems(write, """
        catalogs: [{source: openai, path: cat/tools.yaml}]
        evaluate: {decoding: [free, constrained, free]}
    """)
    assert found == [":2: evaluate.decoding: lists free more than once (each mode is evaluated and stored once; "
                     "hint: decoding: [free, constrained])"]


def test_type_errors_show_what_was_given(write, tools_file):
    found = problems(write, """
        catalogs: [{source: openai, path: cat/tools.yaml}]
        seed: seven
        models:
          synth: {backend: procedural}
          policy: {backend: local, tiny: {hidden_size: 100, heads: 6}}
    """)
    assert found[0] == ":2: seed: input should be a valid integer, unable to parse string as an integer (got 'seven')"
    assert found[1] == ":5: models.policy.tiny: hidden_size must be divisible by heads, and heads by kv_heads"
    assert len(found) == 2


def test_roles_defaulting_to_a_model_that_is_not_defined(write, tools_file):
    found = problems(write, """
        catalogs: [{source: openai, path: cat/tools.yaml}]
        models: {teacher: {backend: procedural}, policy: {backend: local}}
    """)
    assert found == [f":1: roles.{role}.model: no model named 'synth' (expected one of the names under `models`: "
                     "teacher, policy)" for role in ("assistant", "server", "user")]


def test_problem_from_override_and_file_together(write, tools_file):
    found = problems(write, "catalogs: [{source: openai, path: cat/tools.yaml}]\nloop: {iterations: 0}\n",
                     ["loop.floor=2"])
    assert found[0] == ":2: loop.iterations: input should be greater than or equal to 1 (got 0)"
    assert found[1] == "--set loop.floor=2: loop.floor: input should be less than or equal to 1 (got 2)"


def test_a_role_cannot_be_played_by_the_local_policy(write, tools_file):
    found = problems(write, """
        catalogs: [{source: openai, path: cat/tools.yaml}]
        roles: {assistant: {model: policy}}
    """)
    assert found == [":2: roles.assistant.model: model 'policy' has backend 'local' (expected procedural, openai or "
                     "engine: the local policy is trained and evaluated, it does not play synthesis roles)"]
