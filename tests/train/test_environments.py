"""Multi-turn GRPO on stateful environments (``inftool.train.environments``):

- every BFCL environment tool becomes a method whose signature and docstring TRL turns back into the tool's schema;
- each user turn of a stateful episode is a task whose label rebuilds the world where the turn starts, and whose
  planned state at the last turn is the episode's recorded final state;
- the reward: the gated call reward plus the state reward, from the world the rollout's calls ran on, and no state
  credit for an answer that cannot be read;
- TRL can read calls from the tiny-scratch template (a Hermes response template) and from the templates it knows;
  a template whose calls it cannot read is a clear error;
- GRPO really trains on a stateful recipe through TRL's ``environment_factory``: one reset per rollout, each
  starting the row's turn, and every reward computed from the state the rollout's executed calls left.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("trl", reason="multi-turn GRPO needs the train extra")

from inftool.core.episode import Call
from inftool.envs import state_digest
from inftool.errors import StageError
from inftool.reward import STATE, RewardConfig, StatefulTurn, score_rollout
from inftool.store import Store
from inftool.train import environments
from inftool.train.environments import (
    RolloutEnvironment,
    environment_class,
    tool_method,
    tool_parsing,
)

pytestmark = pytest.mark.usefixtures("bfcl_available")

CONFIG = RewardConfig()
FULL = sum(CONFIG.values[g] for g in CONFIG.gates) + CONFIG.state


def planned(task) -> list[Call]:
    return list(StatefulTurn.of(task.label).planned)


def play(task, calls: list[Call], answer: str = "Done.") -> tuple[RolloutEnvironment, list[dict]]:
    """A rollout as TRL makes it: reset with the row, each call through the environment class's method, the
    completion's messages (the calls, their results, a closing answer)."""
    environment = environment_class(task.environment, task.tools)()
    environment.reset(prompt=task.messages, label=task.label, item_id=task.item_id)
    results = [getattr(environment, call.name)(**call.arguments) for call in calls]
    completion = ([{"role": "assistant", "content": "", "tool_calls": [
        {"type": "function", "function": {"name": c.name, "arguments": c.arguments}} for c in calls]}] if calls else [])
    completion += [{"role": "tool", "name": c.name, "content": r} for c, r in zip(calls, results, strict=True)]
    return environment, completion + [{"role": "assistant", "content": answer}]


def scored(task, environment, completion):
    return score_rollout(environments.answers(completion), task.label, CONFIG, world=environment.world,
                         results=environments.shown(completion))


def wrong(calls: list[Call]) -> list[Call]:
    """The calls with the first argument changed (a string gets a suffix, a number 1 added); no call at all when
    none of them takes an argument."""
    for i, call in enumerate(calls):
        if call.arguments:
            name, value = next(iter(call.arguments.items()))
            changed = value + "x" if isinstance(value, str) else value + 1 if isinstance(value, int | float) else None
            return [*calls[:i], Call(call.name, {**call.arguments, name: changed}), *calls[i + 1:]]
    return []


# --- tools as methods ----------------------------------------------------------------------------------------------


def projected(schema: dict) -> dict:
    """What a signature can say of a parameter's schema: no ``default``, an object's properties left out."""
    out = {k: v.strip() if k == "description" else v for k, v in schema.items() if k != "default"}
    if out.get("type") == "object":
        out.pop("properties", None)
    if isinstance(out.get("items"), dict):
        out["items"] = projected(out["items"])
    return out


def test_every_bfcl_environment_tool_round_trips_through_its_method():
    from transformers.utils import get_json_schema

    from inftool.envs.bfcl import ENV_NAMES, env_tools

    tools = [tool for name in ENV_NAMES for tool in env_tools(name)]
    assert len(tools) == 128
    for tool in tools:
        function = tool["function"]
        parameters = {**function["parameters"],
                      "properties": {k: projected(v) for k, v in function["parameters"]["properties"].items()}}
        expected = {"name": function["name"], "description": function["description"].strip(), "parameters": parameters}
        assert get_json_schema(tool_method(tool))["function"] == expected


