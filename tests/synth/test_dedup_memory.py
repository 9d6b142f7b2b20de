"""The near-duplicate gate's memory is bounded per request (no Python object per request: signatures in numpy
blocks, keys in sorted runs), and its decisions are those of plain LSH buckets: the same verdicts with the same
reasons, the same first candidate, across flushes and merges of the runs."""

from __future__ import annotations

import math
import random
import tracemalloc

import numpy as np
import pytest

from inftool.synth.verify.dedup import NUM_PERM, Deduplicator, _Postings, normalise

VOCAB = [f"w{i}" for i in range(800)]


class BucketDeduplicator:
    """The definition: an exact-text set, and per LSH band a bucket of earlier requests with that band's values;
    a request is a near-duplicate of the first candidate (band by band, oldest first) whose estimated Jaccard
    similarity reaches the threshold."""

    def __init__(self, threshold: float):
        self.minhash, self.threshold = Deduplicator(threshold), threshold
        self.texts: set[str] = set()
        self.buckets: dict[tuple[int, bytes], list[int]] = {}
        self.signatures: list[np.ndarray] = []

    def check(self, text: str) -> tuple[str | None, object]:
        tokens = normalise(text)
        if " ".join(tokens) in self.texts:
            return "exact duplicate of an earlier request", None
        signature, rows, seen = self.minhash.signature(tokens), self.minhash.rows, set()
        for band in range(NUM_PERM // rows):
            for other in self.buckets.get((band, signature[band * rows : (band + 1) * rows].tobytes()), ()):
                similarity = np.count_nonzero(self.signatures[other] == signature) / NUM_PERM
                if other not in seen and similarity >= self.threshold:
                    return f"near-duplicate of an earlier request (estimated Jaccard {similarity:.2f})", None
                seen.add(other)
        return None, (" ".join(tokens), signature)

    def add(self, key: object) -> None:
        text, signature = key
        self.texts.add(text)
        rows = self.minhash.rows
        for band in range(NUM_PERM // rows):
            self.buckets.setdefault((band, signature[band * rows : (band + 1) * rows].tobytes()), []).append(
                len(self.signatures))
        self.signatures.append(signature)


def requests(count: int, seed: int) -> list[str]:
    """Random requests, a tenth of them repeated (in another case), a fifth of them copies with a word changed at
    one end (one shingle differs: near-duplicates when long enough)."""
    rng, texts = random.Random(seed), []
    for _ in range(count):
        roll = rng.random()
        if texts and roll < 0.1:
            texts.append(rng.choice(texts).upper())
        elif texts and roll < 0.3:
            words = rng.choice(texts).split()
            words[rng.choice((0, -1))] = rng.choice(VOCAB)
            texts.append(" ".join(words))
        else:
            texts.append(" ".join(rng.choices(VOCAB, k=rng.randint(3, 25))))
    return texts


def verdicts(dedup, texts: list[str]) -> list[str | None]:
    out = []
    for text in texts:
        reason, key = dedup.check(text)
        if key is not None:
            dedup.add(key)
        out.append(reason)
    return out


@pytest.mark.parametrize("threshold", [0.5, 0.8, 0.9])
def test_same_decisions_as_lsh_buckets_across_flushes_and_merges(monkeypatch, threshold):
    monkeypatch.setattr(_Postings, "FLUSH", 64)  # a few hundred runs flushed and merged
    texts = requests(3000, seed=int(threshold * 10))
    expected = verdicts(BucketDeduplicator(threshold), texts)
    assert verdicts(Deduplicator(threshold), texts) == expected
    assert sum(r is not None and r.startswith("exact") for r in expected) > 200  # not vacuous
    assert sum(r is not None and r.startswith("near") for r in expected) > 100


def test_postings_find_every_number_in_order(monkeypatch):
    monkeypatch.setattr(_Postings, "FLUSH", 8)
    rng, postings, reference = random.Random(5), _Postings(), {}
    for number in range(2000):
        keys = np.array(rng.sample(range(300), 3) + [rng.getrandbits(64)], dtype=np.uint64)
        postings.add(keys, number)
        for key in keys.tolist():
            reference.setdefault(key, []).append(number)
        if number % 97 == 0:
            asked = np.array(rng.sample(range(320), 20), dtype=np.uint64)
            assert postings.find(asked) == [reference.get(key, []) for key in asked.tolist()]
    assert len(postings) == 8000
    assert len(postings._runs) <= math.log2(8000 / 8) + 1  # a binary counter of runs


@pytest.mark.parametrize(("threshold", "bound"), [(0.9, 420), (0.5, 720)])
def test_bytes_per_accepted_request_are_bounded(monkeypatch, threshold, bound):
    """256 bytes of signature and 12 bytes per key (8 bands + the text at 0.9: 364; 32 + 1 at 0.5: 652), plus
    the newest entries' dict and the last block's spare rows; plain buckets held about 2.6 KB."""
    monkeypatch.setattr(_Postings, "FLUSH", 256)  # the newest entries' dict and the spare rows are bounded:
    monkeypatch.setattr(Deduplicator, "BLOCK", 512)  # smaller bounds, so that 6,000 requests show the rate
    rng = random.Random(1)
    texts = [" ".join(rng.choices(VOCAB, k=rng.randint(12, 30))) for _ in range(6000)]
    verdicts(Deduplicator(threshold), texts[:1])  # what the first use imports is not per request
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        dedup = Deduplicator(threshold)
        accepted = sum(r is None for r in verdicts(dedup, texts))
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert accepted > 5950 and dedup.count == accepted
    print(f"{held / accepted:.0f} bytes per accepted request")
    assert held / accepted < bound, held / accepted
