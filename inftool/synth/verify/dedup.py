"""Exact and near-duplicate requests: normalised text, MinHash signatures and LSH buckets.

Text is lower-cased and reduced to word tokens; its shingles are word 3-grams, hashed with crc32
(stable across processes, unlike ``hash``). 64 MinHash functions ``(a*x + b) mod 2**32`` with odd
``a`` (each a permutation of the 32-bit hashes) give a signature; LSH bands pick candidates whose
estimated Jaccard similarity is then compared with the threshold.

Memory is what a 10M-episode run can hold: no Python object per request. Each accepted request keeps
its signature (256 bytes, in fixed-size numpy blocks) and one 64-bit key per band plus one for its
text (12 bytes each with the request's number, in ``_Postings``): 364 bytes at the default threshold
(8 bands), 652 at 0.5 (32 bands), where sets, tuples and lists of Python objects would take some 2.6 KB.
"""

from __future__ import annotations

import hashlib
import re
import zlib

import numpy as np

_TOKEN = re.compile(r"[a-z0-9]+")
NUM_PERM = 64
_Run = tuple[np.ndarray, np.ndarray]
"""Keys sorted, and the request number of each."""


def normalise(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


def _bands_for(threshold: float) -> int:
    """Rows per band so that the LSH S-curve rises a little below ``threshold`` (high recall)."""
    best, target = 1, max(0.2, threshold - 0.1)
    for rows in (1, 2, 4, 8, 16, 32):
        if (1 / (NUM_PERM // rows)) ** (1 / rows) <= target:
            best = rows
    return best


class _Postings:
    """An append-only multimap from 64-bit keys to request numbers, 12 bytes an entry and no Python object
    per entry: the newest entries in a small dict, the others in runs sorted by key (numpy arrays). A full
    dict becomes a run; the two newest runs merge while the older is no larger (a binary counter), so there
    are at most log2(entries / FLUSH) + 1 runs and each entry is copied about as many times in all."""

    FLUSH = 1 << 16

    def __init__(self) -> None:
        self._recent: dict[int, list[int]] = {}
        self._pending = 0
        self._runs: list[_Run] = []  # oldest first

    def __len__(self) -> int:
        return self._pending + sum(len(keys) for keys, _ in self._runs)

    def all_keys(self) -> set[int]:
        """Every key added (for inspection: it builds the set)."""
        return set(self._recent).union(*(keys.tolist() for keys, _ in self._runs))

    def add(self, keys: np.ndarray, number: int) -> None:
        for key in keys.tolist():
            self._recent.setdefault(key, []).append(number)
        self._pending += len(keys)
        if self._pending >= self.FLUSH:
            self._flush()

    def find(self, keys: np.ndarray) -> list[list[int]]:
        """For each key, the numbers added with it, in the order they were added (runs are oldest first, and
        a run keeps the numbers of one key in order)."""
        found: list[list[int]] = [[] for _ in range(len(keys))]
        for run_keys, numbers in self._runs:
            places = run_keys.searchsorted(keys)
            for i in np.flatnonzero(run_keys.take(places, mode="clip") == keys).tolist():
                found[i] += numbers[places[i] : run_keys.searchsorted(keys[i], "right")].tolist()
        for i, key in enumerate(keys.tolist()):
            found[i] += self._recent.get(key, ())
        return found

    def _flush(self) -> None:
        keys = np.fromiter((key for key, numbers in self._recent.items() for _ in numbers), np.uint64, self._pending)
        numbers = np.fromiter((n for numbers in self._recent.values() for n in numbers), np.int32, self._pending)
        order = np.argsort(keys, kind="stable")  # a key's numbers stay in the order they were added
        self._runs.append((keys[order], numbers[order]))
        self._recent, self._pending = {}, 0
        while len(self._runs) > 1 and len(self._runs[-2][0]) <= len(self._runs[-1][0]):
            newer = self._runs.pop()
            self._runs[-1] = _merged(self._runs[-1], newer)


def _merged(older: _Run, newer: _Run) -> _Run:
    """Two sorted runs as one, the newer run's entries after the older's of the same key; without a sort,
    so the only extra memory while merging is the merged run and where the newer entries go."""
    places = np.searchsorted(older[0], newer[0], "right") + np.arange(len(newer[0]))
    from_older = np.ones(len(older[0]) + len(newer[0]), dtype=bool)
    from_older[places] = False
    merged = []
    for old, new in zip(older, newer, strict=True):
        column = np.empty(len(from_older), dtype=old.dtype)
        column[places], column[from_older] = new, old
        merged.append(column)
    return merged[0], merged[1]


class Deduplicator:
    """The accepted requests so far: ``check`` a request, ``add`` it once accepted."""

    BLOCK = 4096
    """Signatures are kept in blocks of this many rows: growing never copies them."""

    def __init__(self, threshold: float):
        generator = np.random.default_rng(20251229)
        self.a = (generator.integers(0, 1 << 31, NUM_PERM, dtype=np.uint32) << 1 | 1)[:, None]
        self.b = generator.integers(0, 1 << 32, NUM_PERM, dtype=np.uint32)[:, None]
        self.mix = generator.integers(0, 1 << 63, NUM_PERM, dtype=np.uint64) << np.uint64(1) | np.uint64(1)
        self.threshold = threshold
        self.rows = _bands_for(threshold)
        self.count = 0
        self._blocks: list[np.ndarray] = []
        self._postings = _Postings()

    def signature(self, tokens: list[str]) -> np.ndarray:
        words = [t.encode() for t in tokens] or [b""]
        shingles = np.array([zlib.crc32(b" ".join(words[i : i + 3])) for i in range(max(1, len(words) - 2))],
                            dtype=np.uint32)
        hashed = self.a * shingles  # uint32 arithmetic wraps: mod 2**32
        hashed += self.b
        return hashed.min(axis=1)

    def keys(self, exact: str, signature: np.ndarray) -> np.ndarray:
        """One 64-bit key per LSH band (a sum of the band's values times odd multipliers of their own, mod
        2**64: equal bands, equal keys), and last a digest of the normalised text. Band keys are even and text
        digests odd, so the two kinds never meet."""
        bands = (signature.astype(np.uint64) * self.mix).reshape(-1, self.rows).sum(axis=1, dtype=np.uint64)
        digest = np.frombuffer(hashlib.blake2b(exact.encode(), digest_size=8).digest(), dtype="<u8")
        return np.concatenate((bands << np.uint64(1), digest | np.uint64(1)))

    def check(self, text: str) -> tuple[str | None, object]:
        """(why the text duplicates an earlier one or None, a key to pass to ``add``)."""
        tokens = normalise(text)
        signature = self.signature(tokens)
        keys = self.keys(" ".join(tokens), signature)
        *bands, same_text = self._postings.find(keys)
        if any(np.array_equal(self._signature_of(other), signature) for other in same_text):
            return "exact duplicate of an earlier request", None
        seen: set[int] = set()
        for other in (other for found in bands for other in found):
            if other in seen:
                continue
            seen.add(other)
            similarity = np.count_nonzero(self._signature_of(other) == signature) / NUM_PERM
            if similarity >= self.threshold:
                return f"near-duplicate of an earlier request (estimated Jaccard {similarity:.2f})", None
        return None, (keys, signature)

    def add(self, key: object) -> None:
        keys, signature = key
        if self.count % self.BLOCK == 0:
            self._blocks.append(np.empty((self.BLOCK, NUM_PERM), dtype=np.uint32))
        self._blocks[-1][self.count % self.BLOCK] = signature
        self._postings.add(keys, self.count)
        self.count += 1

    @property
    def signatures(self) -> list[np.ndarray]:
        """The accepted requests' signatures, oldest first (views of the blocks, listed for inspection)."""
        return [self._signature_of(number) for number in range(self.count)]

    @property
    def exact(self) -> set[int]:
        """The digests of the accepted requests' normalised texts (listed for inspection)."""
        return {key for key in self._postings.all_keys() if key & 1}

    def _signature_of(self, number: int) -> np.ndarray:
        return self._blocks[number // self.BLOCK][number % self.BLOCK]
