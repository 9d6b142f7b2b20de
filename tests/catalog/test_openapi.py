"""OpenAPI 3.0 / 3.1 -> Tool conversion."""

from __future__ import annotations

import importlib.util
import json
import time
from pathlib import Path

import pytest

from inftool.catalog.openapi import convert_openapi, read_openapi
from inftool.errors import CatalogError

FILE = "catalog/x.yaml"


def spec(paths: dict, components: dict | None = None, version: str = "3.0.3", **extra) -> dict:
    return {"openapi": version, "info": {"title": "t", "version": "1"}, "paths": paths,
            "components": components or {}, **extra}


def convert(doc: dict, base_dir: Path | None = None):
    return convert_openapi(doc, file=FILE, base_dir=base_dir, source="openapi:test")


def only(doc: dict, base_dir: Path | None = None):
    result = convert(doc, base_dir)
    assert result.warnings == []
    assert len(result.tools) == 1
    return result.tools[0]


def ok(schema: dict | None = None) -> dict:
    return {"200": {"description": "ok", "content": {"application/json": {"schema": schema or {"type": "object"}}}}}


PET = {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}, "tag": {"type": "string"}}}


def test_merges_path_query_header_cookie_and_json_body():
    tool = only(spec({"/pets/{petId}": {"put": {
        "operationId": "updatePet",
        "summary": "Update a pet",
        "description": "Replaces the pet.",
        "parameters": [
            {"name": "petId", "in": "path", "description": "The pet", "schema": {"type": "integer"}},
            {"name": "dryRun", "in": "query", "required": True, "schema": {"type": "boolean"}},
            {"name": "X-Trace", "in": "header", "deprecated": True, "schema": {"type": "string"}},
            {"name": "session", "in": "cookie", "schema": {"type": "string"}},
        ],
        "requestBody": {"required": True, "content": {"application/json": {"schema": PET}}},
        "responses": ok(PET),
    }}}, servers=[{"url": "https://{env}.example.com", "variables": {"env": {"default": "api"}}}]))
    assert tool.name == tool.original_name == "updatePet"
    assert tool.description == "Update a pet\n\nReplaces the pet."
    assert tool.source == "openapi:test"
    assert tool.parameters == {
        "type": "object",
        "properties": {
            "petId": {"type": "integer", "description": "The pet"},
            "dryRun": {"type": "boolean"},
            "X-Trace": {"type": "string", "deprecated": True},
            "session": {"type": "string"},
            "name": {"type": "string"},
            "tag": {"type": "string"},
        },
        "required": ["petId", "dryRun", "name"],
    }
    assert tool.meta == {
        "method": "PUT",
        "path": "/pets/{petId}",
        "servers": ["https://api.example.com"],
        "params": {"petId": "path", "dryRun": "query", "X-Trace": "header", "session": "cookie",
                   "name": "body", "tag": "body"},
        "body": "application/json",
    }


def test_optional_body_props_are_not_required_and_form_bodies_merge():
    tool = only(spec({"/login": {"post": {
        "requestBody": {"content": {"image/png": {}, "application/x-www-form-urlencoded": {"schema": PET}}},
        "responses": {"204": {"description": "done"}},
    }}}))
    assert tool.required == []
    assert tool.meta["body"] == "application/x-www-form-urlencoded"
    assert tool.output_schema is None


def test_non_object_body_becomes_body_parameter():
    tool = only(spec({"/tags": {"post": {
        "operationId": "addTags",
        "requestBody": {"required": True, "description": "Tags to add",
                        "content": {"application/vnd.api+json": {"schema": {"type": "array", "items": {"type": "string"}}}}},
        "responses": ok(),
    }}}))
    assert tool.properties == {"body": {"type": "array", "items": {"type": "string"}, "description": "Tags to add"}}
    assert tool.required == ["body"]
    assert tool.meta["params"] == {"body": "body"}
    assert tool.meta["body"] == "application/vnd.api+json"


