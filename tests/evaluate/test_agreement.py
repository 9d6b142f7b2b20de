"""Our checker against the OFFICIAL BFCL ast_checker, on every AST entry of BFCL v4.

For each entry of the ten AST categories we build model outputs from the ground truth: the ground
truth itself (first acceptable value of each argument, and again with the optional arguments left
out), then systematic perturbations of it: every argument given a wrong value, every argument
given a wrong type, strings re-cased and re-punctuated, ints for floats, tuples for lists, a
required parameter missing, an unknown parameter added, the function misnamed, dotted names
written with underscores, every other acceptable value, no call, an extra call, and for parallel
categories the calls reordered, one dropped, one repeated. Then random mutations of the ground
truth (odd values, dropped and added arguments, shuffled calls; ``INFTOOL_AGREEMENT_RANDOM`` per
entry), and the Java / JavaScript source readers against the official type converters on random
source text (``INFTOOL_AGREEMENT_SOURCES``). Both sides judge every output; their verdicts (valid
or not) must agree on every case. Run with ``-s`` to see the counts per category.
"""

from __future__ import annotations

import copy
import os
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from perturbations import wrong_value

from inftool.core.episode import Call
from inftool.evaluate import check, language_of, reference_calls
from inftool.evaluate.checker import render_argument

PLAIN_MODEL = "inftool-test"
UNDERSCORE_MODEL = "underscore-model"  # the official checker expects math_factorial for math.factorial

CATEGORIES = ["simple_python", "simple_java", "simple_javascript", "multiple", "parallel", "parallel_multiple",
              "live_simple", "live_multiple", "live_parallel", "live_parallel_multiple"]


def entries(data, category: str) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    answers = data.answers(category)
    return [(question, answers[question["id"]]) for question in data.questions(category) if question["id"] in answers]


# ---------------------------------------------------------------- value perturbations


