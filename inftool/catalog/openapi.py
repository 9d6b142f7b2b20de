"""OpenAPI 3.0 / 3.1 into tools: one per operation, schemas as plain JSON Schema, HTTP binding in ``meta``.

An operation that cannot be converted is skipped with a warning naming file and JSON pointer.
Resolving ``$ref`` and normalising schemas is ``openapi_schema.SchemaResolver``'s job; this module builds the tools.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from inftool.errors import CatalogError

from .document import Converted, display_path, pointer, read_document
from .openapi_schema import Doc, SchemaResolver, Skip, below, copy_json
from .tool import Tool, function_name

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
LOCATIONS = ("path", "query", "header", "cookie")
_VERSION = re.compile(r"3\.[01](\.\d+)?(-[\w.]+)?$")
_IGNORED_HEADERS = frozenset(("accept", "content-type", "authorization"))  # the spec says to ignore these


def read_openapi(path: Path, *, source: str | None = None) -> Converted:
    """Read an OpenAPI 3.x file (JSON or YAML) into tools; ``$ref`` to other files resolve next to it."""
    file = display_path(path)
    return convert_openapi(read_document(path), file=file, base_dir=path.parent, source=source or f"openapi:{file}")


def convert_openapi(doc: dict, *, file: str, base_dir: Path | None = None, source: str) -> Converted:
    """Convert a parsed OpenAPI 3.x document; ``file`` names it in errors and warnings."""
    _check_document(doc, file)
    return _Converter(doc, file, base_dir, source).run()


def _check_document(doc: Any, file: str) -> None:
    if not isinstance(doc, dict):
        raise CatalogError(file, "", "not an OpenAPI document: the top level is not a mapping")
    if "swagger" in doc:
        hint = "convert it to OpenAPI 3 first, e.g. `npx swagger2openapi spec.yaml -o spec3.yaml`"
        raise CatalogError(file, "/swagger", f"Swagger {doc['swagger']} is not supported", hint)
    if "openapi" not in doc:
        raise CatalogError(file, "/openapi", "missing 'openapi': not an OpenAPI 3 document", "start with `openapi: 3.1.0`")
    if not _VERSION.match(str(doc["openapi"])):
        raise CatalogError(file, "/openapi", f"unsupported OpenAPI version {doc['openapi']!r}", "use OpenAPI 3.0.x or 3.1.x")
    if not isinstance(doc.get("paths"), dict):
        problem = "missing 'paths'" if "paths" not in doc else "'paths' is not a mapping"
        raise CatalogError(file, "/paths", problem, "list the operations under `paths:`, keyed by URL path")


class _Converter:
    def __init__(self, doc: dict, file: str, base_dir: Path | None, source: str):
        self.main = Doc(doc, file, base_dir, "")
        self.source = source
        self.resolver = SchemaResolver(v31=str(doc["openapi"]).startswith("3.1"))
        self.result = Converted()

    def run(self) -> Converted:
        for path, item in self.main.data["paths"].items():
            if str(path).startswith("x-"):
                continue
            try:
                item, item_at = self.resolver.deref(item, (self.main, ("paths", path)))
                if not isinstance(item, dict):
                    raise Skip(item_at, "path item is not a mapping")
            except Skip as skip:
                self._warn(skip, "path skipped")
                continue
            for method in (m for m in METHODS if m in item):
                self._try(str(path), method, item, item_at)
        if not self.result.tools and not self.result.warnings:
            self.result.warnings.append(f"{self.main.file}#/paths: no operations found")
        return self.result

    def _try(self, path: str, method: str, item: dict, item_at: tuple) -> None:
        op_at = below(item_at, method)
        try:
            self.result.tools.append(self._operation(path, method, item, item_at))
        except Skip as skip:
            (doc, parts), _ = skip.args
            inside = doc is op_at[0] and parts[: len(op_at[1])] == op_at[1]
            self._warn(skip, "operation skipped" if inside else f"operation {method.upper()} {path} skipped")
            self.resolver.reset()

    def _warn(self, skip: Skip, outcome: str) -> None:
        (doc, parts), message = skip.args
        self.result.warnings.append(f"{doc.file}#{pointer(*parts)}: {message}; {outcome}")

    def _operation(self, path: str, method: str, item: dict, item_at: tuple) -> Tool:
        op, op_at = item[method], below(item_at, method)
        if not isinstance(op, dict):
            raise Skip(op_at, "operation is not a mapping")
        props, required, binding, renamed = {}, [], {}, {}
        for (name, where), (schema, needed) in self._parameters(item, item_at, op, op_at).items():
            prop = _free(name, where, props)
            props[prop], binding[prop] = schema, where
            required += [prop] if needed else []
            renamed.update({prop: name} if prop != name else {})
        media = self._body(op, op_at, props, required, binding, renamed)
        servers = op.get("servers") or item.get("servers") or self.main.data.get("servers")
        meta = {"method": method.upper(), "path": path, "servers": _server_urls(servers), "params": binding, "body": media}
        output = self._output(op, op_at)
        op_id = op.get("operationId")
        texts = [str(src.get(k) or "").strip() for src in (op, item) for k in ("summary", "description")]
        texts = [t for t in (texts[:2] if any(texts[:2]) else texts[2:]) if t]
        return Tool(
            name=function_name(str(op_id) if op_id else f"{method} {path.replace('{', '').replace('}', '')}"),
            original_name=str(op_id) if op_id else f"{method} {path}",
            description="\n\n".join(dict.fromkeys(texts)) or f"{method.upper()} {path}",
            parameters=copy_json({"type": "object", "properties": props, "required": required}),
            output_schema=copy_json(output),
            source=self.source,
            meta=meta | ({"renamed": renamed} if renamed else {}),
        )

    def _parameters(self, item: dict, item_at: tuple, op: dict, op_at: tuple) -> dict[tuple, tuple]:
        """Path-item then operation parameters by (name, in); the operation's win."""
        merged: dict[tuple, tuple] = {}
        for owner, at in ((item, item_at), (op, op_at)):
            entries = owner.get("parameters", [])
            if not isinstance(entries, list):
                raise Skip(below(at, "parameters"), "'parameters' is not a list")
            for i, entry in enumerate(entries):
                name, where, schema, needed = self._parameter(entry, below(at, "parameters", i))
                if where != "header" or name.lower() not in _IGNORED_HEADERS:
                    merged[(name, where)] = (schema, needed)
        return merged

    def _parameter(self, entry: Any, at: tuple) -> tuple[str, str, dict, bool]:
        param, at = self.resolver.deref(entry, at)
        if not isinstance(param, dict):
            raise Skip(at, "parameter is not a mapping")
        name, where = param.get("name"), param.get("in")
        if not isinstance(name, str) or not name:
            raise Skip(at, "parameter has no 'name'")
        if where not in LOCATIONS:
            raise Skip(at, f"parameter '{name}' has " + (f"unknown 'in': {where!r}" if where else "no 'in'"))
        schema, content = {"type": "string"}, param.get("content")
        if "schema" in param:
            schema = self.resolver.schema(param["schema"], below(at, "schema"), "request")
        elif isinstance(content, dict) and content:
            media = _pick_media(content, json_only=False) or next(iter(content))
            if isinstance(content[media], dict) and "schema" in content[media]:
                schema = self.resolver.schema(content[media]["schema"], below(at, "content", media, "schema"), "request")
        extra = {"description": param["description"]} if param.get("description") else {}
        extra |= {"deprecated": True} if param.get("deprecated") is True else {}
        extra |= {"examples": [param["example"]]} if "example" in param and "examples" not in schema else {}
        return name, where, {**schema, **extra}, where == "path" or param.get("required") is True

    def _body(self, op: dict, op_at: tuple, props: dict, required: list, binding: dict, renamed: dict) -> str | None:
        """Merge the request body into the arguments; returns its media type."""
        if "requestBody" not in op:
            return None
        body, at = self.resolver.deref(op["requestBody"], below(op_at, "requestBody"))
        content = body.get("content") if isinstance(body, dict) else None
        if not isinstance(content, dict):
            raise Skip(at, "request body has no 'content' mapping")
        media = _pick_media(content, json_only=False)
        if media is None:
            kinds = ", ".join(map(str, content)) or "none"
            raise Skip(below(at, "content"), f"unsupported request body media type(s): {kinds} (no JSON, form or text)")
        entry = content[media] if isinstance(content[media], dict) else {}
        schema = self.resolver.schema(entry.get("schema", {}), below(at, "content", media, "schema"), "request")
        fields = _object_fields(schema)
        if fields is None:
            note = body.get("description") if "description" not in schema else None
            fields = ({"body": {**schema, **({"description": note} if note else {})}}, ["body"])
        for name, sub in fields[0].items():
            prop = _free(name, "body", props)
            props[prop], binding[prop] = sub, "body"
            required += [prop] if body.get("required") is True and name in fields[1] else []
            renamed.update({prop: name} if prop != name else {})
        return str(media)

    def _output(self, op: dict, op_at: tuple) -> dict | None:
        """The JSON schema of the first success response (200, 201, 2xx, 2XX; ``default`` only if none is listed)."""
        responses = op.get("responses")
        codes = {str(k).upper(): k for k in responses} if isinstance(responses, dict) else {}
        success = sorted(c for c in codes if c[:1] == "2" and len(c) == 3 and c.isdigit())  # 200, 201, 202, ...
        success += ["2XX"] if "2XX" in codes else []
        for code in success or (["DEFAULT"] if "DEFAULT" in codes else []):
            response, at = self.resolver.deref(responses[codes[code]], below(op_at, "responses", codes[code]))
            content = response.get("content") if isinstance(response, dict) else None
            media = _pick_media(content, json_only=True) if isinstance(content, dict) else None
            if media is not None and isinstance(content[media], dict) and "schema" in content[media]:
                return self.resolver.schema(content[media]["schema"], below(at, "content", media, "schema"), "response")
        return None

