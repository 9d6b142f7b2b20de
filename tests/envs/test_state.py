"""A world's state as plain data: objects become their public attributes (back-references left out), sets sorted
lists, keys text; the digest follows ``==``; the first difference is named by its path. Result texts read back."""

from __future__ import annotations

import json

import pytest

from inftool.envs import first_difference, load_env, plain, result_data, state_digest

FILES = {"root": {"alex": {"type": "directory", "contents": {
    "notes.txt": {"type": "file", "content": "budget analysis"},
    "archive": {"type": "directory", "contents": {"old.md": {"type": "file", "content": "x"}}}}}}}


pytestmark = pytest.mark.usefixtures("bfcl_available")


def world(config=FILES, *calls):
    env = load_env("bfcl_env:gorilla_file_system")
    env.reset(config)
    for name, arguments in calls:
        env.call(name, arguments)
    return env


def test_a_file_tree_becomes_json_without_its_parent_links():
    data = plain(world().state())
    archive = data["root"]["contents"]["archive"]
    assert archive["__class__"] == "Directory" and "parent" not in archive
    assert archive["contents"]["old.md"] == {"__class__": "File", "name": "old.md", "content": "x"}
    json.dumps(data)


def test_sets_are_sorted_and_keys_are_text():
    assert plain({"ids": {3, 1, 2}, 7: (1, 2)}) == {"ids": [1, 2, 3], "7": [1, 2]}


def test_the_digest_follows_equality_and_the_first_difference_is_named():
    same, moved = world(), world(FILES, ("mv", {"source": "notes.txt", "destination": "archive"}))
    assert state_digest(world().state()) == state_digest(same.state()) != state_digest(moved.state())
    assert first_difference(same.state(), same.state()) is None
    assert first_difference(same.state(), moved.state()).startswith("state.root.contents.notes.txt: present != missing")


def test_result_texts_read_back_as_data():
    assert result_data('{"a": 1}') == {"a": 1}
    assert result_data("[{'id': 1, 'tags': ['#x']}]") == [{"id": 1, "tags": ["#x"]}]  # BFCL prints lists with str()
    assert result_data("None") == "None" and result_data("[not python") == "[not python"