def test_path_level_parameters_merge_and_operation_overrides():
    tool = only(spec({"/items/{id}": {
        "parameters": [
            {"name": "id", "in": "path", "schema": {"type": "string"}},
            {"name": "lang", "in": "query", "description": "path-level", "schema": {"type": "string"}},
        ],
        "get": {"parameters": [
            {"name": "lang", "in": "query", "required": True, "description": "op-level", "schema": {"enum": ["en", "de"]}},
            {"name": "lang", "in": "header", "schema": {"type": "string"}},
        ], "responses": ok()},
    }}))
    assert tool.properties == {
        "id": {"type": "string"},
        "lang": {"enum": ["en", "de"], "description": "op-level"},
        "header_lang": {"type": "string"},
    }
    assert tool.required == ["id", "lang"]
    assert tool.meta["params"] == {"id": "path", "lang": "query", "header_lang": "header"}
    assert tool.meta["renamed"] == {"header_lang": "lang"}


def test_refs_to_schemas_parameters_request_bodies_and_responses():
    components = {
        "schemas": {"Pet": {**PET, "properties": {**PET["properties"], "owner": {"$ref": "#/components/schemas/Owner"}}},
                    "Owner": {"type": "object", "properties": {"email": {"type": "string", "format": "email"}}}},
        "parameters": {"Limit": {"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 50}}},
        "requestBodies": {"PetBody": {"required": True, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}}}},
        "responses": {"PetOk": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}}}},
    }
    tool = only(spec({"/pets": {"post": {
        "operationId": "addPet",
        "parameters": [{"$ref": "#/components/parameters/Limit"}],
        "requestBody": {"$ref": "#/components/requestBodies/PetBody"},
        "responses": {"201": {"$ref": "#/components/responses/PetOk"}},
    }}}, components))
    owner = {"type": "object", "properties": {"email": {"type": "string", "format": "email"}}}
    assert tool.properties == {"limit": {"type": "integer", "maximum": 50}, "name": {"type": "string"},
                               "tag": {"type": "string"}, "owner": owner}
    assert tool.required == ["name"]
    assert tool.output_schema["properties"]["owner"] == owner


def test_ref_pointer_escapes_and_chains():
    components = {"schemas": {"a/b": {"$ref": "#/components/schemas/c~d"}, "c~d": {"type": "string", "minLength": 2}}}
    tool = only(spec({"/x": {"get": {"parameters": [
        {"name": "q", "in": "query", "schema": {"$ref": "#/components/schemas/a~1b"}},
    ], "responses": ok()}}}, components))
    assert tool.properties["q"] == {"type": "string", "minLength": 2}


def test_cross_file_refs(tmp_path):
    (tmp_path / "common.yaml").write_text(
        "components:\n"
        "  schemas:\n"
        "    Pet:\n"
        "      type: object\n"
        "      properties:\n"
        "        name: {type: string}\n"
        "        owner: {$ref: '#/components/schemas/Owner'}\n"
        "    Owner:\n"
        "      type: object\n"
        "      properties:\n"
        "        email: {type: string}\n"
        "  parameters:\n"
        "    Limit: {name: limit, in: query, schema: {type: integer}}\n"
    )
    doc = spec({"/pets": {"post": {
        "parameters": [{"$ref": "common.yaml#/components/parameters/Limit"}],
        "requestBody": {"content": {"application/json": {"schema": {"$ref": "common.yaml#/components/schemas/Pet"}}}},
        "responses": ok({"$ref": "./common.yaml#/components/schemas/Owner"}),
    }}})
    tool = only(doc, base_dir=tmp_path)
    assert tool.properties == {"limit": {"type": "integer"}, "name": {"type": "string"},
                               "owner": {"type": "object", "properties": {"email": {"type": "string"}}}}
    assert tool.output_schema == {"type": "object", "properties": {"email": {"type": "string"}}}
    # read through read_openapi too: base_dir is the spec's folder
    (tmp_path / "api.json").write_text(json.dumps(doc))
    assert read_openapi(tmp_path / "api.json").tools[0].properties == tool.properties


