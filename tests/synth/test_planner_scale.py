"""The planner on large catalogs: far tools (irrelevance topics) and feeding tools (multi-step producers) come
from indexes linear in the catalog, and are exactly what their definitions over every pair of tools give."""

from __future__ import annotations

import random

import pytest

from inftool.catalog import Catalog, Tool
from inftool.synth import planner as planning
from inftool.synth.language.phrasing import PERSONAS
from inftool.synth.planner import (
    ScenarioPlanner,
    ScenarioSettings,
    compatible,
    output_fields,
)
from inftool.synth.values.sampler import ValueSampler

FIELDS = ("orderId", "customerId", "city", "currency", "amount", "status", "code", "limit")
KINDS = [{"type": "string"}, {"type": "integer"}, {"type": "number"}, {"type": "string", "enum": ["open", "closed"]},
         {"type": "string", "enum": ["open"]}, {"type": ["string", "null"]}]
WORDS = ("order", "customer", "payment", "refund", "shipment", "invoice", "weather", "forecast", "city", "currency")


def random_tools(seed: int, size: int) -> list[Tool]:
    """Tools of three catalogs whose parameters and output fields share names and differ in type and enum."""
    rng = random.Random(seed)
    tools = []
    for i in range(size):
        params = {f: rng.choice(KINDS) for f in rng.sample(FIELDS, rng.randint(1, 3))}
        output = {f: rng.choice(KINDS) for f in rng.sample(FIELDS, rng.randint(0, 3))}
        nested = {"type": "object", "properties": {"data": {"type": "array", "items": {
            "type": "object", "properties": output}}}} if rng.random() < 0.3 else {"type": "object", "properties": output}
        tools.append(Tool(name=f"tool_{i}_{rng.choice(WORDS)}", original_name=f"tool_{i}", source=rng.choice("abc"),
                          description=" ".join(rng.choices(WORDS, k=6)), meta={},
                          parameters={"type": "object", "properties": params, "required": list(params)[:1]},
                          output_schema=nested if output else None))
    return tools


def brute_far(planner: ScenarioPlanner, tool: Tool, far: int) -> list[str]:
    """Every tool but itself and its nearest, other catalogs first, in catalog order: the first ``far``."""
    near = set(planner._near[tool.name])
    others = [t for t in planner.tools if t.name != tool.name and t.name not in near]
    others.sort(key=lambda t: planning._catalog_of(t) == planning._catalog_of(tool))
    return [t.name for t in others[:far]] or planner._least_similar(tool)


def brute_feed(planner: ScenarioPlanner, tool: Tool) -> tuple[str, str] | None:
    """Over every (producer, parameter): identifiers first, then required, then the nearest, then by name."""
    order = {name: i for i, name in enumerate(planner._neighbours[tool.name])}
    found = [(not planning._IDENTIFIER.search(p), p not in tool.required, order.get(t.name, len(order)), t.name, p)
             for t in planner.tools if t.output_schema and t.name != tool.name
             for p, schema in tool.properties.items()
             if p in (fields := dict(output_fields(t.output_schema))) and compatible(schema, fields[p])]
    return min(found)[3:] if found else None


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("far", [3, 40, 200])
def test_far_and_feeding_tools_are_their_brute_force_definitions(monkeypatch, seed, far):
    monkeypatch.setattr(planning, "FAR", far)
    tools = random_tools(seed, 160)
    planner = ScenarioPlanner(Catalog(tools), ValueSampler(0), ScenarioSettings(), PERSONAS)
    assert {t.name: brute_far(planner, t, far) for t in tools} == planner._far
    feeds = {t.name: brute_feed(planner, t) for t in tools}
    assert feeds == planner._feeds
    assert sum(f is not None for f in feeds.values()) > 100  # not vacuous: most tools have a producer
