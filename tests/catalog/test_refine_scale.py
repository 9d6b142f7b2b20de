"""Refinement and nearest neighbours at scale: sparse TF-IDF rows and candidate pairs (tools that share a word),
a block of rows at a time, give exactly what the brute force over the dense similarity matrix gives: the same
neighbours in the same order (ties by index, tools sharing no word filled in by index, groups first), the same
merge groups, whatever the block size."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from inftool.catalog import Catalog, Tool
from inftool.catalog.refine import (
    judged_redundant,
    nearest,
    refine,
    similar_rows,
    similarity_matrix,
    tfidf_vectors,
    words,
)

NOUNS = ("weather", "forecast", "invoice", "refund", "order", "ticket", "flight", "hotel", "booking", "payment")
VERBS = ("get", "list", "create", "cancel", "search", "update")
FILLER = ("alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa")


def plain(name: str, description: str, *props: str, source: str = "test") -> Tool:
    return Tool(name=name, original_name=name, description=description, source=source, meta={},
                parameters={"type": "object", "properties": {p: {"type": "string"} for p in props}})


def random_catalog(seed: int, size: int) -> list[Tool]:
    """Tools over a small vocabulary (many shared words, many equal similarities); some are copies of an
    earlier tool under a reordered name (identical words: exact ties), some share no word with any other."""
    rng, tools, names = random.Random(seed), [], set()
    while len(tools) < size:
        roll = rng.random()
        if tools and roll < 0.15:
            other = rng.choice(tools)
            name = "_".join(reversed(other.name.split("_")))
            tool = plain(name, other.description, *other.properties)
        elif roll < 0.25:
            name = f"lonely_{len(tools)}"
            tool = plain(name, f"zz{len(tools)}q unique{len(tools)}x")
        else:
            name = f"{rng.choice(VERBS)}_{rng.choice(NOUNS)}_{rng.choice(FILLER)}"
            tool = plain(name, " ".join(rng.choices(NOUNS + FILLER, k=rng.randint(2, 8))),
                         *rng.sample(FILLER, rng.randint(0, 3)))
        if name not in names:
            names.add(name)
            tools.append(tool)
    return tools


def brute_nearest(tools: list[Tool], k: int, groups: list[str] | None) -> tuple[list[list[int]], list[list[float]]]:
    """``nearest`` by its definition: sort every other tool by (other group, -similarity, index), the tool
    itself at -inf among its group."""
    sims, labels = similarity_matrix(tools), groups or [""] * len(tools)
    indices, scores = [], []
    for i in range(len(tools)):
        score = [-math.inf if j == i else float(sims[i, j]) for j in range(len(tools))]
        order = sorted(range(len(tools)), key=lambda j: (labels[j] != labels[i], -score[j], j))[: min(k, len(tools) - 1)]
        indices.append(order)
        scores.append([score[j] for j in order])
    return indices, scores


def brute_groups(tools: list[Tool], threshold: float) -> list[list[int]]:
    """Refinement's groups by definition: each ungrouped tool in order takes every later ungrouped tool at
    the threshold (less 1e-6) that the judge calls redundant with it."""
    sims, grouped, groups = similarity_matrix(tools), set(), []
    for first in range(len(tools)):
        if first not in grouped:
            members = [first] + [j for j in range(first + 1, len(tools)) if j not in grouped
                                 and sims[first, j] >= threshold - 1e-6 and judged_redundant(tools[first], tools[j])]
            grouped.update(members)
            groups.append(members)
    return groups


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("k", [1, 3, 24])
def test_sparse_nearest_is_the_brute_force_nearest(seed, k):
    tools, rng = random_catalog(seed, 120), random.Random(seed)
    sources = [rng.choice("abc") if i % 7 else "d" for i in range(len(tools))]  # "d": a group of 18 tools
    for groups in (None, sources):
        assert nearest(tools, k, groups) == brute_nearest(tools, k, groups)


def test_ties_of_identical_tools_are_broken_by_index():
    tools = [plain("book_hotel", "Book a hotel room"), plain("hotel_book", "Book a hotel room"),
             plain("cancel_order", "Cancel an order"), plain("BookHotel", "Book a hotel room")]
    indices, sims = nearest(tools, 3)
    assert indices[0] == [1, 3, 2] and sims[0][0] == sims[0][1]
    assert indices[3] == [0, 1, 2]
    assert sims[2] == [0.0, 0.0, 0.0]  # no shared word: filled in by index, at similarity 0


def test_a_group_no_larger_than_k_holds_the_tool_itself_at_minus_infinity():
    """What nearest has always done (the planner's digests depend on it): a tool ranks last within its own
    group, so in a group of k tools or fewer it is one of its own k neighbours."""
    tools = [plain("alpha_one", "apple banana"), plain("beta_two", "apple cherry"), plain("gamma_three", "banana cherry")]
    indices, sims = nearest(tools, 2, ["a", "b", "b"])
    assert indices == [[0, 1], [2, 1], [1, 2]]
    assert sims[0][0] == sims[1][1] == -math.inf


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("threshold", [1e-7, 0.3, 0.6, 1.0])
def test_refine_finds_the_brute_force_groups(seed, threshold):
    tools = random_catalog(seed, 150)
    refined, merges = refine(Catalog(tools), threshold, "drop")
    expected = [g for g in brute_groups(tools, threshold) if len(g) > 1]
    assert [{m.kept, *m.absorbed} for m in merges] == [{tools[j].name for j in g} for g in expected]
    assert len(refined) == len(tools) - sum(len(g) - 1 for g in expected)


def test_rows_do_not_depend_on_the_block_size():
    tools = random_catalog(7, 90)
    vectors = tfidf_vectors(tools)
    one_block = [(row, dict(zip(columns.tolist(), scores.tolist()))) for row, columns, scores in similar_rows(vectors)]
    row_by_row = [(row, dict(zip(columns.tolist(), scores.tolist())))
                  for row, columns, scores in similar_rows(vectors, block_cells=1)]
    assert one_block == row_by_row
    dense = similarity_matrix(tools)
    for row, found in one_block:
        assert set(found) == set(np.flatnonzero(dense[row])) and all(dense[row, j] == s for j, s in found.items())


def test_vectors_hold_the_words_tools_use_not_tools_times_vocabulary():
    tools = random_catalog(3, 400)
    vectors = tfidf_vectors(tools)
    vocabulary = {w for t in tools for w in words(t)}
    assert vectors.shape == (400, len(vocabulary))
    assert vectors.nnz == sum(len(set(words(t))) for t in tools) < 0.1 * 400 * len(vocabulary)
    assert np.allclose(np.sqrt(vectors.multiply(vectors).sum(axis=1)), 1.0)
