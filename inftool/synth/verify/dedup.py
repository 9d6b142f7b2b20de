"""Exact and near-duplicate requests: normalised text, MinHash signatures and LSH buckets.

Text is lower-cased and reduced to word tokens; its shingles are word 3-grams, hashed with crc32
(stable across processes, unlike ``hash``). 64 MinHash functions ``(a*x + b) mod 2**32`` with odd
``a`` (each a permutation of the 32-bit hashes) give a signature; LSH bands pick candidates whose
estimated Jaccard similarity is then compared with the threshold.
"""

from __future__ import annotations

import re
import zlib

import numpy as np

_TOKEN = re.compile(r"[a-z0-9]+")
NUM_PERM = 64


def normalise(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


def _bands_for(threshold: float) -> int:
    """Rows per band so that the LSH S-curve rises a little below ``threshold`` (high recall)."""
    best, target = 1, max(0.2, threshold - 0.1)
    for rows in (1, 2, 4, 8, 16, 32):
        if (1 / (NUM_PERM // rows)) ** (1 / rows) <= target:
            best = rows
    return best


class Deduplicator:
    def __init__(self, threshold: float):
        generator = np.random.default_rng(20251229)
        self.a = (generator.integers(0, 1 << 31, NUM_PERM, dtype=np.uint32) << 1 | 1)[:, None]
        self.b = generator.integers(0, 1 << 32, NUM_PERM, dtype=np.uint32)[:, None]
        self.threshold = threshold
        self.rows = _bands_for(threshold)
        self.exact: set[str] = set()
        self.buckets: dict[tuple[int, bytes], list[int]] = {}
        self.signatures: list[np.ndarray] = []

    def signature(self, tokens: list[str]) -> np.ndarray:
        words = [t.encode() for t in tokens] or [b""]
        shingles = np.array([zlib.crc32(b" ".join(words[i : i + 3])) for i in range(max(1, len(words) - 2))],
                            dtype=np.uint32)
        hashed = self.a * shingles  # uint32 arithmetic wraps: mod 2**32
        hashed += self.b
        return hashed.min(axis=1)

    def check(self, text: str) -> tuple[str | None, object]:
        """(why the text duplicates an earlier one or None, a key to pass to ``add``)."""
        tokens = normalise(text)
        exact = " ".join(tokens)
        if exact in self.exact:
            return "exact duplicate of an earlier request", None
        signature = self.signature(tokens)
        seen: set[int] = set()
        for band in range(NUM_PERM // self.rows):
            key = (band, signature[band * self.rows : (band + 1) * self.rows].tobytes())
            for other in self.buckets.get(key, ()):
                if other in seen:
                    continue
                seen.add(other)
                similarity = np.count_nonzero(self.signatures[other] == signature) / NUM_PERM
                if similarity >= self.threshold:
                    return f"near-duplicate of an earlier request (estimated Jaccard {similarity:.2f})", None
        return None, (exact, signature)

    def add(self, key: object) -> None:
        exact, signature = key
        index = len(self.signatures)
        self.exact.add(exact)
        self.signatures.append(signature)
        for band in range(NUM_PERM // self.rows):
            self.buckets.setdefault((band, signature[band * self.rows : (band + 1) * self.rows].tobytes()), []).append(index)
