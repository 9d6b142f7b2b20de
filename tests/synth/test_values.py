"""ValueSampler: every value validates against its schema, values are realistic, sampling is deterministic."""

from __future__ import annotations

import datetime as dt
import json
import random
import re
import subprocess
import sys
import zoneinfo
from pathlib import Path
from urllib.parse import urlparse

import pytest
from jsonschema import Draft202012Validator

from inftool.catalog import Tool, read_bfcl, read_spec
from inftool.errors import DataUnavailableError
from inftool.synth.values.names import kind_for
from inftool.synth.values.regex_sample import sample_pattern
from inftool.synth.values.rules import default_number, description_examples
from inftool.synth.values.sampler import ValueSampler

REPO = Path(__file__).resolve().parents[2]
CATALOGS = sorted((REPO / "catalog").glob("*.yaml")) + [REPO / "catalog" / "openapi" / "library.yaml"]
FORMATS = Draft202012Validator.FORMAT_CHECKER
_HOSTNAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$", re.IGNORECASE)


@pytest.fixture(scope="module")
def catalog_tools() -> list[Tool]:
    return [tool for path in CATALOGS for tool in read_spec(path).tools]


@pytest.fixture(scope="module")
def bfcl_tools() -> list[Tool]:
    try:
        return read_bfcl(["simple_python", "multiple", "parallel", "parallel_multiple"]).tools
    except DataUnavailableError as exc:  # offline without the cached wheel
        pytest.skip(f"BFCL data unavailable: {exc}")


def _strict_formats(value, schema) -> bool:
    """Formats the default checker does not check (date-time, time, uri, hostname), checked here."""
    if isinstance(schema, dict) and isinstance(value, str):
        fmt = schema.get("format")
        if fmt == "date-time" and not dt.datetime.fromisoformat(value).tzinfo:
            return False
        if fmt == "time" and not re.fullmatch(r"\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})", value):
            return False
        if fmt in ("uri", "url") and not (urlparse(value).scheme and urlparse(value).netloc):
            return False
        if fmt == "hostname" and not _HOSTNAME.match(value):
            return False
    if isinstance(schema, dict) and isinstance(value, dict):
        props = schema.get("properties") or {}
        return all(_strict_formats(v, props.get(k)) for k, v in value.items())
    if isinstance(schema, dict) and isinstance(value, list):
        return all(_strict_formats(v, schema.get("items")) for v in value)
    return True


def _share_valid(tools: list[Tool], seeds=(0, 1, 2), per_parameter: int = 3) -> tuple[float, list[str], list[str]]:
    total, failures, unsatisfiable = 0, [], []
    for seed in seeds:
        sampler, rng = ValueSampler(seed), random.Random(seed)
        for tool in tools:
            for name, schema in tool.properties.items():
                validator = Draft202012Validator(schema, format_checker=FORMATS)
                for _ in range(per_parameter):
                    value = sampler.value(name, schema, rng)
                    total += 1
                    if not (validator.is_valid(value) and _strict_formats(value, schema)):
                        failures.append(f"{tool.name}.{name}={value!r}")
        unsatisfiable += sampler.unsatisfiable
    return 1 - len(failures) / max(total, 1), failures, unsatisfiable


def test_every_catalog_parameter_value_validates(catalog_tools):
    share, failures, unsatisfiable = _share_valid(catalog_tools)
    assert unsatisfiable == []
    assert share == 1.0, failures[:10]


def test_every_bfcl_parameter_value_validates(bfcl_tools):
    share, failures, unsatisfiable = _share_valid(bfcl_tools, seeds=(0, 5), per_parameter=2)
    assert unsatisfiable == []
    assert share == 1.0, failures[:10]


