"""BFCL function docs -> Tools, and where the BFCL v4 data comes from."""

from __future__ import annotations

import importlib
import json
import re
import zipfile
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from inftool.catalog import Catalog, load_catalogs, read_bfcl
from inftool.catalog.bfcl import JSON_TYPE, convert_function, convert_questions, language_of, to_json_schema
from inftool.catalog.bfcl_data import BFCL_EVAL_VERSION, BfclData, bfcl_data
from inftool.errors import DataUnavailableError
from inftool.spec.catalogs import BfclCatalogSpec

bfcl_data_module = importlib.import_module("inftool.catalog.bfcl_data")
VALID_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


# --- hand-written BFCL-style docs ----------------------------------------------------------------

ROUTE_DOC = {
    "name": "maps.plan_route",
    "description": "Plan a route through waypoints.",
    "parameters": {
        "type": "dict",
        "properties": {
            "origin": {
                "type": "dict",
                "description": "Where to start.",
                "properties": {
                    "lat": {"type": "float", "description": "Latitude."},
                    "lon": {"type": "float", "description": "Longitude."},
                    "label": {"type": "string", "optional": True},
                },
                "required": ["lat", "lon", "altitude"],  # 'altitude' is not a property: dropped
            },
            "waypoints": {
                "type": "array",
                "items": {"type": "tuple", "items": {"type": "float"}, "description": "(lat, lon)"},
            },
            "avoid": {"type": "list", "items": {"type": "string", "enum": ["tolls", "ferries"]}},
            "mode": {"type": "string", "enum": ["car", "bike", "walk"], "default": "car"},
            "max_legs": {"type": "integer", "default": 10, "minimum": 1, "maximum": 50, "optional": True},
            "context": {"type": "any", "description": "Anything the caller wants echoed back."},
            "strict": {"type": "boolean", "default": False},
        },
        "required": ["origin", "waypoints", "ghost"],  # 'ghost' is not a property: dropped
    },
}

ROUTE_SCHEMA = {
    "type": "object",
    "properties": {
        "origin": {
            "type": "object",
            "description": "Where to start.",
            "properties": {
                "lat": {"type": "number", "description": "Latitude."},
                "lon": {"type": "number", "description": "Longitude."},
                "label": {"type": "string"},
            },
            "required": ["lat", "lon"],
        },
        "waypoints": {
            "type": "array",
            "items": {"type": "array", "description": "(lat, lon)", "items": {"type": "number"}},
        },
        "avoid": {"type": "array", "items": {"type": "string", "enum": ["tolls", "ferries"]}},
        "mode": {"type": "string", "enum": ["car", "bike", "walk"], "default": "car"},
        "max_legs": {"type": "integer", "default": 10, "minimum": 1, "maximum": 50},
        "context": {"description": "Anything the caller wants echoed back."},
        "strict": {"type": "boolean", "default": False},
    },
    "required": ["origin", "waypoints"],
}


def schema_types(node):
    """Every string value of a 'type' keyword in a schema tree (property names are skipped)."""
    if isinstance(node, dict):
        if isinstance(node.get("type"), str):
            yield node["type"]
        for key, value in node.items():
            if key == "properties" and isinstance(value, dict):
                for sub in value.values():
                    yield from schema_types(sub)
            elif key in ("items", "additionalProperties") or key in ("anyOf", "oneOf", "allOf"):
                for sub in value if isinstance(value, list) else [value]:
                    yield from schema_types(sub)


def test_python_doc_converts_to_plain_json_schema():
    t = convert_function(ROUTE_DOC, language="python", source="bfcl:simple_python")
    assert t.name == "maps_plan_route"
    assert t.original_name == "maps.plan_route"
    assert t.description == "Plan a route through waypoints."
    assert t.source == "bfcl:simple_python"
    assert t.meta == {"language": "python"}
    assert t.parameters == ROUTE_SCHEMA
    assert "type" not in t.parameters["properties"]["context"]
    assert "optional" not in json.dumps(t.parameters)
    Draft202012Validator.check_schema(t.parameters)
    validator = Draft202012Validator(t.parameters)
    assert validator.is_valid({"origin": {"lat": 1.5, "lon": 2}, "waypoints": [[1.0, 2.0]], "context": [1, "x"]})
    assert not validator.is_valid({"origin": {"lat": "north", "lon": 2}, "waypoints": []})
    assert not validator.is_valid({"origin": {"lat": 1.0, "lon": 2.0}, "waypoints": [], "mode": "plane"})
    assert not validator.is_valid({"waypoints": []})