def test_enums_unions_and_arrays_become_python_types_and_back():
    from transformers.utils import get_json_schema

    tool = {"type": "function", "function": {"name": "paint", "description": "Paint a wall.\nArgs: none here.",
                                             "parameters": {"type": "object", "required": ["color"], "properties": {
                                                 "color": {"type": "string", "enum": ["red", "blue"],
                                                           "description": "Which colour."},
                                                 "coats": {"type": ["integer", "null"], "description": "How many."},
                                                 "walls": {"type": "array", "items": {"type": "integer"},
                                                           "description": "Wall\nnumbers."}}}}}
    schema = get_json_schema(tool_method(tool))["function"]
    assert schema["parameters"]["properties"] == {
        "color": {"type": "string", "enum": ["red", "blue"], "description": "Which colour."},
        "coats": {"type": "integer", "nullable": True, "description": "How many."},  # the same, as transformers says it
        "walls": {"type": "array", "items": {"type": "integer"}, "description": "Wall numbers."}}
    assert schema["parameters"]["required"] == ["color"] and schema["description"].startswith("Paint a wall.")


def test_a_tool_a_python_signature_cannot_describe_is_an_error():
    tool = {"type": "function", "function": {"name": "fly", "description": "Fly.", "parameters": {
        "type": "object", "properties": {"from": {"type": "string"}}}}}
    with pytest.raises(StageError, match="'from' cannot be a Python parameter"):
        tool_method(tool)
    with pytest.raises(StageError, match="reset"):
        environment_class("python:m:C#0", [{"type": "function", "function": {"name": "reset", "parameters": {}}}])


# --- tasks and the reward ------------------------------------------------------------------------------------------


def test_each_user_turn_is_a_task_whose_label_rebuilds_its_world(stateful_run, stateful_tasks):
    episodes = [e for e in stateful_run[3] if e["goal"].get("env")]
    assert len(stateful_tasks) == sum(len(e["goal"]["turns"]) for e in episodes) > len(episodes)
    by_episode = {e["episode_id"]: e for e in episodes}
    for task in stateful_tasks:
        episode, k = by_episode[task.item_id.split("/")[0]], int(task.item_id.rsplit("turn", 1)[1])
        assert task.messages[-1]["role"] == "user" and sum(m["role"] == "user" for m in task.messages) == k + 1
        turn = StatefulTurn.of(task.label)
        world, results = turn.start()  # the earlier turns' calls, again: the results the prompt shows
        assert results == [m["content"] for m in task.messages if m["role"] == "tool"]
        for call in turn.planned:
            world.call(call.name, call.arguments)
        if k == len(episode["goal"]["turns"]) - 1:  # the last turn ends in the state the goal recorded
            assert state_digest(world.state()) == episode["goal"]["final_state"]
        label = json.loads(task.label)
        assert label["ground_truth"] and {t["function"]["name"] for t in task.tools} >= {c.name for c in turn.planned}


def test_the_plan_earns_the_gates_and_the_state(stateful_tasks):
    for task in stateful_tasks:
        result = scored(task, *play(task, planned(task)))
        assert result.reward == pytest.approx(FULL) and result.passed[-1] == STATE, (task.item_id, result)


def test_no_state_credit_for_a_wrong_world_a_missing_call_or_an_unreadable_answer(stateful_tasks):
    changing = next(t for t in stateful_tasks if any(c.arguments for c in planned(t)))
    result = scored(changing, *play(changing, wrong(planned(changing))))
    assert STATE not in result.passed and "arguments" not in result.passed
    assert result.reward == pytest.approx(CONFIG.values["format"] + CONFIG.values["function_names"])

    nothing = scored(changing, *play(changing, []))
    assert nothing.reward == pytest.approx(CONFIG.values["format"]) and STATE not in nothing.passed

    environment, completion = play(changing, planned(changing), answer='<tool_call>{"name": "close_ti')
    unreadable = scored(changing, environment, completion)  # the world is right, an answer cannot be read
    assert unreadable.reward == 0.0 and unreadable.passed == () and unreadable.reason.startswith("format")


