"""How plans and catalogs look in a terminal (rich). Only the CLI calls this."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from rich.console import Console
from rich.table import Table

from inftool.catalog import Tool
from inftool.compile import Plan


def _table(title: str, *columns: str) -> Table:
    table = Table(title=title, title_justify="left", title_style="bold", show_edge=False, pad_edge=False)
    for column in columns:
        table.add_column(column, overflow="fold")
    return table


def plan(console: Console, plan: Plan) -> None:
    catalogs = _table(f"Catalogs: {plan.tools} tools", "name", "source", "location", "tools", "warnings")
    for c in plan.catalogs:
        catalogs.add_row(c.name, c.source, c.location, str(c.tools), str(len(c.warnings)))
    console.print(catalogs)
    if plan.refine:
        r = plan.refine
        console.print(f"[bold]Refine[/] ({r.action} at {r.threshold}): {r.tools_before} -> {r.tools_after} tools, "
                      f"{len(r.groups)} groups of near-duplicates")
        for g in r.groups[:10]:
            console.print(f"  kept {g.kept}  <-  " + ", ".join(f"{a} ({s:.2f})" for a, s in zip(g.absorbed, g.similarity, strict=True)))
    counts = Counter(c.complexity for c in plan.scenarios.cells)
    cells = _table(f"Scenario cells: {len(plan.scenarios.cells)}", "complexity", "share", "cells (tools)")
    for complexity, share in plan.scenarios.mix.items():
        cells.add_row(complexity, f"{share:.2f}", str(counts.get(complexity, 0)))
    console.print(cells)
    roles = _table("Roles", "role", "model", "backend", "engine", "signature")
    for r in plan.roles:
        roles.add_row(r.role, r.model, r.backend, r.engine, r.signature)
    console.print(roles)
    for r in plan.roles:
        if r.executed:
            console.print(f"[bold]Executed on live MCP servers:[/] {', '.join(r.executed)} (other calls: {r.role} {r.backend})")
    g, t, loop = plan.gates, plan.training, plan.loop
    console.print(f"[bold]Verify gates:[/] {' -> '.join(g.verify)} (dedup at {g.dedup_threshold})")
    if "stateful" in plan.scenarios.mix:
        console.print("[bold]State gate[/] (stateful episodes, after execution): the results shown and the final state "
                      "must be what the planned calls give on a fresh world", highlight=False)
    console.print("[bold]Reward gates:[/] " + " -> ".join(f"{n} (+{g.reward_values[n]:g})" for n in g.reward)
                  + (" with partial credit" if g.partial_credit else "")
                  + (f"; a stateful rollout ending in the planned state +{g.state_reward:g}"
                     if "stateful" in plan.scenarios.mix else ""))
    console.print(f"[bold]Training:[/] {t.trainer}, policy {t.policy['name']} ({t.policy.get('model', '')}); "
                  f"SFT {t.sft['epochs']:g} epochs, GRPO {t.grpo['steps']} steps x group {t.grpo['group_size']}, KL {t.grpo['kl']:g}")
    console.print(f"[bold]Loop:[/] {loop.iterations} iterations x {loop.episodes_per_iteration} episodes, "
                  f"targeting {loop.targeting} (floor {loop.floor:g}); stages:")
    for k in sorted({k for k, _ in loop.stages}):
        console.print(f"  iteration {k}: " + " -> ".join(stage for i, stage in loop.stages if i == k), highlight=False)
    e = plan.evaluation
    console.print(f"[bold]Evaluation:[/] BFCL {', '.join(e.bfcl) or 'none'}; held-out synthetic share {e.heldout:g}")
    console.print(f"[bold]Content hash:[/] {plan.content_hash}")


def tools(console: Console, tools: Iterable[Tool]) -> None:
    tools = list(tools)
    table = _table(f"{len(tools)} tools", "name", "parameters (* required)", "description")
    for tool in tools:
        params = ", ".join(p + ("*" if p in tool.required else "") for p in tool.properties)
        name = tool.name if tool.name == tool.original_name else f"{tool.name}\n[dim]({tool.original_name})[/]"
        description = tool.description if len(tool.description) <= 90 else tool.description[:87] + "..."
        table.add_row(name, params, description)
    console.print(table)


def warnings(console: Console, messages: Iterable[str], notes: Iterable[str] = (), *, verbose: bool = False) -> None:
    """Warnings always; notes (normalisations done on purpose) one by one with verbose, else counted."""
    for message in messages:
        console.print(f"[yellow]warning:[/] {message}", highlight=False, soft_wrap=True)
    notes = list(notes)
    for note in notes if verbose else ():
        console.print(f"[dim]note: {note}[/]", highlight=False, soft_wrap=True)
    if notes and not verbose:
        console.print(f"[dim]{len(notes)} notes on normalised tools (--verbose shows them)[/]", highlight=False)


def rows(console: Console, columns: list[str], rows: list[tuple], *, title: str = "") -> None:
    table = _table(title or f"{len(rows)} rows", *columns)
    for row in rows:
        table.add_row(*("" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v) for v in row))
    console.print(table)


def synth_report(console: Console, report) -> None:
    rejected = ", ".join(f"{gate} {n}" for gate, n in report.rejected.most_common()) or "none"
    console.print(f"[bold]Synthesis[/] iteration {report.iteration}: {report.written} episodes written "
                  f"({report.already_stored} already stored), {report.accepted} accepted; rejected by gate: {rejected}; "
                  f"{report.per_second:,.0f} episodes/s" + _restarts(report.server_restarts))


def _restarts(count: int) -> str:
    """``; live MCP servers restarted N times`` when a server had to be started again during the stage."""
    return f"; live MCP servers restarted {count} time{'s' if count != 1 else ''}" if count else ""


def evaluation(console: Console, table: dict[tuple[str, str], tuple[int, int]], policy: str,
               not_evaluated: dict[tuple[str, str], int] | None = None) -> None:
    """Accuracy per suite and category over the items evaluated, and each suite's unweighted mean over
    categories; with items not evaluated (an endpoint that kept failing), their count per category and in all."""
    from inftool.evaluate.runner import overall

    skipped = not_evaluated or {}
    columns = ["suite", "category", "correct", "items", "accuracy"] + (["not evaluated"] if skipped else [])
    out = _table(f"Evaluation of {policy}", *columns)
    for (suite, category), (correct, items) in table.items():
        extra = [str(skipped.get((suite, category), ""))] if skipped else []
        out.add_row(suite, category, str(correct), str(items), f"{correct / items:.3f}" if items else "-", *extra)
    for suite in sorted({s for s, _ in table}):
        mean = overall(table, suite)
        out.add_row(suite, "[bold]overall (mean of categories)[/]", "", "", f"{mean:.3f}" if mean is not None else "-",
                    *([""] if skipped else []))
    console.print(out)
    if skipped:
        console.print(f"[yellow]not evaluated:[/] {sum(skipped.values())} items had no answer (the endpoint kept "
                      "failing); they are stored as not_evaluated with the reason and left out of accuracy",
                      highlight=False)


def _accuracy_cell(row) -> str:
    """``exact / right tool`` of one checkpoint's split, ``-`` when it has no row or no item was evaluated."""
    if row is None or row.accuracy is None:
        return "-"
    return f"{row.accuracy:.1%} / {row.right_tool:.0%}"


