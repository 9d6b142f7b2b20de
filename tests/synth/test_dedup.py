"""Deduplicator: exact duplicates after normalisation, MinHash/LSH near-duplicates with an unbiased similarity
estimate, no false positives on realistic requests, and signatures that do not depend on the process."""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from inftool.catalog import Catalog, read_bfcl
from inftool.errors import DataUnavailableError
from inftool.synth.language.phrasing import PERSONAS, Phraser
from inftool.synth.planner import ScenarioPlanner, ScenarioSettings
from inftool.synth.roles.procedural import ProceduralUser
from inftool.synth.values.sampler import ValueSampler
from inftool.synth.verify.dedup import NUM_PERM, Deduplicator, _bands_for, normalise

REPO = Path(__file__).resolve().parents[2]
_ESTIMATE = re.compile(r"^near-duplicate of an earlier request \(estimated Jaccard (\d\.\d\d)\)$")
VOCAB = [f"w{i}" for i in range(5000)]


def shingles(tokens: list[str]) -> frozenset[str]:
    """Word 3-grams (a text shorter than 3 words is one shingle), as the Deduplicator defines them."""
    return frozenset(" ".join(tokens[i : i + 3]) for i in range(max(1, len(tokens) - 2)))


def jaccard(a: list[str], b: list[str]) -> float:
    x, y = shingles(a), shingles(b)
    return len(x & y) / len(x | y)


def estimate(dedup: Deduplicator, a: list[str], b: list[str]) -> float:
    return np.count_nonzero(dedup.signature(a) == dedup.signature(b)) / NUM_PERM


def edited(tokens: list[str], edits: int, rng: random.Random) -> list[str]:
    """``tokens`` after ``edits`` random substitutions, insertions and deletions."""
    out = list(tokens)
    for _ in range(edits):
        i, op = rng.randrange(len(out)), rng.random()
        if op < 0.5:
            out[i] = rng.choice(VOCAB)
        elif op < 0.75:
            out.insert(i, rng.choice(VOCAB))
        elif len(out) > 4:
            del out[i]
    return out


def remembered(threshold: float, *texts: str) -> Deduplicator:
    dedup = Deduplicator(threshold)
    for text in texts:
        reason, key = dedup.check(text)
        assert reason is None
        dedup.add(key)
    return dedup


# --- exact duplicates -------------------------------------------------------------------------------


def test_normalise_lowercases_and_keeps_word_tokens():
    assert normalise("Book 2 flights: SFO->NRT, ASAP!!  Thanks.") == ["book", "2", "flights", "sfo", "nrt", "asap",
                                                                       "thanks"]
    assert normalise("  ...  ") == []


@pytest.mark.parametrize("variant", [
    "book a flight from sfo to nrt on march 14 please",
    "BOOK A FLIGHT FROM SFO TO NRT ON MARCH 14 PLEASE",
    "Book a flight, from SFO to NRT on March 14 -- please!",
    "  Book   a flight\nfrom SFO\tto NRT on March 14 please  ",
])
def test_exact_duplicates_after_normalisation(variant):
    dedup = remembered(0.9, "Book a flight from SFO to NRT on March 14, please.")
    assert dedup.check(variant) == ("exact duplicate of an earlier request", None)


def test_a_text_is_only_remembered_once_added():
    dedup = Deduplicator(0.9)
    reason, key = dedup.check("Convert 100 USD to EUR.")
    assert reason is None
    assert dedup.check("Convert 100 USD to EUR.")[0] is None  # checked, not added
    dedup.add(key)
    assert dedup.check("convert 100 usd to eur")[0] == "exact duplicate of an earlier request"


def test_a_different_number_is_not_an_exact_duplicate():
    dedup = remembered(0.9, "Convert 100 USD to EUR.")
    assert dedup.check("Convert 150 USD to EUR.")[0] is None


def test_short_and_empty_texts():
    dedup = remembered(0.9, "hello world", "")
    assert dedup.check("Hello, World!")[0] == "exact duplicate of an earlier request"
    assert dedup.check("  !! ")[0] == "exact duplicate of an earlier request"
    assert dedup.check("hello there")[0] is None
    assert dedup.check("hi")[0] is None


# --- near duplicates --------------------------------------------------------------------------------


