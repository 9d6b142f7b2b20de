"""Catalog refinement: TF-IDF candidates plus the name judge, on catalog/near_duplicates.yaml; merge and drop."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import numpy as np
import pytest

from inftool.catalog import Catalog, Tool, read_spec
from inftool.catalog.refine import Merge, judged_redundant, refine, similarity_matrix, words
from inftool.spec.catalogs import RefineSpec

FIXTURE = Path(__file__).resolve().parents[2] / "catalog" / "near_duplicates.yaml"

# Measured on the fixture (TF-IDF cosine): the named pairs score 0.829 (send_email), 0.752 (weather) and
# 0.633 (currency); the most similar distinct pair, currency_convert/translate_text, scores 0.245 and every
# other distinct pair is below 0.12. 0.5 sits well inside that gap.
THRESHOLD = 0.5


KEPT_APART = frozenset({"send_email", "send_email_message"})
"""The judge keeps this named pair apart: "send_email" never says "message" (it prefers precision)."""


def named_pairs() -> set[frozenset[str]]:
    """The near-duplicate pairs the fixture's header comment names: '(a, b), (c, d), ...'."""
    header = FIXTURE.read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith("#")
    return {frozenset(p) for p in re.findall(r"\((\w+), (\w+)\)", header)}


@pytest.fixture(scope="module")
def tools() -> list[Tool]:
    result = read_spec(FIXTURE, "openai")
    assert result.warnings == []
    return result.tools


@pytest.fixture(scope="module")
def similarities(tools):
    sims = similarity_matrix(tools)
    names = [t.name for t in tools]
    return {frozenset((names[i], names[j])): float(sims[i, j]) for i, j in itertools.combinations(range(len(names)), 2)}


def merged_pairs() -> set[frozenset[str]]:
    return named_pairs() - {KEPT_APART}


def groups(merges: list[Merge]) -> set[frozenset[str]]:
    return {frozenset((m.kept, *m.absorbed)) for m in merges}


def test_fixture_names_three_pairs_and_two_distinct_tools(tools):
    pairs = named_pairs()
    assert pairs == {frozenset({"get_weather", "get_current_weather"}), frozenset({"convert_currency", "currency_convert"}),
                     frozenset({"send_email", "send_email_message"})}
    in_pairs = set().union(*pairs)
    assert {t.name for t in tools} - in_pairs == {"create_calendar_event", "translate_text"}


def test_similarity_matrix_properties(tools):
    sims = similarity_matrix(tools)
    assert sims.shape == (8, 8)
    assert np.allclose(sims, sims.T)
    assert np.allclose(np.diag(sims), 1.0, atol=1e-6)
    assert sims.min() >= -1e-6 and sims.max() <= 1 + 1e-6


def test_named_pairs_are_separated_from_distinct_tools(similarities):
    pairs = named_pairs()
    duplicates = {p: s for p, s in similarities.items() if p in pairs}
    others = {p: s for p, s in similarities.items() if p not in pairs}
    print("near-duplicate pairs:", {tuple(sorted(p)): round(s, 3) for p, s in duplicates.items()})
    top = max(others, key=others.get)
    print("most similar distinct pair:", tuple(sorted(top)), round(others[top], 3))
    assert len(duplicates) == 3
    assert min(duplicates.values()) > THRESHOLD + 0.1
    assert max(others.values()) < THRESHOLD - 0.2
    # each named pair is each of its tools' nearest neighbour
    for pair in pairs:
        for name in pair:
            mine = {p: s for p, s in similarities.items() if name in p}
            assert max(mine, key=mine.get) == pair


def test_merge_groups_the_pairs_the_judge_accepts(tools, similarities):
    catalog = Catalog(tools)
    refined, merges = refine(catalog, THRESHOLD, "merge")
    assert groups(merges) == merged_pairs()
    # leader: most parameters, then the longest description, then the earliest
    assert [(m.kept, m.absorbed) for m in merges] == [
        ("get_current_weather", ("get_weather",)),  # same parameter count, longer description
        ("convert_currency", ("currency_convert",)),  # same count and description length: the earlier one
    ]
    for m in merges:
        assert m.similarity == (round(similarities[frozenset((m.kept, *m.absorbed))], 3),)
    assert refined.names == ["get_current_weather", "convert_currency", "send_email", "send_email_message",
                             "create_calendar_event", "translate_text"]
    for m in merges:
        for absorbed in m.absorbed:
            assert absorbed not in refined
            assert refined.name_for(absorbed) == m.kept
        assert refined.name_for(m.kept) == m.kept
        assert refined[m.kept].meta["aliases"] == list(m.absorbed)
    assert "aliases" not in refined["translate_text"].meta
    # the kept tools are otherwise unchanged, and the input catalog is left alone
    assert refined["get_current_weather"].parameters == catalog["get_current_weather"].parameters
    assert len(catalog) == 8 and "aliases" not in catalog["get_current_weather"].meta


