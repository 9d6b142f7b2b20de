"""``$ref`` resolution and OpenAPI-to-JSON-Schema normalisation for the OpenAPI converter.

A location is a pair ``(Doc, pointer parts)``; ``below`` extends one.  ``$ref`` may point into the
same document or into another local file (read once, next to the document that refers to it);
remote references are not fetched.  Whatever cannot be resolved or converted raises ``Skip`` with
the location of the offending part.

Recursion cut and memo: while a schema ``$ref`` is being expanded it sits on a stack together with
its depth.  Meeting it again inside its own expansion is *cut*: a placeholder object stands in for
it.  Each expansion also tracks the shallowest stack depth any cut inside it went back to.  The
result of expanding a ref at depth ``d`` is memoised under (document, pointer, mode) only when every
cut inside it went back to that ref or deeper, because then it is the same wherever the ref is
reached from; a result shaped by a cut to an outer ref would differ elsewhere and is not kept.
Memoised schemas are shared between their users and never mutated: callers that hand a schema out
take a ``copy_json`` of it first.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from inftool.errors import CatalogError

from .document import display_path, read_document

_KEEP = frozenset(
    "type title description enum const format default minimum maximum exclusiveMinimum exclusiveMaximum "
    "multipleOf minLength maxLength pattern minItems maxItems uniqueItems minProperties maxProperties "
    "required deprecated readOnly writeOnly contentMediaType contentEncoding dependentRequired".split()
)
_ONE = frozenset("items not additionalProperties contains propertyNames unevaluatedProperties if then else".split())
_MANY = frozenset(("allOf", "anyOf", "oneOf", "prefixItems"))
_NO_CUT = 1 << 30


class Skip(Exception):
    """``Skip(at, message)``: the part at location ``at`` (``(doc, pointer parts)``) cannot be converted."""


@dataclass(eq=False)
class Doc:
    """A parsed document: its data, name in messages, directory for relative ``$ref``, and memo key."""

    data: Any
    file: str
    base_dir: Path | None
    key: str


def below(at: tuple, *more: Any) -> tuple:
    """The location ``more`` pointer parts below ``at``."""
    return at[0], at[1] + more


def copy_json(value: Any) -> Any:
    """A deep copy of JSON data, so each tool owns its schemas (memoised parts are shared while building)."""
    if isinstance(value, dict):
        return {k: copy_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [copy_json(v) for v in value]
    return value


class SchemaResolver:
    """Resolves ``$ref``s and normalises schemas for one conversion; ``v31`` merges siblings of ``$ref``."""

    def __init__(self, v31: bool):
        self.v31 = v31
        self.files: dict[tuple, Doc | str] = {}  # (base_dir, name) -> document, or why it cannot be read
        self.memo: dict[tuple, dict] = {}  # (doc key, pointer, mode) -> normalised schema, never mutated
        self.stack: dict[tuple, int] = {}  # refs being expanded -> depth
        self.low = _NO_CUT  # shallowest stack depth a recursion cut went back to

    def reset(self) -> None:
        """Forget the expansion state a ``Skip`` left half-way; the memo stays valid."""
        self.stack, self.low = {}, _NO_CUT

    def deref(self, node: Any, at: tuple) -> tuple[Any, tuple]:
        """Follow ``$ref`` chains of non-schema objects (parameters, bodies, responses, path items)."""
        seen = set()
        while isinstance(node, dict) and "$ref" in node:
            doc, frag = self._split(node["$ref"], at)
            if (doc.key, frag) in seen:
                raise Skip(at, f"circular $ref '{node['$ref']}'")
            seen.add((doc.key, frag))
            target, target_at = self._walk(doc, frag, node["$ref"], at)
            if self.v31 and len(node) > 1 and isinstance(target, dict):
                target = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
            node, at = target, target_at
        return node, at

    def _split(self, ref: Any, at: tuple) -> tuple[Doc, str]:
        if not isinstance(ref, str):
            raise Skip(at, "$ref is not a string")
        name, _, frag = ref.partition("#")
        frag = unquote(frag) if "%" in frag else frag
        if frag and not frag.startswith("/"):
            raise Skip(at, f"$ref '{ref}' is not a JSON pointer (anchors are not supported)")
        return (self._load(name, ref, at) if name else at[0]), frag

    def _load(self, name: str, ref: str, at: tuple) -> Doc:
        """Another file a ``$ref`` points into, read once."""
        if "://" in name or name.startswith("//"):
            raise Skip(at, f"remote $ref '{ref}' is not fetched")
        base = at[0].base_dir
        if base is None:
            raise Skip(at, f"$ref '{ref}' points into another file, but no base directory is known")
        if (base, name) not in self.files:  # keyed by resolved path, so memo entries are shared between spellings
            path = (base / unquote(name)).resolve()
            try:
                self.files[(base, name)] = Doc(read_document(path), display_path(path), path.parent, str(path))
            except CatalogError as exc:
                self.files[(base, name)] = str(exc)
        doc = self.files[(base, name)]
        if isinstance(doc, str):
            raise Skip(at, f"$ref '{ref}' cannot be read: {doc}")
        return doc

    def _walk(self, doc: Doc, frag: str, ref: str, at: tuple) -> tuple[Any, tuple]:
        value, parts = doc.data, []
        for raw in frag.split("/")[1:]:
            part = raw.replace("~1", "/").replace("~0", "~")
            if isinstance(value, dict) and part in value:
                value = value[part]
            elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
                value = value[int(part)]
            else:
                raise Skip(at, f"$ref '{ref}' not found")
            parts.append(part)
        return value, (doc, tuple(parts))

    def schema(self, node: Any, at: tuple, mode: str) -> dict:
        """Plain JSON Schema from an OpenAPI schema; ``mode`` is "request" or "response"."""
        if isinstance(node, bool):
            return {} if node else {"not": {}}
        if not isinstance(node, dict):
            raise Skip(at, "schema is not a mapping")
        if "$ref" in node:
            return self._schema_ref(node, at, mode)
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key in _KEEP:
                out[key] = value
            elif key in _ONE:  # ``additionalProperties: false`` stays a boolean
                out[key] = value if isinstance(value, bool) else self.schema(value, below(at, key), mode)
            elif key in _MANY and isinstance(value, list):
                out[key] = [self.schema(v, below(at, key, i), mode) for i, v in enumerate(value)]
            elif key in ("properties", "patternProperties") and isinstance(value, dict):
                out[key] = {k: self.schema(v, below(at, key, k), mode) for k, v in value.items()}
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

    def _expand(self, key: tuple, doc: Doc, frag: str, ref: str, at: tuple, mode: str) -> dict:
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