def wrong_type(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return 12345
    if isinstance(value, (list, tuple)):
        return {"items": list(value)}
    if isinstance(value, dict):
        return [value]
    return 0


def recased(value: Any) -> Any:
    """Strings upper-cased with spaces as hyphens, at every depth (BFCL forgives it only at the top two)."""
    if isinstance(value, str):
        return value.upper().replace(" ", "-")
    if isinstance(value, list):
        return [recased(v) for v in value]
    if isinstance(value, tuple):
        return tuple(recased(v) for v in value)
    if isinstance(value, dict):
        return {k: recased(v) for k, v in value.items()}
    return value


# ---------------------------------------------------------------- cases


Case = tuple[str, list[Call], str]


def cases(category: str, functions: list[dict[str, Any]], ground_truth: list[dict[str, Any]]) -> Iterator[Case]:
    """(label, calls, model name) for the ground truth and its perturbations."""
    language = language_of(category)
    docs = {f["name"]: f for f in functions}
    raw = reference_calls(functions, ground_truth, language=language, as_source=False)

    def schema(call: Call, param: str) -> Any:
        return ((docs.get(call.name) or {}).get("parameters") or {}).get("properties", {}).get(param)

    def written(calls: list[Call]) -> list[Call]:
        return [Call(c.name, {p: render_argument(v, schema(c, p), language) for p, v in c.arguments.items()})
                for c in calls]

    def with_argument(calls: list[Call], index: int, param: str, value: Any) -> list[Call]:
        """The calls written as the model gives them, with one argument set to ``value`` (given as it is)."""
        out = written(calls)
        out[index] = Call(out[index].name, {**out[index].arguments, param: value})
        return out

    reference = written(raw)
    yield "ground_truth", reference, PLAIN_MODEL
    omitted = reference_calls(functions, ground_truth, language=language, omit_optional=True)
    if omitted != reference:
        yield "optional_omitted", omitted, PLAIN_MODEL

    for index, call in enumerate(raw):
        for param, value in call.arguments.items():
            declaration = schema(call, param)
            declared = (declaration or {}).get("type")

            def given(new: Any, *, source: bool = True, index: int = index, param: str = param,
                      declaration: Any = declaration) -> list[Call]:
                """The reference with this argument replaced (a value written as source, or given as it is)."""
                return with_argument(raw, index, param, render_argument(new, declaration, language) if source else new)

            yield "wrong_value", given(wrong_value(value)), PLAIN_MODEL
            if language == "python":
                yield "wrong_type", given(wrong_type(value)), PLAIN_MODEL
            else:  # not a source string, or source of another type
                yield "wrong_type", given(value if not isinstance(value, str) else 0, source=False), PLAIN_MODEL
                yield "wrong_type", given(wrong_type(value)), PLAIN_MODEL
            accepted = ground_truth[index].get(call.name, {}).get(param, [])
            for alternative in accepted[1:] if isinstance(accepted, list) else []:
                yield "alternative_value", given(alternative), PLAIN_MODEL
            variant = recased(value)
            if variant != value:
                yield "string_variant", given(variant), PLAIN_MODEL
            if language == "python" and isinstance(value, float) and value.is_integer():
                yield "int_for_float", given(int(value)), PLAIN_MODEL
            if language == "python" and isinstance(value, list):
                yield "tuple_for_list" if declared != "tuple" else "tuple", given(tuple(value)), PLAIN_MODEL
            if isinstance(value, dict) and value:
                first = next(iter(value))
                yield "dict_key_dropped", given({k: v for k, v in value.items() if k != first}), PLAIN_MODEL

    first = raw[0]
    declared_required = docs.get(first.name, {}).get("parameters", {}).get("required") or []
    required = [p for p in declared_required if p in first.arguments]
    if required:
        dropped = written(raw)
        dropped[0] = Call(first.name, {k: v for k, v in dropped[0].arguments.items() if k != required[0]})
        yield "missing_required", dropped, PLAIN_MODEL
    unknown = "qx" if language == "python" else '"qx"'
    yield "extra_param", with_argument(raw, 0, "qx_unknown_param", unknown), PLAIN_MODEL
    misnamed = written(raw)
    misnamed[0] = Call(first.name + "_qx", misnamed[0].arguments)
    yield "wrong_name", misnamed, PLAIN_MODEL
    if any("." in c.name for c in reference):
        yield "underscore_name", [Call(c.name.replace(".", "_"), c.arguments) for c in reference], UNDERSCORE_MODEL
    yield "no_call", [], PLAIN_MODEL
    if "parallel" in category or len(reference) > 1:
        if len(reference) > 1:
            yield "reordered", list(reversed(reference)), PLAIN_MODEL
            yield "rotated", reference[1:] + reference[:1], PLAIN_MODEL
            yield "missing_call", reference[:-1], PLAIN_MODEL
        yield "extra_call", reference + reference[:1], PLAIN_MODEL
    else:
        yield "extra_call", reference + reference, PLAIN_MODEL


def run_category(data, category: str, official) -> tuple[int, list[str], Counter, Counter]:
    language = language_of(category)
    total, disagreements, labels, valid_counts = 0, [], Counter(), Counter()
    for question, ground_truth in entries(data, category):
        functions = question["function"]
        for label, calls, model in cases(category, functions, ground_truth):
            decoded = [{c.name: copy.deepcopy(c.arguments)} for c in calls]
            ours = check(functions, calls, ground_truth, category=category, language=language)
            try:
                theirs = official.valid(functions, decoded, ground_truth, category=category, language=language,
                                        model=model)
            except Exception as error:  # noqa: BLE001 - the official checker crashing is a disagreement to look at
                theirs = f"raised {type(error).__name__}: {error}"
            total += 1
            labels[label] += 1
            valid_counts[(label, ours.valid)] += 1
            if ours.valid is not theirs:
                disagreements.append(f"{question['id']} [{label}] ours={ours.valid} ({ours.error_kind}: "
                                     f"{ours.message}) official={theirs} output={decoded!r}"[:600])
    return total, disagreements, labels, valid_counts


@pytest.mark.parametrize("category", CATEGORIES)
def test_verdicts_agree_with_official_checker(category: str, official, bfcl) -> None:
    total, disagreements, labels, valid_counts = run_category(bfcl, category, official)
    gt_valid = valid_counts[("ground_truth", True)]
    kinds = ", ".join(f"{label} {valid_counts[(label, True)]}/{n}" for label, n in labels.items())
    print(f"\n{category}: {total} cases, {total - len(disagreements)} agree; ground truth judged valid in "
          f"{gt_valid}/{labels['ground_truth']} entries; valid/cases by kind: {kinds}")
    assert total > 0
    assert not disagreements, f"{len(disagreements)} of {total} verdicts differ:\n" + "\n".join(disagreements[:40])


# ---------------------------------------------------------------- random outputs

POOL: list[Any] = [None, True, False, 0, 1, -1, 2, 2.5, 1.0, -0.5, "", " ", "abc", "ABC", "a_b", "'x'", "true", "5",
                   "5L", "2.5f", "[1, 2]", "{a: 1}", [], [1], [1.0], [True], ["a"], ["A B"], [[1]], [""], {}, {"a": 1},
                   {"a": "x"}, ("a",), (1, 2), [{"a": 1}], [{}], [None]]
SOURCE_POOL: list[str] = ["", "5", "-3", "5L", "7l", "2.5", "2.5f", "1e3", "true", "false", "null", "'a'", '"a"', "abc",
                          "[1, 2]", "['a', 'b']", "[[1, 2], [3]]", "new Array(1, 2)", "{}", "{a: 1}",
                          "{'a': 'x', b: [1]}",
                          "new int[]{1, 2}", "new String[]{a, b}", 'new ArrayList<>(Arrays.asList("a", "b"))',
                          "new ArrayList<Integer>() {{ add(1); add(2); }}", "new ArrayList<>()", "new HashMap<>()",
                          'new HashMap<String, Object>() {{ put("a", 1); put("b", "x"); }}', "5n", "12n"]


def random_outputs(category: str, functions: list[dict[str, Any]], ground_truth: list[dict[str, Any]], rng,
                   count: int) -> Iterator[list[Call]]:
    """Random mutations of the ground truth: arguments replaced from a pool of odd values (and the other
    acceptable values), dropped, added; calls shuffled."""
    language = language_of(category)
    docs = {f["name"]: f for f in functions}
    reference = reference_calls(functions, ground_truth, language=language)
    for _ in range(count):
        calls = []
        for index, call in enumerate(reference):
            properties = (docs.get(call.name) or {}).get("parameters", {}).get("properties", {})
            expected = ground_truth[index].get(call.name, {}) if index < len(ground_truth) else {}
            arguments = dict(call.arguments)
            for param in list(arguments):
                roll = rng.random()
                if roll < 0.1:
                    del arguments[param]
                elif roll < 0.45:
                    options = [v for v in expected.get(param, []) if isinstance(expected.get(param), list)]
                    pool = SOURCE_POOL if language != "python" else POOL
                    choice = rng.choice(pool + [render_argument(v, properties.get(param), language) for v in options])
                    arguments[param] = copy.deepcopy(choice)
            if properties and rng.random() < 0.2:
                param = rng.choice(sorted(properties))
                arguments[param] = copy.deepcopy(rng.choice(SOURCE_POOL if language != "python" else POOL))
            calls.append(Call(call.name, arguments))
        if len(calls) > 1 and rng.random() < 0.5:
            rng.shuffle(calls)
        yield calls


@pytest.mark.parametrize("category", CATEGORIES)
def test_random_outputs_agree_with_official_checker(category: str, official, bfcl) -> None:
    import random

    rng = random.Random(f"agreement-{category}")
    language = language_of(category)
    per_entry = int(os.environ.get("INFTOOL_AGREEMENT_RANDOM", "16")) // (2 if category == "live_multiple" else 1)
    total, disagreements, valid = 0, [], 0
    for question, ground_truth in entries(bfcl, category):
        functions = question["function"]
        for calls in random_outputs(category, functions, ground_truth, rng, per_entry):
            decoded = [{c.name: copy.deepcopy(c.arguments)} for c in calls]
            ours = check(functions, calls, ground_truth, category=category, language=language)
            try:
                theirs = official.valid(functions, decoded, ground_truth, category=category, language=language)
            except Exception as error:  # noqa: BLE001 - the official checker crashing is a disagreement to look at
                theirs = f"raised {type(error).__name__}: {error}"
            total += 1
            valid += ours.valid
            if ours.valid is not theirs:
                disagreements.append(f"{question['id']} ours={ours.valid} ({ours.message}) official={theirs} "
                                     f"output={decoded!r}"[:600])
    print(f"\n{category}: {total} random outputs ({valid} valid), {total - len(disagreements)} agree")
    assert not disagreements, f"{len(disagreements)} of {total} verdicts differ:\n" + "\n".join(disagreements[:40])


# ---------------------------------------------------------------- Java / JavaScript source reading

JAVA_TYPES = ["byte", "short", "integer", "long", "float", "double", "boolean", "char", "String", "any", "Array",
              "ArrayList", "HashMap"]
JS_TYPES = ["String", "integer", "float", "Bigint", "Boolean", "dict", "array", "any"]
FRAGMENTS = ["1", "-2", "3.5", "-0.25", "1e3", "2E-2", "4f", "5.5F", "6L", "7l", "8n", "true", "false", "null", "'c'",
             '"s"', "'s t'", "x", "a.b", "1_000", " 9 ", "0x1F", ",", ":", "[", "]", "{", "}", "(", ")", "\n", " ",
             "new int[]{1, 2, 3}", "new String[] {a, \"b\"}", "new long[]{1L, 2}", "new Object[]{}",
             'new ArrayList<>(Arrays.asList("a", "b"))', "new ArrayList<Integer>(Arrays.asList(1, 2L, x))",
             "new ArrayList<String>() {{ add(\"a\"); add('b'); }}", "new ArrayList<>()",
             'new HashMap<String, Object>() {{ put("k", 1); put("j", "v"); put("b", true); }}',
             "new HashMap<>() {}", "new HashMap<String, Integer>(){{put(\"a\", 2L);}}", "[1, 2]", "[[1, 2], [3, 4]]",
             "[ [ 'a' ], ['b', 'c']]", "new Array(1, 'x', true)", "new Array([1], [2])", "['p', \"q\"]", "[1.5, 2n]",
             "{}", "{a: 1}", "{'k': 'v', n: [1, 2], d: {x: 1}}", "{\"k\": true, 'm': 2.5}", "{a: b, c: d}"]


SOURCE_SAMPLES = int(os.environ.get("INFTOOL_AGREEMENT_SOURCES", "1500"))
"""Random source strings per reader test (raise it for a longer hunt)."""


def source_samples(rng, count: int) -> list[str]:
    samples = list(FRAGMENTS)
    for _ in range(count):
        parts = [rng.choice(FRAGMENTS) for _ in range(rng.randint(1, 4))]
        text = rng.choice(["", " ", ", "]).join(parts)
        if rng.random() < 0.3:
            cut = rng.randint(0, len(text))
            text = text[:cut] if rng.random() < 0.5 else text[cut:]
        samples.append(text)
    return samples


def same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and repr(a) == repr(b)


def compare_readers(ours, theirs, types: list[str], samples: list[str]) -> tuple[int, list[str]]:
    import contextlib
    import io

    checked, differ = 0, []
    item_types = [None, *types]
    for text in samples:
        for declared in types:
            for item in (item_types if declared in ("Array", "ArrayList", "array") else [None]):
                try:
                    with contextlib.redirect_stdout(io.StringIO()):
                        expected = theirs(text, declared, item) if item else theirs(text, declared)
                except Exception:  # noqa: BLE001, S112 - the official reader crashes here: nothing to agree with
                    continue
                got = ours(text, declared, item)
                checked += 1
                if not same(got, expected):
                    differ.append(f"{text!r} as {declared}[{item}]: ours {got!r}, official {expected!r}")
    return checked, differ


def test_java_source_reading_agrees_with_official(official) -> None:
    import random

    from inftool.evaluate.languages import java_value

    checked, differ = compare_readers(java_value, official.java_type_converter, JAVA_TYPES,
                                      source_samples(random.Random("java"), SOURCE_SAMPLES))
    print(f"\nJava source reading: {checked} conversions compared, {checked - len(differ)} agree")
    assert checked > 10_000
    assert not differ, f"{len(differ)} readings differ:\n" + "\n".join(differ[:40])


def test_javascript_source_reading_agrees_with_official(official) -> None:
    import random

    from inftool.evaluate.languages import javascript_value

    checked, differ = compare_readers(javascript_value, official.js_type_converter, JS_TYPES,
                                      source_samples(random.Random("javascript"), SOURCE_SAMPLES))
    print(f"\nJavaScript source reading: {checked} conversions compared, {checked - len(differ)} agree")
    assert checked > 10_000
    assert not differ, f"{len(differ)} readings differ:\n" + "\n".join(differ[:40])