def test_a_read_only_turn_needs_a_call_not_just_an_unchanged_world(stateful_tasks):
    """After a read-only turn the world is as it was: the state reward also asks, as BFCL does, that the policy
    called something and that the planned results came back to it, so doing nothing earns no state credit."""
    def unchanged(task) -> bool:
        turn = StatefulTurn.of(task.label)
        start, _ = turn.start()
        world, _ = turn.start()
        for call in turn.planned:
            world.call(call.name, call.arguments)
        return bool(turn.planned) and world.state() == start.state()

    reads = next((t for t in stateful_tasks if unchanged(t)), None)
    if reads is None:
        pytest.skip("no read-only turn among the tasks")
    environment, completion = play(reads, [])
    result = scored(reads, environment, completion)
    assert STATE not in result.passed and result.reward == pytest.approx(CONFIG.values["format"])
    assert StatefulTurn.of(reads.label).judge(environment.world, [], []).startswith("no call")


# --- reading calls -------------------------------------------------------------------------------------------------


def trl_template(name: str) -> str:
    import trl

    return (Path(trl.__file__).parent / "chat_templates" / f"{name}.jinja").read_text(encoding="utf-8")


CALLS = [Call("get_ticket", {"ticket_id": 7}), Call("edit_ticket", {"ticket_id": 7, "updates": {"priority": 2}})]


def tokenizer_for(checkpoint: Path, template: str | None, eos: str | None = None):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    if template is not None:
        tokenizer.chat_template = template
    if eos is not None:
        tokenizer.eos_token = eos
    return tokenizer


@pytest.mark.parametrize(("template", "eos"), [(None, None), ("qwen2_5", None), ("qwen3", None),
                                               ("qwen2_5_training", "<|im_end|>")])
def test_trl_reads_the_calls_back_from_the_tiny_template_and_qwen_templates(stateful_tiny, template, eos):
    from inftool.core.messages import for_template

    tokenizer = tool_parsing(tokenizer_for(stateful_tiny, template and trl_template(template), eos))
    asked = [{"role": "user", "content": "Raise ticket 7's priority."}]
    said = {"role": "assistant", "content": None, "tool_calls": [
        {"id": f"c{i}", "type": "function", "function": {"name": c.name, "arguments": json.dumps(c.arguments)}}
        for i, c in enumerate(CALLS)]}
    prompt = tokenizer.apply_chat_template(asked, add_generation_prompt=True, tokenize=False)
    whole = tokenizer.apply_chat_template(for_template([*asked, said]), tokenize=False)
    assert whole.startswith(prompt)
    parsed = tokenizer.parse_response(whole[len(prompt):], prefix=prompt)
    assert [Call(c["function"]["name"], c["function"]["arguments"]) for c in parsed["tool_calls"]] == CALLS


def test_templates_whose_calls_trl_cannot_read_are_clear_errors(stateful_tiny):
    with pytest.raises(StageError, match="cannot render a tool-calling exchange"):
        tool_parsing(tokenizer_for(stateful_tiny, trl_template("llama3")))  # Llama 3.0: no tools at all
    pythonic = ("{% for m in messages %}{{ m['role'] }}: {% if m.get('tool_calls') %}"
                "{% for c in m['tool_calls'] %}[{{ c['function']['name'] }}({{ c['function']['arguments'] }})]"
                "{% endfor %}{% else %}{{ m['content'] }}{% endif %}\n{% endfor %}"
                "{% if add_generation_prompt %}assistant: {% endif %}")
    with pytest.raises(StageError, match="TRL cannot read tool calls .*response_template"):
        tool_parsing(tokenizer_for(stateful_tiny, pythonic))
    from transformers import AutoTokenizer

    tiny_template = AutoTokenizer.from_pretrained(stateful_tiny).chat_template
    shifting = tiny_template.replace("<|im_end|>\n{% endfor %}",  # a turn ends differently once another follows
                                     "{% if not loop.last %}<|pad|>{% endif %}<|im_end|>\n{% endfor %}")
    assert shifting != tiny_template
    with pytest.raises(StageError, match="renders an assistant turn differently once a tool result follows"):
        tool_parsing(tokenizer_for(stateful_tiny, shifting))


# --- GRPO through TRL's environment_factory ------------------------------------------------------------------------


