"""ScenarioPlanner: one Goal per complexity, with the right shape, valid arguments, plausible distractors,
linked multi_step calls, withheld multi_turn arguments, far irrelevance topics, and determinism."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from inftool.catalog import Catalog, Tool, read_bfcl, read_spec
from inftool.catalog.arguments import ArgumentChecks
from inftool.catalog.refine import judged_redundant, nearest, similarity_matrix
from inftool.core.episode import Call, Goal, Link
from inftool.errors import DataUnavailableError
from inftool.synth.language.phrasing import PERSONAS
from inftool.synth.planner import _AMBIGUOUS, ScenarioPlanner, ScenarioSettings
from inftool.synth.roles.procedural import ProceduralServer
from inftool.synth.values.sampler import ValueSampler

REPO = Path(__file__).resolve().parents[2]
DOMAINS = ("travel", "finance", "devops", "health", "commerce")
COMPLEXITIES = ("single", "parallel", "multiple", "parallel_multiple", "multi_step", "multi_turn", "irrelevance")


def eligible(tool: Tool, complexity: str) -> bool:
    """The compiler's eligibility rules (inftool.compile.compiler._ELIGIBLE) for catalogs of >= 2 tools."""
    if complexity in ("parallel", "parallel_multiple", "multi_step"):
        return bool(tool.properties)
    if complexity == "multi_turn":
        return bool(tool.required)
    return True


def planner_for(tools: list[Tool], seed: int = 0, **settings: Any) -> ScenarioPlanner:
    return ScenarioPlanner(Catalog(tools), ValueSampler(seed), ScenarioSettings(**settings), PERSONAS)


def find_field(value: Any, field: str) -> list[Any]:
    """Every value stored under key ``field`` anywhere in ``value`` (top level first, then nested)."""
    found, queue = [], [value]
    while queue:
        node = queue.pop(0)
        if isinstance(node, dict):
            if field in node:
                found.append(node[field])
            queue += [v for v in node.values() if isinstance(v, (dict, list))]
        elif isinstance(node, list):
            queue += [v for v in node if isinstance(v, (dict, list))]
    return found


@pytest.fixture(scope="module")
def domain_of() -> dict[str, str]:
    return {t.name: d for d in DOMAINS for t in read_spec(REPO / "catalog" / f"{d}.yaml").tools}


@pytest.fixture(scope="module")
def shipped() -> list[Tool]:
    """The union of the five shipped domain catalogs (55 tools, unique names)."""
    return [t for d in DOMAINS for t in read_spec(REPO / "catalog" / f"{d}.yaml").tools]


@pytest.fixture(scope="module")
def planner(shipped) -> ScenarioPlanner:
    return planner_for(shipped)


@pytest.fixture(scope="module")
def near_duplicates() -> list[Tool]:
    return read_spec(REPO / "catalog" / "near_duplicates.yaml").tools


@pytest.fixture(scope="module")
def bfcl() -> list[Tool]:
    try:
        return read_bfcl(["simple_python", "multiple", "parallel", "parallel_multiple"]).tools
    except DataUnavailableError as exc:
        pytest.skip(f"BFCL data unavailable: {exc}")


def test_union_catalog_is_what_the_tests_assume(shipped, domain_of):
    assert len(shipped) == 55 and len({t.name for t in shipped}) == 55
    assert Counter(domain_of.values()) == {"travel": 11, "finance": 11, "devops": 12, "health": 10, "commerce": 11}


# --- shapes --------------------------------------------------------------------------------------------


def test_single(planner, shipped):
    checks = ArgumentChecks()
    for i, tool in enumerate(shipped):
        goal = planner.plan("single", tool.name, random.Random(i))
        assert goal.complexity == "single" and goal.target == tool.name
        assert goal.offered == [tool.name]
        assert len(goal.steps) == 1 and len(goal.steps[0]) == 1 and goal.calls[0].name == tool.name
        assert set(tool.required) <= set(goal.calls[0].arguments) <= set(tool.properties)
        assert checks.problem(tool, goal.calls[0].arguments) is None
        assert goal.links == [] and goal.withheld is None and goal.topic is None
        assert goal.persona in PERSONAS