def test_arguments_and_results_validate(catalog_tools, bfcl_tools):
    sampler, rng = ValueSampler(3), random.Random(3)
    for tool in catalog_tools + bfcl_tools[:200]:
        validator = Draft202012Validator(tool.parameters, format_checker=FORMATS)
        for share in (0.0, 0.5, 1.0):
            arguments = sampler.arguments(tool, rng, optional_share=share)
            assert validator.is_valid(arguments), (tool.name, arguments)
            assert set(tool.required) <= set(arguments)
            if share == 0.0:
                assert set(arguments) == set(tool.required)
            if share == 1.0:
                assert set(arguments) == set(tool.properties)
        result = sampler.result(tool, arguments, rng)
        json.dumps(result)
        if tool.output_schema:
            assert Draft202012Validator(tool.output_schema, format_checker=FORMATS).is_valid(result), (tool.name, result)
            assert _strict_formats(result, tool.output_schema)
        else:
            assert isinstance(result, dict) and result


def test_results_echo_arguments_and_force_fields(catalog_tools):
    tools = {t.name: t for t in catalog_tools}
    sampler, rng = ValueSampler(0), random.Random(0)
    service = tools["get_service"]
    result = sampler.result(service, {"service_name": "checkout-api"}, rng)
    assert result["service_name"] == "checkout-api"
    search = tools["search_flights"]
    arguments = sampler.arguments(search, rng)
    forced = sampler.result(search, arguments, rng, must_include={"flight_id": "FL1234"})
    assert forced["offers"][0]["flight_id"] == "FL1234"
    by_path = sampler.result(search, arguments, rng, must_include={"offers[1].flight_id": "FL9"})
    assert by_path["offers"][1]["flight_id"] == "FL9"
    plain = Tool(name="get_thing", original_name="get_thing", parameters={"type": "object"}, source="test")
    assert sampler.result(plain, {}, rng, must_include={"thing_id": "T-1"})["thing_id"] == "T-1"


def test_same_seed_and_rng_give_same_values(catalog_tools, bfcl_tools):
    def draw(seed: int) -> list:
        sampler, rng = ValueSampler(seed), random.Random(11)
        out = []
        for tool in catalog_tools + bfcl_tools[:100]:
            arguments = sampler.arguments(tool, rng)
            out.append([arguments, sampler.result(tool, arguments, rng)])
        return out

    assert draw(1) == draw(1)
    assert draw(1) != draw(2)


def test_values_do_not_depend_on_the_hash_seed():
    code = ("import random, json, hashlib; from inftool.synth.values.sampler import ValueSampler; s = ValueSampler(4); "
            "r = random.Random(4); names = ['person', 'email', 'city', 'phone', 'username', 'url', 'word']; "
            "v = [s.value(n, {'type': 'string'}, r) for n in names * 5]; "
            "print(hashlib.sha1(json.dumps(v).encode()).hexdigest())")
    digests = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO,
                              env={"PYTHONHASHSEED": seed, "PATH": ""}).stdout for seed in ("1", "2")}
    assert len(digests) == 1


def test_realistic_values_by_name():
    sampler, rng = ValueSampler(0), random.Random(0)
    value = sampler.value
    for _ in range(20):
        zoneinfo.ZoneInfo(value("timezone", {"type": "string"}, rng))
        assert re.fullmatch(r"[A-Z]{3}", value("currency", {"type": "string"}, rng))
        assert re.fullmatch(r".+, [A-Z]{2}", value("location", {"type": "string", "description": "The city and state, e.g. Boston, MA"}, rng))
        assert -90 <= value("latitude", {"type": "number"}, rng) <= 90
        assert 1990 <= value("year", {"type": "integer"}, rng) <= 2024
        assert "@" in value("email", {"type": "string"}, rng)
        assert value("order_id", {"type": "string"}, rng)[:3] in ("ORD", "ord") or value("order_id", {"type": "string"}, rng).isdigit()
    schema = {"type": "object", "properties": {"start_date": {"type": "string", "format": "date"},
                                               "end_date": {"type": "string", "format": "date"}},
              "required": ["start_date", "end_date"]}
    for _ in range(50):
        dates = value("range", schema, rng)
        assert dates["end_date"] > dates["start_date"]