@pytest.mark.parametrize(
    ("bfcl_type", "json_type"),
    [("dict", "object"), ("float", "number"), ("tuple", "array"), ("list", "array"), ("int", "integer"),
     ("bool", "boolean"), ("String", "string"), ("HashMap", "object"), ("long", "integer"), ("double", "number")],
)
def test_type_vocabulary(bfcl_type, json_type):
    assert to_json_schema({"type": bfcl_type}) == {"type": json_type}


@pytest.mark.parametrize("node", [{"type": "any"}, {"type": ""}, {}, {"description": "x"}])
def test_any_or_missing_type_is_unconstrained(node):
    schema = to_json_schema(node)
    assert "type" not in schema
    assert schema == ({"description": "x"} if "description" in node else {})


def test_every_mapped_type_is_a_json_schema_type():
    assert set(JSON_TYPE.values()) <= {"integer", "number", "string", "boolean", "array", "object"}


def test_required_without_any_matching_property_is_omitted():
    doc = {"name": "f", "parameters": {"type": "dict", "properties": {"a": {"type": "string"}}, "required": ["b"]}}
    assert convert_function(doc, language="python", source="s").parameters == {
        "type": "object", "properties": {"a": {"type": "string"}}}
    empty = convert_function({"name": "g"}, language="python", source="s")
    assert empty.parameters == {"type": "object", "properties": {}}
    assert empty.description == ""


def test_language_of():
    assert language_of("simple_java") == "java"
    assert language_of("simple_javascript") == "javascript"
    for category in ("simple_python", "multiple", "parallel", "live_simple", "irrelevance"):
        assert language_of(category) == "python"


JAVA_DOC = {
    "name": "AccountService.transfer",
    "description": "Transfer money between accounts.",
    "parameters": {
        "type": "dict",
        "properties": {
            "amount": {"type": "double", "description": "The amount. "},
            "options": {"type": "HashMap", "description": "Extra options.",
                        "properties": {"fast": {"type": "boolean"}}},
            "ids": {"type": "ArrayList", "description": "Account ids.", "items": {"type": "long"}},
            "currency": {"type": "String", "description": "Currency.", "enum": ["USD", "EUR"]},
            "context": {"type": "any", "description": "Any context."},
        },
        "required": ["amount", "ids", "missing"],
    },
}


def test_java_params_become_source_strings():
    t = convert_function(JAVA_DOC, language="java", source="bfcl:simple_java")
    props = t.parameters["properties"]
    assert t.parameters["type"] == "object"
    assert t.parameters["required"] == ["amount", "ids"]
    assert t.meta == {"language": "java"}
    assert all(p["type"] == "string" for p in props.values())
    assert props["amount"] == {
        "type": "string", "description": "The amount. Give a Java double written as Java source code in a string."}
    assert props["ids"]["description"] == (
        "Account ids. Give a Java ArrayList written as Java source code in a string. Its elements are of type long.")
    assert props["options"]["description"] == (
        'Extra options. Give a Java HashMap written as Java source code in a string. '
        'Its entries follow this schema: {"fast": {"type": "boolean"}}.')
    assert props["currency"]["enum"] == ["USD", "EUR"]
    assert "a Java String" in props["currency"]["description"]
    assert "any Java value" in props["context"]["description"]
    assert "enum" not in props["amount"]
    assert "items" not in props["ids"] and "properties" not in props["options"]
    Draft202012Validator.check_schema(t.parameters)


def test_javascript_params_become_source_strings():
    doc = {"name": "fetchUser", "description": "d", "parameters": {"type": "dict", "properties": {
        "id": {"type": "integer", "description": "User id."},
        "filters": {"type": "array", "description": "Filters.", "items": {"type": "String"}},
        "callback": {"type": "", "description": "Called when done."},
        "level": {"type": "String", "enum": ["low", "high"]},
    }, "required": ["id"]}}
    t = convert_function(doc, language="javascript", source="bfcl:simple_javascript")
    props = t.parameters["properties"]
    assert props["id"] == {"type": "string",
                           "description": "User id. Give a JavaScript integer written as JavaScript source code in a string."}
    assert props["filters"]["description"].endswith("Its elements are of type String.")
    assert "any JavaScript value" in props["callback"]["description"]
    assert props["level"] == {"type": "string", "enum": ["low", "high"],
                              "description": " Give a JavaScript String written as JavaScript source code in a string."}
    assert t.required == ["id"]


