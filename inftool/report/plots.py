"""The run report's figures: matplotlib with the Agg backend, imported only when a figure is drawn.

Each function draws one PNG and returns its path, or None when there is nothing to draw. Figures are
made with ``matplotlib.figure.Figure`` (no pyplot state) and saved without the "Software" metadata,
so the same data gives the same bytes."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

DPI = 100
_LINESTYLES = (":", "-.", (0, (5, 2, 1, 2, 1, 2)), (0, (1, 3)), "--")


def _figure(width: float, height: float):
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


def _save(fig, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", dpi=DPI, metadata={"Software": None})
    return path


def _plain(text: str) -> str:
    """Text shown as it is: matplotlib would read a pair of '$' as mathtext."""
    return text.replace("$", r"\$")


def _colors(n: int) -> list:
    import matplotlib

    cmap = matplotlib.colormaps["tab10"]
    return [cmap(i % 10) for i in range(n)]


def accuracy_curve(path: Path, labels: Sequence[str], series: dict[str, list[float | None]],
                   references: Sequence[tuple[str, str, float]] = (), *, title: str = "Accuracy per checkpoint",
                   ylabel: str = "accuracy, mean over categories (%)") -> Path | None:
    """Accuracy (%) per checkpoint, one line per series; ``references`` (policy, series, value) are
    dotted horizontal lines in the series' colour, one line style per policy."""
    if not labels or not any(v is not None for values in series.values() for v in values):
        return None
    fig = _figure(max(6.0, 0.7 * len(labels) + 3.5), 4.2)
    ax = fig.subplots()
    colors = dict(zip(series, _colors(len(series)), strict=True))
    x = list(range(len(labels)))
    for name, values in series.items():
        points = [(i, 100 * v) for i, v in zip(x, values, strict=True) if v is not None]
        if points:
            ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", color=colors[name], label=_plain(name),
                    linestyle="--" if name.endswith(" all") else "-")
    styles = {policy: _LINESTYLES[i % len(_LINESTYLES)]
              for i, policy in enumerate(dict.fromkeys(p for p, _, _ in references))}
    for policy, name, value in references:
        ax.axhline(100 * value, color=colors.get(name, "grey"), linestyle=styles[policy], linewidth=1, alpha=0.7)
    for policy, style in styles.items():
        ax.plot([], [], color="grey", linestyle=style, linewidth=1, label=_plain(f"{policy} (reference)"))
    ax.set_xticks(x, [_plain(label) for label in labels], rotation=30 if len(labels) > 4 else 0, ha="right" if len(labels) > 4 else "center")
    ax.set_xlim(-0.3, len(labels) - 0.7)
    ax.set_ylim(0, 100)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    return _save(fig, path)


def _cumulative(rows: Sequence[dict[str, Any]], value: str) -> tuple[list[float], list[dict], list[tuple[float, int]]]:
    """x positions continuing across iterations, the rows having ``value``, and (x, iteration) where
    each iteration after the first starts. Rows are sorted by (iteration, step)."""
    kept = [r for r in rows if r.get(value) is not None]
    by_iteration: dict[int, list[dict]] = {}
    for r in kept:
        by_iteration.setdefault(r["iteration"], []).append(r)
    xs: list[float] = []
    out: list[dict] = []
    starts: list[tuple[float, int]] = []
    offset = 0
    for n, (iteration, group) in enumerate(sorted(by_iteration.items())):
        steps = [r["step"] for r in group]
        shift = 0 if min(steps) >= 1 else 1
        if n:
            starts.append((offset + 0.5, iteration))
        for r in group:
            xs.append(offset + r["step"] + shift)
            out.append(r)
        offset += max(steps) + shift
    return xs, out, starts