def test_missing_external_file_skips_with_warning(tmp_path):
    result = convert(spec({"/p": {"get": {"responses": ok({"$ref": "nope.yaml#/X"})}}}), base_dir=tmp_path)
    assert result.tools == []
    assert result.warnings[0].startswith(f"{FILE}#/paths/~1p/get/responses/200/content/application~1json/schema: "
                                         "$ref 'nope.yaml#/X' cannot be read")
    assert result.warnings[0].endswith("file not found; operation skipped")


def test_recursive_schemas_are_bounded_and_serialisable():
    components = {"schemas": {
        "TreeNode": {"type": "object", "properties": {
            "value": {"type": "string"},
            "children": {"type": "array", "items": {"$ref": "#/components/schemas/TreeNode"}}}},
        "A": {"type": "object", "properties": {"b": {"$ref": "#/components/schemas/B"}}},
        "B": {"type": "object", "properties": {"a": {"$ref": "#/components/schemas/A"}}},
    }}
    paths = {f"/t{i}": {"post": {
        "requestBody": {"content": {"application/json": {"schema": {"type": "object", "properties": {
            "tree": {"$ref": "#/components/schemas/TreeNode"}, "b": {"$ref": "#/components/schemas/B"}}}}}},
        "responses": ok({"$ref": "#/components/schemas/A"}),
    }} for i in range(2)}
    result = convert(spec(paths, components))
    assert result.warnings == [] and len(result.tools) == 2
    cut = {"type": "object", "description": "TreeNode (recursive reference, not expanded)"}
    for tool in result.tools:
        tree = tool.properties["tree"]
        assert tree["properties"]["children"]["items"] == cut
        assert tool.properties["b"]["properties"]["a"]["properties"]["b"]["description"] == \
            "B (recursive reference, not expanded)"
        assert tool.output_schema["properties"]["b"]["properties"]["a"]["description"] == \
            "A (recursive reference, not expanded)"
        assert len(json.dumps(tool.model_dump())) < 5000


def test_tools_do_not_share_schema_objects():
    components = {"schemas": {"Pet": PET}}
    body = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}}}
    result = convert(spec({"/a": {"post": {"requestBody": body, "responses": ok()}},
                           "/b": {"post": {"requestBody": body, "responses": ok()}}}, components))
    first, second = result.tools
    first.parameters["properties"]["name"]["type"] = "integer"
    assert second.properties["name"] == {"type": "string"}
    assert PET["properties"]["name"] == {"type": "string"}


def test_openapi_30_nullable_and_schema_cleanup():
    schema = {"type": "object", "xml": {"name": "pet"}, "discriminator": {"propertyName": "kind"}, "x-internal": 1,
              "additionalProperties": False,
              "externalDocs": {"url": "https://x"}, "required": ["id", "name"], "properties": {
                  "id": {"type": "integer", "readOnly": True},
                  "name": {"type": "string", "nullable": True, "example": "rex"},
                  "kind": {"type": "string", "enum": ["cat", "dog"], "nullable": True},
                  "any": {"nullable": True, "allOf": [{"type": "string"}]},
                  "secret": {"type": "string", "writeOnly": True},
                  "age": {"type": "integer", "minimum": 0, "exclusiveMinimum": True, "maximum": 30, "exclusiveMaximum": False},
              }}
    tool = only(spec({"/pets": {"post": {"requestBody": {"content": {"application/json": {"schema": schema}}},
                                         "responses": ok(schema)}}}))
    assert tool.properties == {
        "name": {"type": ["string", "null"], "examples": ["rex"]},
        "kind": {"type": ["string", "null"], "enum": ["cat", "dog", None]},
        "any": {"anyOf": [{"allOf": [{"type": "string"}]}, {"type": "null"}]},
        "secret": {"type": "string", "writeOnly": True},
        "age": {"type": "integer", "exclusiveMinimum": 0, "maximum": 30},
    }
    assert tool.required == []  # 'name' is required only if the body is
    out = tool.output_schema
    assert set(out) == {"type", "required", "properties", "additionalProperties"}
    assert out["additionalProperties"] is False
    assert out["required"] == ["id", "name"]
    assert out["properties"]["id"] == {"type": "integer", "readOnly": True}
    assert "secret" not in out["properties"]


