"""Tool, Catalog and function_name: names valid for function calling and the reversible name mapping."""

from __future__ import annotations

import hashlib
import re

import pytest
from pydantic import ValidationError

from inftool.catalog.tool import MAX_NAME_LENGTH, Catalog, Tool, function_name

VALID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
PARAMS = {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]}


def tool(original: str, *, description: str = "", meta: dict | None = None, parameters: dict | None = None) -> Tool:
    return Tool(name=function_name(original), original_name=original, description=description,
                parameters=parameters or PARAMS, source="test", meta=meta or {})


# --- function_name -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("math.factorial", "math_factorial"),
        ("get /pets/{id}", "get_pets_id"),
        ("POST /users/{user_id}/orders", "POST_users_user_id_orders"),
        ("already_valid-name", "already_valid-name"),
        ("a..b::c", "a_b_c"),  # a run of invalid characters becomes one underscore
        ("  spaced out  ", "spaced_out"),  # leading/trailing underscores are stripped
        ("café.menu", "caf_menu"),  # non-ASCII letters are not allowed in function names
        ("naïve", "na_ve"),
        ("日本語", "tool"),  # nothing valid left
        ("", "tool"),
        ("...", "tool"),
        ("_", "tool"),
    ],
)
def test_function_name_sanitises(raw, expected):
    assert function_name(raw) == expected
    assert VALID.match(function_name(raw))


def test_function_name_keeps_names_up_to_64_characters():
    exact = "n" * MAX_NAME_LENGTH
    assert function_name(exact) == exact
    dotted = "a." * 31 + "bc"  # 64 characters, sanitised to 64 characters
    assert function_name(dotted) == "a_" * 31 + "bc"


def test_function_name_shortens_long_names_stably_and_distinctly():
    raw = "very.long.namespace." * 5 + "do_the_thing"
    name = function_name(raw)
    assert len(name) == MAX_NAME_LENGTH
    assert VALID.match(name)
    assert name == function_name(raw)  # stable
    # The kept prefix, then an underscore and 8 hex digits of the raw name's SHA-1.
    assert name.startswith("very_long_namespace_very_long_namespace_")
    assert name.endswith("_" + hashlib.sha1(raw.encode()).hexdigest()[:8])

    # Inputs that differ only after the kept prefix (or only in characters that sanitise alike) stay distinct.
    others = ["x" * 70 + "1", "x" * 70 + "2", "x" * 70 + ".", "x" * 70 + "_", "x" * 65, "x" * 66]
    names = [function_name(o) for o in others]
    assert all(len(n) == MAX_NAME_LENGTH and VALID.match(n) for n in names)
    assert len(set(names)) == len(others)
    assert function_name("x" * 65) != "x" * 64


# --- Tool ----------------------------------------------------------------------------------------