def loop_summary(console: Console, store, run_id: str) -> None:
    """One screen at the end of `inftool run`: accuracy per checkpoint and split, GRPO reward, time per
    stage kind, and the cells the last gap targeting raised most."""
    from inftool.train.local import quarter_means

    accuracy = store.checkpoint_accuracy(run_id)
    splits = sorted({row.split for row in accuracy}, key=lambda s: (s != "heldout", s))
    rewards = {}
    for row in store.train_log(run_id):
        if row.phase == "grpo" and row.reward is not None:
            rewards.setdefault(row.iteration, []).append(row.reward)
    items = {row.split: row.items + row.not_evaluated for row in accuracy}
    skipped = any(row.not_evaluated for row in accuracy)
    out = _table("Accuracy per checkpoint: exact match / right tool called",
                 "checkpoint", *(f"{s} ({items[s]})" for s in splits), "GRPO reward",
                 *(["not evaluated"] if skipped else []))
    checkpoints = list(dict.fromkeys((row.iteration, row.policy) for row in accuracy))
    for iteration, policy in checkpoints:
        cells = {row.split: row for row in accuracy if (row.iteration, row.policy) == (iteration, policy)}
        values = [_accuracy_cell(cells.get(s)) for s in splits]
        trend = "-"
        if policy == "grpo" and rewards.get(iteration):
            first, last = quarter_means(rewards[iteration])
            trend = f"{first:.3f} → {last:.3f}"
        missing = [str(sum(row.not_evaluated for row in cells.values()))] if skipped else []
        out.add_row(policy if policy == "untrained" else f"{iteration}: {policy}", *values, trend, *missing)
    console.print(out)
    if skipped:
        console.print("[yellow]not evaluated:[/] items whose endpoint kept failing have no verdict; they are "
                      "left out of every accuracy (eval_results.error_kind = 'not_evaluated')", highlight=False)
    stages = store.stages(run_id)
    seconds: dict[str, float] = {}
    for stage in stages:
        seconds[stage.stage] = seconds.get(stage.stage, 0.0) + (stage.seconds or 0.0)
    total = sum(seconds.values())
    console.print("[bold]Time[/] " + ", ".join(f"{name} {value:.0f}s" for name, value in seconds.items())
                  + f"; total {total:.0f}s over {len(stages)} stages", highlight=False)
    targeted = [row for row in store.iterations(run_id) if row.weights]
    if targeted:
        last = targeted[-1]
        raised = last.weights.get("most_raised", [])[:5]
        shares = last.weights.get("complexity_share_after", {})
        console.print(f"[bold]Targeting[/] ({last.weights.get('targeting')}) for iteration {last.iteration + 1}: "
                      + ", ".join(f"{k} {v:.0%}" for k, v in shares.items()), highlight=False)
        for cell in raised:
            where = f", {cell['environment']}" if cell.get("environment") else ""
            console.print(f"  ×{cell['ratio']:.2f} {cell['complexity']} / {cell['tool']} (need {cell['need']:.2f}, "
                          f"top error {cell['top_error']}{where})", highlight=False)