def test_drop_removes_without_aliases(tools):
    refined, merges = refine(Catalog(tools), THRESHOLD, "drop")
    assert groups(merges) == merged_pairs()
    assert refined.names == ["get_current_weather", "convert_currency", "send_email", "send_email_message",
                             "create_calendar_event", "translate_text"]
    assert all("aliases" not in t.meta for t in refined)
    for absorbed in ("get_weather", "currency_convert"):
        assert absorbed not in refined
        with pytest.raises(KeyError):
            refined.name_for(absorbed)


@pytest.mark.parametrize("threshold", [0.3, 0.45, 0.6, 0.633])
def test_any_threshold_in_the_gap_gives_the_same_groups(tools, threshold):
    assert groups(refine(Catalog(tools), threshold, "merge")[1]) == merged_pairs()


def test_thresholds_above_a_pair_split_it(tools):
    assert groups(refine(Catalog(tools), 0.7, "merge")[1]) == {frozenset({"get_weather", "get_current_weather"})}
    refined, merges = refine(Catalog(tools), 0.8, "merge")
    assert merges == [] and len(refined) == 8
    # Far below the distinct pairs' similarity the judge alone keeps distinct tools apart.
    assert groups(refine(Catalog(tools), 0.05, "merge")[1]) == merged_pairs()


def test_the_judge_keeps_lexically_close_but_distinct_tools_apart(tools, similarities):
    assert similarities[KEPT_APART] > 0.8  # the most similar pair of the fixture, but 'message' is unexplained
    perimeter = plain("rectangle_perimeter", "Calculate the perimeter of a rectangle from its length and width.",
                      "length", "width")
    area = plain("rectangle_area", "Calculate the area of a rectangle from its length and width.", "length", "width")
    assert similarity_matrix([perimeter, area])[0, 1] > 0.6
    assert refine(Catalog([perimeter, area]), 0.6, "merge")[1] == []


def dotted(original: str, description: str, *props: str) -> Tool:
    return plain(original.replace(".", "_"), description, *props).model_copy(update={"original_name": original})


def test_a_namespace_the_description_never_uses_does_not_keep_tools_apart():
    """BFCL's geometry.area_circle and math.circle_area do the same thing: their namespaces are packaging. A
    namespace the tool's own text names (spotify.play: '... on Spotify') still tells tools apart."""
    geometry = dotted("geometry.area_circle", "Calculate the area of a circle given the radius.", "radius", "units")
    math = dotted("math.circle_area", "Calculates the area of a circle given its radius.", "radius")
    assert judged_redundant(geometry, math)
    threshold = similarity_matrix([geometry, math])[0, 1] - 0.01
    assert [(m.kept, m.absorbed) for m in refine(Catalog([geometry, math]), threshold, "merge")[1]] == \
        [("geometry_area_circle", ("math_circle_area",))]
    spotify = dotted("spotify.play", "Play a song on Spotify.", "query")
    youtube = dotted("youtube.play", "Play a video on YouTube.", "query")
    assert not judged_redundant(spotify, youtube)
    assert not judged_redundant(plain("geometry_area_circle", geometry.description, "radius", "units"), math)


def test_default_threshold_groups_the_fixture_pairs(tools):
    assert groups(refine(Catalog(tools), RefineSpec().threshold, "merge")[1]) == merged_pairs()


def test_deterministic(tools):
    first = refine(Catalog(tools), THRESHOLD, "merge")
    second = refine(Catalog(tools), THRESHOLD, "merge")
    assert first[1] == second[1]
    assert first[0].names == second[0].names
    assert [t.meta for t in first[0]] == [t.meta for t in second[0]]


def reordered(t: Tool) -> Tool:
    """The same tool with its parameter mapping (and the mapping's keys) in reverse order."""
    params = dict(reversed(list(t.parameters.items())))
    params["properties"] = dict(reversed(list(t.properties.items())))
    if "required" in params:
        params["required"] = list(reversed(params["required"]))
    return t.model_copy(update={"parameters": params})