def _iteration_lines(ax, starts: list[tuple[float, int]], first: int | None) -> None:
    from matplotlib import transforms

    for x, _ in starts:
        ax.axvline(x, color="grey", linewidth=0.8, linestyle="--", alpha=0.7)
    blend = transforms.blended_transform_factory(ax.transData, ax.transAxes)
    marks = ([(ax.get_xlim()[0], first)] if first is not None else []) + starts
    for x, iteration in marks:
        ax.text(x, 0.99, f" it{iteration}", transform=blend, va="top", ha="left", fontsize="x-small", color="dimgrey")


def _smooth(ax, xs: list[float], rows: list[dict], value: str, **style) -> bool:
    """Draw a centred moving average over ~2% of the points, within each iteration (a new iteration
    restarts from another checkpoint); nothing when there are too few points to need it."""
    n = len(rows)
    if n < 40:
        return False
    half = max(1, n // 100)
    segments: dict[int, list[int]] = {}
    for i, r in enumerate(rows):
        segments.setdefault(r["iteration"], []).append(i)
    for k, indices in enumerate(segments.values()):
        values = [rows[i][value] for i in indices]
        smooth = [sum(w) / len(w) for j in range(len(values)) for w in [values[max(0, j - half):j + half + 1]]]
        ax.plot([xs[i] for i in indices], smooth, **(style if k == 0 else {**style, "label": "_nolegend_"}))
    return True


def reward_curve(path: Path, rows: Sequence[dict[str, Any]]) -> Path | None:
    """GRPO reward mean +- std per step across iterations."""
    grpo = [r for r in rows if r["phase"] == "grpo"]
    xs, kept, starts = _cumulative(grpo, "reward")
    if not kept:
        return None
    fig = _figure(8.0, 3.8)
    ax = fig.subplots()
    mean = [r["reward"] for r in kept]
    std = [r["reward_std"] if r["reward_std"] is not None else 0.0 for r in kept]
    ax.fill_between(xs, [m - s for m, s in zip(mean, std, strict=True)], [m + s for m, s in zip(mean, std, strict=True)],
                    color="tab:blue", alpha=0.2, linewidth=0, label="± std over the group")
    ax.plot(xs, mean, color="tab:blue", linewidth=1, marker="." if len(xs) < 60 else None, label="mean reward")
    _smooth(ax, xs, kept, "reward", color="tab:red", linewidth=1.5, label="moving average")
    ax.set_xlabel("GRPO step (cumulative over iterations)")
    ax.set_ylabel("reward")
    ax.set_title("GRPO reward")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", loc="lower right")
    _iteration_lines(ax, starts, kept[0]["iteration"])
    return _save(fig, path)


def loss_curves(path: Path, rows: Sequence[dict[str, Any]]) -> Path | None:
    """SFT loss and GRPO loss per step across iterations, side by side."""
    phases = [(phase, *_cumulative([r for r in rows if r["phase"] == phase], "loss")) for phase in ("sft", "grpo")]
    phases = [p for p in phases if p[2]]
    if not phases:
        return None
    fig = _figure(5.0 * len(phases) + 1, 3.6)
    axes = fig.subplots(1, len(phases), squeeze=False)[0]
    for ax, (phase, xs, kept, starts), color in zip(axes, phases, ("tab:green", "tab:purple"), strict=False):
        losses = [r["loss"] for r in kept]
        ax.plot(xs, losses, color=color, linewidth=1, marker="." if len(xs) < 60 else None)
        _smooth(ax, xs, kept, "loss", color="black", linewidth=1.2, alpha=0.7)
        ax.set_xlabel(f"{phase.upper()} step (cumulative over iterations)")
        ax.set_ylabel("loss")
        ax.set_title(f"{phase.upper()} loss")
        ax.grid(alpha=0.3)
        _iteration_lines(ax, starts, kept[0]["iteration"])
    return _save(fig, path)


def coverage_heatmap(path: Path, tools: Sequence[str | None], complexities: Sequence[str],
                     values: dict[tuple[str, str], int], title: str) -> Path | None:
    """Accepted episodes per (tool, complexity), log colour scale; a None tool is a separator row.
    Cells with no accepted episode are pink, pairs that are not a scenario cell blank."""
    if not tools or not complexities:
        return None
    import numpy as np
    from matplotlib.colors import ListedColormap, LogNorm

    rows, cols = len(tools), len(complexities)
    grid = np.full((rows, cols), np.nan)
    background = np.zeros((rows, cols))
    for i, tool in enumerate(tools):
        for j, complexity in enumerate(complexities):
            if tool is None or (tool, complexity) not in values:
                continue
            grid[i, j] = values[(tool, complexity)]
            background[i, j] = 1 if values[(tool, complexity)] == 0 else 0
    top = max(2.0, float(np.nanmax(grid)) if np.isfinite(grid).any() else 2.0)
    fig = _figure(3.8 + 0.85 * cols, max(3.0, 1.2 + 0.2 * rows))
    ax = fig.subplots()
    ax.imshow(background, cmap=ListedColormap(["white", "#f6c6c6"]), vmin=0, vmax=1, aspect="auto",
              interpolation="nearest")
    shown = np.ma.masked_where(~(grid >= 1), grid)
    image = ax.imshow(shown, cmap="viridis", norm=LogNorm(vmin=1, vmax=top), aspect="auto", interpolation="nearest")
    if rows * cols <= 600:
        for i in range(rows):
            for j in range(cols):
                value = grid[i, j]
                if tools[i] is None:
                    continue
                if math.isnan(value):
                    ax.text(j, i, "·", ha="center", va="center", fontsize=6, color="grey")
                    continue
                dark = value >= 1 and LogNorm(vmin=1, vmax=top)(value) < 0.6
                ax.text(j, i, f"{int(value)}", ha="center", va="center", fontsize=6,
                        color="white" if dark else "black")
    labels = ["..." if t is None else _plain(t if len(t) <= 40 else t[:37] + "...") for t in tools]
    ax.set_yticks(range(rows), labels, fontsize=7)
    ax.set_xticks(range(cols), [_plain(c) for c in complexities], rotation=30, ha="right", fontsize=8)
    ax.tick_params(length=0)
    for i, tool in enumerate(tools):
        if tool is None:
            ax.axhline(i, color="black", linewidth=1.5)
    ax.set_title(_plain(title), fontsize=9)
    from matplotlib.ticker import LogFormatter

    bar = fig.colorbar(image, ax=ax, shrink=0.8 if rows < 15 else 0.6, label="accepted (log scale)")
    bar.ax.yaxis.set_major_formatter(LogFormatter(labelOnlyBase=False, minor_thresholds=(1.5, 0.5)))
    bar.ax.yaxis.set_minor_formatter(LogFormatter(labelOnlyBase=False, minor_thresholds=(1.5, 0.5)))
    return _save(fig, path)


def gate_bars(path: Path, gates: Sequence[tuple[str, int, int]]) -> Path | None:
    """Pass rate per gate (passed / evaluated over all complexities), in the order the gates ran."""
    gates = [g for g in gates if g[2]]
    if not gates:
        return None
    fig = _figure(6.0, 0.45 * len(gates) + 1.2)
    ax = fig.subplots()
    names = [g[0] for g in gates]
    rates = [100 * g[1] / g[2] for g in gates]
    y = list(range(len(gates)))
    ax.barh(y, rates, color="tab:blue", alpha=0.8)
    for i, rate in enumerate(rates):
        ax.text(min(rate + 1, 99), i, f"{rate:.1f}%", va="center", ha="left" if rate < 88 else "right",
                fontsize="small", color="black" if rate < 88 else "white")
    ax.set_yticks(y, [_plain(n) for n in names])
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("pass rate of the episodes the gate ran on (%)")
    ax.set_title("Gate pass rates")
    ax.grid(axis="x", alpha=0.3)
    return _save(fig, path)
