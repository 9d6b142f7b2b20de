"""Time OpenAPI ingestion: a 1,000-operation spec sharing $ref components, read as JSON and as YAML.

    python benchmarks/bench_openapi.py [--resources 250]

Exits non-zero when JSON ingestion (file parse + conversion, best of 3) takes more than 2 s.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from inftool.catalog.openapi import read_openapi  # noqa: E402

JSON_LIMIT_S = 2.0


def make_spec(resources: int = 250) -> dict:
    """An OpenAPI 3.0 spec with ``resources`` x 4 operations (list, create, get, delete) on shared components."""
    ref = lambda kind, name: {"$ref": f"#/components/{kind}/{name}"}  # noqa: E731
    schemas = {
        "Address": {"type": "object", "properties": {"street": {"type": "string"}, "city": {"type": "string"}}},
        "Owner": {
            "type": "object",
            "required": ["name"],
            "properties": {"name": {"type": "string"}, "email": {"type": "string", "format": "email", "nullable": True},
                           "address": ref("schemas", "Address")},
        },
        "TreeNode": {"type": "object", "properties": {"label": {"type": "string"},
                                                     "children": {"type": "array", "items": ref("schemas", "TreeNode")}}},
        "Error": {"type": "object", "properties": {"code": {"type": "integer"}, "message": {"type": "string"}}},
    }
    paths: dict = {}
    for i in range(resources):
        name = f"Res{i}"
        schemas[name] = {
            "type": "object",
            "required": ["title"],
            "properties": {
                "id": {"type": "integer", "readOnly": True},
                "title": {"type": "string", "maxLength": 200, "example": f"item {i}"},
                "status": {"type": "string", "enum": ["active", "archived"], "nullable": True},
                "owner": ref("schemas", "Owner"),
                "tree": ref("schemas", "TreeNode"),
                "tags": {"type": "array", "items": {"type": "string"}},
            },
        }
        one = {"content": {"application/json": {"schema": ref("schemas", name)}}}
        many = {"content": {"application/json": {"schema": {"type": "array", "items": ref("schemas", name)}}}}
        errors = {"default": ref("responses", "Error")}
        paths[f"/res{i}"] = {
            "parameters": [ref("parameters", "TraceId")],
            "get": {"operationId": f"list{name}", "summary": f"List {name}",
                    "parameters": [ref("parameters", "Limit"), ref("parameters", "Offset")],
                    "responses": {"200": many, **errors}},
            "post": {"operationId": f"create{name}", "summary": f"Create a {name}",
                     "requestBody": {"required": True, "content": {"application/json": {"schema": ref("schemas", name)}}},
                     "responses": {"201": one, **errors}},
        }
        paths[f"/res{i}/{{id}}"] = {
            "parameters": [ref("parameters", "Id")],
            "get": {"operationId": f"get{name}", "responses": {"200": one, **errors}},
            "delete": {"operationId": f"delete{name}", "requestBody": ref("requestBodies", "Reason"),
                       "responses": {"204": {"description": "deleted"}, **errors}},
        }
    parameters = {
        "Limit": {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100}},
        "Offset": {"name": "offset", "in": "query", "schema": {"type": "integer", "default": 0}},
        "Id": {"name": "id", "in": "path", "required": True, "description": "Resource id", "schema": {"type": "integer"}},
        "TraceId": {"name": "X-Trace-Id", "in": "header", "schema": {"type": "string", "format": "uuid"}},
    }
    bodies = {"Reason": {"content": {"application/json": {"schema": {
        "type": "object", "properties": {"reason": {"type": "string"}, "by": ref("schemas", "Owner")}}}}}}
    responses = {"Error": {"description": "error", "content": {"application/json": {"schema": ref("schemas", "Error")}}}}
    return {
        "openapi": "3.0.3",
        "info": {"title": "bench", "version": "1"},
        "servers": [{"url": "https://api.example.com/v1"}],
        "paths": paths,
        "components": {"schemas": schemas, "parameters": parameters, "requestBodies": bodies, "responses": responses},
    }


def best_of(runs: int, path: Path) -> tuple[float, int, int]:
    """Best wall time of ``runs`` full reads, with the tool and warning counts."""
    best, result = float("inf"), None
    for _ in range(runs):
        start = time.perf_counter()
        result = read_openapi(path)
        best = min(best, time.perf_counter() - start)
    return best, len(result.tools), len(result.warnings)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=250, help="resource paths (4 operations each)")
    args = parser.parse_args()
    spec = make_spec(args.resources)
    with tempfile.TemporaryDirectory() as tmp:
        json_path, yaml_path = Path(tmp, "spec.json"), Path(tmp, "spec.yaml")
        json_path.write_text(json.dumps(spec, indent=1), encoding="utf-8")
        from ruamel.yaml import YAML

        with yaml_path.open("w", encoding="utf-8") as handle:
            YAML(typ="safe", pure=False).dump(spec, handle)
        rows = [(label, path.stat().st_size, *best_of(3, path)) for label, path in (("json", json_path), ("yaml", yaml_path))]
    print(f"{'format':<8}{'size KiB':>10}{'best of 3 s':>14}{'tools':>8}{'warnings':>10}")
    for label, size, seconds, tools, warnings in rows:
        print(f"{label:<8}{size / 1024:>10.0f}{seconds:>14.3f}{tools:>8}{warnings:>10}")
    json_s = rows[0][2]
    if json_s > JSON_LIMIT_S:
        print(f"FAIL: JSON ingestion took {json_s:.3f} s (limit {JSON_LIMIT_S} s)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