def test_convert_questions_keeps_one_doc_per_name_across_categories():
    f1 = {"name": "math.factorial", "description": "first", "parameters": {"type": "dict", "properties": {}}}
    f1_variant = {**f1, "description": "a later, slightly different doc"}
    f2 = {"name": "math.gcd", "description": "gcd", "parameters": {"type": "dict", "properties": {}}}
    f3 = {"name": "stats.mean", "description": "mean", "parameters": {"type": "dict", "properties": {}}}
    seen: set[str] = set()
    first = convert_questions([{"id": "simple_python_0", "function": [f1]},
                               {"id": "simple_python_1", "function": [f1_variant, f2]}],
                              category="simple_python", seen=seen)
    assert [t.original_name for t in first.tools] == ["math.factorial", "math.gcd"]
    assert first.tools[0].description == "first"  # the first doc of a name is kept
    assert first.notes == ["bfcl:simple_python: 1 repeated docs of functions already read were skipped (one doc per name)"]
    assert seen == {"math.factorial", "math.gcd"}

    second = convert_questions([{"id": "multiple_0", "function": [f2, f3, f1]}], category="multiple", seen=seen)
    assert [t.original_name for t in second.tools] == ["stats.mean"]
    assert second.tools[0].source == "bfcl:multiple"
    assert second.notes == ["bfcl:multiple: 2 repeated docs of functions already read were skipped (one doc per name)"]
    assert second.warnings == []

    # Without a shared set, each call starts afresh.
    again = convert_questions([{"id": "multiple_0", "function": [f2, f3, f1]}], category="multiple")
    assert [t.original_name for t in again.tools] == ["math.gcd", "stats.mean", "math.factorial"]
    assert again.notes == []


def test_doc_without_a_name_is_skipped_with_a_located_warning():
    good = {"name": "ok", "parameters": {"type": "dict", "properties": {}}}
    result = convert_questions(
        [{"id": "simple_python_7", "function": [good, {"description": "no name"}, {"name": ""}, "junk", {"name": 3}]}],
        category="simple_python")
    assert [t.name for t in result.tools] == ["ok"]
    assert result.warnings == [
        "bfcl:simple_python#simple_python_7/function/1: no function name; skipped",
        "bfcl:simple_python#simple_python_7/function/2: no function name; skipped",
        "bfcl:simple_python#simple_python_7/function/3: no function name; skipped",
        "bfcl:simple_python#simple_python_7/function/4: no function name; skipped",
    ]
    assert convert_questions([{"id": "q"}], category="simple_python").tools == []


def test_non_mapping_top_level_property_does_not_crash():
    doc = {"name": "f", "parameters": {"type": "dict", "properties": {"n": {"type": "integer"}, "x": "string"}}}
    result = convert_questions([{"id": "q", "function": [doc]}], category="simple_python")
    assert result.tools[0].parameters["properties"]["n"] == {"type": "integer"}


# --- real BFCL v4 data ---------------------------------------------------------------------------


@pytest.fixture
def real_bfcl():
    """The real BFCL v4 data (may fetch the ~2 MB bfcl-eval wheel with pip on first use)."""
    try:
        return bfcl_data()
    except DataUnavailableError as exc:  # no network, no cache: nothing to test against
        pytest.skip(f"BFCL data unavailable: {exc}")


@pytest.fixture
def simple_python(real_bfcl):
    return read_bfcl(["simple_python"])


def test_real_simple_python_tools(simple_python):
    tools = simple_python.tools
    assert len(tools) > 300
    assert simple_python.warnings == []
    assert all(VALID_NAME.match(t.name) for t in tools)
    assert all(t.source == "bfcl:simple_python" and t.meta == {"language": "python"} for t in tools)
    names = [t.original_name for t in tools]
    assert len(set(names)) == len(names)  # one doc per function name
    catalog = Catalog(tools)
    assert len(catalog) == len(tools)
    assert "math.factorial" in names
    assert catalog.name_for("math.factorial") == "math_factorial"
    assert catalog.original("math_factorial") == "math.factorial"
    for t in catalog:
        assert catalog.name_for(catalog.original(t.name)) == t.name


def test_real_simple_python_schemas_are_valid_json_schema_without_bfcl_types(simple_python):
    bfcl_only = {"dict", "float", "tuple", "any", "list", "int", "bool"}
    for t in simple_python.tools:
        Draft202012Validator.check_schema(t.parameters)
        assert t.parameters["type"] == "object"
        types = set(schema_types(t.parameters))
        assert not types & bfcl_only, (t.original_name, types)
        assert '"optional"' not in json.dumps(t.parameters)