def test_a_free_form_map_takes_the_keys_and_values_its_description_names():
    sampler, rng = ValueSampler(0), random.Random(0)
    grades = {"type": "object", "description": "A dictionary where keys represent subjects and values represent scores"}
    for _ in range(20):
        value = sampler.value("gradeDict", grades, rng, grades["description"])
        assert 2 <= len(value) <= 3 and all(type(v) is int and 50 <= v <= 100 for v in value.values()), value
        assert all(k in sampler.pool("topic") for k in value), value
    typed = {"type": "object", "description": "Keys are product names, values are prices.",
             "additionalProperties": {"type": "string"}}
    assert all(isinstance(v, str) for v in sampler.value("prices", typed, rng, typed["description"]).values())
    untyped = {**typed, "additionalProperties": True}
    assert all(isinstance(v, float) for v in sampler.value("prices", untyped, rng, typed["description"]).values())
    plain = {"type": "object", "description": "Extra labels."}
    assert all(isinstance(v, str) and k in sampler.pool("word") for k, v in
               sampler.value("labels", plain, rng, plain["description"]).items())


def test_a_formula_parameter_gets_a_formula_in_x():
    """A `function` to integrate is a formula (``3x^2 - 2x + 1``, ``x**3 + 4*x``), not a word from a pool; a
    `function` that is not mathematical, and the variable of a formula, are not formulas."""
    sampler, rng = ValueSampler(0), random.Random(0)
    term = r"[\d.]*\*?(x(\^\d|\*\*\d)?|(sin|cos|exp|log|sqrt)\(x\))"
    formula = re.compile(rf"-?{term}( [+-] ({term}|\d+))*")
    cases = [("function", "The polynomial function."), ("function", "The mathematical function as a string."),
             ("equation", ""), ("integrand_expression", "What to integrate")]
    for name, description in cases:
        values = {sampler.value(name, {"type": "string", "description": description}, rng) for _ in range(30)}
        assert len(values) > 20, (name, values)
        assert all(formula.fullmatch(v) for v in values), (name, [v for v in values if not formula.fullmatch(v)])
    for name, description in [("function", "The name of the cloud function to deploy."),
                              ("function_variable", "The variable present in the function, for instance x or y")]:
        value = sampler.value(name, {"type": "string", "description": description}, rng)
        assert not formula.fullmatch(value), (name, value)


def test_schema_shapes():
    sampler, rng = ValueSampler(0), random.Random(0)
    cases = [
        {"type": ["string", "null"], "maxLength": 3},
        {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
        {"type": "integer", "minimum": 10, "maximum": 10},
        {"type": "number", "multipleOf": 0.25, "minimum": 1, "maximum": 3},
        {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}, "minItems": 2, "uniqueItems": True},
        {"type": "array", "prefixItems": [{"type": "number"}, {"type": "string"}], "items": False},
        {"anyOf": [{"type": "integer", "minimum": 5}, {"type": "null"}]},
        {"allOf": [{"type": "string"}, {"minLength": 4}]},
        {"const": {"a": 1}},
        {"description": "Anything the caller wants echoed back."},
        {"type": "object", "additionalProperties": {"type": "integer"}, "minProperties": 1},
        {"type": "string", "pattern": "^(foo|ba[rz])-\\d{2,3}(?:-[A-F]{2})?$", "minLength": 6},
        {"type": "string", "minLength": 20},
    ]
    for schema in cases:
        validator = Draft202012Validator(schema, format_checker=FORMATS)
        for _ in range(30):
            sample = sampler.value("thing", schema, rng)
            assert validator.is_valid(sample), (schema, sample)
    assert sampler.unsatisfiable == []