@pytest.mark.parametrize("max_parallel", [3, 5])
def test_parallel_calls_one_tool_two_to_max_times_all_distinct(shipped, max_parallel):
    planner = planner_for(shipped, max_parallel=max_parallel)
    sizes = Counter()
    for tool in shipped:
        if not eligible(tool, "parallel"):
            continue
        for seed in range(6):
            goal = planner.plan("parallel", tool.name, random.Random(seed))
            assert goal.offered == [tool.name] and len(goal.steps) == 1
            calls = goal.steps[0]
            assert 2 <= len(calls) <= max_parallel, (tool.name, calls)
            assert {c.name for c in calls} == {tool.name}
            assert len({c.key() for c in calls}) == len(calls), "parallel calls must differ"
            sizes[len(calls)] += 1
    assert set(sizes) == set(range(2, max_parallel + 1))  # every size in the range occurs


@pytest.mark.parametrize("distractors", [1, 3, 5])
def test_multiple_offers_the_target_and_one_to_n_plausible_distractors(shipped, distractors):
    planner, sizes = planner_for(shipped, distractors=distractors), Counter()
    for tool in shipped:
        for seed in range(3):
            goal = planner.plan("multiple", tool.name, random.Random(seed))
            assert tool.name in goal.offered
            assert 2 <= len(goal.offered) <= 1 + distractors and len(goal.offered) == len(set(goal.offered))
            sizes[len(goal.offered)] += 1
            extra = [n for n in goal.offered if n != tool.name]
            # drawn from the target's nearest plausible neighbours, not from anywhere in the catalog
            assert set(extra) <= set(planner._neighbours[tool.name][: 3 * distractors])
            assert [c.name for c in goal.calls] == [tool.name]
    assert {2, min(3, 1 + distractors)} <= set(sizes)  # the count varies (BFCL's multiple offers 2-4)


def test_multiple_shuffles_the_target_position(planner):
    positions = {planner.plan("multiple", "search_flights", random.Random(s)).offered.index("search_flights")
                 for s in range(40)}
    assert positions == {0, 1, 2, 3}


def test_parallel_multiple_calls_two_different_offered_tools(planner, shipped):
    checks, counts, sizes = ArgumentChecks(), Counter(), Counter()
    for tool in shipped:
        if not eligible(tool, "parallel_multiple"):
            continue
        for seed in range(4):
            goal = planner.plan("parallel_multiple", tool.name, random.Random(seed))
            assert len(goal.steps) == 1
            names = {c.name for c in goal.calls}
            assert len(names) == 2 and tool.name in names, goal.calls
            assert names <= set(goal.offered)
            assert 2 <= len(goal.offered) <= 2 + 3 and len(goal.offered) == len(set(goal.offered))
            assert len({c.key() for c in goal.calls}) == len(goal.calls)
            assert all(checks.problem(planner.by_name[c.name], c.arguments) is None for c in goal.calls)
            counts[len(goal.calls)] += 1
            sizes[len(goal.offered)] += 1
    assert set(counts) == {2, 3}  # sometimes one of the two tools is called a second time
    assert set(sizes) == {2, 3, 4, 5}  # the two tools alone, or with up to `distractors` others