def test_openapi_31_type_lists_and_ref_siblings():
    components = {"schemas": {"Name": {"type": "string", "description": "generic", "maxLength": 10}}}
    tool = only(spec({"/x": {"post": {
        "parameters": [{"$ref": "#/components/parameters/P", "description": "overridden"}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object", "properties": {
            "n": {"$ref": "#/components/schemas/Name", "description": "the pet's name"},
            "v": {"type": ["integer", "null"], "examples": [1, None]},
        }, "required": ["n"]}}}},
        "responses": ok(),
    }}}, {**components, "parameters": {"P": {"name": "p", "in": "query", "description": "orig",
                                            "schema": {"type": "string"}}}}, version="3.1.0"))
    assert tool.properties == {
        "p": {"type": "string", "description": "overridden"},
        "n": {"type": "string", "description": "the pet's name", "maxLength": 10},
        "v": {"type": ["integer", "null"], "examples": [1, None]},
    }
    assert tool.required == ["n"]


def test_ref_siblings_are_ignored_in_30():
    components = {"schemas": {"Name": {"type": "string", "description": "generic"}}}
    tool = only(spec({"/x": {"get": {"parameters": [{"name": "n", "in": "query", "schema": {
        "$ref": "#/components/schemas/Name", "description": "sibling"}}], "responses": ok()}}}, components))
    assert tool.properties["n"] == {"type": "string", "description": "generic"}


def test_operation_id_less_naming_and_order():
    tool_order = convert(spec({
        "/pets/{petId}": {"parameters": [{"name": "petId", "in": "path", "schema": {"type": "string"}}],
                          "patch": {"responses": ok()}, "delete": {"responses": ok()}, "get": {"responses": ok()}},
        "/": {"head": {"responses": ok()}},
    })).tools
    assert [t.name for t in tool_order] == ["get_pets_petId", "delete_pets_petId", "patch_pets_petId", "head"]
    assert tool_order[0].original_name == "get /pets/{petId}"
    assert tool_order[0].description == "GET /pets/{petId}"
    assert tool_order[1].meta["method"] == "DELETE"


def test_operation_id_is_made_function_safe():
    tool = only(spec({"/x": {"get": {"operationId": "pets.list all", "responses": ok()}}}))
    assert (tool.name, tool.original_name) == ("pets_list_all", "pets.list all")