@pytest.mark.parametrize("pattern", [
    "^[A-Z]{3}$", "^\\+[1-9][0-9]{6,14}$", "^([01][0-9]|2[0-3]):[0-5][0-9]$", "^(97[89])?[0-9]{9}[0-9X]$",
    "^[a-z][a-z0-9-]{1,62}$", "^[0-9]+(s|m|h|d)$", "(a|b)\\1c", "[^a-z]{3}\\w\\s\\d", "^INC-[0-9]+$", "x.y*z+",
])
def test_pattern_samples_match(pattern):
    rng = random.Random(0)
    for _ in range(50):
        text = sample_pattern(pattern, rng)
        assert text is not None and re.search(pattern, text), (pattern, text)


def test_description_examples():
    assert description_examples("The city and state, e.g. Boston, MA.") == ["Boston, MA"]
    assert description_examples("City and region or country, e.g. Lisbon, Portugal", pairs=True) == ["Lisbon, Portugal"]
    assert description_examples("Type of the lawsuit, e.g., 'IPR', 'Patent', 'Commercial', etc.") == ["IPR", "Patent", "Commercial"]
    assert description_examples("The gaming platform e.g. Xbox, Playstation, PC") == ["Xbox", "Playstation", "PC"]
    assert description_examples("Ticker symbols, e.g. [AAPL, MSFT, BRK.B]") == ["AAPL", "MSFT", "BRK.B"]
    assert description_examples("State or province code, e.g. CA or ON") == ["CA", "ON"]
    assert description_examples('Expression, e.g. rate(x{a="b"}[5m])') == ['rate(x{a="b"}[5m])']
    assert description_examples("No examples here.") == []


def test_description_examples_read_the_quoted_values_of_choice_and_default_clauses():
    assert description_examples("Phase transition. Can be 'melting', 'freezing', 'vaporization', 'condensation'.") == [
        "melting", "freezing", "vaporization", "condensation"]
    assert description_examples("Method to use. Choices are 'trapezoid' or 'simpson'. Default is 'trapezoid'.") == [
        "trapezoid", "simpson"]
    assert description_examples("The medium the charge is in. Default is 'vacuum'.") == ["vacuum"]
    assert description_examples('Sort order; must be one of "asc", "desc".') == ["asc", "desc"]
    assert description_examples("The roots to return: 'real' for real roots. Default value is 'real'.") == ["real"]
    # unquoted words after such clauses are prose, not values; a quoted format is not a value either
    assert description_examples("Can be any positive number. Defaults to the current user.") == []
    assert description_examples("Start date; must be 'YYYY-MM-DD', e.g. 'MM/DD/YYYY' or 'HH:MM'.") == []


def test_parameters_without_a_kind_take_the_values_their_description_names():
    tool = Tool(name="thermo_energy", original_name="thermo.energy", description="Energy of a phase change.",
                parameters={"type": "object", "required": ["phase", "stops", "reagent"], "properties": {
                    "phase": {"type": "string", "description": "Phase transition. Can be 'melting' or 'freezing'."},
                    "stops": {"type": "array", "items": {"type": "string"},
                              "description": "Additional cities to stop at on the way."},
                    "reagent": {"type": "string", "description": "The substance to heat."}}}, source="test")
    sampler, rng = ValueSampler(0), random.Random(0)
    draws = [sampler.arguments(tool, rng) for _ in range(200)]
    phases = [d["phase"] for d in draws]
    assert set(phases) <= {"melting", "freezing"} | set(sampler.pool("word")) and \
        sum(p in ("melting", "freezing") for p in phases) >= 150
    assert {s for d in draws for s in d["stops"]} <= set(sampler.pool("city"))
    assert {d["reagent"] for d in draws} <= set(sampler.pool("substance"))
    assert kind_for("stop_sequence", "Where generation stops.") is None  # 'stop' is not a place


def test_a_tool_without_parameters_gets_no_arguments():
    import random

    from inftool.catalog import Tool
    from inftool.synth.values.sampler import ValueSampler

    tool = Tool(name="list_data_sets", original_name="list-data-sets", description="List the data sets.",
                parameters={"type": "object", "properties": {}, "required": []}, source="test")
    sampler = ValueSampler(0)
    assert all(sampler.arguments(tool, random.Random(seed)) == {} for seed in range(20))


