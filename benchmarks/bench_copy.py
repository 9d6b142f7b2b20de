"""Copy probe: how far a scratch policy gets at copying a request's values into its calls, and where its values
come from, with the trainer taken out of the question (a plain PyTorch SFT loop at full speed).

Run: python benchmarks/bench_copy.py [--tokenizer bpe|words|copy] [--description-chars 60] [--steps 450] ...
Synthesises `--episodes` episodes of recipes/bfcl.yaml once into --data (reused on later runs), builds the
tiny-scratch policy from them as the loop does (`inftool.train.tiny`, `inftool.train.data.sft_data`), trains it
with AdamW (batch --batch, learning rate --lr with a short warm-up and a cosine to a tenth, examples batched by
length), and every --eval-every steps scores the first 120 held-out episodes with the project's checker. At
the end it prints, for every argument value the policy wrote: right or wrong, whether the value appears in the
user's request, and its JSON type. A policy that copies writes values that are in the request; one that has
only learnt the value pools writes values that are not. `--prompt-loss W` adds W times the loss on the prompt
tokens (a language-modelling signal on the requests and tool lines) to the loss on the completion.
`--fresh-strings SHARE` replaces that share of the string values training requests state by made-up words (in
the request and in the calls; held-out episodes untouched), so that the value pools cannot stand in for copying.
`--value-weight W` weighs the argument values' tokens W times the completion's other tokens in the loss.
`--copy-attention W` adds W times the copy-attention loss (`train.sft.copy_attention`,
`inftool.train.copy_attention`: one head of the last layer supervised to look at the request's copy of the value
being written). `--optimizer muon` trains the hidden weight matrices with Muon at peak `--muon-lr` and the rest
with AdamW at `--lr`, the optimizer of `train.sft.optimizer: muon` (`inftool.train.optimizers`), on the same
schedule.

Exact match over 120 items moves in steps of 0.8 points and is near the floor for a policy this small, so each
evaluation also reports a finer signal: teacher-forced loss and top-1 accuracy on 300 held-out completions,
split into the tokens of argument values (what copying must get right) and every other completion token
(call syntax, names, refusals). Compare settings at equal `train_seconds`:

    python benchmarks/bench_copy.py --hidden-size 128 --layers 2 --heads 4 --batch 32 --steps 600
    python benchmarks/bench_copy.py --hidden-size 128 --layers 2 --heads 4 --batch 16 --steps 1100
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from _machine import cpu_model

from inftool.spec.training import LocalSFTSpec
from inftool.train.copy_attention import CopyAttention, value_spans

REPO = Path(__file__).resolve().parents[1]


def episodes(data: Path, count: int) -> Path:
    """The run directory holding ``count`` synthesised episodes of bfcl.yaml (made once)."""
    if not (data / "store.duckdb").is_file():
        command = [sys.executable, "-m", "inftool", "synth", str(REPO / "recipes" / "bfcl.yaml"), "-n", str(count),
                   "--set", f"run_dir={data}"]
        subprocess.run(command, check=True, capture_output=True, text=True)
    return data


SYLLABLES = ["ka", "lo", "mi", "ru", "te", "va", "no", "shi", "dor", "pel", "zan", "quo", "bri", "mer", "tal", "ven"]


def fresh_strings(episodes: list[dict], share: float, rng: random.Random) -> list[dict]:
    """Training episodes where each string argument the request states verbatim is, with probability ``share``,
    replaced by a made-up word in the request and in every call, so that no pool word can stand in for copying.
    The held-out episodes are left as they are."""
    out = []
    for episode in episodes:
        messages = json.loads(json.dumps(episode["messages"]))
        users = [m for m in messages if m["role"] == "user" and m.get("content")]
        for message in messages:
            for call in message.get("tool_calls") or []:
                arguments = json.loads(call["function"]["arguments"])
                for value in arguments.values():
                    stated = isinstance(value, str) and len(value) > 2 and re.compile(rf"\b{re.escape(value)}\b")
                    if not (stated and any(stated.search(u["content"]) for u in users)) or rng.random() >= share:
                        continue
                    word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3)))
                    word = word.capitalize() if value[:1].isupper() else word
                    for other in messages:  # the same value everywhere it is written
                        if other.get("content") and other["role"] == "user":
                            other["content"] = stated.sub(word, other["content"])
                        for c in other.get("tool_calls") or []:
                            args = json.loads(c["function"]["arguments"])
                            c["function"]["arguments"] = json.dumps({k: word if v == value else v
                                                                     for k, v in args.items()})
        out.append({**episode, "messages": messages})
    return out


def provenance(items: list, results: list[dict]) -> Counter:
    """(right|wrong, in_request|not_in_request, type) -> count, over every argument value the policy wrote."""
    from inftool.evaluate.parse import parse_calls

    found: Counter = Counter()
    for item, result in zip(items, results, strict=True):
        request = " ".join(m.get("content") or "" for m in item.messages if m["role"] == "user").lower()
        output = json.loads(result["output"])
        for call in parse_calls(output if isinstance(output, str) else json.dumps(output)) or []:
            for name, value in call.arguments.items():
                text = str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
                right = any(value in truth.get(call.name, {}).get(name, []) for truth in item.ground_truth)
                found[("right" if right else "wrong", "in_request" if text.lower() in request else "not_in_request",
                       type(value).__name__)] += 1
    return found


def token_kinds(row: dict, tokenizer) -> list[str]:
    """Per token: "value" (inside an argument value of the completion), "other" (the rest of the completion) or ""
    (the prompt). Offsets come from decoding token by token, exact for the ASCII text these episodes hold."""
    pieces = [tokenizer.decode([t]) for t in row["input_ids"]]
    starts = [0]
    for piece in pieces[:-1]:
        starts.append(starts[-1] + len(piece))
    spans = value_spans("".join(pieces))
    return ["" if not scored else "value" if any(a <= start < b for a, b in spans) else "other"
            for start, scored in zip(starts, row["completion_mask"], strict=True)]


def teacher_forced(model, rows: list[dict], kinds: list[list[str]], pad: int) -> dict:
    """Mean loss and top-1 accuracy of the next token, teacher-forced, per token kind."""
    import torch

    sums = {kind: [0.0, 0, 0] for kind in ("value", "other")}
    model.eval()
    with torch.no_grad():
        for i in range(0, len(rows), 32):
            batch, kind = rows[i:i + 32], kinds[i:i + 32]
            width = max(len(r["input_ids"]) for r in batch)
            ids = torch.tensor([r["input_ids"] + [pad] * (width - len(r["input_ids"])) for r in batch])
            present = torch.tensor([[1] * len(r["input_ids"]) + [0] * (width - len(r["input_ids"])) for r in batch])
            logits = model(input_ids=ids, attention_mask=present).logits[:, :-1]
            losses = torch.nn.functional.cross_entropy(logits.transpose(1, 2), ids[:, 1:], reduction="none")
            hits = logits.argmax(-1) == ids[:, 1:]
            for name, total in sums.items():
                chosen = torch.tensor([[k == name for k in ks[1:]] + [False] * (width - len(ks)) for ks in kind])
                total[0] += losses[chosen].sum().item()
                total[1] += hits[chosen].sum().item()
                total[2] += int(chosen.sum())
    model.train()
    return {name: {"loss": round(t[0] / max(1, t[2]), 3), "top1": round(t[1] / max(1, t[2]), 3), "tokens": t[2]}
            for name, t in sums.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "inftool-bench-copy")
    parser.add_argument("--episodes", type=int, default=6000)
    parser.add_argument("--tokenizer", choices=["bpe", "words", "copy"], default="bpe")
    parser.add_argument("--vocab-size", type=int, default=4096)
    parser.add_argument("--description-chars", type=int, default=60)
    parser.add_argument("--hidden-size", type=int, default=192)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--intermediate-size", type=int, default=None, help="MLP width (default 4 x hidden size).")
    parser.add_argument("--heads", type=int, default=6)
    parser.add_argument("--kv-heads", type=int, default=2)
    parser.add_argument("--init-std", type=float, default=0.02,
                        help="Standard deviation of the initial weights (the policy's init_std, 0.06 by default there; "
                             "0.02 here, transformers' own, so the README's earlier commands measure what they did).")
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--optimizer", choices=["adamw", "muon"], default="adamw",
                        help="muon: torch's Muon on the hidden weight matrices (--muon-lr), AdamW on the rest "
                             "(inftool.train.optimizers, as train.sft.optimizer: muon).")
    parser.add_argument("--muon-lr", type=float, default=LocalSFTSpec.model_fields["muon_learning_rate"].default,
                        help="Muon's peak learning rate (default: train.sft.muon_learning_rate's).")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=450)
    parser.add_argument("--eval-every", type=int, default=150)
    parser.add_argument("--prompt-loss", type=float, default=0.0)
    parser.add_argument("--copy-attention", type=float, default=0.0,
                        help="Weight of the copy-attention loss (train.sft.copy_attention; 0: off).")
    parser.add_argument("--value-weight", type=float, default=1.0,
                        help="Weight of the argument values' tokens in the loss (the completion's other tokens: 1).")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fresh-strings", type=float, default=0.0, metavar="SHARE",
                        help="Replace this share of the string values a training request states by made-up words.")
    args = parser.parse_args()

    import torch

    from inftool.evaluate import runner
    from inftool.evaluate.local import LocalPolicy
    from inftool.spec.backends import TinyScratchSpec
    from inftool.store import Store
    from inftool.train import tiny
    from inftool.train.data import sft_data

    torch.set_num_threads(2)
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    run = episodes(args.data, args.episodes)
    with Store.open(run, read_only=True) as store:
        run_id = store.current_run()
        train = list(store.episodes(run_id, split="train"))
        held_episodes = list(store.episodes(run_id, split="heldout"))
    held = runner.episode_items(held_episodes)[:120]
    if args.fresh_strings:
        train = fresh_strings(train, args.fresh_strings, random.Random(args.seed + 1))
    spec = TinyScratchSpec(vocab_size=args.vocab_size, tokenizer=args.tokenizer,
                           description_chars=args.description_chars, hidden_size=args.hidden_size, layers=args.layers,
                           intermediate_size=args.intermediate_size,
                           heads=args.heads, kv_heads=args.kv_heads, init_std=args.init_std)
    tools = json.loads((run / "tools.json").read_text())
    tokenizer = tiny.train_tokenizer(tiny.corpus(tools, [e["messages"] for e in train]), spec.vocab_size,
                                     spec.tokenizer, spec.description_chars)
    model = tiny.build_model(spec, tokenizer, args.seed)
    rows = sorted(sft_data(train, tokenizer, 1024).rows, key=lambda r: len(r["input_ids"]))
    held_rows = sft_data(held_episodes, tokenizer, 1024).rows[:300]
    held_kinds = [token_kinds(row, tokenizer) for row in held_rows]
    if args.value_weight != 1.0:
        for row in rows:
            row["weight"] = [args.value_weight if kind == "value" else 1.0 for kind in token_kinds(row, tokenizer)]
    copy = CopyAttention(rows, tokenizer, args.copy_attention).attach(model) if args.copy_attention else None
    batches = [rows[i:i + args.batch] for i in range(0, len(rows), args.batch)]
    mean_length = sum(len(r["input_ids"]) for r in rows) / len(rows)
    print(f"{len(rows)} examples, {mean_length:.0f} tokens on average; "
          f"{sum(p.numel() for p in model.parameters()) / 1e6:.2f}M parameters; {cpu_model()}", flush=True)
    if args.optimizer == "muon":
        from inftool.train.optimizers import muon_with_adamw

        optimiser = muon_with_adamw(model, lr=args.lr, muon_lr=args.muon_lr)
    else:
        optimiser = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.0)
    peaks = [group["lr"] for group in optimiser.param_groups]
    pad = tokenizer.pad_token_id
    started, step, curve = time.perf_counter(), 0, []
    with tempfile.TemporaryDirectory(prefix="inftool-bench-copy-") as scratch:
        checkpoint = Path(scratch)

        def evaluate() -> list[dict]:
            model.eval()
            model.save_pretrained(checkpoint)
            tokenizer.save_pretrained(checkpoint)
            results = runner.evaluate(held, LocalPolicy(checkpoint, max_new_tokens=80, batch_size=32))
            model.train()
            return results

        model.train()
        while step < args.steps:
            rng.shuffle(batches)
            for batch in batches[: args.steps - step]:
                progress = step / args.steps
                warm = min(1.0, (step + 1) / 30)
                for group, peak in zip(optimiser.param_groups, peaks, strict=True):
                    group["lr"] = peak * warm * (0.1 + 0.45 * (1 + math.cos(math.pi * progress)))
                width = max(len(r["input_ids"]) for r in batch)
                ids = torch.tensor([r["input_ids"] + [pad] * (width - len(r["input_ids"])) for r in batch])
                completion = torch.tensor([r["completion_mask"] + [0] * (width - len(r["input_ids"])) for r in batch])
                present = torch.tensor([[1] * len(r["input_ids"]) + [0] * (width - len(r["input_ids"])) for r in batch])
                target = ids[:, 1:]
                hidden = model.model(input_ids=ids, attention_mask=present).last_hidden_state[:, :-1]
                if not args.prompt_loss:  # the head only where the loss is: the completion's tokens
                    scored = completion[:, 1:] == 1
                    losses = torch.nn.functional.cross_entropy(model.lm_head(hidden[scored]), target[scored],
                                                               reduction="none")
                    if args.value_weight != 1.0:
                        weight = torch.tensor([r["weight"] + [0.0] * (width - len(r["input_ids"])) for r in batch])
                        weight = weight[:, 1:][scored]
                        loss = (losses * weight).sum() / weight.sum()
                    else:
                        loss = losses.mean()
                else:
                    logits = model.lm_head(hidden).reshape(-1, len(tokenizer))
                    loss = torch.nn.functional.cross_entropy(logits, target.masked_fill(completion[:, 1:] == 0, -100)
                                                             .reshape(-1), ignore_index=-100)
                    prompt = target.masked_fill((present[:, 1:] == 0) | (completion[:, 1:] == 1), -100)
                    loss = loss + args.prompt_loss * torch.nn.functional.cross_entropy(
                        logits, prompt.reshape(-1), ignore_index=-100)
                if copy is not None and (extra := copy.loss(ids, present)) is not None:
                    loss = loss + extra
                optimiser.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                optimiser.step()
                step += 1
                if step % args.eval_every == 0 or step == args.steps:
                    seconds = time.perf_counter() - started
                    results = evaluate()
                    kinds = Counter(r.get("error_kind") for r in results if not r["valid"])
                    curve.append({"step": step, "train_seconds": round(seconds, 1), "loss": round(loss.item(), 3),
                                  "exact": sum(bool(r["valid"]) for r in results), "of": len(results),
                                  "errors": dict(kinds.most_common(4)),
                                  "held_out_tokens": teacher_forced(model, held_rows, held_kinds, pad)})
                    print(json.dumps(curve[-1]), flush=True)
                    started = time.perf_counter() - seconds  # evaluation time is not training time
        found = provenance(held, results)
    print(json.dumps({"settings": vars(args) | {"data": str(args.data)}, "curve": curve,
                      "values": {" ".join(k): v for k, v in sorted(found.items())}}, indent=1, default=str))


if __name__ == "__main__":
    main()
