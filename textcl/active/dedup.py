"""Near-duplicate and retweet grouping before selection, so no one labels a tweet twice.

``minhash``: MinHash signatures (numpy, universal hashing of CRC-32 shingle hashes, so
results do not depend on Python's salted ``hash()``) over word 1- and 2-gram shingles,
LSH banding for candidate pairs, then the signature estimate of the Jaccard similarity
against ``threshold``. A leading ``RT @user:`` is stripped first, so retweets collapse
onto their original. ``cosine``: cosine similarity of the embeddings against
``threshold``. Groups are the connected components of the similar pairs.
"""

from __future__ import annotations

import zlib
from itertools import pairwise
from typing import Literal

import numpy as np

from textcl.active.candidates import Candidates
from textcl.text.retweet import strip_retweet, strip_retweet_text

__all__ = [
    "duplicate_groups",
    "minhash_signatures",
    "near_duplicates",
    "shingles",
    "strip_retweet",
    "unique_indices",
]

Method = Literal["minhash", "cosine"]

_PRIME = (1 << 31) - 1  # a * x < 2**62 for a, x < 2**31: no uint64 overflow


def shingles(tokens: list[str]) -> set[str]:
    """Word 1- and 2-gram shingles of a tweet (after stripping a retweet prefix)."""
    words = strip_retweet(tokens)
    out = set(words)
    out.update(f"{a}\x1f{b}" for a, b in pairwise(words))
    return out


def _tokens(candidates: Candidates, i: int) -> list[str]:
    if candidates.tokens[i]:
        return candidates.tokens[i]
    return strip_retweet_text(candidates.texts[i]).lower().split()


def minhash_signatures(candidates: Candidates, num_perm: int = 64, seed: int = 1) -> np.ndarray:
    """MinHash signatures, shape ``(n, num_perm)``; a tweet without shingles gets all-max."""
    n = len(candidates)
    rng = np.random.default_rng(seed)
    a = rng.integers(1, _PRIME, size=num_perm, dtype=np.uint64)
    b = rng.integers(0, _PRIME, size=num_perm, dtype=np.uint64)
    sig = np.full((n, num_perm), np.iinfo(np.uint64).max, dtype=np.uint64)
    hashes: list[int] = []
    owners: list[int] = []
    for i in range(n):
        for s in shingles(_tokens(candidates, i)):
            hashes.append(zlib.crc32(s.encode("utf-8")) % _PRIME)
            owners.append(i)
    if not hashes:
        return sig
    x = np.asarray(hashes, dtype=np.uint64)
    own = np.asarray(owners, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, own[1:] != own[:-1]])
    for start in range(0, num_perm, 16):
        stop = min(start + 16, num_perm)
        h = (a[start:stop, None] * x[None, :] + b[start:stop, None]) % np.uint64(_PRIME)
        sig[own[starts], start:stop] = np.minimum.reduceat(h, starts, axis=1).T
    return sig


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, i: int, j: int) -> None:
        ri, rj = self.find(i), self.find(j)
        if ri != rj:
            self.parent[max(ri, rj)] = min(ri, rj)


def _minhash_pairs(candidates: Candidates, threshold: float, num_perm: int, bands: int):
    sig = minhash_signatures(candidates, num_perm)
    empty = np.all(sig == np.iinfo(np.uint64).max, axis=1)
    # Identical signatures (retweet storms, copies) collapse at once; LSH then runs over
    # one row per distinct signature, so a bucket never holds thousands of copies.
    leaders: dict[bytes, int] = {}
    for i in np.flatnonzero(~empty):
        key = sig[i].tobytes()
        if key in leaders:
            yield leaders[key], int(i)
        else:
            leaders[key] = int(i)
    distinct = np.asarray(sorted(leaders.values()), dtype=np.int64)
    rows = num_perm // bands
    seen: set[tuple[int, int]] = set()
    for band in range(bands):
        buckets: dict[bytes, list[int]] = {}
        block = sig[:, band * rows : (band + 1) * rows]
        for i in distinct:
            buckets.setdefault(block[i].tobytes(), []).append(int(i))
        for members in buckets.values():
            for pos, i in enumerate(members):
                for j in members[pos + 1 :]:
                    if (i, j) in seen:
                        continue
                    seen.add((i, j))
                    if float(np.mean(sig[i] == sig[j])) >= threshold:
                        yield i, j
    # Tweets without any shingle: duplicates only of identical (normalised) text.
    first: dict[str, int] = {}
    for i in np.flatnonzero(empty):
        key = " ".join(strip_retweet_text(candidates.texts[i]).lower().split())
        if key in first:
            yield first[key], int(i)
        else:
            first[key] = int(i)


def _cosine_pairs(candidates: Candidates, threshold: float):
    if candidates.embeddings is None:
        raise ValueError("cosine deduplication needs candidates.embeddings, which is None")
    x = candidates.embeddings
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    x = x / np.where(norms > 0, norms, 1.0)
    for start in range(0, len(x), 1024):
        sims = x[start : start + 1024] @ x.T
        for r, j in zip(*np.nonzero(sims >= threshold), strict=True):
            i = start + int(r)
            if i < j:
                yield i, int(j)


def duplicate_groups(
    candidates: Candidates,
    threshold: float = 0.8,
    method: Method = "minhash",
    num_perm: int = 64,
    bands: int = 16,
) -> list[int]:
    """Group label per candidate: the index of the first member of its near-duplicate group.

    ``bands`` (LSH) must divide ``num_perm``; 16 bands of 4 rows find pairs well below
    the usual thresholds (0.5 and up), which are then checked against ``threshold``.
    """
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"threshold must be in (0, 1], got {threshold}")
    if method == "minhash":
        if num_perm % bands:
            raise ValueError(f"bands ({bands}) must divide num_perm ({num_perm})")
        pairs = _minhash_pairs(candidates, threshold, num_perm, bands)
    elif method == "cosine":
        pairs = _cosine_pairs(candidates, threshold)
    else:
        raise ValueError(f"method {method!r}: use minhash or cosine")
    uf = _UnionFind(len(candidates))
    for i, j in pairs:
        uf.union(i, j)
    return [uf.find(i) for i in range(len(candidates))]


def unique_indices(
    candidates: Candidates, threshold: float = 0.8, method: Method = "minhash"
) -> list[int]:
    """Indices of one representative (the first) per near-duplicate group, in order."""
    groups = duplicate_groups(candidates, threshold, method)
    return [i for i, g in enumerate(groups) if g == i]


def near_duplicates(
    candidates: Candidates, threshold: float = 0.8, method: Method = "minhash"
) -> list[int]:
    """Same as :func:`unique_indices`: a representative index per group (the first)."""
    return unique_indices(candidates, threshold, method)