def test_real_simple_java_params_are_strings(real_bfcl):
    java = read_bfcl(["simple_java"])
    assert len(java.tools) > 50
    for t in java.tools:
        assert t.meta == {"language": "java"}
        assert t.parameters["properties"], t.original_name
        for name, prop in t.parameters["properties"].items():
            assert prop["type"] == "string", (t.original_name, name)
            assert "Java source code" in prop["description"]
        Draft202012Validator.check_schema(t.parameters)


def test_real_answers_and_questions_agree(real_bfcl):
    answers = real_bfcl.answers("simple_python")
    assert "simple_python_0" in answers
    (call,) = answers["simple_python_0"]
    questions = real_bfcl.questions("simple_python")
    assert questions[0]["id"] == "simple_python_0"
    assert list(call) == [doc["name"] for doc in questions[0]["function"]]


def test_real_categories_share_one_doc_per_name(real_bfcl):
    both = read_bfcl(["simple_python", "multiple"])
    names = [t.original_name for t in both.tools]
    assert len(names) == len(set(names))
    alone = read_bfcl(["multiple"])
    assert len(both.tools) < len(read_bfcl(["simple_python"]).tools) + len(alone.tools)
    assert any(n.startswith("bfcl:multiple:") for n in both.notes)


def test_load_catalogs_reads_bfcl_with_include_and_limit(real_bfcl):
    loaded = load_catalogs([BfclCatalogSpec(source="bfcl", categories=["simple_python"], include=["math.*"], limit=3)])
    originals = [t.original_name for t in loaded.catalog]
    assert len(originals) == 3
    assert all(o.startswith("math.") for o in originals)
    (summary,) = loaded.summaries
    assert (summary.name, summary.source, summary.location, summary.tools) == ("bfcl", "bfcl", "bfcl:simple_python", 3)


# --- where the data comes from (isolated) --------------------------------------------------------