class ScriptedAnswers:
    """The tiny policy's ``generate`` for the training test, so that rollouts do call tools: rows at even
    positions answer with the turn's planned calls, odd rows with a wrong first argument; after tool results,
    a plain answer. The tokens go through TRL's tool loop and into the loss like any sampled ones."""

    def __init__(self, tokenizer, tasks):
        self.tokenizer = tokenizer
        self.plans = {task.messages[-1]["content"]: planned(task) for task in tasks}

    def __call__(self, input_ids, attention_mask, **kwargs):
        import torch

        answers = []
        for row, (ids, mask) in enumerate(zip(input_ids, attention_mask, strict=True)):
            text = self.tokenizer.decode(ids[mask.bool()], skip_special_tokens=False)
            turn = text.rsplit("<|im_start|>user\n", 1)[1]
            if "<|im_start|>tool\n" in turn:
                answer = "Done."
            else:
                calls = self.plans[turn.split("<|im_end|>", 1)[0]]
                calls = calls if row % 2 == 0 else wrong(calls)
                answer = "".join(f"<tool_call>{json.dumps({'name': c.name, 'arguments': c.arguments})}</tool_call>"
                                 for c in calls)
            answers.append(self.tokenizer(answer, add_special_tokens=False)["input_ids"] + [self.tokenizer.eos_token_id])
        width = max(map(len, answers))
        padded = [a + [self.tokenizer.pad_token_id] * (width - len(a)) for a in answers]
        return torch.cat([input_ids, torch.tensor(padded, device=input_ids.device)], dim=1)


def test_grpo_trains_on_stateful_turns_with_one_world_per_rollout(stateful_run, stateful_tasks, stateful_tiny,
                                                                   monkeypatch):
    from safetensors.torch import load_file
    from transformers import AutoTokenizer

    from inftool.train import local
    from inftool.train.stage import Training

    loaded, compiled, directory, _ = stateful_run
    resets, rollouts, environments_made = [], [], []
    reset, score = RolloutEnvironment.reset, environments.score_rollout

    def counted_reset(self, **row):
        reset(self, **row)
        environments_made.append(self)
        fresh, _ = StatefulTurn.of(row["label"]).start()
        resets.append((row["item_id"], self.world.state() == fresh.state() and not self.calls))

    def recorded_score(answers, label, config, *, world, results):
        result = score(answers, label, config, world=world, results=results)
        made = next(e.calls for e in environments_made if e.world is world)  # TRL's calls through its methods
        rollouts.append((label, world, list(made), result))
        return result

    def scripted_load(self, start):
        model = load(self, start)
        model.generate = ScriptedAnswers(AutoTokenizer.from_pretrained(start), stateful_tasks)
        return model

    load = local.Runtime.load
    monkeypatch.setattr(RolloutEnvironment, "reset", counted_reset)
    monkeypatch.setattr(environments, "score_rollout", recorded_score)
    monkeypatch.setattr(local.Runtime, "load", scripted_load)
    with Store.open(directory) as store:
        training = Training(loaded.spec, compiled.plan, compiled.catalog, store, store.current_run())
        counts, out = training.grpo(0, stateful_tiny)
    grpo = loaded.spec.train.grpo
    rollouts_made = grpo.steps * grpo.prompts_per_step * grpo.group_size
    assert counts["multi_turn"] is True and counts["steps"] == grpo.steps
    # one reset per rollout, each starting the row's turn on a fresh world
    assert len(resets) == len(rollouts) == rollouts_made and all(fresh for _, fresh in resets)
    # every reward comes from the world the rollout's executed calls left (the same calls again on a fresh world
    # reach it); the planned calls earn the state credit and the full reward, the wrong ones neither
    credited = 0
    for label, world, made, result in rollouts:
        turn = StatefulTurn.of(label)
        again, _ = turn.start()
        for call in made:
            again.call(call.name, call.arguments)
        assert again.state() == world.state()
        assert (STATE in result.passed) == (made == list(turn.planned)), (made, result)
        assert result.reward == pytest.approx(FULL) or STATE not in result.passed
        credited += STATE in result.passed
    assert 0 < credited < len(rollouts)
    with Store.open(directory, read_only=True) as store:
        _, logged = store.query("SELECT (metrics->>'state_passed')::DOUBLE FROM train_log WHERE run_id = ? AND "
                                "phase = 'grpo' ORDER BY step", [training.run_id])
    assert len(logged) == grpo.steps and any(value > 0 for (value,) in logged)  # the share TRL logged per step
    before = load_file(str(stateful_tiny / "model.safetensors"))
    after = load_file(str(Path(out) / "model.safetensors"))
    assert any(not (before[k] == after[k]).all() for k in before)  # it trained