def test_multi_step_link_names_real_fields_and_the_server_result_carries_the_value(planner, shipped):
    values, checks = planner.values, ArgumentChecks()
    server = ProceduralServer(values, checks)
    for tool in shipped:
        if not eligible(tool, "multi_step"):
            continue
        for seed in range(3):
            rng = random.Random(seed)
            goal = planner.plan("multi_step", tool.name, rng)
            assert [len(step) for step in goal.steps] == [1, 1]
            first, second = goal.steps[0][0], goal.steps[1][0]
            assert second.name == tool.name and first.name != tool.name
            assert {first.name, second.name} <= set(goal.offered) and len(goal.offered) == 3
            (link,) = goal.links
            assert (link.from_step, link.from_call, link.to_step, link.to_call) == (0, 0, 1, 0)
            assert link.argument in tool.properties and link.argument in second.arguments
            assert checks.problem(tool, second.arguments) is None
            result = server.call(planner.by_name[first.name], first, goal, [], rng)
            assert not result.error, result.content
            found = find_field(result.content, link.field)
            assert found and found[0] == second.arguments[link.argument], (first.name, link, result.content)


def test_multi_step_uses_the_documented_top_level_id_chains(planner):
    """README: ids returned at the top level of an output schema feed the next tool."""
    chains = {
        "record_invoice_payment": ("create_invoice", "invoice_id"),
        "update_incident": ("create_incident", "incident_id"),
        "cancel_appointment": ("book_appointment", "appointment_id"),
        "get_order_status": ("place_order", "order_id"),
        "update_cart_item": ("add_to_cart", "cart_id"),
        "rebalance_portfolio": ("get_portfolio", "portfolio_id"),
    }
    for target, (producer, field) in chains.items():
        for seed in range(5):
            goal = planner.plan("multi_step", target, random.Random(seed))
            assert goal.steps[0][0].name == producer
            assert goal.links == [Link(0, 0, field, 1, 0, field)]


def test_multi_step_uses_the_documented_nested_id_chains(planner):
    chains = {
        "get_seat_map": ("search_flights", "flight_id"),
        "get_hotel_availability": ("search_hotels", "hotel_id"),
        "book_hotel_room": ("get_hotel_availability", "rate_id"),
        "get_available_slots": ("find_clinicians", "clinician_id"),
        "add_to_cart": {("search_products", "sku"), ("get_cart", "cart_id"), ("get_cart", "sku")},  # all real
    }
    for target, expected in chains.items():
        expected = expected if isinstance(expected, set) else {expected}
        for seed in range(5):
            goal = planner.plan("multi_step", target, random.Random(seed))
            assert (goal.steps[0][0].name, goal.links[0].argument) in expected, (target, seed, goal.steps[0][0].name)


def test_multi_step_producer_results_stay_valid_for_their_output_schema(planner, shipped):
    server = ProceduralServer(planner.values, ArgumentChecks())
    invalid = []
    for tool in shipped:
        if not eligible(tool, "multi_step"):
            continue
        for seed in range(3):
            rng = random.Random(seed)
            goal = planner.plan("multi_step", tool.name, rng)
            producer = planner.by_name[goal.steps[0][0].name]
            result = server.call(producer, goal.steps[0][0], goal, [], rng)
            if producer.output_schema:
                error = next(Draft202012Validator(producer.output_schema).iter_errors(result.content), None)
                if error is not None:
                    invalid.append((producer.name, tool.name, goal.links[0].field, error.message[:80]))
    assert not invalid, invalid


def test_multi_turn_withholds_a_required_argument_that_the_call_has(planner, shipped):
    withheld = Counter()
    for tool in shipped:
        if not eligible(tool, "multi_turn"):
            continue
        for seed in range(4):
            goal = planner.plan("multi_turn", tool.name, random.Random(seed))
            assert goal.offered == [tool.name] and len(goal.calls) == 1
            assert goal.withheld in tool.required
            assert goal.withheld in goal.calls[0].arguments
            withheld[(tool.name, goal.withheld)] += 1
    # more than one required argument gets withheld for tools that have several
    search_flights = {arg for (name, arg) in withheld if name == "search_flights"}
    assert len(search_flights) >= 2 and search_flights <= {"origin", "destination", "depart_date"}


