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
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from itertools import islice

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
    """L2-normalised TF-IDF vectors of the tools (sublinear tf, smoothed idf), one row per tool, as a sparse
    ``scipy.sparse.csr_array`` (float64): it holds the words each tool uses, not tools x vocabulary cells, so
    memory grows with the catalog, not with its square."""
    import numpy as np
    from scipy.sparse import csr_array

    docs = [Counter(words(t)) for t in tools]
    vocabulary = {w: i for i, w in enumerate(sorted({w for d in docs for w in d}))}
    entries = [sorted((vocabulary[w], count) for w, count in doc.items()) for doc in docs]
    lengths = np.array([len(row) for row in entries], dtype=np.int64)
    columns = np.array([j for row in entries for j, _ in row], dtype=np.int32)
    counts = np.array([c for row in entries for _, c in row], dtype=np.float64)
    idf = np.log((1 + len(docs)) / (1 + np.bincount(columns, minlength=len(vocabulary)))) + 1
    weights = (1 + np.log(counts)) * idf[columns]
    row_of = np.repeat(np.arange(len(docs)), lengths)
    norms = np.sqrt(np.bincount(row_of, weights=weights**2, minlength=len(docs)))
    weights /= np.where(norms == 0, 1, norms)[row_of]
    return csr_array((weights, columns, np.concatenate(([0], np.cumsum(lengths)))), shape=(len(docs), len(vocabulary)))


def similarity_matrix(tools: list[Tool]):
    """Cosine similarities of the tools' TF-IDF vectors, as a dense array: for small catalogs and tests.
    Refinement and nearest neighbours never build it (see ``similar_rows``)."""
    vectors = tfidf_vectors(tools)
    return (vectors @ vectors.T).toarray()


