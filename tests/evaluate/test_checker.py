"""check(): the leaderboard's rules one by one, on small hand-made entries (no official checker needed)."""

from __future__ import annotations

import random

import pytest

from inftool.core.episode import Call
from inftool.evaluate import (
    ERROR_KINDS,
    Verdict,
    call_forms,
    check,
    check_call,
    irrelevance_check,
    oracle_calls,
    reference_calls,
    standardize,
)
from inftool.evaluate.languages import java_value, javascript_value, render_java, render_javascript


def doc(name: str, required: list[str], **properties: dict) -> dict:
    return {"name": name, "description": "", "parameters": {"type": "dict", "properties": properties,
                                                             "required": required}}


AREA = doc("calculate_triangle_area", ["base", "height"], base={"type": "integer"}, height={"type": "integer"},
           unit={"type": "string"})
AREA_GT = [{"calculate_triangle_area": {"base": [10], "height": [5], "unit": ["units", ""]}}]
TRIP = doc("travel.book", ["city"], city={"type": "string"}, nights={"type": "integer"}, budget={"type": "float"},
           dates={"type": "tuple", "items": {"type": "string"}}, tags={"type": "array", "items": {"type": "string"}},
           options={"type": "dict", "properties": {}}, rooms={"type": "array", "items": {"type": "dict"}},
           anything={"type": "any"}, flag={"type": "boolean"})


def simple(call: Call, gt=AREA_GT, function=AREA, category: str = "simple_python") -> Verdict:
    return check([function], [call], gt, category=category)


def area(**arguments) -> Call:
    return Call("calculate_triangle_area", arguments)


# ---------------------------------------------------------------- simple


def test_ground_truth_is_valid_and_optional_may_be_omitted() -> None:
    assert simple(area(base=10, height=5, unit="units")) == Verdict(True)
    assert simple(area(base=10, height=5)).valid


def test_wrong_value_and_wrong_type() -> None:
    assert simple(area(base=12, height=5)).error_kind == "wrong_value"
    assert simple(area(base="10", height=5)).error_kind == "wrong_type"
    assert simple(area(base=10.0, height=5)).error_kind == "wrong_type"  # a float is not an integer
    assert simple(area(base=True, height=5)).error_kind == "wrong_type"  # nor is a bool


def test_missing_and_unexpected_parameters() -> None:
    assert simple(area(base=10)).error_kind == "missing_parameter"
    assert simple(area(base=10, height=5, color="red")).error_kind == "unexpected_parameter"
    gt = [{"calculate_triangle_area": {"base": [10], "height": [5]}}]  # unit declared but not expected
    assert simple(area(base=10, height=5, unit="units"), gt).error_kind == "unexpected_parameter"
    gt = [{"calculate_triangle_area": {"base": [10], "height": [5], "unit": ["cm"]}}]  # expected, not optional
    assert simple(area(base=10, height=5), gt).error_kind == "missing_parameter"


def test_wrong_function_and_wrong_count() -> None:
    assert simple(Call("triangle_area", {"base": 10, "height": 5})).error_kind == "wrong_function"
    assert check([AREA], [], AREA_GT, category="simple_python").error_kind == "missing_call"
    two = [area(base=10, height=5)] * 2
    assert check([AREA], two, AREA_GT, category="simple_python").error_kind == "extra_call"
    assert check([AREA], None, AREA_GT, category="simple_python").error_kind == "unparseable"


def trip(**arguments) -> Call:
    return Call("travel.book", {"city": "New York", **arguments})


def trip_gt(**accepted) -> list[dict]:
    """The travel.book ground truth; the arguments given here are all optional."""
    return [{"travel.book": {"city": ["New York", "NYC"], **{k: [*v, ""] for k, v in accepted.items()}}}]


def test_string_standardisation() -> None:
    gt = trip_gt()
    for spelling in ["New York", "new york", "NEW-YORK", "new_york", "N.e.w/York*^", "newyork", "nyc", "N Y C"]:
        assert simple(Call("travel.book", {"city": spelling}), gt, TRIP).valid, spelling
    for spelling in ["New York!", "New:York", "New\tYork", "Nueva York"]:
        assert simple(Call("travel.book", {"city": spelling}), gt, TRIP).error_kind == "wrong_value", spelling
    assert standardize("It's A-Test_1.0") == 'it"satest10'