def test_time_and_timezone_arguments_are_what_real_servers_accept(tmp_path):
    """A saved MCP tools/list in the shape real time servers publish: an HH:MM time, and a description
    whose example zone does not exist (real servers reject such arguments)."""
    import json
    import random
    from zoneinfo import available_timezones

    from inftool.catalog import read_spec
    from inftool.synth.values.sampler import ValueSampler

    listing = {"tools": [{"name": "convert_time", "description": "Convert a time between timezones",
                          "inputSchema": {"type": "object", "required": ["source_timezone", "time", "target_timezone"],
                                          "properties": {
                                              "source_timezone": {"type": "string", "description": "Source IANA timezone "
                                                                  "name (e.g., 'Asia/Tokyo', 'America/San_Francisco')."},
                                              "time": {"type": "string", "description": "Time to convert in 24-hour "
                                                       "format (HH:MM)"},
                                              "target_timezone": {"type": "string", "description": "Target IANA "
                                                                  "timezone name"}}}}]}
    path = tmp_path / "tools.json"
    path.write_text(json.dumps(listing))
    tool = read_spec(path).tools[0]
    sampler, zones = ValueSampler(0), available_timezones()
    for seed in range(200):
        arguments = sampler.arguments(tool, random.Random(seed))
        assert arguments["source_timezone"] in zones and arguments["target_timezone"] in zones
        hours, minutes = arguments["time"].split(":")
        assert 0 <= int(hours) < 24 and 0 <= int(minutes) < 60


@pytest.mark.parametrize("name, description, kind", [
    ("unit", "The measurement unit of the radius (optional parameter, default is 'units').", "length_unit"),
    ("unit", "Unit of temperature.", "temperature_unit"),
    ("distance_unit", "", "length_unit"),
    ("units", "The unit the speed is given in.", "speed_unit"),
    ("unit", "", "unit"),  # says nothing of what it measures: every kind of unit
])
def test_a_unit_parameter_draws_units_of_what_it_measures(name, description, kind):
    assert kind_for(name, description) == kind


def test_a_unit_is_read_by_whole_words():
    assert kind_for("unit", "Unit based on the locale.") == "unit"  # 'based' is not a base
    assert kind_for("temp_unit", "") == "temperature_unit"


def test_numbers_on_a_wide_range_are_the_sizes_people_give():
    sampler, rng = ValueSampler(0), random.Random(0)
    schema = {"type": "integer", "description": "The input."}
    everything = [sampler.value("value", schema, rng) for _ in range(2000)]
    drawn = [v for v in everything if v <= 100]
    assert all(v >= 1 for v in everything) and len(drawn) / len(everything) > 0.85  # mostly small numbers
    assert sum(v <= 10 for v in drawn) / len(drawn) > 0.45  # as many in 1-10 as in 10-100, not 9% of them
    assert sum(v in (5, 10, 20, 25, 50, 100) for v in drawn) / len(drawn) > 0.15  # round numbers are favourites
    assert len(set(drawn)) > 60  # and still every size
    long = [v for v in everything if v >= 10000]  # and now and then a long one to copy digit by digit
    assert len(long) > 60 and len(set(long)) == len(long) and any(v >= 10 ** 6 for v in long)
    counts = [sampler.value("round_off", {"type": "integer"}, rng) for _ in range(300)]
    assert all(v <= 10 for v in counts)  # a number of decimals is never long
    bounded = [sampler.value("year", {"type": "integer", "minimum": 1990, "maximum": 2000}, rng) for _ in range(300)]
    assert all(1990 <= v <= 2000 for v in bounded) and len(set(bounded)) == 11  # a narrow range stays uniform
    floats = [sampler.value("value", {"type": "number"}, rng) for _ in range(1000)]
    assert sum(v < 10 for v in floats) / len(floats) > 0.4


