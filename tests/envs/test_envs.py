"""Stateful environments: BFCL's API simulators loaded from the bfcl-eval wheel, groups of them, any Python class."""

from __future__ import annotations

import copy
import json
import textwrap

import pytest

from inftool.catalog.bfcl_data import bfcl_data
from inftool.envs import (
    ERROR_PREFIX,
    Environment,
    EnvironmentGroup,
    PythonEnvironment,
    env_names,
    load_env,
)
from inftool.errors import UsageError

FILES = {"root": {"alex": {"type": "directory", "contents": {
    "notes.txt": {"type": "file", "content": "budget analysis and more"},
    "archive": {"type": "directory", "contents": {}}}}}}


pytestmark = pytest.mark.usefixtures("bfcl_available")


def test_calls_change_the_state_and_every_reset_starts_a_fresh_world():
    env = load_env("bfcl_env:gorilla_file_system")
    config = copy.deepcopy(FILES)
    env.reset(config)
    before = copy.deepcopy(env.state())
    assert env.call("mkdir", {"dir_name": "temp"}) == "None"  # BFCL's executor shows a None result as 'None'
    assert json.loads(env.call("ls", {})) == {"current_directory_content": ["notes.txt", "archive", "temp"]}
    assert env.state() != before
    assert config == FILES  # the caller's configuration is copied, never changed

    env.reset(config)
    assert env.state() == before and "temp" not in env.call("ls", {})
    other = load_env("bfcl_env:gorilla_file_system")
    other.reset(FILES)
    env.call("mv", {"source": "notes.txt", "destination": "archive"})
    assert other.state() == before and env.state() != other.state()  # two worlds never share state


@pytest.mark.parametrize("name", [n.split(":")[1] for n in env_names()])
def test_every_bfcl_environment_is_imported_from_bfcl_eval_with_its_docs(name):
    env = load_env(f"bfcl_env:{name}")
    assert isinstance(env, Environment) and env.cls.__module__.startswith("bfcl_eval.")
    docs = bfcl_data().environment_docs(name)
    assert [t["function"]["name"] for t in env.tools()] == [d["name"] for d in docs]
    assert sorted(env.method_names) == sorted(d["name"] for d in docs)
    env.reset()  # the class's default world
    assert isinstance(env.state(), dict)


def test_results_and_errors_are_text_as_bfcl_shows_them():
    env = load_env("bfcl_env:gorilla_file_system")
    env.reset(FILES)
    assert json.loads(env.call("cd", {"folder": "nowhere"})) == {"error": "cd: 'nowhere': No such file or directory"}
    assert env.call("cd", {"fold": "archive"}) == (
        f"{ERROR_PREFIX}GorillaFileSystem.cd() got an unexpected keyword argument 'fold'")
    assert env.call("launch_rocket", {}) == f"{ERROR_PREFIX}name 'launch_rocket' is not defined"
    assert json.loads(load_env("bfcl_env:math_api").call("add", {"a": 2, "b": 3})) == {"result": 5}


def test_a_group_routes_each_call_to_its_environment():
    from inftool.envs.bfcl import entry_environment

    world = entry_environment(["GorillaFileSystem", "TwitterAPI"])
    world.reset({"GorillaFileSystem": FILES, "TwitterAPI": {"username": "alex", "password": "pw"}})
    files = copy.deepcopy(world.state()["GorillaFileSystem"])
    signed_in = world.call("authenticate_twitter", {"username": "alex", "password": "pw"})
    assert json.loads(signed_in)["authentication_status"]
    world.call("post_tweet", {"content": "budget analysis done"})
    assert len(world.state()["TwitterAPI"]["tweets"]) == 1
    assert world.state()["GorillaFileSystem"] == files  # the other environment is untouched
    assert world.parameter_names("sort") == ["file_name"] and world.member_for("ls").name == "gorilla_file_system"
    assert {t["function"]["name"] for t in world.tools()} >= {"ls", "post_tweet"}


class Counter:
    """A toy world: a counter with a name."""

    def __init__(self, start: int = 0, label: str = "c"):
        self.value, self.label = start, label

    def increment(self, by: int = 1) -> dict:
        """Add to the counter.

        More text that is not the description."""
        self.value += by
        return {"value": self.value}

    def rename(self, label: str) -> str:
        """Rename the counter."""
        self.label = label
        return f"renamed to {label}"


def test_any_python_class_is_an_environment():
    env = PythonEnvironment(Counter)
    tools = {t["function"]["name"]: t["function"] for t in env.tools()}
    assert tools["increment"] == {"name": "increment", "description": "Add to the counter.",
                                  "parameters": {"type": "object", "properties": {"by": {"type": "integer"}}}}
    assert tools["rename"]["parameters"]["required"] == ["label"]
    env.reset({"start": 5})
    assert json.loads(env.call("increment", {"by": 2})) == {"value": 7}
    assert env.call("rename", {"label": "x"}) == "renamed to x" and env.state() == {"value": 7, "label": "x"}
    assert env.call("increment", {"by": 1, "extra": 1}).startswith(ERROR_PREFIX)
    group = EnvironmentGroup({"a": PythonEnvironment(Counter), "b": PythonEnvironment(Counter)})
    group.reset({"a": {"start": 1}})
    group.call("increment", {})  # two members with the tool: the later one has it, as in BFCL
    assert group.state() == {"a": {"value": 1, "label": "c"}, "b": {"value": 1, "label": "c"}}


def test_environments_are_loaded_by_reference(tmp_path, monkeypatch):
    (tmp_path / "toy_world.py").write_text(textwrap.dedent('''
        class Lamp:
            def __init__(self, on: bool = False):
                self.on = on

            def switch(self, on: bool) -> str:
                """Switch the lamp."""
                self.on = on
                return "ok"
    '''))
    monkeypatch.syspath_prepend(str(tmp_path))
    lamp = load_env("python:toy_world:Lamp")
    assert lamp.call("switch", {"on": True}) == "ok" and lamp.state() == {"on": True}
    with pytest.raises(UsageError, match="did you mean 'gorilla_file_system'"):
        load_env("bfcl_env:gorila_file_system")
    with pytest.raises(UsageError, match="cannot import it"):
        load_env("python:no_such_module_here:Lamp")
    with pytest.raises(UsageError, match="expected bfcl_env:<name>"):
        load_env("ftp:somewhere")


def test_a_bfcl_env_catalog_keeps_each_tool_s_environment(write):
    from inftool.catalog import load_catalogs
    from inftool.spec import load_recipe

    recipe = write("r.yaml", "catalogs: [{source: bfcl_env, envs: [math_api, ticket_api]}]\n")
    loaded = load_catalogs(load_recipe(recipe).spec.catalogs)
    envs = {tool.meta["env"] for tool in loaded.catalog}
    assert envs == {"bfcl_env:math_api", "bfcl_env:ticket_api"} and loaded.summaries[0].source == "bfcl_env"
    assert len(loaded.catalog) == len(bfcl_data().environment_docs("math_api")) + len(
        bfcl_data().environment_docs("ticket_api"))
    bad = write("bad.yaml", "catalogs: [{source: bfcl_env, envs: [math_apii]}]\n")
    from inftool.errors import RecipeError

    with pytest.raises(RecipeError, match="math_apii"):
        load_recipe(bad)
