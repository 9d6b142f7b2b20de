"""Tools offered under other names for SFT (``inftool.train.aliases``)."""

from __future__ import annotations

import json
import random

import pytest

from inftool.train.aliases import VERBS, alias, renamed, words


def _tool(name: str, *params: str) -> dict:
    return {"type": "function", "function": {"name": name, "description": f"{name} does it.", "parameters": {
        "type": "object", "properties": {p: {"type": "integer"} for p in params}, "required": list(params)}}}


def _episode(idx: int, iteration: int = 0) -> dict:
    return {"episode_id": f"run-{idx}", "iteration": iteration, "idx": idx,
            "tools": [_tool("geometry_calculate_area_circle", "radius"), _tool("get_weather", "city"),
                      _tool("EuclideanDistance_calculate", "pointA")],
            "messages": [
                {"role": "user", "content": "Area of a circle of radius 5, then the weather."},
                {"role": "assistant", "content": None, "tool_calls": [
                    {"id": "call_0", "type": "function",
                     "function": {"name": "geometry_calculate_area_circle", "arguments": '{"radius": 5}'}}]},
                {"role": "tool", "tool_call_id": "call_0", "name": "geometry_calculate_area_circle",
                 "content": '{"result": 78.5}'},
                {"role": "assistant", "content": None, "tool_calls": [
                    {"id": "call_1", "type": "function", "function": {"name": "get_weather",
                                                                       "arguments": '{"city": "Oslo"}'}}]}]}


@pytest.mark.parametrize("name, expected", [
    ("geometry_calculate_area_circle", ["geometry", "calculate", "area", "circle"]),
    ("EuclideanDistance_calculate", ["euclidean", "distance", "calculate"]),
    ("getHTTPStatus2", ["get", "http", "status", "2"]),
    ("math.hypot", ["math", "hypot"]),
])
def test_words_split_every_naming_style(name, expected):
    assert words(name) == expected


def test_an_alias_is_another_valid_name_from_the_same_words_or_their_synonyms():
    synonyms = {verb: set(row) for row in VERBS for verb in row}
    rng = random.Random(0)
    for name in ["geometry_calculate_area_circle", "get_weather", "EuclideanDistance_calculate", "math_hypot",
                 "integrate", "vegan_restaurant_find_nearby"]:
        for _ in range(50):
            new = alias(name, rng)
            assert new and new != name and new.isidentifier()
            original, changed = words(name), words(new)
            assert len(changed) == len(original)
            assert sorted(w for w in changed if w not in synonyms) == sorted(w for w in original if w not in synonyms)


def test_an_alias_avoids_taken_names_and_gives_up_when_none_is_left():
    rng = random.Random(1)
    taken = {alias("math_hypot", random.Random(s)) for s in range(200)}
    assert alias("math_hypot", rng, taken) is None or alias("math_hypot", rng, taken) not in taken
    assert alias("integrate", rng, {"Integrate"}) is None  # one word, no synonym: only its capitalised form


def test_renamed_rewrites_the_list_the_calls_and_the_results_alike():
    [episode] = renamed([_episode(1)], 1.0, seed=3)
    names = [tool["function"]["name"] for tool in episode["tools"]]
    assert not {"geometry_calculate_area_circle", "get_weather", "EuclideanDistance_calculate"} & set(names)
    called = [c["function"]["name"] for m in episode["messages"] for c in m.get("tool_calls") or []]
    assert set(called) <= set(names) and len(called) == 2
    assert episode["messages"][2]["name"] == called[0]
    assert episode["messages"][1]["tool_calls"][0]["function"]["arguments"] == '{"radius": 5}'
    assert _episode(1)["tools"][0]["function"]["name"] == "geometry_calculate_area_circle"  # input untouched


def test_renamed_takes_its_share_by_seed_and_id_and_keeps_reserved_names_free():
    episodes = [_episode(i) for i in range(400)]
    reserved = {"geometry_compute_area_circle", "getWeather"}
    first = renamed(episodes, 0.3, seed=7, reserved=reserved)
    assert json.dumps(first) == json.dumps(renamed(episodes, 0.3, seed=7, reserved=reserved))
    changed = [e for e, o in zip(first, episodes) if e["tools"] != o["tools"]]
    assert 0.22 < len(changed) / len(episodes) < 0.38
    assert not reserved & {t["function"]["name"] for e in changed for t in e["tools"]}
    assert renamed(episodes, 0.0, seed=7) == episodes
    assert json.dumps(renamed(episodes, 0.3, seed=8)) != json.dumps(first)
    elsewhere = [{**e, "episode_id": "another-run"} for e in episodes]  # another run's ids: the same choice
    assert [e["tools"] for e in renamed(elsewhere, 0.3, seed=7, reserved=reserved)] == [e["tools"] for e in first]
