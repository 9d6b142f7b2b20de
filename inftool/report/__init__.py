"""The run report: one self-contained ``report.html`` with PNG figures under ``report/``.

``build_report(store, run_id, out_dir)`` reads the run's store (aggregates in SQL, all asked of the store's reader),
draws the figures (``plots``, matplotlib Agg) and writes ``out_dir/report.html`` and
``out_dir/report/*.png``. Sections: the run and its stages; accuracy per category per checkpoint
(BFCL split by seen/unseen/mixed, held-out synthetic episodes apart); GRPO reward and SFT/GRPO loss
curves; coverage heatmap tool x complexity; gate pass rates; top gaps and the gap-targeting weights.
A section whose tables are empty says so. The same store gives the same bytes: everything is sorted,
and the only times shown are those stored.
"""

from __future__ import annotations

import html
import math
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

from inftool.report import plots
from inftool.report.accuracy import accuracy, complexity_order
from inftool.rundir import RunDir

__all__ = ["FIGURES", "HEATMAP_TOOLS", "build_report"]

FIGURES = ("accuracy.png", "right_tool.png", "reward.png", "loss.png", "coverage.png", "gates.png")
"""The figures a report may draw (under ``out_dir/report/``); stale ones are removed on each build."""
HEATMAP_TOOLS = 40
"""At most this many tools in the coverage heatmap: the most and the least covered halves."""
GAPS = 20
TARGETED_CELLS = 15

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2em auto; max-width: 1200px;
       padding: 0 1em; color: #222; line-height: 1.4; }
