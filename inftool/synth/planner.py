"""Scenario planning: from a (complexity, tool) cell to the user's hidden Goal.

Distractors are plausible, not random: tools of the same catalog (each shipped catalog is one
domain; BFCL counts as one catalog) ranked by TF-IDF similarity over names, descriptions and
parameters, leaving out tools the refinement judge calls redundant with the target (at any
similarity), which would make the right choice ambiguous. An irrelevance scenario asks for what a far
away tool does (none of the target's nearest tools, another catalog when there is one) while offering
the target and its neighbours, or (a ``near_miss`` share of them) asks for what the target does while
offering only neighbours less similar to it than ``_AMBIGUOUS`` too (a tool that may well do the task
would make 'no tool fits' a wrong label).

How many tools an episode offers never tells whether to call one: single, parallel and multi-turn
goals offer their tool alone (as BFCL's simple and parallel questions), multiple goals the target and
one to ``distractors`` others, parallel-multiple goals their two tools and up to ``distractors``
others (BFCL's multiple and parallel-multiple questions offer two to four), and an irrelevance goal as
many as a call goal of a kind drawn by the mix's shares would.

A multi-step scenario chains a producer whose output (at any depth) has a field named and typed like
one of the target's parameters. A stateful goal is planned on the target's environment itself
(``inftool.synth.worlds``).
"""

from __future__ import annotations

import dataclasses
import random
import re
from collections.abc import Iterable, Iterator
from itertools import chain, islice
from typing import Any

from inftool.catalog import Catalog, Tool
from inftool.catalog.refine import judge, judged_redundant, nearest
from inftool.core.episode import Call, Goal, Link
from inftool.synth.values.sampler import ValueSampler
from inftool.synth.worlds import StatefulPlanner

NEIGHBOURS = 24
FAR = 200  # far tools kept per tool, for irrelevance topics
_IDENTIFIER = re.compile(r"(id|ids|sku|code|key|number|reference|ref|token|url|uri)$", re.IGNORECASE)
_AMBIGUOUS = 0.6  # a neighbour this similar may serve the target's request, whatever the judge says


@dataclasses.dataclass(frozen=True)
class ScenarioSettings:
    distractors: int = 3
    max_parallel: int = 3
    optional_share: float = 0.5
    near_miss: float = 0.0
    """Share of irrelevance goals asking for the target itself with only its distractors offered."""
    pins: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    """Argument values every planned call of a tool uses, by tool name (``roles.server.pin``, resolved)."""
    call_mix: dict[str, float] = dataclasses.field(default_factory=dict)
    """The call kinds' shares (``scenarios.mix``): irrelevance goals offer as many tools as a call goal of a kind
    drawn by them would; without it, one to ``1 + distractors`` tools, uniformly."""


def pinned_arguments(pin: dict[str, dict[str, Any]], tools: Iterable[Tool]) -> dict[str, dict[str, Any]]:
    """``roles.server.pin`` ({name or glob: {argument: value}}) per tool name, keeping each tool's own
    arguments; when several patterns match a tool, later ones win."""
    pins: dict[str, dict[str, Any]] = {}
    for tool in tools:
        for pattern, values in pin.items():
            if tool.matches([pattern]):
                pins.setdefault(tool.name, {}).update({k: v for k, v in values.items() if k in tool.properties})
    return {name: values for name, values in pins.items() if values}