def similar_rows(vectors, block_cells: int = 1 << 20):
    """(row, columns, similarities) for each row of ``vectors``: every row that shares a word with it (itself
    included; columns in no particular order). Candidate pairs, not all pairs: the sparse product only meets
    rows with a word in common, a block of rows at a time, at most about ``block_cells`` similarities per block
    (some 50 MB), so memory stays linear in the catalog whatever its size. Time grows with the pairs that share
    a word: with words every tool uses, with the square of the catalog (about 10 s at 20,000 tools)."""
    count = vectors.shape[0]
    transposed = vectors.T.tocsr()
    step = max(1, block_cells // max(1, count))
    for start in range(0, count, step):
        block = vectors[start : start + step] @ transposed  # weights are positive: no product cancels to 0
        for row in range(block.shape[0]):
            cells = slice(block.indptr[row], block.indptr[row + 1])
            yield start + row, block.indices[cells], block.data[cells]


def nearest(tools: list[Tool], k: int, groups: list[str] | None = None) -> tuple[list[list[int]], list[list[float]]]:
    """For each tool, the indices and similarities of its ``k`` most similar other tools, most similar first
    (ties by index); with ``groups``, tools of the same group come before all others. Within its group the
    tool itself ranks last (similarity -inf), after the tools that share no word with it: a tool whose group
    has ``k`` tools or fewer is one of its own neighbours. Only pairs that share a word are scored
    (``similar_rows``); the rest have similarity 0 and fill in by index when fewer than ``k`` tools share one."""
    import numpy as np

    k = min(k, len(tools) - 1)
    labels = np.unique(groups if groups is not None else [""] * len(tools), return_inverse=True)[1]
    members: list[list[int]] = [[] for _ in range(labels.max(initial=-1) + 1)]
    for i, label in enumerate(labels.tolist()):
        members[label].append(i)
    indices, sims = [], []
    for row, columns, scores in similar_rows(tfidf_vectors(tools)):
        same = labels[columns] == labels[row]
        mine = same & (columns != row)
        best = list(zip(*(a.tolist() for a in _highest(columns[mine], scores[mine], k)), strict=True))
        if len(best) < k:
            best += islice(_fill(row, columns, scores, same, k, labels, members[labels[row]]), k - len(best))
        indices.append([j for j, _ in best])
        sims.append([s for _, s in best])
    return indices, sims


def _highest(columns, scores, k: int):
    """The ``k`` columns of highest score and their scores, highest first, ties by column: exact, since every
    column tied with the k-th is sorted, not only the ones a partition happens to keep."""
    import numpy as np

    if len(scores) > k > 0:
        keep = scores >= np.partition(scores, len(scores) - k)[len(scores) - k]
        columns, scores = columns[keep], scores[keep]
    order = np.lexsort((columns, -scores))[:k]
    return columns[order], scores[order]


def _fill(row: int, columns, scores, same, k: int, labels, group: list[int]) -> Iterator[tuple[int, float]]:
    """What follows a row's scored same-group neighbours in ``nearest``'s order: the rest of its group by
    index (similarity 0), the tool itself (-inf), then the other groups' tools, scored first, then by index."""
    scored = set(columns.tolist())
    yield from ((j, 0.0) for j in group if j != row and j not in scored)
    yield row, -math.inf
    yield from zip(*(a.tolist() for a in _highest(columns[~same], scores[~same], k)), strict=True)
    yield from ((j, 0.0) for j in range(len(labels)) if labels[j] != labels[row] and j not in scored)


def _stem(word: str) -> str:
    word = word.lower()
    word = word[:-1] if len(word) > 4 and word.endswith("s") and not word.endswith("ss") else word
    return word[:6]


_IGNORED_STEMS = frozenset(_stem(w) for w in _GENERIC | _STOP)


def judged_redundant(a: Tool, b: Tool) -> bool:
    """Each tool's distinctive name words all appear in the other tool's text."""
    return _redundant(_stems(a), _stems(b))


def judge(tools: list[Tool]) -> Callable[[int, int], bool]:
    """``judged_redundant`` of two tools given by index, each tool's stems computed once: refinement and
    distractor selection judge many pairs among the same tools."""
    stems = cache(lambda k: _stems(tools[k]))
    return lambda i, j: _redundant(stems(i), stems(j))


def _stems(tool: Tool) -> tuple[set[str], set[str]]:
    """What the judge compares: the distinctive stems of a tool's name, and the stems of all its words. A word of
    the name's namespace (the dotted prefix of its original name) that its description and parameters never use
    is packaging, not what the tool is about: 'geometry' in geometry.area_circle (whose description is 'Calculate
    the area of a circle'), unlike 'spotify' in spotify.play ('Play a song on Spotify')."""
    namespace = {_stem(w) for w in _WORD.findall(tool.original_name.rpartition(".")[0])}
    if namespace:
        namespace -= {_stem(w) for w in _WORD.findall(" ".join([tool.description, *tool.properties]))}
    distinctive = {_stem(w) for w in _WORD.findall(tool.name)} - _IGNORED_STEMS - namespace
    return distinctive, {_stem(w) for w in words(tool)}


def _redundant(a: tuple[set[str], set[str]], b: tuple[set[str], set[str]]) -> bool:
    return a[0] <= b[1] and b[0] <= a[1]


def refine(catalog: Catalog, threshold: float, action: str) -> tuple[Catalog, list[Merge]]:
    """A new catalog without redundant tools, and the groups found. ``action``: 'merge' or 'drop'."""
    tools = list(catalog)
    if len(tools) < 2:
        return Catalog(tools), []
    grouped: set[int] = set()
    groups: dict[int, tuple[list[int], dict[int, float]]] = {}
    judged = judge(tools)
    for first, columns, scores in similar_rows(tfidf_vectors(tools)):
        if first in grouped:
            continue
        similar = _later_similar(first, columns, scores, threshold - _TOLERANCE, len(tools))
        members = [first] + [j for j in similar if j not in grouped and judged(first, j)]
        grouped.update(members)
        groups[first] = members, similar
    merges, refined = [], Catalog()
    for first, (members, similar) in groups.items():
        kept = min(members, key=lambda k: (-len(tools[k].properties), -len(tools[k].description), k))
        others = [m for m in members if m != kept]
        tool = tools[kept]
        if others:
            similarity = tuple(round(similar[o if o != first else kept], 3) for o in others)
            merges.append(Merge(tool.name, tuple(tools[o].name for o in others), similarity))
            tool = _absorb(tool, [tools[o] for o in others], keep_aliases=action == "merge")
        refined.add(tool)
    return refined, merges


def _later_similar(first: int, columns, scores, cutoff: float, count: int) -> dict[int, float]:
    """The tools after ``first`` whose similarity to it reaches ``cutoff``, in index order, with that similarity.
    Tools that share no word with it have similarity 0: they count only for a cutoff of 0 or below."""
    later = (columns > first) & (scores >= cutoff)
    found = dict(sorted(zip(columns[later].tolist(), scores[later].tolist())))
    if cutoff > 0:
        return found
    return {j: found.get(j, 0.0) for j in range(first + 1, count)}


def _absorb(tool: Tool, others: list[Tool], *, keep_aliases: bool) -> Tool:
    """The kept tool; with merge, the absorbed tools' names (and their aliases) become its aliases."""
    if not keep_aliases:
        return tool
    aliases = [*tool.meta.get("aliases", [])]
    for other in others:
        aliases += [other.original_name, *other.meta.get("aliases", [])]
    return tool.model_copy(update={"meta": {**tool.meta, "aliases": list(dict.fromkeys(aliases))}})
