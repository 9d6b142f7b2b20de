"""Catalog refinement (the paper's "MCP tree"): find redundant tools and merge or drop them.

Two tools are redundant when
1. their TF-IDF vectors (words of the name, description and parameter names) reach the cosine
   ``threshold``, and
2. a conservative judge, standing in for the paper's LLM judge, agrees: the distinctive words of
   each tool's name (generic verbs such as get/calculate/search aside, lightly stemmed) all appear
   in the other tool's text, so neither name says something the other tool does not. Lexical
   similarity alone would merge "rectangle perimeter" with "rectangle area", or "basketball scores"
   with "soccer scores"; the judge keeps them apart. It prefers precision: a pair worded
   differently enough ("send_email" never saying "message") stays unmerged.

Walking the catalog in order, each tool not yet grouped starts a group of every later ungrouped
tool redundant with it (no chaining through intermediate tools). The group keeps the tool with the
most parameters, then the longest description, then the earliest. ``merge`` makes the other tools'
names aliases of the kept one (``Catalog.name_for`` resolves them); ``drop`` removes them.
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
_GENERIC = frozenset(
    "get set fetch retrieve find search lookup look query list create make calculate calc compute run perform do "
    "check api tool function info information data details detail".split()
)
"""Words that name what a tool does in general, not which thing it is about; the judge ignores them."""
_TOLERANCE = 1e-6  # float32 similarities of identical texts can land a hair under 1.0


@dataclass(frozen=True)
class Merge:
    """One group of redundant tools: the tool kept, the ones merged into it (or dropped), and each one's
    similarity to the tool that started the group."""

    kept: str
    absorbed: tuple[str, ...]
    similarity: tuple[float, ...]


def words(tool: Tool) -> list[str]:
    text = " ".join([tool.name, tool.description, *tool.properties])
    return [w.lower() for w in _WORD.findall(text) if w.lower() not in _STOP]


def tfidf_vectors(tools: list[Tool]):
    """L2-normalised TF-IDF vectors of the tools (sublinear tf, smoothed idf), one row per tool, float32."""
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
    return vectors / np.where(norms == 0, 1, norms)


def similarity_matrix(tools: list[Tool]):
    """Cosine similarities of the tools' TF-IDF vectors."""
    vectors = tfidf_vectors(tools)
    return vectors @ vectors.T


def nearest(tools: list[Tool], k: int, groups: list[str] | None = None,
            chunk: int = 512) -> tuple[list[list[int]], list[list[float]]]:
    """For each tool, the indices and similarities of its ``k`` most similar other tools, most similar
    first (ties by index); with ``groups``, tools of the same group come before all others. Computed
    in row chunks, so large catalogs never hold the full matrix."""
    import numpy as np

    vectors = tfidf_vectors(tools)
    k = min(k, len(tools) - 1)
    labels = np.array(groups if groups is not None else [""] * len(tools))
    indices, sims = [], []
    for start in range(0, len(tools), chunk):
        block = vectors[start : start + chunk] @ vectors.T
        for row, scores in enumerate(block):
            scores[start + row] = -np.inf
            same = labels == labels[start + row]
            order = np.lexsort((np.arange(len(scores)), -scores, ~same))[:k]
            indices.append(order.tolist())
            sims.append([float(scores[i]) for i in order])
    return indices, sims


def _stem(word: str) -> str:
    word = word.lower()
    word = word[:-1] if len(word) > 4 and word.endswith("s") and not word.endswith("ss") else word
    return word[:6]


_IGNORED_STEMS = frozenset(_stem(w) for w in _GENERIC | _STOP)


def judged_redundant(a: Tool, b: Tool) -> bool:
    """Each tool's distinctive name words all appear in the other tool's text."""
    for tool, other in ((a, b), (b, a)):
        distinctive = {_stem(w) for w in _WORD.findall(tool.name)} - _IGNORED_STEMS
        if not distinctive <= {_stem(w) for w in words(other)}:
            return False
    return True


def refine(catalog: Catalog, threshold: float, action: str) -> tuple[Catalog, list[Merge]]:
    """A new catalog without redundant tools, and the groups found. ``action``: 'merge' or 'drop'."""
    tools = list(catalog)
    if len(tools) < 2:
        return Catalog(tools), []
    sims = similarity_matrix(tools)
    grouped: set[int] = set()
    merges, refined = [], Catalog()
    groups: dict[int, list[int]] = {}
    for first in range(len(tools)):
        if first in grouped:
            continue
        members = [first] + [j for j in range(first + 1, len(tools)) if j not in grouped
                             and sims[first, j] >= threshold - _TOLERANCE and judged_redundant(tools[first], tools[j])]
        grouped.update(members)
        groups[first] = members
    for first, members in groups.items():
        kept = min(members, key=lambda k: (-len(tools[k].properties), -len(tools[k].description), k))
        others = [m for m in members if m != kept]
        tool = tools[kept]
        if others:
            similarity = tuple(round(float(sims[first, o if o != first else kept]), 3) for o in others)
            merges.append(Merge(tool.name, tuple(tools[o].name for o in others), similarity))
            tool = _absorb(tool, [tools[o] for o in others], keep_aliases=action == "merge")
        refined.add(tool)
    return refined, merges


def _absorb(tool: Tool, others: list[Tool], *, keep_aliases: bool) -> Tool:
    """The kept tool; with merge, the absorbed tools' names (and their aliases) become its aliases."""
    if not keep_aliases:
        return tool
    aliases = [*tool.meta.get("aliases", [])]
    for other in others:
        aliases += [other.original_name, *other.meta.get("aliases", [])]
    return tool.model_copy(update={"meta": {**tool.meta, "aliases": list(dict.fromkeys(aliases))}})