@pytest.fixture
def isolated(monkeypatch, tmp_path):
    """No configured data, an empty cache, and no installed bfcl_eval package."""
    bfcl_data.cache_clear()
    monkeypatch.delenv("INFTOOL_BFCL_DATA", raising=False)
    monkeypatch.delenv("INFTOOL_OFFLINE", raising=False)
    monkeypatch.setenv("INFTOOL_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(bfcl_data_module, "_installed_data_dir", lambda: None)
    yield tmp_path
    bfcl_data.cache_clear()


def question(qid: str, name: str) -> dict:
    return {"id": qid, "question": [[{"role": "user", "content": "hi"}]],
            "function": [{"name": name, "description": f"{name} doc",
                          "parameters": {"type": "dict", "properties": {"x": {"type": "float"}}, "required": ["x"]}}]}


def json_lines(*entries: dict) -> str:
    return "\n".join(json.dumps(e) for e in entries) + "\n"


def test_configured_path_that_does_not_exist(isolated, monkeypatch):
    missing = isolated / "nowhere" / "data"
    monkeypatch.setenv("INFTOOL_BFCL_DATA", str(missing))
    with pytest.raises(DataUnavailableError) as exc:
        bfcl_data()
    message = str(exc.value)
    assert str(missing) in message
    assert f"pip install --no-deps bfcl-eval=={BFCL_EVAL_VERSION}" in message


def test_offline_with_empty_cache(isolated, monkeypatch):
    monkeypatch.setenv("INFTOOL_OFFLINE", "1")
    with pytest.raises(DataUnavailableError, match="INFTOOL_OFFLINE=1") as exc:
        bfcl_data()
    assert "pip install --no-deps bfcl-eval" in str(exc.value)
    assert not (isolated / "cache" / "bfcl").exists()  # nothing created, nothing fetched


def test_configured_directory(isolated, monkeypatch):
    data = isolated / "data"
    (data / "possible_answer").mkdir(parents=True)
    (data / "BFCL_v4_simple_python.json").write_text(
        json_lines(question("simple_python_0", "geo.distance"), question("simple_python_1", "geo.area")) + "\n\n")
    (data / "possible_answer" / "BFCL_v4_simple_python.json").write_text(
        json_lines({"id": "simple_python_0", "ground_truth": [{"geo.distance": {"x": [1.0]}}]}))
    monkeypatch.setenv("INFTOOL_BFCL_DATA", str(data))

    found = bfcl_data()
    assert found.location == data
    assert [q["id"] for q in found.questions("simple_python")] == ["simple_python_0", "simple_python_1"]
    assert found.answers("simple_python") == {"simple_python_0": [{"geo.distance": {"x": [1.0]}}]}
    converted = read_bfcl(["simple_python"])
    assert [(t.name, t.original_name) for t in converted.tools] == [("geo_distance", "geo.distance"),
                                                                    ("geo_area", "geo.area")]
    assert converted.tools[0].parameters == {"type": "object", "properties": {"x": {"type": "number"}},
                                             "required": ["x"]}
    with pytest.raises(DataUnavailableError, match="BFCL_v4_multiple.json"):
        found.questions("multiple")


def build_wheel(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as wheel:
        wheel.writestr("bfcl_eval/__init__.py", "")
        wheel.writestr("bfcl_eval/data/BFCL_v4_multiple.json",
                       json_lines(question("multiple_0", "shop.find"), question("multiple_1", "shop.buy")))
        wheel.writestr("bfcl_eval/data/possible_answer/BFCL_v4_multiple.json",
                       json_lines({"id": "multiple_0", "ground_truth": [{"shop.find": {"x": [2.5]}}]}))
    return path


def test_configured_wheel(isolated, monkeypatch):
    wheel = build_wheel(isolated / "bfcl_eval-test.whl")
    monkeypatch.setenv("INFTOOL_BFCL_DATA", str(wheel))
    found = bfcl_data()
    assert found.location == wheel
    assert [t.original_name for t in read_bfcl(["multiple"]).tools] == ["shop.find", "shop.buy"]
    assert found.answers("multiple") == {"multiple_0": [{"shop.find": {"x": [2.5]}}]}
    with pytest.raises(DataUnavailableError, match="BFCL_v4_simple_python.json"):
        found.questions("simple_python")


def test_cached_wheel_is_used_offline(isolated, monkeypatch):
    cache = isolated / "cache" / "bfcl"
    cache.mkdir(parents=True)
    build_wheel(cache / f"bfcl_eval-{BFCL_EVAL_VERSION}-py3-none-any.whl")
    monkeypatch.setenv("INFTOOL_OFFLINE", "1")
    assert [t.name for t in read_bfcl(["multiple"]).tools] == ["shop_find", "shop_buy"]


def test_configured_data_comes_before_an_installed_package(isolated, monkeypatch):
    installed = isolated / "installed"
    installed.mkdir()
    (installed / "BFCL_v4_multiple.json").write_text(json_lines(question("multiple_0", "from.installed")))
    monkeypatch.setattr(bfcl_data_module, "_installed_data_dir", lambda: installed)
    assert [t.original_name for t in read_bfcl(["multiple"]).tools] == ["from.installed"]

    bfcl_data.cache_clear()
    monkeypatch.setenv("INFTOOL_BFCL_DATA", str(build_wheel(isolated / "w.whl")))
    assert [t.original_name for t in read_bfcl(["multiple"]).tools] == ["shop.find", "shop.buy"]


def test_bfcl_data_is_cached_until_cleared(isolated, monkeypatch):
    monkeypatch.setenv("INFTOOL_BFCL_DATA", str(build_wheel(isolated / "a.whl")))
    first = bfcl_data()
    monkeypatch.setenv("INFTOOL_BFCL_DATA", str(build_wheel(isolated / "b.whl")))
    assert bfcl_data() is first
    bfcl_data.cache_clear()
    assert bfcl_data().location == isolated / "b.whl"


def test_bfcl_data_reads_a_directory_directly(tmp_path):
    (tmp_path / "BFCL_v4_parallel.json").write_text(json_lines(question("parallel_0", "p.q")))
    assert BfclData(tmp_path).questions("parallel")[0]["function"][0]["name"] == "p.q"


def test_configured_file_that_is_not_a_wheel(isolated, monkeypatch):
    not_a_wheel = isolated / "BFCL_v4_simple_python.json"
    not_a_wheel.write_text(json_lines(question("simple_python_0", "a.b")))
    monkeypatch.setenv("INFTOOL_BFCL_DATA", str(not_a_wheel))
    with pytest.raises(DataUnavailableError, match=re.escape(str(not_a_wheel))):
        bfcl_data()


def test_contradictory_bfcl_enums_become_satisfiable_json_schema():
    from inftool.catalog.bfcl import to_json_schema

    array = to_json_schema({"type": "array", "items": {"type": "string"}, "enum": ["trust", "buzz"]})
    assert array == {"type": "array", "items": {"type": "string", "enum": ["trust", "buzz"]}}
    boolean = to_json_schema({"type": "boolean", "enum": ["True", "False", "dontcare"], "default": "dontcare"})
    assert "enum" not in boolean and boolean["type"] == "boolean"
    mixed = to_json_schema({"type": "integer", "enum": [1, 2, "three"]})
    assert mixed["enum"] == [1, 2]
    assert to_json_schema({"type": "string", "enum": ["a", "b"]})["enum"] == ["a", "b"]