def test_near_duplicates_above_the_threshold_are_flagged_with_the_estimate():
    rng = random.Random(3)
    flagged = 0
    for _ in range(60):
        base = [rng.choice(VOCAB) for _ in range(rng.randint(40, 80))]
        near = list(base)
        near[-1] = rng.choice(VOCAB)  # one word changed at the end: one 3-gram in ~60 differs
        dedup = remembered(0.85, " ".join(base))
        reason, key = dedup.check(" ".join(near))
        true, expected = jaccard(base, near), estimate(dedup, base, near)
        assert true >= 0.94
        if expected >= 0.85:
            match = _ESTIMATE.match(reason or "")
            assert match and key is None, reason
            assert float(match.group(1)) == pytest.approx(expected, abs=0.005)
            flagged += 1
    assert flagged >= 58


@pytest.fixture(scope="module")
def pairs() -> list[tuple[list[str], list[str], float]]:
    """Random word sequences and edited copies, with their true 3-gram Jaccard similarity, spread over [0, 1]."""
    rng, out = random.Random(1), []
    for _ in range(2400):
        base = [rng.choice(VOCAB) for _ in range(rng.randint(30, 200))]
        other = edited(base, rng.choice([1, 1, 1, 2, 3, 5, 8, 12, 20, 30, 50]), rng)
        out.append((base, other, jaccard(base, other)))
    return out


@pytest.mark.parametrize("threshold", [0.5, 0.7, 0.9])
def test_lsh_finds_almost_every_pair_well_above_the_threshold(pairs, threshold):
    above = [(a, b) for a, b, truth in pairs if truth >= threshold + 0.05]
    found = sum(remembered(threshold, " ".join(a)).check(" ".join(b))[0] is not None for a, b in above)
    assert len(above) >= 150 and found / len(above) >= 0.97, (found, len(above))


@pytest.mark.parametrize("threshold", [0.5, 0.7, 0.9])
def test_pairs_below_the_threshold_are_not_flagged(pairs, threshold):
    """64 hash functions estimate Jaccard with a standard deviation up to 0.0625: pairs 0.15 below the threshold
    are flagged rarely (a 2.4-sigma tail), pairs 0.3 below never."""
    below = [(a, b, truth) for a, b, truth in pairs if truth <= threshold - 0.15]
    flagged = [truth for a, b, truth in below if remembered(threshold, " ".join(a)).check(" ".join(b))[0] is not None]
    assert len(below) >= 300
    assert len(flagged) <= 0.01 * len(below), flagged
    assert all(truth > threshold - 0.3 for truth in flagged), flagged


