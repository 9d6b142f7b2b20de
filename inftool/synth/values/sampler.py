"""Argument values (and tool results) valid for a JSON Schema and realistic for the parameter.

``ValueSampler`` compiles each schema once into a generator (a closure) and caches it: per tool for
``arguments``, per schema object for ``value``. Rules, most specific first: ``const``/``enum``;
``examples``; ``format``; realistic pools by parameter name (filtered by ``pattern`` and lengths);
``pattern``; examples read from the description; numeric ranges by name intersected with the bounds.
All randomness at sampling time comes from the caller's ``random.Random``; pools are built once from
a Faker seeded with the sampler's seed, so same seed + same rng state -> same values.
"""

from __future__ import annotations

import copy
import functools
import json
import random
import re
import string
import zlib
from collections.abc import Callable
from typing import Any

from inftool.catalog import Tool
from inftool.synth.values import rules
from inftool.synth.values.names import (
    FAKER,
    RELATED,
    STATIC,
    faker_pool,
    kind_for,
    normalise,
    refine_kind,
    shape,
)
from inftool.synth.values.regex_sample import pattern_sampler
from inftool.synth.values.shapes import (
    ObjectGen,
    array_gen,
    boolean_gen,
    integer_gen,
    null_gen,
    number_gen,
    object_gen,
)

Gen = Callable[[random.Random], Any]
_STRING_KEYS = ("pattern", "minLength", "maxLength", "format")
_CACHE_LIMIT = 20_000


class ValueSampler:
    """Schema-valid, realistic values; see the module docstring."""

    def __init__(self, seed: int = 0, locale: str = "en_US"):
        self.seed, self.locale = seed, locale
        self.unsatisfiable: list[str] = []
        """Schemas no value could be generated for (``name: reason``); their values do not validate."""
        self._faker: Any = None
        self._pools: dict[str, list[str]] = {}
        self._filtered: dict[tuple, list[str]] = {}
        self._gens: dict[tuple, tuple[Any, Gen]] = {}
        self._by_content: dict[str, Gen] = {}
        self._tools: dict[str, tuple[Any, Any]] = {}
        self._results: dict[str, tuple[Any, Any]] = {}

    # --- public API ---------------------------------------------------------------------------

    def value(self, name: str, schema: dict, rng: random.Random, description: str = "") -> Any:
        """A value valid for ``schema`` and plausible for a parameter called ``name``."""
        key = (id(schema), name, description)
        entry = self._gens.get(key)
        if entry is None or entry[0] is not schema:
            if len(self._gens) > _CACHE_LIMIT:  # callers passing a fresh dict each time: stay bounded
                self._gens.clear()
                self._by_content.clear()
            text = json.dumps([name, description, schema], sort_keys=True, default=str)
            gen = self._by_content.get(text)
            if gen is None:
                gen = self._by_content[text] = self.compile(name, schema, description)
            entry = self._gens[key] = (schema, gen)
        return entry[1](rng)

    def arguments(self, tool: Tool, rng: random.Random, *, optional_share: float = 0.5) -> dict[str, Any]:
        """All required arguments of ``tool`` and each optional one with probability ``optional_share``."""
        gen = self._cached(self._tools, tool.name, tool.parameters, lambda: ObjectGen(self, "arguments", tool.parameters))
        return gen.sample(rng, optional_share)

    def result(self, tool: Tool, arguments: dict[str, Any], rng: random.Random, *,
               must_include: dict[str, Any] | None = None) -> Any:
        """A realistic result of calling ``tool`` with ``arguments`` (valid against its output schema, if any)."""
        from inftool.synth.values.results import make_result

        return make_result(self, tool, arguments, rng, must_include)

    def compile(self, name: str, schema: Any, description: str = "") -> Gen:
        """The generator for one schema (not cached; ``value`` and ``arguments`` cache it)."""
        return compile_schema(self, name, schema, description)

    # --- pools --------------------------------------------------------------------------------

    def pool(self, kind: str) -> list[str]:
        """Realistic values of one kind (static lists, or Faker values drawn once per sampler)."""
        values = self._pools.get(kind)
        if values is None:
            if kind in STATIC:
                values = list(STATIC[kind])
            elif kind in FAKER:
                if self._faker is None:
                    from faker import Faker

                    self._faker = Faker(self.locale)
                values = faker_pool(kind, self._faker, self.seed)
            else:
                values = []
            self._pools[kind] = values
        return values

    def string_pool(self, kind: str, schema: dict) -> list[str]:
        """The values of ``kind`` that satisfy the string constraints of ``schema``."""
        sub = {k: schema[k] for k in _STRING_KEYS if k in schema}
        key = (kind, *(str(sub.get(k)) for k in _STRING_KEYS))
        if key not in self._filtered:
            self._filtered[key] = [v for v in self.pool(kind) if rules.fits(v, sub)]
        return self._filtered[key]

    def _cached(self, cache: dict, name: str, schema: Any, build: Callable[[], Any]) -> Any:
        entry = cache.get(name)
        if entry is None or (entry[0] is not schema and entry[0] != schema):
            entry = cache[name] = (schema, build())
        return entry[1]

    def note_unsatisfiable(self, name: str, reason: str) -> None:
        if f"{name}: {reason}" not in self.unsatisfiable:
            self.unsatisfiable.append(f"{name}: {reason}")