def test_int_for_float_and_tuples() -> None:
    gt = trip_gt(budget=[150.0, ""], dates=[["2024-01-01", "2024-01-03"]], tags=[["beach", "cheap"], ""])
    assert simple(trip(budget=150), gt, TRIP).valid
    assert simple(trip(budget=150.0), gt, TRIP).valid
    assert simple(trip(dates=("2024-01-01", "2024-01-03")), gt, TRIP).valid
    assert simple(trip(dates=["2024 01 01", "2024/01/03"]), gt, TRIP).valid  # list items standardised too
    assert simple(trip(tags=("beach", "cheap")), gt, TRIP).error_kind == "wrong_type"  # a tuple for an array
    assert simple(trip(tags=["cheap", "beach"]), gt, TRIP).error_kind == "wrong_value"  # order matters
    assert simple(trip(tags=[]), gt, TRIP).valid  # [] counts as leaving an optional list out
    # item types are checked against the acceptable lists, but "" (optional) lets any items through
    assert simple(trip(tags=["beach", 3]), gt, TRIP).error_kind == "wrong_value"
    required = [{"travel.book": {"city": ["New York"], "tags": [["beach", "cheap"]]}}]
    assert simple(trip(tags=["beach", 3]), required, TRIP).error_kind == "wrong_type"


def test_dicts_and_lists_of_dicts() -> None:
    gt = trip_gt(options=[{"breakfast": [True], "view": ["sea", "ocean"], "floor": [3, ""]}],
                 rooms=[[{"beds": [2], "kind": ["double"]}, {"beds": [1], "kind": ["single", ""]}]])
    assert simple(trip(options={"breakfast": True, "view": "SEA"}), gt, TRIP).valid
    assert simple(trip(options={"breakfast": True, "view": "sea", "floor": 4}), gt, TRIP).error_kind == "wrong_value"
    assert simple(trip(options={"view": "sea"}), gt, TRIP).error_kind == "wrong_value"  # a required key is missing
    assert simple(trip(options={"breakfast": True, "view": "sea", "spa": 1}), gt, TRIP).error_kind == "wrong_value"
    assert simple(trip(rooms=[{"beds": 2, "kind": "Double"}, {"beds": 1}]), gt, TRIP).valid
    assert simple(trip(rooms=[{"beds": 2, "kind": "double"}]), gt, TRIP).error_kind == "wrong_count"


def test_variables_and_any() -> None:
    gt = trip_gt(tags=["my_tags"], anything=["x", 5], flag=[True])
    assert simple(trip(tags="my_tags"), gt, TRIP).valid  # a variable name where a list is declared
    assert simple(trip(tags="MY_TAGS"), gt, TRIP).error_kind == "wrong_value"  # variables match exactly
    assert simple(trip(anything="X"), gt, TRIP).valid  # 'any' is a string
    assert simple(trip(anything=5), gt, TRIP).error_kind == "wrong_type"
    assert simple(trip(flag=1), gt, TRIP).error_kind == "wrong_type"


# ---------------------------------------------------------------- names


def test_dotted_names_may_be_written_with_underscores() -> None:
    gt = trip_gt()
    assert simple(Call("travel_book", {"city": "NYC"}), gt, TRIP).valid
    assert simple(Call("travel.book", {"city": "NYC"}), gt, TRIP).valid
    assert simple(Call("travelbook", {"city": "NYC"}), gt, TRIP).error_kind == "wrong_function"
    other = doc("travel_book", ["city"], city={"type": "string"})
    # an offered function really named travel_book is not an alias of travel.book
    verdict = check([TRIP, other], [Call("travel_book", {"city": "NYC"})], gt, category="multiple")
    assert verdict.error_kind == "wrong_function"


# ---------------------------------------------------------------- multiple / parallel / irrelevance


def test_multiple_picks_the_expected_function() -> None:
    functions = [TRIP, AREA]
    assert check(functions, [area(base=10, height=5)], AREA_GT, category="multiple").valid
    assert check(functions, [trip()], AREA_GT, category="multiple").error_kind == "wrong_function"
    assert check(functions, [area(base=10, height=5), trip()], AREA_GT,
                 category="live_multiple").error_kind == "extra_call"


def test_parallel_in_any_order() -> None:
    gt = [{"calculate_triangle_area": {"base": [10], "height": [5]}},
          {"calculate_triangle_area": {"base": [3], "height": [4]}}]
    a, b = area(base=10, height=5), area(base=3, height=4)
    assert check([AREA], [a, b], gt, category="parallel").valid
    assert check([AREA], [b, a], gt, category="parallel").valid
    assert check([AREA], [a, a], gt, category="parallel").error_kind == "wrong_value"
    assert check([AREA], [a], gt, category="parallel").error_kind == "missing_call"
    assert check([AREA], [a, b, b], gt, category="parallel").error_kind == "extra_call"
    mixed = [{"travel.book": {"city": ["new york"]}}, {"calculate_triangle_area": {"base": [3], "height": [4]}}]
    assert check([AREA, TRIP], [b, trip()], mixed, category="parallel_multiple").valid