def test_irrelevance_asks_for_a_far_tool_that_is_not_offered(planner, shipped, domain_of):
    cross_domain = 0
    for tool in shipped:
        for seed in range(3):
            goal = planner.plan("irrelevance", tool.name, random.Random(seed))
            assert goal.steps == [] and goal.calls == [] and goal.links == []
            assert tool.name in goal.offered and 1 <= len(goal.offered) <= 4
            assert goal.topic is not None and goal.topic != tool.name
            assert goal.topic not in goal.offered
            assert goal.topic not in planner._neighbours[tool.name]
            cross_domain += domain_of[goal.topic] != domain_of[tool.name]
    assert cross_domain >= 0.75 * 3 * len(shipped)  # measured: 140 of 165 (85%)
    # as many tools as call episodes offer, one alone included: the count never tells whether to call
    sizes = Counter(len(planner.plan("irrelevance", tool.name, random.Random(f"{tool.name}:{seed}")).offered)
                    for tool in shipped for seed in range(8))
    assert set(sizes) == {1, 2, 3, 4} and min(sizes.values()) >= 0.15 * sum(sizes.values()), sizes


def test_the_number_of_offered_tools_does_not_tell_whether_to_call(shipped):
    """With the mix's call kinds given, irrelevance goals offer as many tools as call goals do: at every count the
    share of irrelevance goals is the mix's (a policy cannot learn 'two tools: decline')."""
    mix = {"single": 0.3, "parallel": 0.1, "multiple": 0.3, "parallel_multiple": 0.1, "multi_step": 0.1,
           "multi_turn": 0.1}
    planner = planner_for(shipped, distractors=2, near_miss=0.5, call_mix={**mix, "irrelevance": 0.5})
    rng, calls, declines = random.Random(3), Counter(), Counter()
    eligible_kinds = {k: [t for t in shipped if eligible(t, k)] for k in mix}
    for _ in range(3000):
        kind = rng.choices(list(mix), list(mix.values()))[0]
        calls[len(planner.plan(kind, rng.choice(eligible_kinds[kind]).name, rng).offered)] += 1
        declines[len(planner.plan("irrelevance", rng.choice(shipped).name, rng).offered)] += 1
    assert set(declines) == set(calls), (calls, declines)
    for size in calls:  # each count is as common among declines as among calls (within sampling noise)
        assert abs(declines[size] - calls[size]) <= 0.03 * 3000 + 0.1 * calls[size], (size, calls, declines)


def test_irrelevance_topic_is_never_a_tool_redundant_with_the_target(near_duplicates):
    planner = planner_for(near_duplicates)
    sims = similarity_matrix(near_duplicates)
    index = {t.name: i for i, t in enumerate(near_duplicates)}
    served = []
    for tool in near_duplicates:
        for seed in range(10):
            topic = planner.plan("irrelevance", tool.name, random.Random(seed)).topic
            other = planner.by_name[topic]
            if sims[index[tool.name], index[topic]] >= _AMBIGUOUS and judged_redundant(tool, other):
                served.append((tool.name, topic))
    assert not served, Counter(served)


def test_near_miss_irrelevance_asks_for_the_target_with_only_its_distractors_offered(shipped):
    """``scenarios.near_miss``: the request a call episode of the target makes, to the target's plausible
    neighbours only (never a tool redundant with it), so that calling depends on the offered tools."""
    planner = planner_for(shipped, near_miss=1.0)
    for tool in shipped:
        for seed in range(3):
            goal = planner.plan("irrelevance", tool.name, random.Random(seed))
            assert goal.topic == tool.name and tool.name not in goal.offered and goal.calls == []
            assert 1 <= len(goal.offered) <= 1 + 3 and set(goal.offered) <= set(planner._neighbours[tool.name])
    half = planner_for(shipped, near_miss=0.5)
    near = sum(half.plan("irrelevance", t.name, random.Random(f"{t.name}:{s}")).topic == t.name
               for t in shipped for s in range(4))
    assert 0.35 * 4 * len(shipped) <= near <= 0.65 * 4 * len(shipped)
    lone = next(t for t in shipped if t.name == "search_flights")  # no neighbours to offer: the far-topic plan
    goal = planner_for([lone], near_miss=1.0).plan("irrelevance", lone.name, random.Random(0))
    assert goal.offered == [lone.name] and goal.topic is None