def test_tool_to_openai_shape_and_accessors():
    t = Tool(name="math_factorial", original_name="math.factorial", description="n!",
             parameters={"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]},
             source="bfcl:simple_python")
    assert t.to_openai() == {
        "type": "function",
        "function": {"name": "math_factorial", "description": "n!",
                     "parameters": {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}},
    }
    assert t.required == ["n"]
    assert t.properties == {"n": {"type": "integer"}}
    bare = Tool(name="ping", original_name="ping", parameters={"type": "object"}, source="s")
    assert bare.required == [] and bare.properties == {}
    assert bare.to_openai()["function"]["description"] == ""


def test_tool_is_frozen_and_strict():
    t = tool("a")
    with pytest.raises(ValidationError, match="frozen"):
        t.name = "b"
    with pytest.raises(ValidationError, match="unknown"):
        Tool(name="a", original_name="a", parameters={}, source="s", unknown=1)


# --- Catalog -------------------------------------------------------------------------------------


def test_catalog_renames_clashes_with_numbers():
    cat = Catalog([tool("a.b"), tool("a_b"), tool("a b"), tool("other")])
    assert cat.names == ["a_b", "a_b_2", "a_b_3", "other"]
    assert [t.original_name for t in cat] == ["a.b", "a_b", "a b", "other"]
    assert len(cat) == 4
    assert "a_b_3" in cat and "a_b_4" not in cat
    assert cat["a_b_2"].original_name == "a_b"


def test_catalog_add_returns_the_renamed_tool_and_leaves_the_input_unchanged():
    cat = Catalog([tool("search")])
    original = tool("search")
    added = cat.add(original)
    assert added.name == "search_2"
    assert original.name == "search"  # frozen model: a renamed copy is stored
    assert cat["search_2"] is added


def test_catalog_clash_names_stay_within_64_characters():
    long = "q" * MAX_NAME_LENGTH
    cat = Catalog(Tool(name=long, original_name=f"orig{i}", parameters=PARAMS, source="s") for i in range(12))
    names = cat.names
    assert names[0] == long
    assert names[1] == "q" * 62 + "_2"
    assert names[8] == "q" * 62 + "_9"
    assert names[9] == "q" * 61 + "_10"
    assert names[11] == "q" * 61 + "_12"
    assert all(len(n) == MAX_NAME_LENGTH for n in names)
    assert all(VALID.match(n) for n in names)
    assert len(set(names)) == 12


def test_catalog_skips_a_numbered_name_already_taken():
    # 'a_b_2' is a real tool name, so the second 'a_b' must not take it.
    cat = Catalog([tool("a_b"), tool("a_b_2"), tool("a.b")])
    assert cat.names == ["a_b", "a_b_2", "a_b_3"]
    # and a tool literally named like a renamed one gets its own number
    cat.add(tool("a_b_2"))
    assert cat.names[-1] == "a_b_2_2"


def test_catalog_original_and_name_for_round_trip_for_every_tool():
    originals = ["math.factorial", "math_factorial", "get /pets/{id}", "get_pets_id", "日本語", "",
                 "x" * 80, "x" * 80 + "!", "spaces in name"]
    cat = Catalog(tool(o) for o in originals)
    assert len(cat) == len(originals)
    assert len(set(cat.names)) == len(originals)
    for name in cat.names:
        assert VALID.match(name)
        assert cat.name_for(cat.original(name)) == name
    for original in originals:
        assert cat.original(cat.name_for(original)) == original
    assert cat.name_for("math.factorial") == "math_factorial"
    assert cat.name_for("math_factorial") == "math_factorial_2"
    with pytest.raises(KeyError):
        cat.name_for("not.there")
    with pytest.raises(KeyError):
        cat.original("not_there")


def test_catalog_aliases_resolve_through_name_for():
    kept = tool("get_current_weather", meta={"aliases": ["get_weather", "weather.now"]})
    cat = Catalog([kept, tool("send_email")])
    assert cat.name_for("get_weather") == "get_current_weather"
    assert cat.name_for("weather.now") == "get_current_weather"
    assert cat.name_for("get_current_weather") == "get_current_weather"
    assert "get_weather" not in cat  # an alias is not a tool name
    assert cat.names == ["get_current_weather", "send_email"]


def test_catalog_first_owner_of_a_spec_name_wins():
    # An alias never takes over a spec name that an earlier tool already has.
    cat = Catalog([tool("get_weather"), tool("get_current_weather", meta={"aliases": ["get_weather"]})])
    assert cat.name_for("get_weather") == "get_weather"


def test_catalog_to_openai_for_every_tool():
    cat = Catalog([tool("a.b", description="first"), tool("a_b", description="second")])
    entries = [t.to_openai() for t in cat]
    assert [e["function"]["name"] for e in entries] == ["a_b", "a_b_2"]
    assert [e["function"]["description"] for e in entries] == ["first", "second"]
    assert all(e["type"] == "function" and e["function"]["parameters"] == PARAMS for e in entries)
    assert set(entries[0]["function"]) == {"name", "description", "parameters"}