def test_parallel_matching_is_greedy_like_the_leaderboard() -> None:
    # expected #0 accepts either call and takes the first; expected #1 then finds none left
    gt = [{"calculate_triangle_area": {"base": [10, 3], "height": [5, 4]}},
          {"calculate_triangle_area": {"base": [10], "height": [5]}}]
    verdict = check([AREA], [area(base=10, height=5), area(base=3, height=4)], gt, category="parallel")
    assert verdict.error_kind == "wrong_value" and "#1" in verdict.message
    assert check([AREA], [area(base=3, height=4), area(base=10, height=5)], gt, category="parallel").valid


def test_irrelevance_and_relevance() -> None:
    assert irrelevance_check([]).valid and irrelevance_check(None).valid
    assert irrelevance_check([trip()]).error_kind == "extra_call"
    assert check([TRIP], [], [], category="live_irrelevance").valid
    assert not check([TRIP], [trip()], [], category="irrelevance").valid
    assert check([TRIP], [trip()], [], category="live_relevance").valid
    assert check([TRIP], [], [], category="live_relevance").error_kind == "missing_call"


# ---------------------------------------------------------------- Java / JavaScript


JAVA = doc("Store.save", ["id", "force"], id={"type": "long"}, force={"type": "boolean"},
           ids={"type": "ArrayList", "items": {"type": "integer"}},
           names={"type": "Array", "items": {"type": "String"}},
           meta={"type": "HashMap"}, ratio={"type": "float"}, label={"type": "String"})
JAVA_GT = [{"Store.save": {"id": [42], "force": [True], "ids": [[1, 2], ""], "names": [["a", "b"], ""],
                           "meta": [{"k": [1], "v": ["x"]}, ""], "ratio": [0.5, ""], "label": ["Hello World", ""]}}]


def java(**arguments) -> Verdict:
    return check([JAVA], [Call("Store.save", {"id": "42L", "force": "true", **arguments})], JAVA_GT,
                 category="simple_java")


def test_java_source_values() -> None:
    assert java().valid
    assert java(id="42").error_kind == "wrong_type"  # a long needs its L
    assert java(force=True).error_kind == "wrong_type"  # not a source string
    assert java(ids="new ArrayList<>(Arrays.asList(1, 2))").valid
    assert java(ids="new ArrayList<Integer>() {{ add(1); add(2); }}").valid
    assert java(ids="new ArrayList<>(Arrays.asList(2, 1))").error_kind == "wrong_value"
    assert java(names="new String[]{a, b}").valid
    assert java(names='new String[]{"a", "b"}').error_kind == "wrong_value"  # quotes stay inside arrays
    assert java(meta='new HashMap<String, Object>() {{ put("k", 1); put("v", "x"); }}').valid
    assert java(ratio="0.5f").valid and java(ratio="0.5").error_kind == "wrong_type"
    assert java(label="hello-world").valid


def test_java_and_javascript_readers() -> None:
    assert java_value("-7L", "long") == -7 and java_value("1e3f", "float") == 1000.0
    assert java_value("new int[]{1, 2}", "Array", "integer") == [1, 2]
    assert java_value("new HashMap<>()", "HashMap") == {}
    assert java_value("abc", "integer") == "abc"
    assert javascript_value("12n", "Bigint") == 12 and javascript_value("'x'", "String") == "x"
    assert javascript_value("[[1, 2], [3]]", "array", "array") == [[1, 2], [3]]
    assert javascript_value("{a: 1, 'b': [1, 2], c: 'x'}", "dict") == {"a": 1, "b": [1, 2], "c": "x"}
    assert javascript_value("new Array(1.5, 2)", "array", "float") == [1.5, 2.0]
    for value, declared, item in [(42, "long", None), (0.5, "float", None), ([1, 2], "ArrayList", "integer"),
                                  (["a"], "ArrayList", "String"), ({"k": 1, "v": "x"}, "HashMap", None),
                                  ([3, 4], "Array", "integer"), (True, "boolean", None)]:
        assert java_value(render_java(value, declared, item), declared, item) == value
    for value, declared, item in [(5, "Bigint", None), (2.0, "float", None), (["a", "b"], "array", "String"),
                                  ({"k": "v", "n": 2}, "dict", None), (False, "Boolean", None)]:
        assert javascript_value(render_javascript(value, declared, item), declared, item) == value


JS = doc("draw", ["points"], points={"type": "array", "items": {"type": "float"}}, style={"type": "dict"},
         big={"type": "Bigint"})
JS_GT = [{"draw": {"points": [[1.0, 2.5]], "style": [{"color": ["red"]}, ""], "big": [7, ""]}}]


