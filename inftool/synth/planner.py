"""Scenario planning: from a (complexity, tool) cell to the user's hidden Goal.

Distractors are plausible, not random: the most similar tools by TF-IDF over names, descriptions
and parameters (same domain), leaving out tools the refinement judge calls redundant with the
target, which would make the right choice ambiguous. An irrelevance scenario asks for what a far
away tool does while offering the target and its neighbours.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from inftool.catalog import Catalog, Tool
from inftool.catalog.refine import judged_redundant, nearest

from .episode import Call, Goal, Link
from .values import ValueSampler

NEIGHBOURS = 24
_AMBIGUOUS = 0.6  # a neighbour this similar that the judge calls redundant could serve the request too


@dataclass(frozen=True)
class ScenarioSettings:
    distractors: int = 3
    max_parallel: int = 3
    optional_share: float = 0.5


class ScenarioPlanner:
    def __init__(self, catalog: Catalog, values: ValueSampler, settings: ScenarioSettings, personas: list[str]):
        self.tools = list(catalog)
        self.by_name = {t.name: t for t in self.tools}
        self.values, self.settings, self.personas = values, settings, personas
        self._neighbours = self._plausible_neighbours() if len(self.tools) > 1 else {t.name: [] for t in self.tools}
        self._far = self._far_tools()
        self._feeds = self._feeding_tools()

    def _plausible_neighbours(self) -> dict[str, list[str]]:
        indices, sims = nearest(self.tools, NEIGHBOURS)
        neighbours = {}
        for tool, row, scores in zip(self.tools, indices, sims, strict=True):
            keep = [self.tools[j] for j, s in zip(row, scores, strict=True)
                    if not (s >= _AMBIGUOUS and judged_redundant(tool, self.tools[j]))]
            neighbours[tool.name] = [t.name for t in keep]
        return neighbours

    def _far_tools(self) -> dict[str, list[str]]:
        """For irrelevance: tools that are no neighbour of a tool (another domain), in catalog order."""
        if len(self.tools) < 2:
            return {t.name: [] for t in self.tools}
        near = {t: set(n) for t, n in self._neighbours.items()}
        names = [t.name for t in self.tools]
        return {t: [n for n in names if n != t and n not in near[t]][:200] or [n for n in names if n != t]
                for t in names}

    def _feeding_tools(self) -> dict[str, tuple[str, str] | None]:
        """For each tool, a (producer, field) whose output schema has a field named like one of its
        parameters, neighbours first; None when no tool's output feeds it."""
        outputs = [(t.name, set((t.output_schema or {}).get("properties", {}))) for t in self.tools]
        outputs = [(name, fields) for name, fields in outputs if fields]
        feeds: dict[str, tuple[str, str] | None] = {}
        for tool in self.tools:
            order = {name: i for i, name in enumerate(self._neighbours[tool.name])}
            found = [(order.get(name, len(order)), name, p) for name, fields in outputs if name != tool.name
                     for p in tool.properties if p in fields]
            feeds[tool.name] = min(found)[1:] if found else None
        return feeds

    def plan(self, complexity: str, target: str, rng: random.Random) -> Goal:
        tool = self.by_name[target]
        goal = getattr(self, f"_{complexity}")(tool, rng)
        goal.persona = rng.choice(self.personas)
        return goal

    def _call(self, tool: Tool, rng: random.Random) -> Call:
        return Call(tool.name, self.values.arguments(tool, rng, optional_share=self.settings.optional_share))

    def _distractors(self, tool: Tool, rng: random.Random, exclude: set[str], count: int | None = None) -> list[str]:
        pool = [n for n in self._neighbours[tool.name][: 3 * self.settings.distractors] if n not in exclude]
        return rng.sample(pool, min(count if count is not None else self.settings.distractors, len(pool)))

    def _offer(self, needed: list[str], tool: Tool, rng: random.Random, count: int | None = None) -> list[str]:
        offered = needed + self._distractors(tool, rng, set(needed), count)
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

    def _multiple(self, tool: Tool, rng: random.Random) -> Goal:
        return Goal("multiple", tool.name, self._offer([tool.name], tool, rng), [[self._call(tool, rng)]])

    def _parallel_multiple(self, tool: Tool, rng: random.Random) -> Goal:
        partners = [n for n in self._neighbours[tool.name][:8] if self.by_name[n].properties] or \
            [t.name for t in self.tools if t.name != tool.name and t.properties]
        partner = self.by_name[rng.choice(partners[:8])]
        calls = [self._call(tool, rng), self._call(partner, rng)]
        if rng.random() < 0.5:
            calls.append(self._call(rng.choice((tool, partner)), rng))
        calls = list({c.key(): c for c in calls}.values())
        return Goal("parallel_multiple", tool.name, self._offer([tool.name, partner.name], tool, rng), [calls])

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
        offered = self._offer([producer.name, tool.name], tool, rng, count=1)
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

    def _irrelevance(self, tool: Tool, rng: random.Random) -> Goal:
        offered = self._offer([tool.name], tool, rng)
        far = [n for n in self._far[tool.name] if n not in offered]
        goal = Goal("irrelevance", tool.name, offered, [])
        goal.topic = rng.choice(far) if far else None
        return goal