def test_body_property_clashing_with_parameter_gets_body_prefix():
    tool = only(spec({"/pets/{name}": {"put": {
        "parameters": [{"name": "name", "in": "path", "schema": {"type": "string"}}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": PET}}},
        "responses": ok(),
    }}}))
    assert list(tool.properties) == ["name", "body_name", "tag"]
    assert tool.required == ["name", "body_name"]
    assert tool.meta["params"] == {"name": "path", "body_name": "body", "tag": "body"}
    assert tool.meta["renamed"] == {"body_name": "name"}


def test_output_schema_choice():
    def output(responses):
        return only(spec({"/x": {"get": {"responses": responses}}})).output_schema

    error = {"description": "e", "content": {"application/json": {"schema": {"type": "string"}}}}
    assert output({"default": error, "201": ok({"type": "integer"})["200"], **ok({"type": "boolean"})}) == {"type": "boolean"}
    assert output({"default": error, "201": ok({"type": "integer"})["200"]}) == {"type": "integer"}
    assert output({"2XX": {"description": "x", "content": {"*/*": {"schema": {"type": "number"}}}}}) == {"type": "number"}
    assert output({"204": {"description": "empty"}, "default": error}) is None  # default is not a success
    assert output({"default": error}) == {"type": "string"}
    assert output({"200": {"description": "x", "content": {"text/csv": {"schema": {"type": "string"}}}}}) is None


def test_parameter_with_content_instead_of_schema():
    tool = only(spec({"/x": {"get": {"parameters": [{"name": "filter", "in": "query", "content": {
        "application/json": {"schema": {"type": "object", "properties": {"q": {"type": "string"}}}}}}],
        "responses": ok()}}}))
    assert tool.properties["filter"] == {"type": "object", "properties": {"q": {"type": "string"}}}


def test_skipped_operations_warn_with_pointer_and_others_survive():
    result = convert(spec({
        "/pets": {
            "get": {"parameters": [{"$ref": "#/components/parameters/Nope"}], "responses": ok()},
            "post": {"parameters": ["limit"], "responses": ok()},
            "put": {"parameters": [{"name": "q", "schema": {"type": "string"}}], "responses": ok()},
            "delete": {"requestBody": {"content": {"application/octet-stream": {}, "image/png": {}}}, "responses": ok()},
            "patch": {"responses": ok({"$ref": "https://example.com/s.json#/Pet"})},
            "options": {"responses": ok({"$ref": "#/components/schemas/Missing"})},
        },
        "/fine": {"get": {"operationId": "fine", "responses": ok()}},
    }, {"schemas": {"Broken": {"type": "object", "properties": {"x": {"$ref": "#/components/schemas/Gone"}}}}}))
    assert [t.name for t in result.tools] == ["fine"]
    assert result.warnings == [
        f"{FILE}#/paths/~1pets/get/parameters/0: $ref '#/components/parameters/Nope' not found; operation skipped",
        f"{FILE}#/paths/~1pets/put/parameters/0: parameter 'q' has no 'in'; operation skipped",
        f"{FILE}#/paths/~1pets/post/parameters/0: parameter is not a mapping; operation skipped",
        f"{FILE}#/paths/~1pets/delete/requestBody/content: unsupported request body media type(s): "
        "application/octet-stream, image/png (no JSON, form or text); operation skipped",
        f"{FILE}#/paths/~1pets/options/responses/200/content/application~1json/schema: "
        "$ref '#/components/schemas/Missing' not found; operation skipped",
        f"{FILE}#/paths/~1pets/patch/responses/200/content/application~1json/schema: "
        "remote $ref 'https://example.com/s.json#/Pet' is not fetched; operation skipped",
    ]


def test_broken_shared_component_names_component_and_operation():
    components = {"schemas": {"Broken": {"type": "object", "properties": {"x": {"$ref": "#/components/schemas/Gone"}}}},
                  "parameters": {"Bad": {"in": "query"}}}
    result = convert(spec({"/a": {"parameters": [{"$ref": "#/components/parameters/Bad"}], "get": {"responses": ok()}},
                           "/b": {"get": {"responses": ok({"$ref": "#/components/schemas/Broken"})}}}, components))
    assert result.tools == []
    assert result.warnings == [
        f"{FILE}#/components/parameters/Bad: parameter has no 'name'; operation GET /a skipped",
        f"{FILE}#/components/schemas/Broken/properties/x: $ref '#/components/schemas/Gone' not found; "
        "operation GET /b skipped",
    ]


def test_circular_parameter_ref_and_bad_path_item_warn():
    components = {"parameters": {"Loop": {"$ref": "#/components/parameters/Loop"}}}
    result = convert(spec({"/a": {"get": {"parameters": [{"$ref": "#/components/parameters/Loop"}], "responses": ok()}},
                           "/b": "nope"}, components))
    assert result.tools == []
    assert result.warnings == [
        f"{FILE}#/components/parameters/Loop: circular $ref '#/components/parameters/Loop'; operation GET /a skipped",
        f"{FILE}#/paths/~1b: path item is not a mapping; path skipped",
    ]


@pytest.mark.parametrize(
    ("doc", "pointer", "fragment"),
    [
        ({"swagger": "2.0", "paths": {}}, "/swagger", "Swagger 2.0 is not supported (hint: convert it to OpenAPI 3"),
        ({"info": {}, "paths": {}}, "/openapi", "missing 'openapi'"),
        ({"openapi": "2.5.0", "paths": {}}, "/openapi", "unsupported OpenAPI version '2.5.0'"),
        ({"openapi": "3.0.3"}, "/paths", "missing 'paths' (hint:"),
        ({"openapi": "3.1.0", "paths": ["/x"]}, "/paths", "'paths' is not a mapping"),
        (["not", "a", "mapping"], "", "not an OpenAPI document"),
    ],
)
def test_documents_that_are_not_openapi_3_raise(doc, pointer, fragment):
    with pytest.raises(CatalogError) as info:
        convert(doc)
    assert info.value.file == FILE and info.value.pointer == pointer
    assert str(info.value).startswith(f"{FILE}#{pointer}: " if pointer else f"{FILE}: ")
    assert fragment in str(info.value)


def test_swagger_hint_names_swagger2openapi():
    with pytest.raises(CatalogError) as info:
        convert({"swagger": "2.0", "paths": {}})
    assert "swagger2openapi" in info.value.hint


def test_empty_paths_warns():
    result = convert(spec({}))
    assert result.tools == [] and result.warnings == [f"{FILE}#/paths: no operations found"]


def test_yaml_and_json_specs_read_the_same(tmp_path):
    yaml_text = """\
openapi: 3.0.3
info: {title: t, version: '1'}
paths:
  /pets:
    get:
      operationId: listPets
      summary: List pets
      parameters:
        - {name: limit, in: query, schema: {type: integer}}
      responses:
        200:
          description: ok
          content:
            application/json:
              schema: {type: array, items: {type: string}}
"""
    (tmp_path / "pets.yaml").write_text(yaml_text)
    from ruamel.yaml import YAML

    (tmp_path / "pets.json").write_text(json.dumps(YAML(typ="safe").load(yaml_text)))
    from_yaml, from_json = read_openapi(tmp_path / "pets.yaml"), read_openapi(tmp_path / "pets.json", source="mine")
    assert from_yaml.warnings == from_json.warnings == []
    yaml_tool, json_tool = from_yaml.tools[0], from_json.tools[0]
    assert yaml_tool.name == "listPets" and yaml_tool.properties == {"limit": {"type": "integer"}}
    assert yaml_tool.output_schema == {"type": "array", "items": {"type": "string"}}
    assert yaml_tool.source.startswith("openapi:") and yaml_tool.source.endswith("pets.yaml")
    assert json_tool.source == "mine"
    assert yaml_tool.model_dump(exclude={"source"}) == json_tool.model_dump(exclude={"source"})


def test_swagger_file_read_raises_with_file_name(tmp_path):
    (tmp_path / "old.yaml").write_text("swagger: '2.0'\npaths: {}\n")
    with pytest.raises(CatalogError, match=r"old\.yaml#/swagger: Swagger 2\.0 is not supported"):
        read_openapi(tmp_path / "old.yaml")


def _benchmark_module():
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_openapi.py"
    module_spec = importlib.util.spec_from_file_location("bench_openapi", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


def test_thousand_operations_convert_fast(tmp_path):
    (tmp_path / "big.json").write_text(json.dumps(_benchmark_module().make_spec(250)))
    start = time.perf_counter()
    result = read_openapi(tmp_path / "big.json")
    elapsed = time.perf_counter() - start
    assert len(result.tools) == 1000 and result.warnings == []
    assert elapsed < 2.0, f"1,000 operations took {elapsed:.2f} s"
    create = next(t for t in result.tools if t.name == "createRes7")
    assert create.required == ["title"] and "id" not in create.properties
    assert create.properties["tree"]["properties"]["children"]["items"]["description"] == \
        "TreeNode (recursive reference, not expanded)"


def test_file_ref_without_base_dir_warns():
    result = convert(spec({"/p": {"get": {"parameters": [{"$ref": "common.yaml#/P"}], "responses": ok()}}}))
    assert result.tools == []
    assert result.warnings == [f"{FILE}#/paths/~1p/get/parameters/0: $ref 'common.yaml#/P' points into another file, "
                               "but no base directory is known; operation skipped"]