def _object_fields(schema: dict) -> tuple[dict, list] | None:
    """(properties, required) of an object schema with properties (``allOf`` parts merged), else None."""
    kind = schema.get("type", "object")
    if (kind != "object" and not (isinstance(kind, list) and "object" in kind)) or "anyOf" in schema or "oneOf" in schema:
        return None
    props, required = dict(schema.get("properties") or {}), list(schema.get("required") or [])
    for part in schema.get("allOf") or []:
        fields = _object_fields(part)
        if fields is None:
            return None
        props.update(fields[0])
        required += fields[1]
    return (props, required) if props else None


def _pick_media(content: dict, *, json_only: bool) -> Any:
    """The content key to use: JSON first, then (for requests) form data, then text."""
    kinds = {str(k).split(";")[0].strip().lower(): k for k in content}
    if "application/json" in kinds:
        return kinds["application/json"]
    for kind, key in kinds.items():
        if kind.endswith(("+json", "/json")) or kind == "*/*":
            return key
    if json_only:
        return None
    for kind in ("application/x-www-form-urlencoded", "multipart/form-data"):
        if kind in kinds:
            return kinds[kind]
    return next((key for kind, key in kinds.items() if kind.startswith("text/")), None)


def _free(name: str, prefix: str, taken: dict) -> str:
    """``name``, or ``prefix_name`` (repeatedly) while it is taken."""
    while name in taken:
        name = f"{prefix}_{name}"
    return name


def _server_urls(servers: Any) -> list[str]:
    """Server URLs with their variables' defaults filled in."""
    urls = []
    for server in servers if isinstance(servers, list) else []:
        if isinstance(server, dict) and isinstance(server.get("url"), str):
            url, variables = server["url"], server.get("variables")
            for var, spec in (variables.items() if isinstance(variables, dict) else ()):
                if isinstance(spec, dict) and "default" in spec:
                    url = url.replace("{" + var + "}", str(spec["default"]))
            urls.append(url)
    return urls
