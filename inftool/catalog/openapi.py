"""OpenAPI 3.0 / 3.1 into tools: one per operation, schemas as plain JSON Schema, HTTP binding in ``meta``.

An operation that cannot be converted is skipped with a warning naming file and JSON pointer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from inftool.errors import CatalogError

from .document import Converted, display_path, pointer, read_document
from .tool import Tool, function_name

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
LOCATIONS = ("path", "query", "header", "cookie")
_VERSION = re.compile(r"3\.[01](\.\d+)?(-[\w.]+)?$")
_KEEP = frozenset(
    "type title description enum const format default minimum maximum exclusiveMinimum exclusiveMaximum "
    "multipleOf minLength maxLength pattern minItems maxItems uniqueItems minProperties maxProperties "
    "required deprecated readOnly writeOnly contentMediaType contentEncoding dependentRequired".split()
)
_ONE = frozenset("items not additionalProperties contains propertyNames unevaluatedProperties if then else".split())
_MANY = frozenset(("allOf", "anyOf", "oneOf", "prefixItems"))
_IGNORED_HEADERS = frozenset(("accept", "content-type", "authorization"))  # the spec says to ignore these
_NO_CUT = 1 << 30


class _Skip(Exception):
    """``_Skip(at, message)``: the part at ``(doc, pointer parts)`` cannot be converted."""


@dataclass(eq=False)
class _Doc:
    data: Any
    file: str
    base_dir: Path | None
    key: str


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


def _at(at: tuple, *more: Any) -> tuple:
    return at[0], at[1] + more


def _copy(value: Any) -> Any:
    """A deep copy of JSON data, so each tool owns its schemas (memoised parts are shared while building)."""
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


class _Converter:
    def __init__(self, doc: dict, file: str, base_dir: Path | None, source: str):
        self.main = _Doc(doc, file, base_dir, "")
        self.source, self.v31 = source, str(doc["openapi"]).startswith("3.1")
        self.files: dict[tuple, _Doc | str] = {}  # (base_dir, name) -> document, or why it cannot be read
        self.memo: dict[tuple, dict] = {}  # (doc key, pointer, mode) -> normalised schema, never mutated
        self.stack: dict[tuple, int] = {}  # refs being expanded -> depth
        self.low = _NO_CUT  # shallowest stack depth a recursion cut went back to
        self.result = Converted()

    def run(self) -> Converted:
        for path, item in self.main.data["paths"].items():
            if str(path).startswith("x-"):
                continue
            try:
                item, item_at = self.deref(item, (self.main, ("paths", path)))
                if not isinstance(item, dict):
                    raise _Skip(item_at, "path item is not a mapping")
            except _Skip as skip:
                self._warn(skip, "path skipped")
                continue
            for method in (m for m in METHODS if m in item):
                self._try(str(path), method, item, item_at)
        if not self.result.tools and not self.result.warnings:
            self.result.warnings.append(f"{self.main.file}#/paths: no operations found")
        return self.result

    def _try(self, path: str, method: str, item: dict, item_at: tuple) -> None:
        op_at = _at(item_at, method)
        try:
            self.result.tools.append(self._operation(path, method, item, item_at))
        except _Skip as skip:
            (doc, parts), _ = skip.args
            inside = doc is op_at[0] and parts[: len(op_at[1])] == op_at[1]
            self._warn(skip, "operation skipped" if inside else f"operation {method.upper()} {path} skipped")
            self.stack, self.low = {}, _NO_CUT

    def _warn(self, skip: _Skip, outcome: str) -> None:
        (doc, parts), message = skip.args
        self.result.warnings.append(f"{doc.file}#{pointer(*parts)}: {message}; {outcome}")

    def _operation(self, path: str, method: str, item: dict, item_at: tuple) -> Tool:
        op, op_at = item[method], _at(item_at, method)
        if not isinstance(op, dict):
            raise _Skip(op_at, "operation is not a mapping")
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
            parameters=_copy({"type": "object", "properties": props, "required": required}),
            output_schema=_copy(output),
            source=self.source,
            meta=meta | ({"renamed": renamed} if renamed else {}),
        )

    def _parameters(self, item: dict, item_at: tuple, op: dict, op_at: tuple) -> dict[tuple, tuple]:
        """Path-item then operation parameters by (name, in); the operation's win."""
        merged: dict[tuple, tuple] = {}
        for owner, at in ((item, item_at), (op, op_at)):
            entries = owner.get("parameters", [])
            if not isinstance(entries, list):
                raise _Skip(_at(at, "parameters"), "'parameters' is not a list")
            for i, entry in enumerate(entries):
                name, where, schema, needed = self._parameter(entry, _at(at, "parameters", i))
                if where != "header" or name.lower() not in _IGNORED_HEADERS:
                    merged[(name, where)] = (schema, needed)
        return merged

    def _parameter(self, entry: Any, at: tuple) -> tuple[str, str, dict, bool]:
        param, at = self.deref(entry, at)
        if not isinstance(param, dict):
            raise _Skip(at, "parameter is not a mapping")
        name, where = param.get("name"), param.get("in")
        if not isinstance(name, str) or not name:
            raise _Skip(at, "parameter has no 'name'")
        if where not in LOCATIONS:
            raise _Skip(at, f"parameter '{name}' has " + (f"unknown 'in': {where!r}" if where else "no 'in'"))
        schema, content = {"type": "string"}, param.get("content")
        if "schema" in param:
            schema = self.schema(param["schema"], _at(at, "schema"), "request")
        elif isinstance(content, dict) and content:
            media = _pick_media(content, json_only=False) or next(iter(content))
            if isinstance(content[media], dict) and "schema" in content[media]:
                schema = self.schema(content[media]["schema"], _at(at, "content", media, "schema"), "request")
        extra = {"description": param["description"]} if param.get("description") else {}
        extra |= {"deprecated": True} if param.get("deprecated") is True else {}
        extra |= {"examples": [param["example"]]} if "example" in param and "examples" not in schema else {}
        return name, where, {**schema, **extra}, where == "path" or param.get("required") is True

    def _body(self, op: dict, op_at: tuple, props: dict, required: list, binding: dict, renamed: dict) -> str | None:
        """Merge the request body into the arguments; returns its media type."""
        if "requestBody" not in op:
            return None
        body, at = self.deref(op["requestBody"], _at(op_at, "requestBody"))
        content = body.get("content") if isinstance(body, dict) else None
        if not isinstance(content, dict):
            raise _Skip(at, "request body has no 'content' mapping")
        media = _pick_media(content, json_only=False)
        if media is None:
            kinds = ", ".join(map(str, content)) or "none"
            raise _Skip(_at(at, "content"), f"unsupported request body media type(s): {kinds} (no JSON, form or text)")
        entry = content[media] if isinstance(content[media], dict) else {}
        schema = self.schema(entry.get("schema", {}), _at(at, "content", media, "schema"), "request")
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
            response, at = self.deref(responses[codes[code]], _at(op_at, "responses", codes[code]))
            content = response.get("content") if isinstance(response, dict) else None
            media = _pick_media(content, json_only=True) if isinstance(content, dict) else None
            if media is not None and isinstance(content[media], dict) and "schema" in content[media]:
                return self.schema(content[media]["schema"], _at(at, "content", media, "schema"), "response")
        return None

    def deref(self, node: Any, at: tuple) -> tuple[Any, tuple]:
        """Follow ``$ref`` chains of non-schema objects (parameters, bodies, responses, path items)."""
        seen = set()
        while isinstance(node, dict) and "$ref" in node:
            doc, frag = self._split(node["$ref"], at)
            if (doc.key, frag) in seen:
                raise _Skip(at, f"circular $ref '{node['$ref']}'")
            seen.add((doc.key, frag))
            target, target_at = self._walk(doc, frag, node["$ref"], at)
            if self.v31 and len(node) > 1 and isinstance(target, dict):
                target = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
            node, at = target, target_at
        return node, at

    def _split(self, ref: Any, at: tuple) -> tuple[_Doc, str]:
        if not isinstance(ref, str):
            raise _Skip(at, "$ref is not a string")
        name, _, frag = ref.partition("#")
        frag = unquote(frag) if "%" in frag else frag
        if frag and not frag.startswith("/"):
            raise _Skip(at, f"$ref '{ref}' is not a JSON pointer (anchors are not supported)")
        return (self._load(name, ref, at) if name else at[0]), frag

    def _load(self, name: str, ref: str, at: tuple) -> _Doc:
        """Another file a ``$ref`` points into, read once."""
        if "://" in name or name.startswith("//"):
            raise _Skip(at, f"remote $ref '{ref}' is not fetched")
        base = at[0].base_dir
        if base is None:
            raise _Skip(at, f"$ref '{ref}' points into another file, but no base directory is known")
        if (base, name) not in self.files:  # keyed by resolved path, so memo entries are shared between spellings
            path = (base / unquote(name)).resolve()
            try:
                self.files[(base, name)] = _Doc(read_document(path), display_path(path), path.parent, str(path))
            except CatalogError as exc:
                self.files[(base, name)] = str(exc)
        doc = self.files[(base, name)]
        if isinstance(doc, str):
            raise _Skip(at, f"$ref '{ref}' cannot be read: {doc}")
        return doc

    def _walk(self, doc: _Doc, frag: str, ref: str, at: tuple) -> tuple[Any, tuple]:
        value, parts = doc.data, []
        for raw in frag.split("/")[1:]:
            part = raw.replace("~1", "/").replace("~0", "~")
            if isinstance(value, dict) and part in value:
                value = value[part]
            elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
                value = value[int(part)]
            else:
                raise _Skip(at, f"$ref '{ref}' not found")
            parts.append(part)
        return value, (doc, tuple(parts))

    def schema(self, node: Any, at: tuple, mode: str) -> dict:
        """Plain JSON Schema from an OpenAPI schema; ``mode`` is "request" or "response"."""
        if isinstance(node, bool):
            return {} if node else {"not": {}}
        if not isinstance(node, dict):
            raise _Skip(at, "schema is not a mapping")
        if "$ref" in node:
            return self._schema_ref(node, at, mode)
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key in _KEEP:
                out[key] = value
            elif key in _ONE:  # ``additionalProperties: false`` stays a boolean
                out[key] = value if isinstance(value, bool) else self.schema(value, _at(at, key), mode)
            elif key in _MANY and isinstance(value, list):
                out[key] = [self.schema(v, _at(at, key, i), mode) for i, v in enumerate(value)]
            elif key in ("properties", "patternProperties") and isinstance(value, dict):
                out[key] = {k: self.schema(v, _at(at, key, k), mode) for k, v in value.items()}
            elif key == "examples" and isinstance(value, list) or key == "example" and "examples" not in node:
                out["examples"] = value if key == "examples" else [value]
        return _tidy(out, node, mode)

    def _schema_ref(self, node: dict, at: tuple, mode: str) -> dict:
        doc, frag = self._split(node["$ref"], at)
        key = (doc.key, frag, mode)
        out = self.memo.get(key)
        if out is None:
            out = self._expand(key, doc, frag, node["$ref"], at, mode)
        if self.v31 and len(node) > 1:
            out = {**out, **self.schema({k: v for k, v in node.items() if k != "$ref"}, at, mode)}
        return out

    def _expand(self, key: tuple, doc: _Doc, frag: str, ref: str, at: tuple, mode: str) -> dict:
        """Expand a schema ``$ref``; re-entering one being expanded is cut. Memoise what no outer cut shaped."""
        if key in self.stack:
            self.low = min(self.low, self.stack[key])
            name = frag.rsplit("/", 1)[-1].replace("~1", "/").replace("~0", "~") or doc.file
            return {"type": "object", "description": f"{name} (recursive reference, not expanded)"}
        target, target_at = self._walk(doc, frag, ref, at)
        depth, outer = len(self.stack), self.low
        self.stack[key], self.low = depth, _NO_CUT
        try:
            out = self.schema(target, target_at, mode)
        finally:
            del self.stack[key]
        if self.low >= depth:  # every cut inside went back to this ref or deeper: same result anywhere
            self.memo[key] = out
        self.low = min(outer, self.low if self.low < depth else _NO_CUT)
        return out


def _tidy(out: dict, node: dict, mode: str) -> dict:
    """Finish a normalised schema: drop read-/write-only properties, ``nullable``, boolean exclusive bounds."""
    if "properties" in out:
        hidden = "readOnly" if mode == "request" else "writeOnly"
        gone = {k for k, v in out["properties"].items() if v.get(hidden) is True}
        if gone:
            out["properties"] = {k: v for k, v in out["properties"].items() if k not in gone}
            if isinstance(out.get("required"), list):
                out["required"] = [r for r in out["required"] if r not in gone]
    for bound, limit in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if isinstance(out.get(bound), bool):  # OpenAPI 3.0 style: a flag on minimum/maximum
            flag = out.pop(bound)
            if flag and limit in out:
                out[bound] = out.pop(limit)
    if node.get("nullable") is not True:
        return out
    kind = out.get("type")
    if kind is None:
        return {"anyOf": [out, {"type": "null"}]}
    out["type"] = [*kind, "null"] if isinstance(kind, list) else [kind, "null"]
    if isinstance(out.get("enum"), list) and None not in out["enum"]:
        out["enum"] = [*out["enum"], None]
    return out


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
