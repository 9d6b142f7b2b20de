"""The one argument check: JSON Schema with formats enforced, unknown arguments rejected; and the value
generators write values that pass it for every format they claim."""

from __future__ import annotations

import random

import pytest

from inftool.catalog import Tool
from inftool.catalog.arguments import ArgumentChecks
from inftool.reward import RewardConfig, score
from inftool.synth.values.sampler import ValueSampler

FORMATS = ["date", "date-time", "time", "email", "uuid", "ipv4", "ipv6", "uri", "hostname", "duration"]
BAD = {"date": "tomorrow", "date-time": "not a date", "time": "noon", "email": "nobody", "uuid": "123",
       "ipv4": "300.1.1.1", "ipv6": "::zz", "uri": "not a uri", "hostname": "-bad host-", "duration": "3 days"}


def tool_with(fmt: str) -> Tool:
    return Tool(name="book", original_name="book", description="Book something.", source="test",
                parameters={"type": "object", "properties": {"when": {"type": "string", "format": fmt}},
                            "required": ["when"]})


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_value_of_the_wrong_format_is_rejected(fmt):
    problem = ArgumentChecks().problem(tool_with(fmt), {"when": BAD[fmt]})
    assert problem is not None and "when" in problem


@pytest.mark.parametrize("fmt", FORMATS)
def test_generated_values_pass_the_format_check(fmt):
    tool, checks, sampler, rng = tool_with(fmt), ArgumentChecks(), ValueSampler(3), random.Random(fmt)
    for _ in range(200):
        arguments = sampler.arguments(tool, rng)
        assert checks.problem(tool, arguments) is None, arguments


def test_unknown_arguments_are_rejected_unless_the_schema_allows_them():
    tool = tool_with("date")
    assert "unknown argument 'extra'" in ArgumentChecks().problem(tool, {"when": "2025-01-02", "extra": 1})
    open_tool = tool.model_copy(update={"parameters": {**tool.parameters, "additionalProperties": True}})
    assert ArgumentChecks().problem(open_tool, {"when": "2025-01-02", "extra": 1}) is None


def test_the_reward_execution_gate_enforces_formats():
    functions = [{"name": "book", "description": "Book.", "parameters": {
        "type": "dict", "properties": {"when": {"type": "string", "format": "date-time"}}, "required": ["when"]}}]
    label = {"functions": functions, "ground_truth": [{"book": {"when": ["2025-01-02T10:00:00Z"]}}],
             "category": "simple_python"}
    gates = RewardConfig(gates=("format", "function_names", "execution"))
    good = score('<tool_call>{"name": "book", "arguments": {"when": "2025-01-02T10:00:00Z"}}</tool_call>', label,
                 gates)
    bad = score('<tool_call>{"name": "book", "arguments": {"when": "not a date"}}</tool_call>', label, gates)
    assert "execution" in good.passed and "execution" not in bad.passed