def test_the_number_a_tool_works_on_is_not_a_count():
    """``number`` (prime_factors(number), gcd(number1, number2)) is the number itself, drawn like any number, where
    ``number_of_guests`` or ``num_results`` is a count (``number`` was read as one, so gcd's numbers were 1-10)."""
    sampler, rng = ValueSampler(0), random.Random(0)
    for name in ("number", "number1", "num"):
        drawn = [sampler.value(name, {"type": "integer"}, rng) for _ in range(300)]
        assert max(drawn) > 20 and len(set(drawn)) > 15, (name, sorted(set(drawn)))
    counts = [sampler.value("num_results", {"type": "integer"}, rng) for _ in range(300)]
    assert max(counts) <= 10


@pytest.mark.parametrize("items", ["number", "integer"])
def test_a_range_array_is_its_two_ends_in_order(items):
    """An array of numbers named like a range (``interval``) is a start and an end, the start lower: it was one to
    three numbers in any order ('interval 79.2, 10.07, and 79.0'), which no one asks for."""
    sampler, rng = ValueSampler(0), random.Random(0)
    schema = {"type": "array", "items": {"type": items}, "description": "The interval to integrate over."}
    for _ in range(200):
        low, high = sampler.value("interval", schema, rng)
        assert low < high
    assert all(1 <= len(sampler.value("values", schema, rng)) <= 3 for _ in range(50))  # other arrays as before
    three = {**schema, "minItems": 3}  # a schema that asks for more than two ends is obeyed
    assert all(len(sampler.value("interval", three, rng)) >= 3 for _ in range(20))


def test_a_default_a_description_states_is_a_value_people_give():
    assert default_number("Acceleration due to gravity. Default value is 9.81 m/s^2, earth's gravity.", False) == 9.81
    assert default_number("The initial velocity in m/s. Default is zero.", False) == 0
    assert default_number("Optional: decimals to round to. Default 0", True) == 0
    assert default_number("The x-value at which to evaluate. Optional, default to 0.00.", False) == 0
    assert default_number("Default is 12.57e10 (Vacuum Permeability).", False) is None  # not as people write it
    assert default_number("Default is 8.854 x 10^-12 F/m.", False) is None
    assert default_number("The gravity in m/s^2.", False) is None
    sampler, rng = ValueSampler(0), random.Random(0)
    schema = {"type": "number", "description": "Acceleration due to gravity. Default value is 9.81 m/s^2."}
    drawn = [sampler.value("gravity", schema, rng) for _ in range(200)]
    assert 20 < drawn.count(9.81) < 80 and all(2 <= v <= 30 for v in drawn)  # often the default, else near it


def test_a_measure_is_now_and_then_bigger_than_its_typical_range():
    sampler, rng = ValueSampler(0), random.Random(0)
    distances = [sampler.value("distance", {"type": "integer"}, rng) for _ in range(500)]
    assert sum(d <= 50 for d in distances) > 400 and any(d >= 150 for d in distances)  # 'a 150 meter building'
    assert max(distances) <= 500
    capped = [sampler.value("distance", {"type": "integer", "maximum": 40}, rng) for _ in range(300)]
    assert max(capped) <= 40  # a schema's maximum is a limit
    for name, top in (("probability", 0.95), ("age", 80), ("year", 2024), ("rating", 5)):  # limits, not typical
        assert max(sampler.value(name, {"type": "number"}, rng) for _ in range(300)) <= top


def test_a_point_is_two_coordinates():
    sampler, rng = ValueSampler(0), random.Random(0)
    points = [sampler.value("pointA", {"type": "array", "items": {"type": "integer"}}, rng) for _ in range(200)]
    assert all(len(p) in (2, 3) for p in points) and sum(len(p) == 2 for p in points) > 130
    assert all(-5 <= v <= 20 for p in points for v in p)  # small coordinates, not ids
    assert all(len(sampler.value("point", {"type": "array", "items": {"type": "integer"}, "maxItems": 2}, rng)) == 2
               for _ in range(50))