# --- compiling schemas ---------------------------------------------------------------------------


def compile_schema(s: ValueSampler, name: str, schema: Any, desc: str = "") -> Gen:
    if not isinstance(schema, dict):
        return _constant(None) if schema is False else _string(s, name, {}, desc)
    desc = schema.get("description") or desc
    if "const" in schema:
        return _constant(schema["const"])
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        rest = {k: v for k, v in schema.items() if k != "enum"}
        values = [v for v in schema["enum"] if rules.fits(v, rest)] or schema["enum"]
        return lambda rng: copy.deepcopy(rng.choice(values))
    if isinstance(schema.get("allOf"), list):
        merged = {k: v for k, v in schema.items() if k != "allOf"}
        for part in schema["allOf"]:
            merged.update(part if isinstance(part, dict) else {})
        return compile_schema(s, name, merged, desc)
    for key in ("oneOf", "anyOf"):
        branches = [b for b in schema.get(key) or [] if isinstance(b, dict) and b.get("type") != "null"]
        if branches:
            rest = {k: v for k, v in schema.items() if k != key}
            return _choice([compile_schema(s, name, {**rest, **b}, desc) for b in branches[: 1 if key == "oneOf" else 3]])
    kind = schema.get("type")
    if isinstance(kind, list):
        kinds = [k for k in kind if k != "null"] or ["null"]
        return _choice([compile_schema(s, name, {**schema, "type": k}, desc) for k in kinds])
    kind = kind or _infer_type(name, schema, desc)
    gen = _BUILDERS.get(kind, _string)(s, name, schema, desc)
    examples = [e for e in schema.get("examples") or [] if rules.fits(e, schema)]
    return _mix(examples, gen, 0.4) if examples else gen


def _constant(value: Any) -> Gen:
    return lambda rng: copy.deepcopy(value)


def _choice(gens: list[Gen]) -> Gen:
    return gens[0] if len(gens) == 1 else (lambda rng: rng.choice(gens)(rng))


def _mix(examples: list, gen: Gen, share: float) -> Gen:
    return lambda rng: copy.deepcopy(rng.choice(examples)) if rng.random() < share else gen(rng)