def test_minhash_estimate_is_unbiased():
    dedup, rng = Deduplicator(0.9), random.Random(0)
    errors, truths = [], []
    for _ in range(3000):
        base = [rng.choice(VOCAB) for _ in range(rng.randint(8, 40))]
        other = edited(base, rng.randint(0, max(1, len(base) // 3)), rng)
        truth = jaccard(base, other)
        errors.append(estimate(dedup, base, other) - truth)
        truths.append(truth)
    errors, truths = np.array(errors), np.array(truths)
    assert 0.3 < truths.mean() < 0.8 and truths.std() > 0.2  # a spread of similarities, not all 0 or 1
    assert abs(errors.mean()) <= 0.02, errors.mean()  # measured: +0.0005
    assert np.abs(errors).mean() < 0.06, np.abs(errors).mean()  # measured: 0.039 (theory for 64 hashes: ~0.04)
    for low in (0.0, 0.25, 0.5, 0.75):  # no similarity range is skewed either
        band = errors[(truths >= low) & (truths < low + 0.25)]
        assert len(band) > 100 and abs(band.mean()) <= 0.02, (low, band.mean())


def test_rows_per_band_put_the_lsh_curve_below_the_threshold():
    for threshold in (0.3, 0.5, 0.7, 0.8, 0.9, 1.0):
        rows = _bands_for(threshold)
        assert NUM_PERM % rows == 0
        target = max(0.2, threshold - 0.1)
        assert (rows / NUM_PERM) ** (1 / rows) <= target  # candidates start below threshold - 0.1
        if rows < 32:
            bigger = rows * 2
            assert (bigger / NUM_PERM) ** (1 / bigger) > target  # the steepest such curve
    assert (_bands_for(0.5), _bands_for(0.9)) == (2, 8)


# --- realistic requests --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bfcl_requests() -> list[str]:
    """2,000 distinct (after normalisation) first requests of the procedural user on BFCL tools."""
    try:
        tools = read_bfcl(["simple_python", "multiple", "parallel", "parallel_multiple"]).tools
    except DataUnavailableError as exc:
        pytest.skip(f"BFCL data unavailable: {exc}")
    catalog = {t.name: t for t in Catalog(tools)}
    values = ValueSampler(0)
    planner = ScenarioPlanner(Catalog(tools), values, ScenarioSettings(), PERSONAS)
    user = ProceduralUser(Phraser(0, values), catalog, vagueness=0.3)
    names = [t.name for t in tools if t.properties][:150]  # few tools: many requests for each
    rng, requests, seen = random.Random(7), [], set()
    while len(requests) < 2000:
        goal = planner.plan(rng.choice(["single", "single", "parallel", "multiple"]), rng.choice(names), rng)
        text = user.request(goal, catalog, rng)
        if " ".join(normalise(text)) not in seen:
            seen.add(" ".join(normalise(text)))
            requests.append(text)
    return requests


@pytest.mark.parametrize("threshold", [0.7, 0.8, 0.9])
def test_no_false_positives_among_distinct_realistic_requests(bfcl_requests, threshold):
    sets = [shingles(normalise(r)) for r in bfcl_requests]
    postings = defaultdict(list)
    for i, s in enumerate(sets):
        for shingle in s:
            postings[shingle].append(i)
    shared = defaultdict(int)  # brute force over every pair sharing a 3-gram (all others have Jaccard 0)
    for docs in postings.values():
        for a in range(len(docs)):
            for b in range(a + 1, len(docs)):
                shared[docs[a], docs[b]] += 1
    best = defaultdict(float)  # document -> highest true Jaccard with an earlier document
    for (a, b), n in shared.items():
        best[b] = max(best[b], n / (len(sets[a]) + len(sets[b]) - n))
    assert len(shared) > 10_000  # requests do share phrasing

    dedup, flagged, flagged_ids = Deduplicator(threshold), [], set()
    for i, request in enumerate(bfcl_requests):
        reason, key = dedup.check(request)
        if key is None:
            assert reason and reason.startswith("near-duplicate"), reason
            flagged.append((best[i], request))
            flagged_ids.add(i)
        else:
            dedup.add(key)
    # 64 hash functions estimate Jaccard with a standard deviation up to 0.0625. Over the thousands of pairs that share
    # phrasing, one estimate in the 2.4-4 sigma tail can happen: at most one flag 0.15 below, none 0.25 below (4 sigma)
    assert all(similarity >= threshold - 0.25 for similarity, _ in flagged), flagged
    assert sum(similarity < threshold - 0.15 for similarity, _ in flagged) <= 1, flagged
    assert sum(similarity < threshold for similarity, _ in flagged) <= 5  # flags of true near-duplicates are right
    # the pairs the LSH should find (true Jaccard well above the threshold) it finds
    missed = [i for i in range(len(sets)) if best[i] >= threshold + 0.1 and i not in flagged_ids]
    assert not missed


# --- determinism --------------------------------------------------------------------------------------


def test_signatures_do_not_depend_on_the_instance_or_the_threshold():
    tokens = normalise("Find me three vegetarian restaurants near Union Square that open before 8 am.")
    signature = Deduplicator(0.9).signature(tokens)
    assert signature.dtype == np.uint32 and signature.shape == (NUM_PERM,)
    assert np.array_equal(signature, Deduplicator(0.5).signature(tokens))
    assert not np.array_equal(signature, Deduplicator(0.9).signature(tokens[:-1]))


def test_signatures_are_the_same_in_processes_with_other_hash_seeds():
    text = "Find me three vegetarian restaurants near Union Square that open before 8 am."
    here = Deduplicator(0.9).signature(normalise(text)).tolist()
    script = ("import json, sys; from inftool.synth.verify.dedup import Deduplicator, normalise; "
              "print(json.dumps(Deduplicator(0.9).signature(normalise(sys.argv[1])).tolist()))")
    for seed in ("1", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run([sys.executable, "-c", script, text], env=env, cwd=REPO, capture_output=True, text=True,
                             check=True)
        assert json.loads(out.stdout) == here, seed