class ScenarioPlanner:
    def __init__(self, catalog: Catalog, values: ValueSampler, settings: ScenarioSettings, personas: list[str]):
        self.tools = list(catalog)
        self.by_name = {t.name: t for t in self.tools}
        self.values, self.settings, self.personas = values, settings, personas
        self._call_kinds = {k: w for k, w in settings.call_mix.items() if k in _OFFER_KINDS and w > 0}
        self._unlike: dict[str, list[str]] = {t.name: [] for t in self.tools}
        self._neighbours = self._plausible_neighbours() if len(self.tools) > 1 else {t.name: [] for t in self.tools}
        self._far = self._far_tools()
        self._feeds = self._feeding_tools()
        self._worlds: StatefulPlanner | None = None

    def _plausible_neighbours(self) -> dict[str, list[str]]:
        indices, sims = nearest(self.tools, NEIGHBOURS, [_catalog_of(t) for t in self.tools])
        neighbours, self._near, judged = {}, {}, judge(self.tools)
        for i, (tool, row, scores) in enumerate(zip(self.tools, indices, sims, strict=True)):
            keep = [(self.tools[j].name, s) for j, s in zip(row, scores, strict=True) if not judged(i, j)]
            neighbours[tool.name] = [name for name, _ in keep]
            # near-miss offers: not this similar either (the request names the target's task; a tool that may
            # well do it too would make 'no tool fits' a wrong label)
            self._unlike[tool.name] = [name for name, s in keep if s < _AMBIGUOUS]
            self._near[tool.name] = [self.tools[j].name for j in row]  # most similar first, redundant ones too
        return neighbours

    def _far_tools(self) -> dict[str, list[str]]:
        """For irrelevance: tools that are none of a tool's nearest (redundant ones included), other
        catalogs first, then in catalog order. In a catalog too small for that: its least similar
        tools that the judge does not call redundant with it. Each tool reads only the first tools
        of either list (``_catalog_heads``): enough for FAR after leaving out itself and its nearest."""
        if len(self.tools) < 2:
            return {t.name: [] for t in self.tools}
        heads, far = _catalog_heads(self.tools, FAR + NEIGHBOURS + 1), {}
        for tool in self.tools:
            near = set(self._near[tool.name])
            others = [n for n in chain(*heads[_catalog_of(tool)]) if n != tool.name and n not in near]
            far[tool.name] = others[:FAR] or self._least_similar(tool)
        return far

    def _least_similar(self, tool: Tool) -> list[str]:
        """The less similar half of a tool's nearest tools, least similar first, leaving out redundant ones."""
        fallback = [n for n in reversed(self._near[tool.name]) if not judged_redundant(tool, self.by_name[n])]
        return fallback[: max(1, len(fallback) // 2)]

    def _feeding_tools(self) -> dict[str, tuple[str, str] | None]:
        """For each tool, a (producer, field) whose output has a field (at any depth) named and typed like
        one of its parameters: identifiers first (ids, SKUs, codes), then required parameters, then the
        nearest producer (then the first by name); None when no tool's output feeds it."""
        producers = _Producers(self.tools)
        feeds: dict[str, tuple[str, str] | None] = {}
        for tool in self.tools:
            found = [(not _IDENTIFIER.search(p), p not in tool.required, *feed, p)
                     for p, schema in tool.properties.items() if (feed := self._feed(tool, p, schema, producers))]
            feeds[tool.name] = min(found)[3:] if found else None
        return feeds

    def _feed(self, tool: Tool, parameter: str, schema: dict, producers: _Producers) -> tuple[int, str] | None:
        """(rank, producer) of the best producer for one parameter: the nearest neighbour whose output feeds
        it, else the first feeding tool by name (ranked after every neighbour)."""
        neighbours = self._neighbours[tool.name]
        for rank, name in enumerate(neighbours):
            if name != tool.name and producers.feeds(name, parameter, schema):
                return rank, name
        name = producers.first(parameter, schema, besides=tool.name)
        return (len(neighbours), name) if name is not None else None

    def plan(self, complexity: str, target: str, rng: random.Random) -> Goal:
        tool = self.by_name[target]
        goal = getattr(self, f"_{complexity}")(tool, rng)
        goal.persona = rng.choice(self.personas)
        return goal

    def _call(self, tool: Tool, rng: random.Random) -> Call:
        arguments = self.values.arguments(tool, rng, optional_share=self.settings.optional_share)
        return Call(tool.name, {**arguments, **self.settings.pins.get(tool.name, {})})

    def _distractors(self, tool: Tool, rng: random.Random, exclude: set[str], count: int | None = None,
                     pool: list[str] | None = None) -> list[str]:
        """``count`` of the first ``3 * distractors`` of ``pool`` (the tool's plausible neighbours by default)."""
        pool = [n for n in (self._neighbours[tool.name] if pool is None else pool)[: 3 * self.settings.distractors]
                if n not in exclude]
        return rng.sample(pool, min(count if count is not None else self.settings.distractors, len(pool)))

    def _offer(self, needed: list[str], tool: Tool, rng: random.Random, count: int | None = None,
               pool: list[str] | None = None) -> list[str]:
        offered = needed + self._distractors(tool, rng, set(needed), count, pool)
        rng.shuffle(offered)
        return offered

    def _single(self, tool: Tool, rng: random.Random) -> Goal:
        return Goal("single", tool.name, [tool.name], [[self._call(tool, rng)]])

    def _parallel(self, tool: Tool, rng: random.Random) -> Goal:
        wanted, calls, keys = rng.randint(2, self.settings.max_parallel), [], set()
        for _ in range(4 * wanted):
            call = self._call(tool, rng)
            if call.key() not in keys:
                calls.append(call)
                keys.add(call.key())
            if len(calls) == wanted:
                break
        return Goal("parallel", tool.name, [tool.name], [calls])

    def _offer_size(self, complexity: str, rng: random.Random) -> int:
        """How many tools a call goal of this kind offers (see the module docstring)."""
        if complexity == "multiple":
            return 1 + rng.randint(1, self.settings.distractors)
        if complexity == "parallel_multiple":
            return 2 + rng.randint(0, self.settings.distractors)
        return 3 if complexity == "multi_step" else 1

    def _multiple(self, tool: Tool, rng: random.Random) -> Goal:
        offered = self._offer([tool.name], tool, rng, count=self._offer_size("multiple", rng) - 1)
        return Goal("multiple", tool.name, offered, [[self._call(tool, rng)]])

    def _parallel_multiple(self, tool: Tool, rng: random.Random) -> Goal:
        partners = [n for n in self._neighbours[tool.name][:8] if self.by_name[n].properties] or \
            [t.name for t in self.tools if t.name != tool.name and t.properties]
        partner = self.by_name[rng.choice(partners[:8])]
        calls = [self._call(tool, rng), self._call(partner, rng)]
        if rng.random() < 0.5:
            calls.append(self._call(rng.choice((tool, partner)), rng))
        calls = list({c.key(): c for c in calls}.values())
        others = self._offer_size("parallel_multiple", rng) - 2
        offered = self._offer([tool.name, partner.name], tool, rng, count=others)
        return Goal("parallel_multiple", tool.name, offered, [calls])

    def _multi_step(self, tool: Tool, rng: random.Random) -> Goal:
        """A producer's result supplies one of the target's arguments (its value is planned here)."""
        producer, field, argument = self._producer(tool, rng)
        second = self._call(tool, rng)
        if argument not in second.arguments:
            schema = tool.properties[argument]
            second = Call(tool.name, {**second.arguments,
                                      argument: self.values.value(argument, schema, rng, schema.get("description", ""))})
        first = self._call(producer, rng)
        link = Link(from_step=0, from_call=0, field=field, to_step=1, to_call=0, argument=argument)
        offered = self._offer([producer.name, tool.name], tool, rng, count=self._offer_size("multi_step", rng) - 2)
        return Goal("multi_step", tool.name, offered, [[first], [second]], links=[link])

    def _producer(self, tool: Tool, rng: random.Random) -> tuple[Tool, str, str]:
        """A tool whose output feeds ``tool``: prefer an output-schema field named like one of its parameters."""
        params = list(tool.properties)
        if self._feeds[tool.name]:
            producer, field = self._feeds[tool.name]
            return self.by_name[producer], field, field
        candidates = [n for n in self._neighbours[tool.name][:6]] or [t.name for t in self.tools if t.name != tool.name]
        producer = self.by_name[rng.choice(candidates)]
        ids = [p for p in params if p.endswith(("id", "Id", "ID"))]
        argument = rng.choice(ids or tool.required or params)
        return producer, argument, argument

    def _multi_turn(self, tool: Tool, rng: random.Random) -> Goal:
        goal = Goal("multi_turn", tool.name, [tool.name], [[self._call(tool, rng)]])
        goal.withheld = rng.choice(tool.required)
        return goal

    def stateful_planner(self) -> StatefulPlanner:
        """The planner of stateful goals over the catalog's environment tools (built on first use)."""
        if self._worlds is None:
            self._worlds = StatefulPlanner(self.tools)
        return self._worlds

    def _stateful(self, tool: Tool, rng: random.Random) -> Goal:
        return self.stateful_planner().plan(tool.name, rng)

    def _irrelevance(self, tool: Tool, rng: random.Random) -> Goal:
        # as many tools as call goals offer, so that how many tools are offered never tells whether to call one
        kinds = self._call_kinds
        if kinds:
            size = self._offer_size(rng.choices(list(kinds), list(kinds.values()))[0], rng)
        else:
            size = 1 + rng.randint(0, self.settings.distractors)
        if self.settings.near_miss and rng.random() < self.settings.near_miss:
            offered = self._offer([], tool, rng, count=size, pool=self._unlike[tool.name])
            if offered:  # the request a call episode of this tool makes, to tools that cannot serve it
                goal = Goal("irrelevance", tool.name, offered, [])
                goal.topic = tool.name
                return goal
        offered = self._offer([tool.name], tool, rng, count=size - 1)
        far = [n for n in self._far[tool.name] if n not in offered]
        goal = Goal("irrelevance", tool.name, offered, [])
        goal.topic = rng.choice(far) if far else None
        return goal


_OFFER_KINDS = frozenset(("single", "parallel", "multiple", "parallel_multiple", "multi_step", "multi_turn"))
"""Call kinds whose offered tools the planner chooses (stateful goals offer their environment's)."""


def _catalog_of(tool: Tool) -> str:
    """The catalog a tool came from ('bfcl' for every BFCL category)."""
    return "bfcl" if tool.source.startswith("bfcl:") else tool.source


def _catalog_heads(tools: list[Tool], limit: int) -> dict[str, tuple[list[str], list[str]]]:
    """For each catalog, the names of the first ``limit`` tools of the other catalogs and of its own, in
    catalog order: linear in the catalog (a scan for the others stops after ``limit`` of them)."""
    own: dict[str, list[str]] = {}
    for tool in tools:
        own.setdefault(_catalog_of(tool), []).append(tool.name)
    return {catalog: (list(islice((t.name for t in tools if _catalog_of(t) != catalog), limit)), names[:limit])
            for catalog, names in own.items()}


class _Producers:
    """The tools whose output has a field of a given name, grouped by the values the field takes (its JSON
    type and enum, all that ``compatible`` reads), names sorted: a parameter's producers are found by looking
    at a few groups, not at every tool."""

    def __init__(self, tools: list[Tool]):
        self.fields = {t.name: dict(output_fields(t.output_schema)) for t in tools if t.output_schema}
        self.groups: dict[str, dict[tuple, tuple[dict, list[str]]]] = {}
        for name in sorted(self.fields):
            for field, schema in self.fields[name].items():
                kind = (_json_type(schema), "enum" in schema, repr(schema.get("enum")))
                self.groups.setdefault(field, {}).setdefault(kind, (schema, []))[1].append(name)

    def feeds(self, name: str, field: str, parameter: dict) -> bool:
        """``name``'s output has a field ``field`` that a value drawn for ``parameter`` fits."""
        fields = self.fields.get(name, {})
        return field in fields and compatible(parameter, fields[field])

    def first(self, field: str, parameter: dict, besides: str) -> str | None:
        """The first tool by name, other than ``besides``, whose output feeds ``parameter`` through ``field``."""
        firsts = (next((n for n in names if n != besides), None)
                  for schema, names in self.groups.get(field, {}).values() if compatible(parameter, schema))
        return min((n for n in firsts if n is not None), default=None)


def output_fields(schema: Any, depth: int = 0) -> Iterator[tuple[str, dict]]:
    """(name, schema) of every named field of an output schema: object properties at any depth,
    through arrays' items (the first field of a name wins)."""
    if not isinstance(schema, dict) or depth > 5:
        return
    for name, sub in (schema.get("properties") or {}).items():
        if isinstance(sub, dict):
            yield name, sub
            yield from output_fields(sub, depth + 1)
    yield from output_fields(schema.get("items"), depth + 1)


def compatible(parameter: dict, field: dict) -> bool:
    """A value drawn for ``parameter`` also fits ``field``: the same JSON type (an integer fits a number)
    and, if the field has an enum, a parameter enum inside it."""
    kinds = (_json_type(parameter), _json_type(field))
    if kinds[0] != kinds[1] and kinds != ("integer", "number"):  # an integer is a number, not the reverse
        return False
    if "enum" in field:
        return isinstance(parameter.get("enum"), list) and all(v in field["enum"] for v in parameter["enum"])
    return True


def _json_type(schema: dict) -> str | None:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    return kind