def test_near_miss_never_offers_a_tool_that_may_do_the_task_too(bfcl):
    """BFCL has geometry.area_circle beside math.circle_area (TF-IDF 0.69; the judge keeps them apart, as their
    names differ by 'geometry'): a near-miss request for the area of a circle offered the other one would teach
    declining a question that tool answers. Near-miss offers are less similar than ``_AMBIGUOUS`` and never
    judged redundant with the target."""
    planner = planner_for(bfcl, distractors=3, near_miss=1.0)
    sims = similarity_matrix(planner.tools)  # the catalog's names (duplicates renamed)
    index = {t.name: i for i, t in enumerate(planner.tools)}
    close = []
    for tool in planner.tools:
        for seed in range(4):
            goal = planner.plan("irrelevance", tool.name, random.Random(seed))
            if goal.topic != tool.name:
                continue
            for name in goal.offered:
                if sims[index[tool.name], index[name]] >= _AMBIGUOUS or judged_redundant(tool, planner.by_name[name]):
                    close.append((tool.name, name))
    assert not close, Counter(close)


# --- validity over large catalogs ----------------------------------------------------------------------


def _all_arguments_valid(tools: list[Tool]) -> tuple[int, list]:
    planner, checks, problems, checked = planner_for(tools, seed=5), ArgumentChecks(), [], 0
    rng = random.Random(5)
    for tool in tools:
        for complexity in COMPLEXITIES:
            if not eligible(tool, complexity):
                continue
            goal = planner.plan(complexity, tool.name, rng)
            assert set(goal.offered) <= planner.by_name.keys()
            for call in goal.calls:
                checked += 1
                problem = checks.problem(planner.by_name[call.name], call.arguments)
                if problem:
                    problems.append((complexity, problem))
    return checked, problems


def test_all_planned_arguments_validate_on_shipped_catalogs(shipped):
    tools = shipped + read_spec(REPO / "catalog" / "openapi" / "library.yaml").tools
    checked, problems = _all_arguments_valid(tools)
    assert checked > 500 and problems == []


def test_all_planned_arguments_validate_on_bfcl(bfcl):
    checked, problems = _all_arguments_valid(bfcl)
    assert checked > 5000 and problems == []


# --- distractors -------------------------------------------------------------------------------------


def _distractor_domains(planner: ScenarioPlanner, domain_of: dict[str, str], targets: list[str]) -> Counter:
    same = Counter()
    for name in targets:
        for seed in range(30):
            goal = planner.plan("multiple", name, random.Random(seed))
            same.update(domain_of[n] == domain_of[name] for n in goal.offered if n != name)
    return same


def test_distractors_of_travel_tools_are_mostly_travel_tools(planner, domain_of):
    same = _distractor_domains(planner, domain_of, [n for n, d in domain_of.items() if d == "travel"])
    assert same[True] / sum(same.values()) >= 0.8, same


def test_distractors_are_the_nearest_tools_of_the_same_catalog(planner, shipped):
    """Distractors are the target's most similar tools within its own catalog, not random ones."""
    sims = similarity_matrix(shipped)
    index = {t.name: i for i, t in enumerate(shipped)}
    picked, others = [], []
    for tool in shipped:
        row = sims[index[tool.name]]
        offered = set()
        for seed in range(10):
            offered |= set(planner.plan("multiple", tool.name, random.Random(seed)).offered) - {tool.name}
        picked += [row[index[n]] for n in offered]
        others += [row[index[t.name]] for t in shipped if t.name not in offered and t.name != tool.name]
        same = sorted((t for t in shipped if t.source == tool.source and t.name != tool.name
                       and not judged_redundant(tool, t)), key=lambda t: -row[index[t.name]])
        assert all(n in {t.name for t in same[:9]} for n in offered)  # the 9 nearest of its own catalog
    assert sum(picked) / len(picked) > 3 * sum(others) / len(others)