def _infer_type(name: str, schema: dict, desc: str) -> str:
    if "properties" in schema or "additionalProperties" in schema or "required" in schema:
        return "object"
    if "items" in schema or "prefixItems" in schema or "minItems" in schema:
        return "array"
    if any(k in schema for k in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")):
        return "number"
    if any(k in schema for k in _STRING_KEYS) or kind_for(name, desc):
        return "string"
    return "number" if rules.numeric_range(name, desc, False) else "string"


def _probe(gen: Gen, schema: dict, tries: int = 8) -> bool:
    rng = random.Random(0)
    return all(rules.fits(gen(rng), schema) for _ in range(tries))


# --- strings -------------------------------------------------------------------------------------


@functools.cache
def _iana_zones() -> frozenset[str]:
    from zoneinfo import available_timezones

    return frozenset(available_timezones())


def _string(s: ValueSampler, name: str, schema: dict, desc: str) -> Gen:
    fmt = schema.get("format")
    if fmt:
        gen = rules.format_generator(fmt, name, s.pool)
        if gen is not None and _probe(gen, schema):
            return gen
    kind = kind_for(name, desc)
    examples = rules.description_examples(desc, pairs=kind in ("city", "location"))
    examples = [e for e in examples if rules.fits(e, {**schema, "type": "string"})]
    if kind == "timezone":  # descriptions suggest zones that do not exist ('America/San_Francisco')
        examples = [e for e in examples if e in _iana_zones()]
    main = _string_main(s, name, schema, desc, refine_kind(kind, examples))
    if main is None:
        if examples:
            return lambda rng: rng.choice(examples)
        s.note_unsatisfiable(name, f"no string satisfies {({k: schema[k] for k in _STRING_KEYS if k in schema})}")
        return _constant(name)
    if not examples:
        return main
    pool = getattr(main, "pool", None)
    if pool and shape(examples[0]) != shape(pool[0]):
        main = _slugs(s, examples[0], schema) or main  # e.g. a team slug 'payments-core', not 'Real Madrid'
        return _mix(examples, main, 0.5 if getattr(main, "slug", False) else 0.85)
    if "pattern" in schema or pool:
        return _mix(examples, main, 0.25)
    return _mix(examples, main, 0.9)


def _slugs(s: ValueSampler, example: str, schema: dict) -> Gen | None:
    """Made-up slugs like the example's ('payments-core' -> 'growth-agent'), if they satisfy the schema."""
    if shape(example) != "slug":
        return None
    separator = re.search(r"[-_.]", example).group(0)  # type: ignore[union-attr]
    words = [w for w in s.pool("word") if w.isalpha()]

    def gen(rng: random.Random) -> str:
        return f"{rng.choice(words)}{separator}{rng.choice(words)}"

    gen.slug = True  # type: ignore[attr-defined]
    return gen if _probe(gen, schema) else None


def _string_main(s: ValueSampler, name: str, schema: dict, desc: str, kind: str | None) -> Gen | None:
    tokens = normalise(name).split("_")
    if tokens[-1] in ("date", "dob", "birthday") and "pattern" not in schema:
        gen = rules.date_text(name, desc)
        if _probe(gen, schema):
            return gen
    if kind == "id":
        gen = rules.id_generator(name)
        if _probe(gen, schema):
            return gen
    if kind == "expression" and _probe(rules.expression, schema):
        return rules.expression
    for candidate in (kind, *RELATED.get(kind or "", ())) if kind else ():
        pool = s.string_pool(candidate, schema)
        if pool:
            return _from_pool(pool)
    if "pattern" in schema:
        return _pattern_gen(name, schema)
    pool = s.string_pool("word", schema)
    if pool:
        gen = _from_pool(pool)
        del gen.pool  # type: ignore[attr-defined]  # generic words: a fallback, not a realistic pool
        return gen
    low, high = schema.get("minLength", 1), schema.get("maxLength", 12)
    return lambda rng: "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(low, max(low, min(high, low + 8)))))


def _from_pool(pool: list[str]) -> Gen:
    def gen(rng: random.Random) -> str:
        return rng.choice(pool)

    gen.pool = pool  # type: ignore[attr-defined]
    return gen


def _pattern_gen(name: str, schema: dict) -> Gen | None:
    sampler = pattern_sampler(schema["pattern"], schema.get("minLength", 0), schema.get("maxLength"))
    seed_rng = random.Random(zlib.crc32(schema["pattern"].encode()))
    spare = [v for v in (sampler.sample(seed_rng, 20) for _ in range(8)) if v is not None]
    if not spare:
        return None

    def gen(rng: random.Random) -> str:
        value = sampler.sample(rng, 4)
        return value if value is not None else rng.choice(spare)

    return gen



_BUILDERS: dict[str, Callable[..., Gen]] = {
    "string": _string, "integer": integer_gen, "number": number_gen, "boolean": boolean_gen, "array": array_gen,
    "object": object_gen, "null": null_gen,
}