h1 { margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2em; margin-top: 2em; }
h3 { margin-bottom: 0.3em; }
table { border-collapse: collapse; margin: 0.5em 0 1em; font-size: 0.88em; }
th, td { border: 1px solid #e2e2e2; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #f5f5f5; } td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.total td { font-weight: 600; background: #fafafa; } tr.group td { background: #eef3fa; font-weight: 600; }
td small { color: #777; } .scroll { overflow-x: auto; }
.note { color: #777; font-style: italic; } .caption { color: #555; font-size: 0.9em; max-width: 60em; }
img { max-width: 100%; border: 1px solid #eee; margin: 0.5em 0; }
nav a { margin-right: 1em; } code { background: #f3f3f3; padding: 0 0.2em; }
.kv th { width: 9em; } .status-failed { color: #b00; } .status-running { color: #a60; } .status-done { color: #070; }
"""


_NAV = "<nav>" + " ".join(f'<a href="#{a}">{t}</a>' for a, t in (
    ("stages", "Stages"), ("accuracy", "Accuracy"), ("training", "Training"), ("coverage", "Coverage"),
    ("gates", "Gates"), ("gaps", "Gaps and targeting"))) + "</nav>"


class _Raw(str):
    """HTML that is inserted as it is (already escaped)."""


def _esc(value: Any) -> str:
    return value if isinstance(value, _Raw) else html.escape("" if value is None else str(value))


def _num(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value == int(value) and abs(value) < 1e15:
            return f"{int(value):,}"
        return f"{value:.{digits}g}" if abs(value) < 1e-3 or abs(value) >= 1e4 else f"{value:.{digits}f}".rstrip("0").rstrip(".")
    return str(value)


def _pct(share: float | None) -> str:
    return "" if share is None else f"{100 * share:.1f}%"


def _seconds(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, s = divmod(round(seconds), 60)
    hours, m = divmod(minutes, 60)
    return f"{hours}h {m:02d}m {s:02d}s" if hours else f"{m}m {s:02d}s"


def _time(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds") + " UTC"
    return "" if value is None else str(value)


def compact(value: Any, limit: int = 240) -> str:
    """A JSON value in one short line: ``key=value, ...``, nested objects in braces, numbers rounded."""
    def one(v: Any) -> str:
        if isinstance(v, dict):
            return "{" + ", ".join(f"{k}={one(x)}" for k, x in v.items()) + "}"
        if isinstance(v, list):
            return "[" + ", ".join(one(x) for x in v) + "]"
        if isinstance(v, float):
            return _num(v)
        return "null" if v is None else str(v)

    if value is None:
        return ""
    text = one(value)[1:-1] if isinstance(value, dict) else one(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _table(headers: list[Any], rows: list[list[Any]], *, numeric: set[int] = frozenset(),
           row_classes: list[str] | None = None) -> str:
    head = "".join(f'<th{" class=num" if i in numeric else ""}>{_esc(h)}</th>' for i, h in enumerate(headers))
    body = []
    for n, row in enumerate(rows):
        cls = row_classes[n] if row_classes else ""
        cells = "".join(f'<td{" class=num" if i in numeric else ""}>{_esc(v)}</td>' for i, v in enumerate(row))
        body.append(f'<tr{f" class={cls}" if cls else ""}>{cells}</tr>')
    return f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>'


def _note(text: str) -> str:
    return f'<p class="note">{html.escape(text)}</p>'


def _figure(made: list[str], name: str, drawn: Path | None, alt: str, caption: str = "") -> str:
    if drawn is None:
        return ""
    made.append(name)
    text = f'<p class="caption">{html.escape(caption)}</p>' if caption else ""
    return f'<img src="report/{html.escape(name)}" alt="{html.escape(alt)}">{text}'


def _dicts(rows: list[Any]) -> list[dict[str, Any]]:
    return [row._asdict() for row in rows]


def _dict(row: Any) -> dict[str, Any] | None:
    return None if row is None else row._asdict()


# --- sections ----------------------------------------------------------------------------------------

def _header(store: Any, run_id: str) -> tuple[str, str]:
    info = _dict(store.run_info(run_id)) or {"run_id": run_id}
    stages = _dicts(store.stages(run_id))
    iterations = _dicts(store.iterations(run_id))
    summary = _dicts(store.episode_summary(run_id))
    name = info.get("name") or run_id
    total = sum(s["seconds"] or 0.0 for s in stages)
    starts = [s["started_at"] for s in stages if s["started_at"] is not None]
    ends = [s["finished_at"] for s in stages if s["finished_at"] is not None]
    span = (max(ends) - min(starts)).total_seconds() if starts and ends and max(ends) >= min(starts) else None
    kv = [("run", name), ("run_id", run_id), ("recipe", info.get("recipe") or ""), ("seed", info.get("seed")),
          ("content hash", info.get("content_hash") or ""), ("created", _time(info.get("created_at"))),
          ("iterations", ", ".join(f"{i['iteration']}: {i['status']}" for i in iterations) or "none recorded"),
          ("episodes", f"{sum(s['episodes'] for s in summary):,} ({sum(s['accepted'] for s in summary):,} accepted)"),
          ("stage time", f"{_seconds(total)} (sum of stage seconds)" if stages else "no stages recorded"),
          ("wall time", f"{_seconds(span)} (first stage start to last stage end)" if span is not None else "")]
    rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{_esc(v)}</td></tr>" for k, v in kv)
    out = [f"<h1>Run report: {html.escape(str(name))}</h1>", _NAV, f'<table class="kv">{rows}</table>']
    out.append('<h2 id="stages">Stages</h2>')
    if stages:
        table_rows, classes = [], []
        for s in stages:
            status = s["status"] or ""
            table_rows.append([s["iteration"], s["stage"], _Raw(f'<span class="status-{html.escape(status)}">'
                                                                  f'{html.escape(status)}</span>'),
                               _seconds(s["seconds"]), compact(s["counts"]), s["output"] or ""])
            classes.append("")
        table_rows.append(["", "total", "", _seconds(total), "", ""])
        classes.append("total")
        out.append(_table(["iteration", "stage", "status", "time", "counts", "output"], table_rows, numeric={0, 3},
                          row_classes=classes))
    else:
        out.append(_note("No stages recorded yet (the loop has not run; `inftool synth` alone records none)."))
    if summary:
        out.append("<h3>Synthesis per iteration</h3>")
        out.append(_table(["iteration", "episodes", "accepted", "acceptance", "held-out (accepted)", "role-play errors"],
                          [[s["iteration"], s["episodes"], s["accepted"], _pct(s["accepted"] / s["episodes"]),
                            s["heldout"], s["errors"]] for s in summary], numeric={0, 1, 2, 3, 4, 5}))
    return str(name), "\n".join(out)


def _cell(correct: int, items: int) -> _Raw:
    return _Raw(f"{html.escape(_pct(correct / items))} <small>{correct}/{items}</small>")


def _accuracy(store: Any, run_id: str, figures: Path, made: list[str]) -> str:
    out = ['<h2 id="accuracy">Accuracy per checkpoint</h2>']
    acc = accuracy(store, run_id)
    if not acc.columns:
        out.append(_note("No evaluation results yet."))
        return "\n".join(out)
    curve = {s: [acc.mean(s, p) for p in acc.checkpoints] for s in acc.series}
    references = []
    for policy in dict.fromkeys(p.policy for p in acc.references):
        latest = max((p for p in acc.references if p.policy == policy), key=lambda p: p.iteration)
        references += [(policy, s, m) for s in acc.series if (m := acc.mean(s, latest)) is not None]
    drawn = plots.accuracy_curve(figures / "accuracy.png", [p.label for p in acc.checkpoints], curve,
                                 references)
    out.append(_figure(made, "accuracy.png", drawn, "accuracy per checkpoint",
                       "Unweighted mean over categories of the share of correct items, per suite and BFCL split "
                       "(seen: the question's tools were in synthesis; unseen: none were; mixed: some were; "
                       "irrelevance categories apart; all: every BFCL category), over the loop's checkpoints "
                       "(iteration, untrained < sft < grpo). Dotted lines: reference policies (latest evaluation "
                       "of each)."))
    if not acc.checkpoints:
        out.append(_note("No checkpoint of the loop evaluated yet (untrained, sft, grpo); reference policies only."))
    out.append(_right_tool(store, run_id, figures, made))
    columns = acc.columns
    headers = ["suite / split", "category", *(p.label + ("" if p.is_loop else " (ref)") for p in columns)]
    rows, classes = [], []
    for series in acc.series:
        for category in acc.categories[series]:
            row = [series, category]
            for p in columns:
                correct, items = acc.cells.get((series, category, p), (0, 0))
                row.append(_cell(correct, items) if items else "")
            rows.append(row)
            classes.append("")
        rows.append([series, "mean of categories", *(_pct(acc.mean(series, p)) for p in columns)])
        classes.append("total")
    numeric = set(range(2, len(headers)))
    out.append(_table(headers, rows, numeric=numeric, row_classes=classes))
    if acc.not_evaluated:
        out.append(_not_evaluated(acc))
    if acc.error_kinds:
        out.append("<h3>Wrong answers by error kind</h3>")
        out.append(_table(["error kind", *(p.label for p in columns)],
                          [[kind, *(acc.errors.get((kind, p), "") for p in columns)] for kind in acc.error_kinds],
                          numeric=set(range(1, len(columns) + 1))))
    return "\n".join(out)


def _not_evaluated(acc: Any) -> str:
    """How many items of each evaluation went without a verdict, and what that means."""
    columns = [p for p in acc.columns if p in acc.not_evaluated]
    return "\n".join(["<h3>Items not evaluated</h3>",
                      _note("Items the policy could not be asked: its endpoint still failed after the retries "
                            "(timeouts, server errors, reset connections, unreadable or empty replies). They are "
                            "stored as not_evaluated, with the reason in eval_results.message, and left out of every "
                            "accuracy above."),
                      _table(["", *(p.label for p in columns)],
                             [["not evaluated", *(acc.not_evaluated[p] for p in columns)]],
                             numeric=set(range(1, len(columns) + 1)))])


def _right_tool(store: Any, run_id: str, figures: Path, made: list[str]) -> str:
    """The share of answers that called the right functions, per loop checkpoint and split: the signal
    that moves first when exact matches are still rare."""
    rows = [r for r in store.checkpoint_accuracy(run_id) if r.policy in ("untrained", "sft", "grpo", "openrlhf")]
    if not rows:
        return ""
    checkpoints = list(dict.fromkeys((r.iteration, r.policy) for r in rows))
    splits = sorted({r.split for r in rows}, key=lambda s: (s != "heldout", s))
    share = {(r.iteration, r.policy, r.split): r.right_tool for r in rows}
    curve = {split: [share.get((i, p, split)) for i, p in checkpoints] for split in splits}
    drawn = plots.accuracy_curve(figures / "right_tool.png", [f"it{i} {p}" for i, p in checkpoints], curve,
                                 title="Right tool called per checkpoint", ylabel="answers naming the right functions (%)")
    return _figure(made, "right_tool.png", drawn, "right tool called per checkpoint",
                   "Share of items whose calls named the expected functions (correct, or wrong only in argument "
                   "values, types or names; irrelevance: no call), per split over all its items "
                   "(the right_tool column of the store's checkpoint_accuracy view).")


def _training(store: Any, run_id: str, figures: Path, made: list[str]) -> str:
    out = ['<h2 id="training">Training curves</h2>']
    log = _dicts(store.train_log(run_id))
    if not log:
        out.append(_note("No training logged yet."))
        return "\n".join(out)
    out.append(_figure(made, "reward.png", plots.reward_curve(figures / "reward.png", log),
                       "GRPO reward", "GRPO: mean gated reward of each step's completions, shaded ± its standard "
                       "deviation; steps continue across iterations (dashed lines: a new iteration starts)."))
    if "reward.png" not in made:
        out.append(_note("No GRPO reward logged yet."))
    out.append(_figure(made, "loss.png", plots.loss_curves(figures / "loss.png", log),
                       "training loss", "Training loss per logged step, continuing across iterations."))
    summary = _dicts(store.train_summary(run_id))
    out.append(_table(["iteration", "phase", "logged steps", "steps", "first loss", "last loss", "mean reward",
                       "last reward", "mean KL"],
                      [[s["iteration"], s["phase"], s["logged"], f"{s['first_step']}–{s['last_step']}",
                        _num(s["first_loss"]), _num(s["last_loss"]), _num(s["mean_reward"]), _num(s["last_reward"]),
                        _num(s["mean_kl"])] for s in summary], numeric={0, 2, 4, 5, 6, 7, 8}))
    return "\n".join(out)


def heatmap_tools(totals: dict[str, int], limit: int) -> tuple[list[str | None], str]:
    """The tools to show (None: a separator) and how they were chosen."""
    ranked = sorted(totals, key=lambda t: (-totals[t], t))
    if len(ranked) <= limit:
        return ranked, f"all {len(ranked)} tools, most covered first"
    half = limit // 2
    hidden = len(ranked) - 2 * half
    return ([*ranked[:half], None, *ranked[-half:]],
            (f"the {half} most and the {half} least covered of {len(ranked)} tools (by accepted episodes over all "
             f"complexities; {hidden} tools in between not shown)"))


def _coverage(store: Any, run_id: str, figures: Path, made: list[str]) -> str:
    out = ['<h2 id="coverage">Coverage</h2>']
    cells = _dicts(store.coverage_cells(run_id))
    if not cells:
        out.append(_note("No scenario cells or episodes yet."))
        return "\n".join(out)
    totals: dict[str, int] = defaultdict(int)
    by_complexity: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    values = {}
    for c in cells:
        totals[c["tool"]] += c["accepted"]
        values[(c["tool"], c["complexity"])] = c["accepted"]
        stats = by_complexity[c["complexity"]]
        stats[0] += 1
        stats[1] += c["accepted"] == 0
        stats[2] += c["accepted"]
        stats[3] += c["total"]
    complexities = complexity_order(set(by_complexity))
    shown, how = heatmap_tools(totals, HEATMAP_TOOLS)
    drawn = plots.coverage_heatmap(figures / "coverage.png", shown, complexities, values,
                                   f"Accepted episodes: {how.split(' (')[0]}")
    zero_tools = sum(1 for t in totals if totals[t] == 0)
    out.append(_figure(made, "coverage.png", drawn, "coverage heatmap tool x complexity",
                       f"Accepted episodes per tool and complexity over all iterations, log colour scale; showing "
                       f"{how}. Pink: a scenario cell without any accepted episode; a dot: not a scenario cell. "
                       f"{zero_tools} of {len(totals)} tools have no accepted episode at all."))
    rows = [[c, s[0], s[1], s[2], s[3], _pct(s[2] / s[3]) if s[3] else ""]
            for c in complexities for s in [by_complexity[c]]]
    all_stats = [sum(by_complexity[c][i] for c in complexities) for i in range(4)]
    rows.append(["all", *all_stats, _pct(all_stats[2] / all_stats[3]) if all_stats[3] else ""])
    out.append(_table(["complexity", "cells", "cells without accepted", "accepted", "episodes", "acceptance"], rows,
                      numeric={1, 2, 3, 4, 5}, row_classes=[""] * (len(rows) - 1) + ["total"]))
    return "\n".join(out)


def _gates(store: Any, run_id: str, figures: Path, made: list[str]) -> str:
    out = ['<h2 id="gates">Gate pass rates</h2>']
    rates = _dicts(store.gate_pass_rates(run_id))
    if not rates:
        out.append(_note("No gate verdicts yet."))
        return "\n".join(out)
    gates = list(dict.fromkeys(r["gate"] for r in rates))
    complexities = complexity_order({r["complexity"] for r in rates})
    cells = {(r["gate"], r["complexity"]): (r["passed"], r["evaluated"]) for r in rates}
    totals = [(g, sum(cells.get((g, c), (0, 0))[0] for c in complexities),
               sum(cells.get((g, c), (0, 0))[1] for c in complexities)) for g in gates]
    rows = []
    for gate, passed, evaluated in totals:
        row: list[Any] = [gate]
        for c in complexities:
            p, n = cells.get((gate, c), (0, 0))
            row.append(_cell(p, n) if n else "")
        row.append(_cell(passed, evaluated) if evaluated else "")
        rows.append(row)
    out.append(_table(["gate", *complexities, "all"], rows, numeric=set(range(1, len(complexities) + 2))))
    out.append('<p class="caption">Share of the episodes each gate ran on that passed it (gates after a failing one '
               'do not run), in the order the gates run.</p>')
    out.append(_figure(made, "gates.png", plots.gate_bars(figures / "gates.png", totals),
                       "gate pass rates"))
    return "\n".join(out)


def _gaps(store: Any, run_id: str) -> str:
    out = ['<h2 id="gaps">Gaps and targeting</h2>']
    found = _dicts(store.gaps(run_id, GAPS))
    if found:
        out.append(f"<h3>Top {len(found)} gaps (iteration {found[0]['iteration']})</h3>")
        out.append(_table(
            ["rank", "complexity", "tool", "weight", "expected", "accepted", "rejected", "coverage", "rejection",
             "top reason", "score"],
            [[g["rank"], g["complexity"], g["tool"], _num(g["weight"]), _num(g["expected"], 1), g["accepted"],
              g["rejected"], _pct(g["coverage_ratio"]), _pct(g["rejection_rate"]),
              f"{g['top_reason']} ({g['top_reason_count']})" if g["top_reason"] else "", _num(g["score"])]
             for g in found], numeric={0, 3, 4, 5, 6, 7, 8, 10}))
        out.append('<p class="caption">Scenario cells of the latest iteration, worst first: score = max(0, 1 - '
                   'accepted / expected) + rejected / (accepted + rejected); expected = episodes x weight / sum of '
                   'weights.</p>')
    else:
        out.append(_note("No gaps yet (no scenario cells stored)."))
    summary, top = map(_dicts, store.targeting(run_id, TARGETED_CELLS))
    if not summary:
        out.append(_note("No gap-targeted iteration yet."))
        return "\n".join(out)
    out.append("<h3>Gap-targeting weights</h3>")
    out.append(_table(["iteration", "targeted cells", "boosted", "lowered", "mean need", "max need"],
                      [[s["iteration"], s["cells"], s["boosted"], s["lowered"], _num(s["mean_need"]),
                        _num(s["max_need"])] for s in summary], numeric={0, 1, 2, 3, 4, 5}))
    for s in summary:
        cells = [t for t in top if t["iteration"] == s["iteration"]]
        out.append(f"<h3>Iteration {s['iteration']}: top {len(cells)} cells by share ratio</h3>")
        out.append(_table(["complexity", "tool", "base weight", "weight", "share ratio", "need", "drivers"],
                          [[t["complexity"], t["tool"], _num(t["base_weight"]), _num(t["weight"]),
                            _num(t["ratio"]), _num(t["need"]), compact(t["drivers"])] for t in cells],
                          numeric={2, 3, 4, 5}))
    out.append('<p class="caption">Share ratio = (weight / the iteration\'s total weight) / (base weight / total '
               'base weight): above 1, gap targeting gave the cell a larger share of the iteration\'s episodes than '
               'the plan did. Need: how much the cell needed more data (0..1); drivers: what drove it.</p>')
    return "\n".join(out)


def build_report(store: Any, run_id: str, out_dir: Path) -> Path:
    """Write ``out_dir/report.html`` and its figures ``out_dir/report/*.png`` for one run of ``store``
    (a Store or StoreReader, read only); returns the HTML path. Figures of an earlier build that this
    one does not draw are removed, so the page references every PNG there is."""
    run_dir = RunDir(Path(out_dir))
    figures = run_dir.figures
    figures.mkdir(parents=True, exist_ok=True)
    made: list[str] = []
    name, header = _header(store, run_id)
    sections = [header, _accuracy(store, run_id, figures, made), _training(store, run_id, figures, made),
                _coverage(store, run_id, figures, made), _gates(store, run_id, figures, made), _gaps(store, run_id)]
    for stale in FIGURES:
        if stale not in made:
            (figures / stale).unlink(missing_ok=True)
    page = (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f"<title>inftool report: {html.escape(name)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
            + "\n".join(sections) + "\n</body>\n</html>\n")
    path = run_dir.report
    path.write_text(page, encoding="utf-8")
    return path
