"""Catalog refinement (the paper's "MCP tree"): find near-duplicate tools and merge or drop them.

Each tool becomes a TF-IDF vector over the words of its name, description and parameter names.
Tools are grouped around a leader: walking the catalog in order, each tool not yet grouped leads a
group of every later ungrouped tool whose cosine similarity to it reaches the threshold (no
chaining through intermediate tools). The leader of a group is the tool with the most parameters,
then the longest description, then the earliest. ``merge`` keeps the leader and makes the other
tools' names aliases of it (``Catalog.name_for`` resolves them); ``drop`` removes them.
Deterministic: same catalog, same groups.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

from .tool import Catalog, Tool

_WORD = re.compile(r"[A-Za-z][a-z]+|[A-Z]+(?![a-z])|\d+")
_STOP = frozenset("a an and are as at be by for from get given in into is it of on or the this to with".split())


@dataclass(frozen=True)
class Merge:
    """One group of near-duplicates: the tool kept and the ones merged into it (or dropped)."""

    kept: str
    absorbed: tuple[str, ...]
    similarity: tuple[float, ...]


def words(tool: Tool) -> list[str]:
    text = " ".join([tool.name, tool.description, *tool.properties])
    return [w.lower() for w in _WORD.findall(text) if w.lower() not in _STOP]


def similarity_matrix(tools: list[Tool]):
    """Cosine similarities of the tools' TF-IDF vectors (sublinear tf, smoothed idf)."""
    import numpy as np

    docs = [Counter(words(t)) for t in tools]
    vocabulary = {w: i for i, w in enumerate(sorted({w for d in docs for w in d}))}
    df = np.zeros(len(vocabulary))
    for doc in docs:
        df[[vocabulary[w] for w in doc]] += 1
    idf = np.log((1 + len(docs)) / (1 + df)) + 1
    vectors = np.zeros((len(docs), len(vocabulary)), dtype=np.float32)
    for row, doc in enumerate(docs):
        for word, count in doc.items():
            vectors[row, vocabulary[word]] = (1 + math.log(count)) * idf[vocabulary[word]]
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors /= np.where(norms == 0, 1, norms)
    return vectors @ vectors.T


def refine(catalog: Catalog, threshold: float, action: str) -> tuple[Catalog, list[Merge]]:
    """A new catalog without near-duplicates, and the groups found. ``action``: 'merge' or 'drop'."""
    tools = list(catalog)
    if len(tools) < 2:
        return Catalog(tools), []
    sims = similarity_matrix(tools)
    grouped: set[int] = set()
    keep: dict[int, list[int]] = {}
    for i in range(len(tools)):
        if i in grouped:
            continue
        members = [i] + [j for j in range(i + 1, len(tools)) if j not in grouped and sims[i, j] >= threshold]
        grouped.update(members)
        leader = min(members, key=lambda k: (-len(tools[k].properties), -len(tools[k].description), k))
        keep[leader] = [m for m in members if m != leader]
    merges, refined = [], Catalog()
    for leader in sorted(keep):
        others = keep[leader]
        tool = tools[leader]
        if others:
            merges.append(Merge(tool.name, tuple(tools[o].name for o in others),
                                tuple(round(float(sims[leader, o]), 3) for o in others)))
            tool = _absorb(tool, [tools[o] for o in others], keep_aliases=action == "merge")
        refined.add(tool)
    return refined, merges


def _absorb(tool: Tool, others: list[Tool], *, keep_aliases: bool) -> Tool:
    """The kept tool; with merge, the absorbed tools' names become aliases that resolve to it."""
    if not keep_aliases:
        return tool
    aliases = [*tool.meta.get("aliases", []), *(o.original_name for o in others)]
    return tool.model_copy(update={"meta": {**tool.meta, "aliases": aliases}})
