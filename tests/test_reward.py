"""The gated reward on real BFCL entries: later gates pay only after earlier ones; never raises."""

from __future__ import annotations

import json

import pytest

from inftool.catalog.bfcl_data import bfcl_data
from inftool.reward import RewardConfig, openrlhf_reward, score, trl_reward


def entry(category: str, index: int = 0) -> dict:
    data = bfcl_data()
    question = data.questions(category)[index]
    truth = data.answers(category)[question["id"]] if category != "irrelevance" else []
    return {"functions": question["function"], "ground_truth": truth, "category": category}


def hermes(*calls: tuple[str, dict]) -> str:
    return "".join(f'<tool_call>{json.dumps({"name": n, "arguments": a})}</tool_call>' for n, a in calls)


def reference(label: dict) -> list[tuple[str, dict]]:
    out = []
    for answer in label["ground_truth"]:
        (name, params), = answer.items()
        out.append((name, {p: values[0] for p, values in params.items() if values[0] != ""}))
    return out


def test_a_correct_answer_passes_every_gate():
    label = entry("simple_python")  # calculate_triangle_area(base=10, height=5, unit optional)
    result = score(hermes(*reference(label)), label)
    assert result.passed == ("format", "function_names", "arguments") and result.reward == pytest.approx(1.0)
    assert score(hermes(*reference(label)), json.dumps(label)).reward == pytest.approx(1.0)  # a JSON label


def test_gates_pay_in_order_only():
    label = entry("simple_python")
    (name, args), = reference(label)
    wrong_value = score(hermes((name, {**args, "base": args["base"] + 1})), label)
    assert wrong_value.passed == ("format", "function_names") and wrong_value.reward == pytest.approx(0.4)
    assert wrong_value.reason.startswith("arguments: ")
    wrong_name = score(hermes(("calculate_circle_area", args)), label)
    assert wrong_name.passed == ("format",) and wrong_name.reward == pytest.approx(0.1)
    garbage = score("<tool_call>{not json", label)
    assert garbage.passed == () and garbage.reward == 0.0 and garbage.reason.startswith("format")


def test_irrelevance_rewards_no_call():
    label = entry("irrelevance")
    assert score("I cannot help with that using these tools.", label).reward == pytest.approx(1.0)
    called = score(hermes((label["functions"][0]["name"], {})), label)
    assert called.passed == ("format",) and "although no function fits" in called.reason


def test_partial_credit_pays_the_share_of_right_argument_values():
    """A wrong answer with the right function earns the arguments gate's value times the share of its argument
    values the checker accepts; an optional argument left out does not count, a made-up one counts against."""
    label = entry("simple_python")  # calculate_triangle_area: base [10], height [5], unit ["units", ""]
    name = "calculate_triangle_area"
    lenient = RewardConfig(partial_credit=True)

    def graded(arguments: dict) -> float:
        return score(hermes((name, arguments)), label, lenient).reward

    assert score(hermes((name, {"base": 11, "height": 5})), label).reward == pytest.approx(0.4)  # all or nothing
    assert graded({"base": 11, "height": 5}) == pytest.approx(0.4 + 0.6 / 2)  # unit left out: not counted
    assert graded({"base": 11, "height": 5, "unit": "units"}) == pytest.approx(0.4 + 0.6 * 2 / 3)
    assert graded({"base": 10, "height": 5, "colour": "red"}) == pytest.approx(0.4 + 0.6 * 2 / 3)
    assert graded({"base": 10}) == pytest.approx(0.4 + 0.6 / 2)  # height is required: counted, wrong
    assert graded({"base": 1, "height": 1}) == pytest.approx(0.4)
    assert graded({"base": 10, "height": 5}) == pytest.approx(1.0)


def test_partial_credit_for_parallel_calls():
    """Each expected call earns the share of its right values (paired with the best made call of its function);
    the arguments gate pays the mean."""
    label = entry("parallel")
    calls = reference(label)
    assert len(calls) >= 2
    spoilt = [(n, {k: "nonsense" for k in a}) for n, a in calls[1:]]  # every value wrong
    strict = score(hermes(calls[0], *spoilt), label)
    lenient = score(hermes(*reversed([calls[0], *spoilt])), label, RewardConfig(partial_credit=True))
    assert strict.reward == pytest.approx(0.4)
    assert lenient.reward == pytest.approx(0.4 + 0.6 / len(calls))


def test_dotted_names_and_the_execution_gate():
    label = entry("simple_python", 1)  # math.factorial style entries use dotted names in BFCL
    config = RewardConfig(gates=("format", "function_names", "arguments", "execution"),
                          values={"format": 0.1, "function_names": 0.2, "arguments": 0.5, "execution": 0.2})
    calls = [(n.replace(".", "_"), a) for n, a in reference(label)]
    assert score(hermes(*calls), label, config).reward == pytest.approx(1.0)


def test_never_raises_on_bad_input(caplog):
    assert score("whatever", "not json").reward == 0.0
    assert score("whatever", {"functions": []}).reward == 0.0
    broken = {"functions": [{"name": "f"}], "ground_truth": [{"f": "not a mapping"}], "category": "simple_python"}
    assert score(hermes(("f", {"x": 1})), broken).reward <= 0.4
    assert score(None, entry("simple_python")).reward == 0.0
    assert "unreadable label" in caplog.text


def test_trl_and_openrlhf_adapters():
    label = entry("simple_python")
    good, bad = hermes(*reference(label)), "no idea"
    chat = [[{"role": "assistant", "content": good}], [{"role": "assistant", "content": bad}]]
    assert trl_reward()(prompts=["p", "p"], completions=chat, label=[label, label]) == pytest.approx([1.0, 0.1])
    result = openrlhf_reward(["PROMPT" + good], ["PROMPT"], [json.dumps(label)])  # OpenRLHF: one sample a call
    assert result["rewards"] == pytest.approx(1.0) and result["scores"] == result["rewards"]
    assert result["extra_logs"]["gated_reward_mean"] == pytest.approx(1.0)
    several = openrlhf_reward(["P" + good, "P" + bad], ["P", "P"], [label, label])  # the HTTP variant
    assert several["rewards"] == pytest.approx([1.0, 0.1])


def test_the_reward_module_imports_light():
    import subprocess
    import sys

    code = ("import sys; import inftool.reward; "
            "print(sorted(m for m in ('torch', 'transformers', 'trl', 'dspy', 'litellm', 'duckdb', 'datasets') "
            "if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip() == "[]", done.stderr
