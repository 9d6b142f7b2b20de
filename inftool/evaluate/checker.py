"""Judge tool calls against BFCL ground truth, as the Berkeley Function-Calling Leaderboard's AST checker does.

`check` gives the leaderboard's verdict (valid or not) for one entry: the function docs offered,
the calls the model made (see `inftool.evaluate.parse.parse_calls`) and the entry's possible
answers ``[{function_name: {parameter: [acceptable values...]}}]``. The category selects the mode:

* ``simple*`` (and any category without ``parallel`` / ``multiple``): exactly one call, of the
  entry's first function;
* ``multiple*``: exactly one call, of the expected function among those offered;
* ``parallel*`` (also ``parallel_multiple``): one call per expected call, in any order. Expected
  calls are taken in order and each takes the first not yet taken call that matches it (the
  leaderboard's greedy matching: it does not search other pairings);
* ``*irrelevance``: no call is correct, any call is wrong; ``*relevance``: at least one call.

Within a call, the function name must match: exactly, or as the name is given to models (dots
written as underscores, ``math_factorial`` for ``math.factorial``, and inftool's catalog name,
`function_name`), unless an offered function has that exact name. (The leaderboard accepts one
of the spellings, depending on the model; all are accepted here.) Every required parameter must
be given; every given argument must be declared by the function *and* expected by the ground
truth, and have the right type and an acceptable value (see `inftool.evaluate.values`); every
expected argument not marked optional (``""`` among its acceptable values) must be given. Java
and JavaScript arguments are source-code strings, read as the leaderboard reads them
(`inftool.evaluate.languages`).

A `Verdict` carries one of `ERROR_KINDS` when the calls are not valid (or, ``not_evaluated``, when there was
no answer to judge). `oracle_calls` writes an entry's ground truth as calls `check` accepts, when any
acceptable form of it passes.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Container, Sequence
from dataclasses import dataclass
from typing import Any

from inftool.core.episode import Call
from inftool.function_names import function_name

from . import languages
from .values import ITEM_TYPED, OMITTED, PYTHON_CLASSES, Mismatch, check_type, match_value

ERROR_KINDS: dict[str, str] = {
    "unparseable": "the model output could not be read as tool calls",
    "wrong_function": "a call names another function than the expected one",
    "missing_parameter": "a required parameter, or an argument the ground truth expects and does not mark "
                         "optional, is not given",
    "unexpected_parameter": "an argument the function does not declare, or that the ground truth does not expect",
    "wrong_type": "an argument of the wrong type (Java/JavaScript: not a source string, or source that does "
                  "not read as the declared type nor as the ground truth's type)",
    "wrong_value": "an argument of the right type whose value is not among the acceptable ones",
    "wrong_count": "a list-of-objects argument has another number of elements than every acceptable list",
    "extra_call": "more calls than expected (irrelevance: any call at all)",
    "missing_call": "fewer calls than expected (including no call where one is expected; multi-turn: no call in "
                    "a turn whose ground truth calls something)",
    "state_mismatch": "multi-turn: after a turn, an environment's state differs from the ground truth's",
    "response_mismatch": "multi-turn: a result of the ground truth's calls in a turn is not among the results of "
                         "the model's calls so far (the information never reached the model)",
    "step_limit": "multi-turn: a turn went past BFCL's step limit and the conversation was stopped before its end",
    "not_evaluated": "no verdict: the policy could not be asked (its endpoint kept failing: timeouts, server "
                     "errors, reset connections, unreadable or empty replies); the reason is stored with the item, "
                     "which is left out of every accuracy",
}
"""Every error kind a Verdict can carry, with what it means."""


@dataclass(frozen=True)
class Verdict:
    """The outcome of checking one model output: valid, or why not."""

    valid: bool
    error_kind: str | None = None
    message: str = ""


VALID = Verdict(True)
NOT_EVALUATED = "not_evaluated"
"""The error kind of an item that has no verdict (see `ERROR_KINDS`): never counted as right or wrong."""
ORACLE_FORMS = 256
"""Most forms of one expected call `oracle_calls` tries."""

_LANGUAGES = {"python": "python", "java": "java", "javascript": "javascript", "js": "javascript"}


def language_of(category: str) -> str:
    """The language of a BFCL category: java / javascript for simple_java / simple_javascript, else python."""
    if category == "javascript" or category.endswith("_javascript"):
        return "javascript"
    if category == "java" or category.endswith("_java"):
        return "java"
    return "python"


@functools.lru_cache(maxsize=65536)
def _aliases(declared: str) -> frozenset[str]:
    """Other names a function may be called by: dots as underscores (BFCL's rule) and our catalog name
    (`inftool.catalog.tool.function_name`: ``__book_room`` -> ``book_room``, long names shortened)."""
    return frozenset({declared.replace(".", "_"), function_name(declared)}) - {declared}


def function_doc(function: dict[str, Any]) -> dict[str, Any]:
    """A BFCL function doc; an OpenAI ``{"type": "function", "function": {...}}`` entry is unwrapped."""
    inner = function.get("function")
    return inner if type(inner) is dict and "name" in inner else function


class _Offered:
    """The names of the offered functions, looked up only when a dotted-name alias needs them."""

    __slots__ = ("functions",)

    def __init__(self, functions: Sequence[dict[str, Any]]):
        self.functions = functions

    def __contains__(self, name: object) -> bool:
        return any(function_doc(f).get("name") == name for f in self.functions)


_TABLES: dict[str, tuple[dict[str, type], frozenset[str]]] = {
    "python": (PYTHON_CLASSES, ITEM_TYPED),
    "java": (languages.JAVA_CLASSES, languages.JAVA_ITEM_TYPED),
    "javascript": (languages.JAVASCRIPT_CLASSES, languages.JAVASCRIPT_ITEM_TYPED),
}


def _declared(schema: Any) -> tuple[str, str | None]:
    """A parameter's declared type and, for arrays, its items' declared type."""
    if type(schema) is not dict:
        return "any", None
    declared = schema.get("type")
    if type(declared) is not str:
        declared = "any"
    items = schema.get("items")
    if items is None:
        return declared, None
    item_type = items.get("type") if type(items) is dict else None
    return declared, item_type if type(item_type) is str else None


def _check_argument(param: str, value: Any, accepted: list[Any], schema: Any, language: str) -> None:
    """Type and value of one argument; raises Mismatch."""
    declared, item_type = _declared(schema)
    table, item_typed = _TABLES[language]
    cls = table.get(declared, str)
    item_cls = table.get(item_type, str) if item_type and declared in item_typed else None
    if language != "python":
        if type(value) is not str:
            raise Mismatch("wrong_type", f"argument {param!r}: expected {language} source code in a string "
                                         f"for type {declared}, got {type(value).__name__} ({value!r})")
        item_type = item_type if item_cls is not None else None
        if language == "java":
            value = languages.java_value(value, declared, item_type)
        else:
            value = languages.javascript_value(value, declared, item_type)
    elif type(value) is int and (declared == "float" or declared == "number"):
        value = float(value)
    if declared == "tuple" and type(value) is tuple:
        value = list(value)
    variable = check_type(param, value, accepted, cls, item_cls, declared)
    match_value(param, value, accepted, cls, item_cls, variable)


_EMPTY: dict[str, Any] = {}


def _schema(doc: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A function doc's ``parameters`` and their ``properties``, each an empty dict where the doc has no dict."""
    parameters = doc.get("parameters")
    parameters = parameters if type(parameters) is dict else _EMPTY
    properties = parameters.get("properties")
    return parameters, properties if type(properties) is dict else _EMPTY


def check_call(function: dict[str, Any], call: Call, expected: dict[str, list[Any]], *,
               language: str = "python", offered: Container[str] = frozenset()) -> Verdict:
    """One call against one function doc and the acceptable arguments of one expected call.

    ``offered`` (the names of all offered functions) keeps a dotted-name alias from matching when
    an offered function has that exact name.
    """
    doc = function_doc(function)
    name = doc.get("name", "")
    if call.name != name and (call.name not in _aliases(name) or call.name in offered):
        return Verdict(False, "wrong_function", f"called {call.name!r}, expected {name!r}")
    parameters, properties = _schema(doc)
    arguments = call.arguments if type(call.arguments) is dict else _EMPTY
    for required in parameters.get("required") or ():
        if required not in arguments:
            return Verdict(False, "missing_parameter", f"{name}: required parameter {required!r} is missing")
    for param, value in arguments.items():
        if param not in properties or param not in expected:
            why = "is not a parameter of the function" if param not in properties else "is not expected"
            return Verdict(False, "unexpected_parameter", f"{name}: argument {param!r} {why}")
        try:
            _check_argument(param, value, expected[param], properties[param], language)
        except Mismatch as mismatch:
            return Verdict(False, mismatch.kind, f"{name}: {mismatch.message}")
    if len(expected) > len(arguments):  # every argument is expected: some expected one is missing
        for param, accepted in expected.items():
            if param not in arguments and not _optional(accepted):
                return Verdict(False, "missing_parameter", f"{name}: argument {param!r} is expected and not optional")
    return VALID


def argument_share(function: dict[str, Any], call: Call, expected: dict[str, list[Any]], *,
                   language: str = "python") -> float:
    """The share of one call's arguments that are right against one expected call, for graded rewards. Counted:
    every argument the call makes (right when the checker accepts its value; wrong when the expected call does
    not name it) and every expected argument it leaves out that is not optional (wrong). An optional argument
    left out is not counted. The verdict on the whole call stays ``check_call``'s."""
    _, properties = _schema(function_doc(function))
    arguments = call.arguments if type(call.arguments) is dict else _EMPTY
    right = 0
    for param, value in arguments.items():
        if param in expected and param in properties:
            try:
                _check_argument(param, value, expected[param], properties[param], language)
                right += 1
            except Mismatch:
                pass
    counted = len(arguments) + sum(param not in arguments and not _optional(accepted)
                                   for param, accepted in expected.items())
    return right / counted if counted else 1.0


def _optional(accepted: Any) -> bool:
    try:
        return OMITTED in accepted
    except TypeError:
        return False


def _count(made: int, expected: int) -> Verdict | None:
    if made == expected:
        return None
    kind = "missing_call" if made < expected else "extra_call"
    return Verdict(False, kind, f"{made} call(s) made, {expected} expected")


def _expected(answer: dict[str, Any]) -> tuple[str, dict[str, list[Any]]]:
    if type(answer) is not dict or len(answer) != 1:
        raise ValueError(f"a possible answer must be {{function_name: {{parameter: [values]}}}}, got {answer!r}")
    for name, arguments in answer.items():
        return name, arguments
    raise AssertionError


def _find(functions: Sequence[dict[str, Any]], name: str) -> dict[str, Any]:
    for function in functions:
        doc = function_doc(function)
        if doc.get("name") == name:
            return doc
    raise ValueError(f"the ground truth expects function {name!r}, which is not among the functions offered")


def check(functions: Sequence[dict[str, Any]], calls: Sequence[Call] | None, ground_truth: Sequence[dict[str, Any]],
          *, category: str, language: str | None = None) -> Verdict:
    """The leaderboard's verdict on ``calls`` for one BFCL entry (see the module docstring).

    ``functions`` is the entry's ``function`` list (BFCL docs, or OpenAI ``tools`` entries),
    ``calls`` what `parse_calls` read from the model output (None: unreadable), ``ground_truth``
    the entry's possible answers. ``language`` defaults to the category's (`language_of`).
    Raises ValueError for a malformed ground truth, never for a model's output.
    """
    if "relevance" in category:
        return irrelevance_check(calls) if "irrelevance" in category else relevance_check(calls)
    if calls is None:
        return Verdict(False, "unparseable", "no tool call could be read from the output")
    lang = _LANGUAGES.get(language or language_of(category)) or _LANGUAGES.get((language or "").lower())
    if lang is None:
        raise ValueError(f"unknown language {language!r}: expected python, java or javascript")
    offered = _Offered(functions)
    if "parallel" in category:
        return _check_parallel(functions, calls, ground_truth, lang, offered)
    wrong_count = _count(len(calls), 1 if "multiple" not in category else len(ground_truth))
    if wrong_count:
        return wrong_count
    if not ground_truth or not functions:
        raise ValueError("an entry needs at least one function and one possible answer")
    name, expected = _expected(ground_truth[0])
    doc = _find(functions, name) if "multiple" in category else function_doc(functions[0])
    return check_call(doc, calls[0], expected, language=lang, offered=offered)


def _check_parallel(functions: Sequence[dict[str, Any]], calls: Sequence[Call], ground_truth: Sequence[dict[str, Any]],
                    language: str, offered: Container[str]) -> Verdict:
    wrong_count = _count(len(calls), len(ground_truth))
    if wrong_count:
        return wrong_count
    free = list(range(len(calls)))
    for index, answer in enumerate(ground_truth):
        name, expected = _expected(answer)
        doc = _find(functions, name)
        closest: Verdict | None = None
        for position, call_index in enumerate(free):
            verdict = check_call(doc, calls[call_index], expected, language=language, offered=offered)
            if verdict.valid:
                del free[position]
                break
            if closest is None or (closest.error_kind == "wrong_function" and verdict.error_kind != "wrong_function"):
                closest = verdict
        else:
            detail = f": {closest.message}" if closest else ""
            kind = closest.error_kind if closest else "missing_call"
            return Verdict(False, kind, f"no call matches expected call #{index} ({name}){detail}")
    return VALID


def irrelevance_check(calls: Sequence[Call] | None) -> Verdict:
    """Irrelevance: valid iff no call was made (an unreadable output counts as no call, as in BFCL)."""
    if not calls:
        return VALID
    names = ", ".join(call.name for call in calls)
    return Verdict(False, "extra_call", f"{len(calls)} call(s) made ({names}) where none should be")


def relevance_check(calls: Sequence[Call] | None) -> Verdict:
    """Relevance: valid iff at least one call was read from the output."""
    if calls is None:
        return Verdict(False, "unparseable", "no tool call could be read from the output")
    if not calls:
        return Verdict(False, "missing_call", "no call made where one is expected")
    return VALID


def reference_calls(functions: Sequence[dict[str, Any]], ground_truth: Sequence[dict[str, Any]], *,
                    language: str = "python", omit_optional: bool = False, as_source: bool = True) -> list[Call]:
    """The ground truth written as calls: the first acceptable value of each argument.

    Optional arguments (``""`` acceptable) are left out when ``omit_optional`` is set, and always
    when ``""`` is their only acceptable value. Java and JavaScript values are written as source
    code strings that read back as the value (unless ``as_source`` is False). Dict arguments (and
    lists of dicts) take the first acceptable value of each of their keys.
    """
    lang = _LANGUAGES.get(language.lower(), "python")
    calls = []
    for answer in ground_truth:
        name, expected = _expected(answer)
        properties = _properties(functions, name)
        arguments = {}
        for param, accepted in expected.items():
            if omit_optional and _optional(accepted):
                continue
            value = _first(accepted)
            if value is not _NONE:
                arguments[param] = _written(value, properties.get(param), lang, as_source)
        calls.append(Call(name, arguments))
    return calls


def call_forms(functions: Sequence[dict[str, Any]], answer: dict[str, Any], *, language: str = "python",
               limit: int = ORACLE_FORMS) -> list[Call]:
    """One expected call (``{name: {parameter: [acceptable values]}}``) written as calls in every acceptable
    form, at most ``limit``, in the order a model would most plainly answer: first every optional parameter
    (``""`` acceptable) left out and every other one given its first acceptable value; then the forms with one
    parameter changed (given where it was left out, or another acceptable value), then with two, and so on.
    Values are written as `reference_calls` writes them (Java / JavaScript as source)."""
    lang = _LANGUAGES.get(language.lower(), "python")
    name, expected = _expected(answer)
    properties = _properties(functions, name)
    options = {param: _options(accepted) for param, accepted in expected.items()}
    preferred = {param: choices[0] for param, choices in options.items()}
    variable = [param for param, choices in options.items() if len(choices) > 1]
    forms: list[Call] = []
    for changed in range(len(variable) + 1):
        for params in itertools.combinations(variable, changed):
            for values in itertools.product(*(options[param][1:] for param in params)):
                chosen = preferred | dict(zip(params, values, strict=True))
                forms.append(Call(name, {param: _written(value, properties.get(param), lang, True)
                                         for param, value in chosen.items() if value is not _NONE}))
                if len(forms) >= limit:
                    return forms
    return forms


def oracle_calls(functions: Sequence[dict[str, Any]], ground_truth: Sequence[dict[str, Any]], *, category: str,
                 language: str | None = None) -> list[Call]:
    """The ground truth as the calls a perfect model makes: for each expected call, the first of its
    `call_forms` that `check_call` accepts (its first form when none does). `check` accepts the result unless no
    acceptable form of some expected call passes, i.e. the entry's own ground truth cannot be answered."""
    lang = _LANGUAGES.get((language or language_of(category)).lower(), "python")
    offered = _Offered(functions)
    calls = []
    for index, answer in enumerate(ground_truth):
        name, expected = _expected(answer)
        doc = function_doc(functions[0]) if _single(category) and index == 0 and functions else _doc(functions, name)
        forms = call_forms(functions, answer, language=lang)
        calls.append(next((form for form in forms if check_call(doc, form, expected, language=lang,
                                                                offered=offered).valid), forms[0]))
    return calls


def _single(category: str) -> bool:
    """Whether `check` judges the category's one call against the first function offered (simple_*)."""
    return "parallel" not in category and "multiple" not in category


def _doc(functions: Sequence[dict[str, Any]], name: str) -> dict[str, Any]:
    """The offered function doc named ``name`` (an empty doc of that name when none is: nothing will pass)."""
    return next((doc for doc in map(function_doc, functions) if doc.get("name") == name), {"name": name})


def _properties(functions: Sequence[dict[str, Any]], name: str) -> dict[str, Any]:
    return ((_doc(functions, name).get("parameters") or {}).get("properties")) or {}


def _options(accepted: Any) -> list[Any]:
    """An expected argument's choices in the oracle's order: left out (``_NONE``) when optional, then each
    acceptable value."""
    if not isinstance(accepted, list):
        return [accepted]
    values = [value for value in accepted if value != OMITTED]
    return [_NONE, *values] if _optional(accepted) or not values else values


def _written(value: Any, schema: Any, language: str, as_source: bool) -> Any:
    """An acceptable value as a call gives it: dict answers expanded, Java / JavaScript as source if asked."""
    declared, item_type = _declared(schema)
    value = _expand(value, declared, item_type, language)
    return render_argument(value, schema, language) if as_source else value


_NONE = object()


def _first(accepted: Any) -> Any:
    if not isinstance(accepted, list):
        return accepted
    return next((value for value in accepted if value != OMITTED), _NONE)


def _expand(value: Any, declared: str, item_type: str | None, language: str) -> Any:
    """Dict answers hold a list of acceptable values per key: take the first of each."""
    table = {"python": PYTHON_CLASSES, "java": languages.JAVA_CLASSES}.get(language, languages.JAVASCRIPT_CLASSES)
    if table.get(declared) is dict and isinstance(value, dict):
        return _expand_dict(value)
    if table.get(declared) is list and table.get(item_type or "") is dict and isinstance(value, list):
        return [_expand_dict(item) if isinstance(item, dict) else item for item in value]
    return value


def _expand_dict(value: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, accepted in value.items():
        first = _first(accepted)
        if first is not _NONE:
            out[key] = first
    return out


def render_argument(value: Any, schema: Any, language: str) -> Any:
    """An argument value as a model gives it: Java / JavaScript source text, a Python value as it is."""
    declared, item_type = _declared(schema)
    if language == "java":
        return languages.render_java(value, declared, item_type)
    if language == "javascript":
        return languages.render_javascript(value, declared, item_type)
    return value