def test_distractors_are_never_redundant_with_the_target_at_high_similarity(near_duplicates, shipped):
    tools = near_duplicates + [t for t in shipped if t.name not in {n.name for n in near_duplicates}]
    planner = planner_for(tools)
    sims = similarity_matrix(tools)
    index = {t.name: i for i, t in enumerate(tools)}
    ambiguous = {(a.name, b.name) for a in tools for b in tools
                 if a is not b and sims[index[a.name], index[b.name]] >= _AMBIGUOUS and judged_redundant(a, b)}
    # the check is not vacuous: the fixture's redundant pairs are each other's nearest tools
    assert {("get_weather", "get_current_weather"), ("convert_currency", "currency_convert")} <= ambiguous
    indices, _ = nearest(tools, 1)
    assert tools[indices[index["get_weather"]][0]].name == "get_current_weather"
    for tool in tools:
        for complexity in ("multiple", "parallel_multiple", "irrelevance"):
            if not eligible(tool, complexity):
                continue
            for seed in range(8):
                goal = planner.plan(complexity, tool.name, random.Random(seed))
                assert not {(tool.name, n) for n in goal.offered} & ambiguous, (tool.name, goal.offered)


# --- determinism and small catalogs -------------------------------------------------------------------


def test_same_seeds_give_identical_goals(shipped):
    def goals(sampler_seed: int, rng_seed: int) -> list[dict]:
        planner, out = planner_for(shipped, seed=sampler_seed), []
        for i, tool in enumerate(shipped[::3]):
            for complexity in COMPLEXITIES:
                if eligible(tool, complexity):
                    out.append(planner.plan(complexity, tool.name, random.Random(f"{rng_seed}:{i}:{complexity}")).to_json())
        return out

    first = goals(7, 1)
    assert goals(7, 1) == first
    changed = goals(7, 2)
    assert len(changed) == len(first)
    assert sum(a != b for a, b in zip(first, changed, strict=True)) >= 0.8 * len(first)


def test_a_one_tool_catalog_still_plans(shipped):
    tool = next(t for t in shipped if t.name == "search_flights")
    planner = planner_for([tool])
    single = planner.plan("single", tool.name, random.Random(0))
    assert single.offered == [tool.name] and len(single.calls) == 1
    irrelevance = planner.plan("irrelevance", tool.name, random.Random(0))
    assert irrelevance.offered == [tool.name] and irrelevance.calls == [] and irrelevance.topic is None
    multi_turn = planner.plan("multi_turn", tool.name, random.Random(0))
    assert multi_turn.withheld in tool.required
    parallel = planner.plan("parallel", tool.name, random.Random(0))
    assert len(parallel.calls) >= 2


def test_goal_to_json_round_trips_the_plan(planner):
    goal = planner.plan("multi_step", "record_invoice_payment", random.Random(3))
    data = goal.to_json()
    assert data["complexity"] == "multi_step" and data["target"] == "record_invoice_payment"
    assert data["links"] == [{"from_step": 0, "from_call": 0, "field": "invoice_id", "to_step": 1, "to_call": 0,
                              "argument": "invoice_id"}]
    assert [[c["name"] for c in step] for step in data["steps"]] == [["create_invoice"], ["record_invoice_payment"]]
    rebuilt = Goal(**{**data, "links": [Link(**lk) for lk in data["links"]],
                      "steps": [[Call(c["name"], c["arguments"]) for c in step] for step in data["steps"]]})
    assert rebuilt == goal
