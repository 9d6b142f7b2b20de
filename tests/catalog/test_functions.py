"""OpenAI tools and MCP tools/list -> Tools; detecting and reading spec files; loading a recipe's catalogs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inftool.catalog import detect_source, load_catalogs, read_spec
from inftool.catalog.functions import convert_mcp, convert_openai
from inftool.errors import CatalogError
from inftool.spec.catalogs import MCPCatalogSpec, OpenAICatalogSpec

REPO = Path(__file__).resolve().parents[2]
CATALOG = REPO / "catalog"
FILE = "tools.json"

WEATHER_PARAMS = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
WEATHER = {"name": "get_weather", "description": "Weather for a city.", "parameters": WEATHER_PARAMS}
ORDER_OUT = {"type": "object", "properties": {"order_id": {"type": "string"}}}
ORDER = {"name": "orders.create", "description": "Create an order.",
         "parameters": {"type": "object", "properties": {"sku": {"type": "string"}}}, "output_schema": ORDER_OUT}


@pytest.fixture(autouse=True)
def in_repo(monkeypatch):
    """Messages show paths relative to the working directory when inside it: run from the repository root."""
    monkeypatch.chdir(REPO)


def openai(doc, file: str = FILE):
    return convert_openai(doc, file=file, source=f"openai:{file}")


def mcp(doc, file: str = FILE):
    return convert_mcp(doc, file=file, source=f"mcp:{file}")


def write(path: Path, doc, *, as_yaml: bool = False) -> Path:
    if as_yaml:
        from ruamel.yaml import YAML

        yaml = YAML(typ="safe", pure=True)
        yaml.default_flow_style = False
        with path.open("w", encoding="utf-8") as handle:
            yaml.dump(doc, handle)
    else:
        path.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    return path


# --- OpenAI tools --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "doc",
    [
        [{"type": "function", "function": WEATHER}, {"type": "function", "function": ORDER}],
        [WEATHER, ORDER],
        {"tools": [{"type": "function", "function": WEATHER}, ORDER]},
        {"functions": [WEATHER, ORDER]},
    ],
    ids=["tools-list", "bare-list", "tools-key", "functions-key"],
)
def test_openai_forms(doc):
    result = openai(doc)
    assert result.warnings == []
    weather, order = result.tools
    assert (weather.name, weather.original_name, weather.description) == ("get_weather", "get_weather",
                                                                          "Weather for a city.")
    assert weather.parameters == WEATHER_PARAMS
    assert weather.output_schema is None
    assert weather.source == "openai:tools.json"
    assert weather.meta == {}
    assert (order.name, order.original_name) == ("orders_create", "orders.create")
    assert order.output_schema == ORDER_OUT


def test_openai_missing_parameters_is_an_empty_object_and_output_schema_camel_case():
    result = openai([{"name": "ping", "outputSchema": {"type": "string"}}, {"name": "pong", "output_schema": "nope"}])
    ping, pong = result.tools
    assert ping.parameters == {"type": "object", "properties": {}}
    assert ping.description == ""
    assert ping.output_schema == {"type": "string"}
    assert pong.output_schema is None  # not a schema


def test_openai_bad_entries_are_skipped_with_pointers():
    doc = {"tools": [
        WEATHER,
        {"description": "no name", "parameters": WEATHER_PARAMS},
        {"name": "arr", "parameters": {"type": "array"}},
        {"name": "nul", "parameters": None},
        "a string",
        {"type": "function"},
        {"name": "", "parameters": WEATHER_PARAMS},
        {"name": 7, "parameters": WEATHER_PARAMS},
    ]}
    result = openai(doc, file="catalog/mine.yaml")
    assert [t.name for t in result.tools] == ["get_weather"]
    assert result.warnings == [
        "catalog/mine.yaml#/tools/1: no 'name'; tool skipped",
        "catalog/mine.yaml#/tools/2: 'parameters' must be a JSON Schema of type object; tool skipped",
        "catalog/mine.yaml#/tools/3: 'parameters' must be a JSON Schema of type object; tool skipped",
        "catalog/mine.yaml#/tools/4: expected a mapping, got str; tool skipped",
        "catalog/mine.yaml#/tools/5: expected a mapping, got NoneType; tool skipped",
        "catalog/mine.yaml#/tools/6: no 'name'; tool skipped",
        "catalog/mine.yaml#/tools/7: no 'name'; tool skipped",
    ]
    bare = openai([WEATHER, {"parameters": {}}])
    assert bare.warnings == ["tools.json#/1: no 'name'; tool skipped"]
    functions = openai({"functions": [{"name": "x", "parameters": {"type": "string"}}]})
    assert functions.warnings[0].startswith("tools.json#/functions/0: ")


@pytest.mark.parametrize("doc", [{"paths": {}}, {"tools": "not a list"}, {"functions": {"a": 1}}, "text", 3])
def test_openai_without_a_tool_list(doc):
    with pytest.raises(CatalogError) as exc:
        openai(doc)
    assert exc.value.file == FILE
    assert exc.value.hint and "'tools'" in exc.value.hint and "'functions'" in exc.value.hint
    assert str(exc.value).startswith("tools.json: no OpenAI tools found (hint: expected a list")


def test_openai_empty_parameters_are_not_shared():
    first = openai([{"name": "a"}, {"name": "b"}]).tools
    first[0].parameters["properties"]["x"] = {"type": "string"}
    try:
        assert first[1].parameters == {"type": "object", "properties": {}}
        assert openai([{"name": "c"}]).tools[0].parameters == {"type": "object", "properties": {}}
    finally:  # while the bug is there, undo the change it leaks into every later conversion
        first[0].parameters["properties"].pop("x", None)


def test_openai_parameters_without_type_become_object_schemas():
    (t,) = openai([{"name": "f", "parameters": {"properties": {"x": {"type": "string"}}}}]).tools
    assert t.parameters["type"] == "object"


# --- MCP tools/list ------------------------------------------------------------------------------

MCP_TOOLS = [
    {"name": "read_file", "title": "Read file", "description": "Read a file.",
     "inputSchema": {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]},
     "outputSchema": {"type": "object", "properties": {"text": {"type": "string"}}},
     "annotations": {"readOnlyHint": True}},
    {"name": "fs/list dir", "title": "List directory", "inputSchema": {"type": "object"}},
]


@pytest.mark.parametrize(
    "doc",
    [{"tools": MCP_TOOLS}, {"jsonrpc": "2.0", "id": 1, "result": {"tools": MCP_TOOLS}}, MCP_TOOLS],
    ids=["tools", "json-rpc", "bare-list"],
)
def test_mcp_forms(doc):
    result = mcp(doc)
    assert result.warnings == []
    read, listing = result.tools
    assert read.name == "read_file"
    assert read.parameters == {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]}
    assert read.output_schema == {"type": "object", "properties": {"text": {"type": "string"}}}
    assert read.meta == {"title": "Read file", "annotations": {"readOnlyHint": True}}
    assert read.description == "Read a file."
    assert (listing.name, listing.original_name) == ("fs_list_dir", "fs/list dir")
    assert listing.parameters == {"type": "object", "properties": {}}
    assert listing.description == "List directory"  # falls back to the title
    assert listing.meta == {"title": "List directory"}
    assert listing.output_schema is None
    assert listing.source == "mcp:tools.json"


def test_mcp_bad_entries_are_skipped_with_pointers():
    doc = {"result": {"tools": [MCP_TOOLS[0], {"name": "no_schema"}, {"name": "s", "inputSchema": {"type": "string"}},
                                {"inputSchema": {"type": "object"}}, ["x"]]}}
    result = mcp(doc, file="saved/tools.json")
    assert [t.name for t in result.tools] == ["read_file"]
    assert result.warnings == [
        "saved/tools.json#/result/tools/1: 'inputSchema' must be a JSON Schema of type object; tool skipped",
        "saved/tools.json#/result/tools/2: 'inputSchema' must be a JSON Schema of type object; tool skipped",
        "saved/tools.json#/result/tools/3: no 'name'; tool skipped",
        "saved/tools.json#/result/tools/4: expected a mapping, got list; tool skipped",
    ]
    assert mcp({"tools": [{"name": "x"}]}).warnings == [
        "tools.json#/tools/0: 'inputSchema' must be a JSON Schema of type object; tool skipped"]


def test_mcp_without_a_tool_list():
    with pytest.raises(CatalogError, match="no MCP tools found") as exc:
        mcp({"result": {"content": []}})
    assert "'result.tools'" in exc.value.hint


# --- detect_source / read_spec -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("doc", "source"),
    [
        ({"openapi": "3.1.0", "info": {}, "paths": {}}, "openapi"),
        ({"swagger": "2.0", "paths": {}}, "openapi"),
        ({"tools": MCP_TOOLS}, "mcp"),
        ({"jsonrpc": "2.0", "result": {"tools": MCP_TOOLS}}, "mcp"),
        (MCP_TOOLS, "mcp"),
        ([{"type": "function", "function": WEATHER}], "openai"),
        ([WEATHER], "openai"),
        ({"tools": [WEATHER]}, "openai"),
        ({"functions": [{"name": "ping"}]}, "openai"),
        ([{"id": "simple_python_0", "question": [], "function": []}], "bfcl"),
        ([{"name": "math.factorial", "parameters": {"type": "dict", "properties": {}}}], "bfcl"),
    ],
)
def test_detect_source(doc, source):
    assert detect_source(doc, "f.json") == source


@pytest.mark.parametrize("doc", [{"foo": 1}, [], [1, 2], {"tools": []}, "text", None, [{"description": "x"}]])
def test_detect_source_unknown(doc):
    with pytest.raises(CatalogError, match="cannot tell what kind of tool spec this is") as exc:
        detect_source(doc, "odd.json")
    assert exc.value.file == "odd.json"
    assert "--source" in exc.value.hint


def test_read_spec_yaml_and_json_files(tmp_path):
    doc = {"tools": [{"type": "function", "function": WEATHER}, ORDER]}
    from_yaml = read_spec(write(tmp_path / "tools.yaml", doc, as_yaml=True))
    from_json = read_spec(write(tmp_path / "tools.json", doc))
    from_yml_without_suffix_hint = read_spec(write(tmp_path / "tools.txt", doc, as_yaml=True))
    for result in (from_yaml, from_json, from_yml_without_suffix_hint):
        assert result.warnings == []
        assert [(t.name, t.original_name) for t in result.tools] == [("get_weather", "get_weather"),
                                                                    ("orders_create", "orders.create")]
        assert result.tools[1].output_schema == ORDER_OUT
    assert from_yaml.tools[0].parameters == from_json.tools[0].parameters == WEATHER_PARAMS
    assert from_yaml.tools[0].source == f"openai:{tmp_path / 'tools.yaml'}"


def test_read_spec_mcp_file_with_forced_source(tmp_path):
    path = write(tmp_path / "saved.json", {"jsonrpc": "2.0", "id": 3, "result": {"tools": MCP_TOOLS}})
    assert [t.meta.get("title") for t in read_spec(path).tools] == ["Read file", "List directory"]
    # forcing 'openai' on an MCP document: the list is found but the schemas are under inputSchema
    forced = read_spec(write(tmp_path / "bare.json", MCP_TOOLS), "openai")
    assert [t.parameters for t in forced.tools] == [{"type": "object", "properties": {}}] * 2


def test_read_spec_skips_bad_entries_naming_the_file(tmp_path):
    path = write(tmp_path / "mixed.yaml", {"tools": [WEATHER, {"description": "nameless"}]}, as_yaml=True)
    result = read_spec(path)
    assert [t.name for t in result.tools] == ["get_weather"]
    assert result.warnings == [f"{path}#/tools/1: no 'name'; tool skipped"]


def test_read_spec_reads_bfcl_function_docs(tmp_path):
    docs = [{"name": "math.hypot", "description": "h",
             "parameters": {"type": "dict", "properties": {"x": {"type": "float"}, "y": {"type": "float"}},
                            "required": ["x", "y"]}}]
    (t,) = read_spec(write(tmp_path / "docs.json", docs)).tools
    assert (t.name, t.original_name) == ("math_hypot", "math.hypot")
    assert t.parameters["properties"] == {"x": {"type": "number"}, "y": {"type": "number"}}


def test_read_spec_reads_bfcl_docs_under_a_functions_key(tmp_path):
    docs = {"functions": [{"name": "math.hypot", "parameters": {"type": "dict", "properties": {"x": {"type": "float"}}}}]}
    path = write(tmp_path / "docs.json", docs)
    assert detect_source(docs, "docs.json") == "bfcl"
    result = read_spec(path)
    assert [t.original_name for t in result.tools] == ["math.hypot"]


def test_read_spec_null_parameters_in_first_entry(tmp_path):
    path = tmp_path / "tools.yaml"
    path.write_text("tools:\n  - name: ping\n    parameters:\n  - name: pong\n    parameters: {type: object}\n")
    result = read_spec(path)
    assert [t.name for t in result.tools] == ["pong"]
    assert result.warnings == [f"{path}#/tools/0: 'parameters' must be a JSON Schema of type object; tool skipped"]


def test_read_spec_invalid_json_names_file_and_line(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{\n  "tools": [\n    {"name": "x",}\n  ]\n}\n')
    with pytest.raises(CatalogError) as exc:
        read_spec(path)
    assert exc.value.file == f"{path}:3"
    assert str(exc.value).startswith(f"{path}:3: invalid JSON: ")


@pytest.mark.parametrize(
    ("text", "line"),
    [("tools:\n  - name: a\n    description: [unclosed\n  - name: b\n", 4),
     ("tools:\n  - name: a\n   description: x\n", 3)],
)
def test_read_spec_invalid_yaml_names_file_and_line(tmp_path, text, line):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(CatalogError) as exc:
        read_spec(path)
    assert exc.value.file == f"{path}:{line}"
    assert str(exc.value).startswith(f"{path}:{line}: invalid YAML: ")


def test_read_spec_missing_file(tmp_path):
    with pytest.raises(CatalogError, match="file not found"):
        read_spec(tmp_path / "absent.yaml")


def test_read_spec_unknown_content(tmp_path):
    path = write(tmp_path / "notes.yaml", {"title": "not tools"}, as_yaml=True)
    with pytest.raises(CatalogError, match="cannot tell what kind of tool spec this is") as exc:
        read_spec(path)
    assert exc.value.file == str(path)


def test_shipped_catalogs_read_cleanly():
    counts = {"travel": 11, "finance": 11, "devops": 12, "health": 10, "commerce": 11, "near_duplicates": 8}
    for stem, count in counts.items():
        result = read_spec(CATALOG / f"{stem}.yaml")
        assert result.warnings == [], stem
        assert len(result.tools) == count, stem
        assert all(t.parameters.get("type") == "object" for t in result.tools)


# --- load_catalogs -------------------------------------------------------------------------------


def spec(path: Path, **kw) -> OpenAICatalogSpec:
    return OpenAICatalogSpec(source="openai", path=path, **kw)


def test_load_catalogs_include_exclude_limit_on_shipped_catalog():
    travel = CATALOG / "travel.yaml"
    assert load_catalogs([spec(travel, include=["search_*"])]).catalog.names == ["search_flights", "search_hotels"]
    assert load_catalogs([spec(travel, include=["search_*"], limit=1)]).catalog.names == ["search_flights"]
    assert load_catalogs([spec(travel, include=["search_*", "book_*"], exclude=["*hotel*"])]).catalog.names == [
        "search_flights", "book_flight"]
    assert load_catalogs([spec(travel, limit=2)]).catalog.names == ["search_flights", "get_seat_map"]
    loaded = load_catalogs([spec(travel, exclude=["get_*", "*_flight*"])])
    assert loaded.catalog.names == ["search_hotels", "book_hotel_room", "convert_currency", "check_visa_requirements",
                                    "cancel_booking"]
    (summary,) = loaded.summaries
    assert (summary.name, summary.source, summary.location, summary.tools) == ("travel", "openai",
                                                                              "catalog/travel.yaml", 5)
    assert summary.warnings == [] and summary.notes == []
    assert load_catalogs([spec(travel, include=["nothing*"])]).catalog.names == []


def test_load_catalogs_globs_match_original_names_too(tmp_path):
    path = write(tmp_path / "billing.json", [
        {"name": "billing.refund", "parameters": {"type": "object"}},
        {"name": "billing.charge", "parameters": {"type": "object"}},
        {"name": "users.get", "parameters": {"type": "object"}},
    ])
    assert load_catalogs([spec(path, include=["billing.*"])]).catalog.names == ["billing_refund", "billing_charge"]
    assert load_catalogs([spec(path, include=["billing_*"])]).catalog.names == ["billing_refund", "billing_charge"]
    assert load_catalogs([spec(path, exclude=["billing.r*"])]).catalog.names == ["billing_charge", "users_get"]
    assert load_catalogs([spec(path, exclude=["*_get"])]).catalog.names == ["billing_refund", "billing_charge"]
    loaded = load_catalogs([spec(path, name="billing")])
    assert loaded.summaries[0].name == "billing"
    assert loaded.catalog.name_for("users.get") == "users_get"


def test_load_catalogs_keeps_identical_tools_once_and_skips_invalid_schemas(tmp_path):
    bad = {"name": "bad", "parameters": {"type": "object", "properties": {"x": {"type": "strang"}}}}
    variant = {**WEATHER, "description": "Weather for a city, differently worded."}
    path = write(tmp_path / "dupes.json", [WEATHER, bad, dict(WEATHER), variant, ORDER])
    loaded = load_catalogs([spec(path)])
    assert loaded.catalog.names == ["get_weather", "get_weather_2", "orders_create"]
    assert loaded.catalog["get_weather_2"].description == "Weather for a city, differently worded."
    (summary,) = loaded.summaries
    assert summary.tools == 3
    (warning,) = summary.warnings
    assert warning.startswith(f"openai:{path}: tool 'bad' has an invalid parameters schema (")
    assert "strang" in warning and warning.endswith("; tool skipped")
    assert loaded.warnings == [warning]
    assert summary.notes == [f"openai:{path}: tool 'get_weather' is named 'get_weather_2' ('get_weather' was taken)"]

    # the limit counts kept tools only: the invalid one and the duplicate do not use it up
    limited = load_catalogs([spec(path, limit=2)])
    assert limited.catalog.names == ["get_weather", "get_weather_2"]
    assert len(limited.warnings) == 1


def test_load_catalogs_two_catalogs_with_the_same_tool_name():
    loaded = load_catalogs([spec(CATALOG / "travel.yaml"), spec(CATALOG / "near_duplicates.yaml")])
    catalog = loaded.catalog
    assert len(catalog) == 11 + 8
    assert "convert_currency" in catalog and "convert_currency_2" in catalog
    assert catalog["convert_currency"].source == "openai:catalog/travel.yaml"
    assert catalog["convert_currency_2"].source == "openai:catalog/near_duplicates.yaml"
    assert catalog.original("convert_currency_2") == "convert_currency"
    assert catalog.name_for("convert_currency") == "convert_currency"  # the first catalog keeps the spec name
    travel, dupes = loaded.summaries
    assert (travel.name, travel.tools, travel.notes) == ("travel", 11, [])
    assert (dupes.name, dupes.tools) == ("near_duplicates", 8)
    assert dupes.notes == ["openai:catalog/near_duplicates.yaml: tool 'convert_currency' is named "
                           "'convert_currency_2' ('convert_currency' was taken)"]
    assert loaded.notes == dupes.notes
    assert loaded.warnings == []


def test_load_catalogs_mcp_and_catalog_index_on_error(tmp_path):
    good = write(tmp_path / "server.json", {"tools": MCP_TOOLS})
    unknown = write(tmp_path / "unknown.json", {"tools": "none"})
    loaded = load_catalogs([MCPCatalogSpec(source="mcp", path=good)])
    assert loaded.catalog.names == ["read_file", "fs_list_dir"]
    assert loaded.summaries[0].location == str(good)
    with pytest.raises(CatalogError) as exc:
        load_catalogs([MCPCatalogSpec(source="mcp", path=good), spec(unknown)])
    assert exc.value.catalog_index == 1