def test_independent_of_mapping_order(tools):
    shuffled = [reordered(t) for t in tools]
    assert [list(t.properties) for t in shuffled] != [list(t.properties) for t in tools]
    assert np.array_equal(similarity_matrix(shuffled), similarity_matrix(tools))
    assert refine(Catalog(shuffled), THRESHOLD, "merge")[1] == refine(Catalog(tools), THRESHOLD, "merge")[1]


def test_tool_order_changes_only_the_documented_tie_break(tools):
    backwards = list(reversed(tools))
    assert np.allclose(similarity_matrix(backwards), similarity_matrix(tools)[::-1, ::-1])
    merges = refine(Catalog(backwards), THRESHOLD, "merge")[1]
    assert groups(merges) == merged_pairs()
    kept = {m.kept for m in merges}
    # the currency pair ties on parameter count and description length: the earlier tool now wins
    assert kept == {"get_current_weather", "currency_convert"}


def test_small_catalogs_are_returned_unchanged(tools):
    refined, merges = refine(Catalog(), THRESHOLD, "merge")
    assert merges == [] and len(refined) == 0
    one = Catalog(tools[:1])
    refined, merges = refine(one, 0.01, "merge")
    assert merges == []
    assert refined is not one
    assert refined.names == ["get_weather"]
    assert refined["get_weather"] == tools[0]


def plain(name: str, description: str, *props: str, meta: dict | None = None) -> Tool:
    return Tool(name=name, original_name=name, description=description, source="test", meta=meta or {},
                parameters={"type": "object", "properties": {p: {"type": "string"} for p in props}})


def test_identical_text_groups_just_below_one():
    # 'send_email', 'send-email' and 'SendEmail' have the same words
    a = plain("send_email", "Send an email to someone with a subject line.", "to", "subject")
    b = plain("send-email", "Send an email to someone with a subject line.", "to", "subject")
    c = plain("SendEmail", "Send an email to someone with a subject line.", "to", "subject")
    other = plain("book_table", "Reserve a restaurant table.", "when")
    assert words(a) == words(b) == words(c)
    refined, merges = refine(Catalog([a, other, b, c]), 0.999, "merge")
    assert [(m.kept, m.absorbed) for m in merges] == [("send_email", ("send-email", "SendEmail"))]
    assert refined.names == ["send_email", "book_table"]
    assert refined.name_for("SendEmail") == "send_email"


def test_identical_text_groups_at_threshold_one():
    descriptions = ["Send an email to someone with a subject line.", "Weather today",
                    "Convert an amount of money quickly and reliably between currencies.",
                    "List open incidents for a service.", "Translate text into another language."]
    missed = []
    for description in descriptions:
        a = plain("send_email", description, "to", "subject")
        b = plain("SendEmail", description, "to", "subject")
        other = plain("book_table", "Reserve a restaurant table.", "when")
        merges = refine(Catalog([a, b, other]), 1.0, "merge")[1]
        if [(m.kept, m.absorbed) for m in merges] != [("send_email", ("SendEmail",))]:
            missed.append(description)
    assert missed == []


def test_no_chaining_through_intermediate_tools():
    # generic names (nothing for the judge to object to); descriptions {alpha beta}, {alpha beta gamma delta}, {gamma delta}
    a, b, c = plain("get_data", "alpha beta"), plain("fetch_data", "alpha beta gamma delta"), plain("search_data", "gamma delta")
    sims = similarity_matrix([a, b, c])
    assert sims[0, 1] > 0.45 and sims[1, 2] > 0.45 and sims[0, 2] < 0.45
    refined, merges = refine(Catalog([a, b, c]), 0.45, "drop")
    assert [(m.kept, m.absorbed) for m in merges] == [("fetch_data", ("get_data",))]  # c is not pulled in through b
    assert refined.names == ["fetch_data", "search_data"]


def test_leader_is_the_tool_with_most_parameters():
    first = plain("fetch_weather_report", "Weather report for a city")
    second = plain("weather_report_fetch", "Weather report for a city", "city")
    refined, merges = refine(Catalog([first, second]), 0.5, "merge")
    assert merges == [Merge("weather_report_fetch", ("fetch_weather_report",), merges[0].similarity)]
    assert refined.names == ["weather_report_fetch"]
    assert refined.name_for("fetch_weather_report") == "weather_report_fetch"


def test_aliases_of_an_absorbed_tool_are_kept():
    first = plain("fetch_weather_report", "Weather report for a city", meta={"aliases": ["old_weather"]})
    second = plain("weather_report_fetch", "Weather report for a city", "city")
    refined, _ = refine(Catalog([first, second]), 0.5, "merge")
    assert refined.name_for("old_weather") == "weather_report_fetch"