def test_javascript_source_values() -> None:
    def js(**arguments) -> Verdict:
        return check([JS], [Call("draw", arguments)], JS_GT, category="simple_javascript")

    assert js(points="[1, 2.5]").valid
    assert js(points="new Array(1, 2.5)").valid
    assert js(points="[2.5, 1]").error_kind == "wrong_value"
    assert js(points=[1.0, 2.5]).error_kind == "wrong_type"
    assert js(points="[1, 2.5]", style="{color: 'Red'}").valid
    assert js(points="[1, 2.5]", big="7n").valid and js(points="[1, 2.5]", big="7").error_kind == "wrong_type"


# ---------------------------------------------------------------- API


def test_reference_calls_and_error_kinds() -> None:
    assert reference_calls([AREA], AREA_GT) == [area(base=10, height=5, unit="units")]
    assert reference_calls([AREA], AREA_GT, omit_optional=True) == [area(base=10, height=5)]
    assert reference_calls([JAVA], JAVA_GT, language="java")[0].arguments["id"] == "42L"
    assert set(ERROR_KINDS) == {"unparseable", "wrong_function", "missing_parameter", "unexpected_parameter",
                                "wrong_type", "wrong_value", "wrong_count", "extra_call", "missing_call",
                                "state_mismatch", "response_mismatch", "step_limit",  # these three: multi-turn
                                "not_evaluated"}  # no verdict: the policy could not be asked


def test_the_oracle_omits_optional_arguments_then_tries_the_other_acceptable_values() -> None:
    # "height" is required by the function, yet marked optional; "unit" is optional; "shape" is not a parameter
    # of the function: filling it in fails
    ground_truth = [{"calculate_triangle_area": {"base": [10], "height": ["", 5], "unit": ["units", ""],
                                                 "shape": ["", "right"]}}]
    forms = call_forms([AREA], ground_truth[0])
    assert forms[:4] == [area(base=10), area(base=10, height=5), area(base=10, unit="units"),
                         area(base=10, shape="right")]  # every optional one left out, then one change at a time
    assert forms[-1] == area(base=10, height=5, unit="units", shape="right")
    assert len(forms) == 8 and len(call_forms([AREA], ground_truth[0], limit=3)) == 3
    [answer] = oracle_calls([AREA], ground_truth, category="simple_python")
    assert answer == area(base=10, height=5) and check([AREA], [answer], ground_truth, category="simple_python").valid
    hopeless = [{"calculate_triangle_area": {"base": [10], "height": [5], "shape": ["right"]}}]
    assert oracle_calls([AREA], hopeless, category="simple_python") == [area(base=10, height=5, shape="right")]
    assert not check([AREA], oracle_calls([AREA], hopeless, category="simple_python"), hopeless,
                     category="simple_python").valid


def test_check_call_directly() -> None:
    assert check_call(AREA, area(base=10, height=5), AREA_GT[0]["calculate_triangle_area"]).valid


def test_malformed_ground_truth_raises() -> None:
    with pytest.raises(ValueError):
        check([AREA], [area(base=10, height=5)], [{"a": {}, "b": {}}], category="simple_python")
    with pytest.raises(ValueError):
        check([AREA], [trip()], [{"travel.book": {}}], category="multiple")


def test_odd_model_arguments_never_raise() -> None:
    rng = random.Random(7)
    pool = [None, True, 0, -1, 2.5, float("nan"), "", "x", [], [None], [[]], {}, {"a": [1]}, (1,), {1: 2},
            [{"a": object()}], "new ArrayList<>(", "{", "[[", b"x", {"nested": {"deep": [1, {"x": 2}]}}]
    for _ in range(3000):
        function, gt, category = rng.choice([(AREA, AREA_GT, "simple_python"), (TRIP, trip_gt(tags=[["a"]]), "simple"),
                                             (JAVA, JAVA_GT, "simple_java"), (JS, JS_GT, "simple_javascript")])
        properties = list(function["parameters"]["properties"]) + ["unknown"]
        arguments = {p: rng.choice(pool) for p in rng.sample(properties, rng.randint(0, len(properties)))}
        verdict = check([function], [Call(function["name"], arguments)], gt, category=category)
        assert isinstance(verdict, Verdict) and (verdict.valid or verdict.error_kind in ERROR_KINDS)


def test_catalog_names_are_accepted() -> None:
    room = doc("__book_meeting_room", ["room"], room={"type": "string"})
    gt = [{"__book_meeting_room": {"room": ["A1"]}}]
    assert check([room], [Call("book_meeting_room", {"room": "a1"})], gt, category="live_simple").valid
    assert check([room], [Call("__book_meeting_room", {"room": "a1"})], gt, category="live_simple").valid
