"""Exact and near repeats among samples, whatever file or layout holds them.

Exact repeats share the canonical content (``content_key``: roles, texts, tool calls and
definitions, preference replies), so the same conversation in Alpaca and in ShareGPT is one
sample. Near repeats are found with MinHash and banded LSH:

- A sample's features are word bigrams of its normalised text: lower case, punctuation and
  whitespace runs dropped, and each CJK character counted as a word (Chinese and Japanese have
  no spaces between words). Bigrams keep some word order, so a reordered sentence is less alike
  than an edited one. They are found and hashed by the compiled speedups, a text at a time, or
  for a whole batch at once in numpy without them (``text_features``: the same hashes).
- Signatures come from rensa (64 permutations), a Rust MinHash library, from the hashed
  features: on this project's machines it signs records about 50 times faster than datasketch's
  MinHash (see bench/dedup_bench.py).
- Only the low 16 bits of each of the 64 values are kept (128 bytes a sample: 128 MB for a
  million). Two unrelated samples agree on a truncated value with odds 1/65,536, which moves an
  estimated similarity by less than a thousandth.
- Banding: 16 bands of 4 values; samples agreeing on a whole band are candidates (pairs at
  similarity 0.8 become candidates with odds above 0.999, at 0.5 about 0.64, at 0.3 about 0.12).
  Bands are grouped with one sort per band (``_buckets``: a radix sort in the compiled
  speedups, numpy's sort without them), not with rensa's own LSH index, which keeps about 140
  bytes per sample and band (2.2 GB for a million samples with 16 bands, measured).
- A candidate pair is a repeat when its estimated Jaccard similarity (the share of the 64 values
  that agree; standard error 0.05 at 0.8) reaches the threshold (0.8 by default); that estimate
  is the reported similarity.

A sample is removed when it repeats an earlier sample that is kept (file order, then record
order), so the first occurrence always stays and a chain of small edits is not removed wholesale.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np
import orjson
import xxhash

from dataforge.errors import DataforgeError
from dataforge.lint.content import content_key
from dataforge.model import Sample
from dataforge.speedups import compiled

NUM_PERM = 64
BANDS = 16
ROWS = NUM_PERM // BANDS
SEED = 1
THRESHOLD = 0.8
# A band bucket shared by many samples (boilerplate) would pair each with every other; each sample
# is compared with the bucket's first member and its few nearest predecessors only.
_NEIGHBOURS = 4

_CJK = ((0x3040, 0x30FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xAC00, 0xD7AF), (0xF900, 0xFAFF))
_SEPARATOR, _WORD, _CHARACTER = 0, 1, 2  # what a code point is to the tokenizer
_P = 0x100000001B3  # odd: invertible modulo 2^64, which the prefix-sum token hash needs
_P_INVERSE = pow(_P, -1, 1 << 64)
_PAIR = 0x9E3779B97F4A7C15  # combines a bigram's two token hashes


def sample_text(sample: Sample) -> str:
    """What near repeats are judged on: every message's text, tool calls and the pair's replies."""
    if sample.arguments is None and sample.chosen is None and sample.rejected is None:
        return "\n".join(sample.contents)  # the common sample: its messages' texts alone
    parts = list(sample.contents)
    if sample.arguments is not None:
        parts.extend(f"{n} {a}" for n, a in zip(sample.names or (), sample.arguments) if a is not None)
    for reply in (sample.chosen, sample.rejected):
        if reply is not None:
            parts.append(reply.content)
    return "\n".join(parts)


def _classes() -> np.ndarray:
    """The class of every code point of the Basic Multilingual Plane: a word character (letters
    and digits, as ``str.isalnum``), a CJK character (a word of its own: Chinese and Japanese put
    no spaces between words), or a separator (punctuation, symbols, spaces, underscore)."""
    global _CLASS_TABLE
    if _CLASS_TABLE is None:
        table = np.fromiter((_WORD if chr(c).isalnum() else _SEPARATOR for c in range(0x10000)), np.uint8, 0x10000)
        for low, high in _CJK:
            table[low:high + 1] = _CHARACTER
        _CLASS_TABLE = table
    return _CLASS_TABLE


_CLASS_TABLE: np.ndarray | None = None


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: every input bit moves every output bit (numpy uint64 wraps)."""
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def _powers(n: int) -> tuple[np.ndarray, np.ndarray]:
    """(P^i, P^-i) for i < n, modulo 2^64, grown and kept between calls."""
    global _POWERS
    if len(_POWERS[0]) < n:
        size = max(n, 2 * len(_POWERS[0]), 1 << 16)
        with np.errstate(over="ignore"):
            up = np.cumprod(np.full(size, _P, np.uint64))
            down = np.cumprod(np.full(size, _P_INVERSE, np.uint64))
        _POWERS = (np.concatenate(([np.uint64(1)], up[:-1])), np.concatenate(([np.uint64(1)], down[:-1])))
    return _POWERS


_POWERS: tuple[np.ndarray, np.ndarray] = (np.zeros(0, np.uint64), np.zeros(0, np.uint64))


def _text_features_py(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(features, row offsets): the hashed word bigrams of each normalised text, one row per text
    (features[offsets[i]:offsets[i + 1]]), a one-word text's word alone, an empty text no row
    content. Words: runs of letters and digits of the lower-cased text, and each CJK character.

    A token's hash is a polynomial over its code points (sum of point * P^k, plus its length),
    then mixed; a bigram's hash mixes its two tokens'. Here the whole batch is tokenized and
    hashed in numpy, the polynomials read off prefix sums so that every token is hashed at once.
    The compiled twin (text_features in _speedups.c) walks each text once instead, about ten
    times faster."""
    lowered = [t.lower() for t in texts]
    lengths = np.fromiter(map(len, lowered), np.int64, len(lowered))
    ends = np.cumsum(lengths + 1) - 1  # each text ends at its separator ("\n" below)
    # surrogatepass: a lone surrogate is one more separator, as in the compiled twin
    points = np.frombuffer("\n".join(lowered).encode("utf-32-le", "surrogatepass"), np.uint32).astype(np.int64)
    n = len(points)
    classes = _classes()[np.minimum(points, 0xFFFF)]
    beyond = np.flatnonzero(points > 0xFFFF)  # outside the BMP (rare): classified one by one
    for i in beyond:
        classes[i] = _WORD if chr(points[i]).isalnum() else _SEPARATOR
    word = classes == _WORD
    before = np.concatenate(([False], word[:-1]))
    after = np.concatenate((word[1:], [False]))
    starts = np.flatnonzero((classes == _CHARACTER) | (word & ~before))
    stops = np.flatnonzero((classes == _CHARACTER) | (word & ~after)) + 1
    up, down = _powers(n + 1)
    with np.errstate(over="ignore"):
        prefix = np.concatenate(([np.uint64(0)], np.cumsum(points.astype(np.uint64) * up[:n], dtype=np.uint64)))
        tokens = _mix((prefix[stops] - prefix[starts]) * down[starts] + (stops - starts).astype(np.uint64))
        row = np.searchsorted(ends, starts)  # the text each token belongs to
        counts = np.bincount(row, minlength=len(lowered))
        same = row[1:] == row[:-1]  # consecutive tokens of one text: a bigram
        bigrams = _mix(tokens[:-1][same] * np.uint64(_PAIR) + tokens[1:][same])
    single = counts == 1  # a one-word text: its word is its feature
    features = np.concatenate((bigrams, tokens[single[row]]))
    owner = np.concatenate((row[1:][same], row[single[row]]))
    order = np.argsort(owner, kind="stable")
    per_row = np.bincount(owner, minlength=len(lowered))
    offsets = np.concatenate(([0], np.cumsum(per_row))).astype(np.uint64)
    return features[order], offsets


def _text_features_c(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    global _CLASS_BYTES
    if _CLASS_BYTES is None:  # made once: this runs for every 512 texts
        # flag 4: a code point that str.lower changes; a text without one is read as it is
        changes = np.fromiter((chr(c).lower() != chr(c) for c in range(0x10000)), bool, 0x10000)
        _CLASS_BYTES = (_classes() | (changes.astype(np.uint8) << 2)).tobytes()
    features, offsets = compiled.text_features(list(texts), _CLASS_BYTES)
    return np.frombuffer(features, np.uint64), np.frombuffer(offsets, np.uint64)


_CLASS_BYTES: bytes | None = None

#: (features, row offsets) of a batch of texts: compiled when built, else the numpy twin.
text_features = _text_features_c if compiled is not None else _text_features_py


def _low16_py(rows: list[list[int]], width: int) -> np.ndarray:
    values = np.fromiter(itertools.chain.from_iterable(rows), np.uint64, len(rows) * width)
    return (values & np.uint64(0xFFFF)).astype(np.uint16)


def _low16_c(rows: list[list[int]], width: int) -> np.ndarray:
    return np.frombuffer(compiled.low16_rows(rows, width), np.uint16)


#: the low 16 bits of signatures read out of rensa (lists only: the library has no buffer export)
low16 = _low16_c if compiled is not None else _low16_py


def sign(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(signatures, empty): the low 16 bits of each MinHash value of each text's features (rensa
    signs the hashed features, 64 permutations), and which texts had no word (never a repeat)."""
    parts = [_sign_part(texts[start:start + _SIGN_ROWS]) for start in range(0, len(texts), _SIGN_ROWS)]
    if len(parts) == 1:
        return parts[0]
    if not parts:
        return np.zeros((0, NUM_PERM), np.uint16), np.zeros(0, bool)
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


# rensa's signatures come out as Python lists of ints; read out 512 rows at a time they stay in
# the CPU's cache: the read-out takes a fifth less time than for 1,024 rows and half the time
# it takes for 8,000 (measured; 256 rows gain nothing more)
_SIGN_ROWS = 512


def _sign_part(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    import rensa

    features, offsets = text_features(texts)
    empty = offsets[1:] == offsets[:-1]
    if empty.any():  # rensa signs an empty row too, and that signature would match every other
        features = np.insert(features, offsets[:-1][empty].astype(np.int64), np.uint64(0))
        offsets = offsets + np.concatenate(([0], np.cumsum(empty))).astype(np.uint64)
    matrix = rensa.RMinHash.digest_matrix_from_flat_token_hashes(features, offsets, NUM_PERM, SEED)
    return low16(matrix.to_rows(), NUM_PERM).reshape(len(texts), NUM_PERM), empty


def digest(sample: Sample) -> int:
    """64-bit digest of the canonical content: equal for exact repeats in any layout."""
    return xxhash.xxh3_64_intdigest(content_key(sample))


class Repeat(NamedTuple):
    index: int  # the later sample, which is removed
    of: int  # the earlier, kept sample it repeats
    kind: str  # "exact" or "near"
    similarity: float  # 1.0 for exact repeats; the estimated Jaccard similarity for near ones


def as_bands(signatures: np.ndarray) -> np.ndarray:
    """Signatures (a row of NUM_PERM uint16 each) band by band: BANDS rows of one uint64 per
    sample, a band's 4 values side by side in it (a transposed view, not a copy)."""
    return np.ascontiguousarray(signatures, np.uint16).view(np.uint64).T


def _plain_pages(size: int) -> np.ndarray:
    """``size`` zero bytes in memory of the system's ordinary pages.

    numpy asks Linux for huge pages for large arrays; in a virtual machine the first touch of
    each fresh 2 MB page can cost milliseconds (128 MB of signatures took 0.4 s to fill here,
    against 0.08 s in ordinary pages). An anonymous map asks for nothing special."""
    import mmap

    return np.frombuffer(mmap.mmap(-1, max(size, 1)), np.uint8)[:size]


class Signatures:
    """Digests and MinHash signatures of samples added in order; their index is their position."""

    def __init__(self) -> None:
        self._digests: list[np.ndarray] = []
        self._empty: list[np.ndarray] = []
        # The signatures band by band: a band's 4 16-bit values side by side are one uint64, and
        # each band's values for every sample lie together, as the banding reads them (16
        # contiguous reads, not 16 strided passes over all signatures). One buffer with room
        # ahead: a million samples' 128 MB joined at the end would be a second copy, and fresh
        # memory costs a page fault a page to touch.
        self._bands = np.zeros((BANDS, 0), np.uint64)
        self._count = 0

    def reserve(self, n: int) -> None:
        """Make room for ``n`` samples in all: a guess is fine, since room never filled is never
        touched and so takes no memory."""
        if n > self._bands.shape[1]:
            bands = _plain_pages(BANDS * n * 8).view(np.uint64).reshape(BANDS, n)
            bands[:, :self._count] = self._bands[:, :self._count]
            self._bands = bands

    def add(self, samples: Sequence[Sample]) -> None:
        """Add a batch (a few thousand at a time keeps the temporary arrays small)."""
        self.add_parts([digest(s) for s in samples], [sample_text(s) for s in samples])

    def add_parts(self, digests: Sequence[int], texts: Sequence[str]) -> None:
        if not digests:
            return
        signatures, empty = sign(texts)
        self.add_signed(np.array(digests, dtype=np.uint64), signatures, empty)

    def add_signed(self, digests: np.ndarray, signatures: np.ndarray, empty: np.ndarray) -> None:
        """Add samples' digests, signatures (one row of NUM_PERM uint16 each) and empty flags."""
        self.add_bands(digests, as_bands(signatures), empty)

    def add_bands(self, digests: np.ndarray, bands: np.ndarray, empty: np.ndarray) -> None:
        """``add_signed`` with the signatures band by band (BANDS rows of a uint64 per sample)."""
        end = self._count + len(digests)
        if end > self._bands.shape[1]:
            self.reserve(max(end, self._bands.shape[1] * 3 // 2, 4096))
        self._bands[:, self._count:end] = bands
        self._count = end
        self._digests.append(digests)
        self._empty.append(empty)

    def __len__(self) -> int:
        return self._count

    def _joined(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(digests, bands: BANDS rows of a uint64 per sample, empty flags)."""
        if len(self._digests) > 1:  # keep one array of each, so a second call costs nothing
            self._digests = [np.concatenate(self._digests)]
            self._empty = [np.concatenate(self._empty)]
        if not self._digests:
            return np.zeros(0, np.uint64), np.zeros((BANDS, 0), np.uint64), np.zeros(0, bool)
        return self._digests[0], self._bands[:, :self._count], self._empty[0]

    def exact_firsts(self) -> np.ndarray:
        """For each sample, the index of the first sample with the same canonical content."""
        digests, _, _ = self._joined()
        firsts = np.arange(len(digests))
        if len(digests) < 2:
            return firsts
        order, start, shared = _buckets(digests)  # one sort, as for a band: a quarter of np.unique's time
        later, first = order[shared], order[start]
        firsts[later] = first
        odd = digests[later] != digests[first]
        if odd.any():  # different digests that met in the hashed bits (rare): those buckets exactly
            buckets = np.unique(start[odd])
            members = np.sort(np.concatenate((order[buckets], order[shared[np.isin(start, buckets)]])))
            _, first_at, inverse = np.unique(digests[members], return_index=True, return_inverse=True)
            firsts[members] = members[first_at[inverse]]
        return firsts

    def near_pairs(self, threshold: float, among: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(later, earlier, similarity) arrays of the candidate pairs among the indexes ``among``
        (sorted) whose estimated similarity reaches ``threshold``, ordered by later, then earlier."""
        _, bands, empty = self._joined()
        among = among[~empty[among]]
        none = np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float64)
        if len(among) < 2:
            return none
        later_parts, earlier_parts = [], []
        # the sorts run without the GIL: two threads group two bands at a time
        with ThreadPoolExecutor(2) as threads:
            grouped = threads.map(lambda band: _buckets(bands[band][among]), range(BANDS))
            for order, bucket_start, shared in grouped:
                # each sample in a shared bucket, with its few nearest predecessors there and the
                # bucket's first member
                for back in range(1, _NEIGHBOURS + 1):
                    ok = shared[shared - back >= bucket_start]
                    later_parts.append(among[order[ok]])
                    earlier_parts.append(among[order[ok - back]])
                far = shared - bucket_start > _NEIGHBOURS
                later_parts.append(among[order[shared[far]]])
                earlier_parts.append(among[order[bucket_start[far]]])
        later, earlier = np.concatenate(later_parts), np.concatenate(earlier_parts)
        if not len(later):
            return none
        total = np.int64(bands.shape[1])
        pairs = np.unique(later.astype(np.int64) * total + earlier)  # each pair once, in index order
        later, earlier = pairs // total, pairs % total
        similarity = np.empty(len(pairs))
        for chunk in range(0, len(pairs), 200_000):  # a chunk's bands side by side: 26 MB
            a, b = later[chunk:chunk + 200_000], earlier[chunk:chunk + 200_000]
            differ = np.ascontiguousarray(bands[:, a] ^ bands[:, b])  # a 16-bit value that agrees: a zero lane
            agree = (differ.view(np.uint16).reshape(BANDS, len(a), ROWS) == 0).sum(axis=(0, 2))
            similarity[chunk:chunk + 200_000] = agree / NUM_PERM
        keep = similarity >= threshold
        return later[keep], earlier[keep], similarity[keep]

    def repeats(self, threshold: float = THRESHOLD, near: bool = True) -> list[Repeat]:
        """Every sample that repeats an earlier kept one, in index order."""
        firsts = self.exact_firsts()
        indexes = np.arange(len(firsts))
        exact = np.flatnonzero(firsts != indexes)
        out = [Repeat(i, f, "exact", 1.0) for i, f in zip(exact.tolist(), firsts[exact].tolist())]
        if near:
            out += _near_repeats(*self.near_pairs(threshold, indexes[firsts == indexes]))
            out.sort()
        return out

    def clusters(self, threshold: float = THRESHOLD) -> np.ndarray:
        """A cluster id per sample: samples linked by any exact or near repeat (directly or through
        others) share one, so a split that keeps clusters whole lets no repeat cross it."""
        firsts = self.exact_firsts()
        parent = firsts.copy()
        indexes = np.arange(len(firsts))

        def root(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        later, earlier, _ = self.near_pairs(threshold, indexes[firsts == indexes])
        for a, b in zip(later.tolist(), earlier.tolist()):
            a, b = root(a), root(b)
            if a != b:
                parent[max(a, b)] = min(a, b)
        return np.array([root(i) for i in range(len(parent))], dtype=np.int64)


def _near_repeats(later: np.ndarray, earlier: np.ndarray, similarity: np.ndarray) -> list[Repeat]:
    """The near repeats the pairs make, first occurrences kept: in index order, a sample is
    removed when one of its pairs' earlier sample is still kept, and repeats the most similar
    such one (the earliest, between equals).

    Most samples are settled at once: when none of a sample's earlier partners is ever removed
    (none is the later of a pair), its best pair stands. Only samples with a partner that may be
    removed, near repeats of near repeats, are settled one by one in index order."""
    if not len(later):
        return []
    order = np.lexsort((earlier, -similarity, later))  # each later's pairs, best first
    later, earlier, similarity = later[order], earlier[order], similarity[order]
    best = np.concatenate(([True], later[1:] != later[:-1]))
    # the pairs of each later that has a partner which is itself the later of a pair
    doubtful = np.isin(later, later[np.isin(earlier, later)])
    sure = best & ~doubtful
    out = [Repeat(i, e, "near", round(s, 4))
           for i, e, s in zip(later[sure].tolist(), earlier[sure].tolist(), similarity[sure].tolist())]
    removed = set(later[sure].tolist())
    for i, e, s in zip(later[doubtful].tolist(), earlier[doubtful].tolist(), similarity[doubtful].tolist()):
        if i not in removed and e not in removed:  # its best pair whose earlier is still kept
            removed.add(i)
            out.append(Repeat(i, e, "near", round(s, 4)))
    return out


def _buckets(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Samples grouped by equal ``keys``: (order, the bucket start of each of ``shared``,
    ``shared``): ``order`` lists the positions of ``keys`` bucket by bucket, each bucket in
    position order, and ``shared`` holds the places in ``order`` that have a predecessor in
    their bucket.

    One plain sort of uint64 values, not an argsort: the key, hashed down to the bits a
    position leaves free, sits above the position. That sorts by key, then by position, at
    about half a stable argsort's time (numpy), or a sixth (the compiled radix sort). Two keys
    that collide in the fewer bits share a bucket: for bands that only makes an extra candidate
    pair, which the similarity check then turns down."""
    bits = max(1, (len(keys) - 1).bit_length())
    with np.errstate(over="ignore"):
        hashed = (keys * np.uint64(_PAIR)) >> np.uint64(bits) << np.uint64(bits)
    packed = sorted_packed(hashed | np.arange(len(keys), dtype=np.uint64), bits)
    order = (packed & np.uint64((1 << bits) - 1)).astype(np.int64)
    key = packed >> np.uint64(bits)
    shared = np.flatnonzero(key[1:] == key[:-1]) + 1
    # a bucket starts where the key changes; the start of each shared place's bucket
    starts = np.flatnonzero(np.concatenate(([True], key[1:] != key[:-1])))
    return order, starts[np.searchsorted(starts, shared, side="right") - 1], shared


def _sorted_packed_py(packed: np.ndarray, bits: int) -> np.ndarray:
    return np.sort(packed)


def _sorted_packed_c(packed: np.ndarray, bits: int) -> np.ndarray:
    # a radix sort of the bits above the position: the positions are in order already
    return np.frombuffer(compiled.sort_by_high_bits(np.ascontiguousarray(packed), bits), np.uint64)


#: values of (key << bits | position), positions in order, sorted: compiled when built
sorted_packed = _sorted_packed_c if compiled is not None else _sorted_packed_py


def find_repeats(samples: Sequence[Sample], threshold: float = THRESHOLD, near: bool = True) -> list[Repeat]:
    """The repeats among ``samples`` (indexes into it), first occurrences kept."""
    signatures = Signatures()
    for start in range(0, len(samples), 4096):
        signatures.add(samples[start:start + 4096])
    return signatures.repeats(threshold, near)


class Place(NamedTuple):
    file: str
    record: int
    line: int


class Removals(Sequence[tuple[Repeat, Place, Place]]):
    """The removed records as (repeat, where the removed record was, where the record it repeats
    is), in order, each made when asked for: a million records can hold tens of thousands of
    repeats, and the command line shows twenty."""

    def __init__(self, repeats: list[Repeat], names: list[str], file_of: np.ndarray, record_of: np.ndarray,
                 line_of: np.ndarray):
        self._repeats, self._names = repeats, names
        self._file_of, self._record_of, self._line_of = file_of, record_of, line_of

    def __len__(self) -> int:
        return len(self._repeats)

    def __getitem__(self, item):
        if isinstance(item, slice):
            return [self[i] for i in range(*item.indices(len(self)))]
        repeat = self._repeats[item]
        return repeat, self._place(repeat.index), self._place(repeat.of)

    def _place(self, sample: int) -> Place:
        return Place(self._names[self._file_of[sample]], int(self._record_of[sample]), int(self._line_of[sample]))

    def kinds(self) -> dict[str, int]:
        """How many exact and near repeats."""
        counts = {"exact": 0, "near": 0}
        for repeat in self._repeats:
            counts[repeat.kind] += 1
        return counts

    def removed(self) -> dict[str, set[int]]:
        """The removed records of each file."""
        gone = np.array([r.index for r in self._repeats], np.int64)
        files, records = self._file_of[gone], self._record_of[gone]
        return {name: set(records[files == number].tolist()) for number, name in enumerate(self._names)}

    def report_lines(self) -> list[str]:
        """The report: a JSON object a line for each removed record (compact, as orjson writes)."""
        quoted = [_quoted(name) for name in self._names]
        at = np.array([(r.index, r.of) for r in self._repeats], np.int64).reshape(-1, 2)
        files, records, lines = (self._file_of[at].tolist(), self._record_of[at].tolist(),
                                 self._line_of[at].tolist())
        return [f'{{"removed":{{"file":{quoted[gf]},"record":{gr},"line":{gl}}},'
                f'"repeats":{{"file":{quoted[ff]},"record":{fr},"line":{fl}}},'
                f'"kind":"{r.kind}","similarity":{r.similarity!r}}}\n'
                for r, (gf, ff), (gr, fr), (gl, fl) in zip(self._repeats, files, records, lines)]


def _quoted(name: str) -> str:
    try:
        return orjson.dumps(name).decode()
    except orjson.JSONEncodeError:  # a file name that is not UTF-8: its odd bytes as escapes
        return json.dumps(name)


@dataclass
class DedupResult:
    records: int = 0
    kept: int = 0
    unreadable: int = 0  # records that could not be read as samples: kept as they are, not judged
    repeats: Removals = field(default_factory=lambda: Removals([], [], *(np.zeros(0, np.int64),) * 3))
    outputs: list[Path] = field(default_factory=list)
    report: Path | None = None


class _Signed(NamedTuple):
    """What signing a run of records gives: per readable sample, where it is and its signature."""

    records: int  # records read, readable or not
    newlines: int  # lines the run spans (JSON Lines ranges)
    indexes: np.ndarray  # record index of each sample
    lines: np.ndarray  # line each sample starts on
    digests: np.ndarray
    bands: np.ndarray  # the signatures band by band (BANDS rows of a uint64 per sample), as Signatures keeps them
    empty: np.ndarray
    first: int = 0  # the file's index of the run's first record
    span: tuple[int, int] | None = None  # a worker's range: its bytes in the file
    # when every line of that range is one record ending in a plain LF: each record's size with
    # its LF, so that runs of kept records can be copied as they are
    sizes: np.ndarray | None = None
    saved: _Saved | None = None  # where a worker left the arrays (see _sign_range)


class _Range(NamedTuple):
    """A worker's range of a JSON Lines file, as writing the kept records needs it."""

    span: tuple[int, int]  # its bytes in the file
    first: int  # the file's index of its first record
    records: int
    sizes: np.ndarray | None  # see _Signed.sizes


class _Saved(NamedTuple):
    path: str
    samples: int
    sizes: bool  # whether the record sizes follow the other arrays


def _sign_records(records: list, choice) -> _Signed:
    from dataforge.convert import read_record

    indexes, lines, samples = [], [], []
    for rec in records:
        sample, _ = read_record(choice, rec)
        if sample is not None:
            indexes.append(rec.index)
            lines.append(rec.line)
            samples.append(sample)
    # digest() and sample_text() over the batch by map: no Python frame per record for the loop
    digests = np.fromiter(map(xxhash.xxh3_64_intdigest, map(content_key, samples)), np.uint64, len(samples))
    signatures, empty = sign(list(map(sample_text, samples)))
    return _Signed(len(records), 0, np.array(indexes, np.int64), np.array(lines, np.int64), digests,
                   as_bands(signatures), empty)


# a worker's arrays, in the order it saves them: (name, type, per sample or per record)
_ARRAYS = (("indexes", np.int64, 1), ("lines", np.int64, 1), ("digests", np.uint64, 1), ("empty", bool, 1),
           ("bands", np.uint64, BANDS), ("sizes", np.int64, 0))


def _sign_range(job: tuple[str, int, int, str | None, str]) -> _Signed:
    """Sign the JSON Lines in bytes [start, end) of a file (a worker's share), numbered from
    line 1 and record 0 of the range. Its arrays are saved, raw and one after another, in a file
    of the folder ``job[4]`` named in ``saved``: a pipe moves a megabyte in 64 KB pieces, each a
    system call and a wake-up (3 ms of the main process's time a megabyte, measured here), a
    file in one write (and numpy's npz would add a zip's checksums)."""
    signed = _sign_range_here(job[:4])
    handle, path = tempfile.mkstemp(suffix=".bin", dir=job[4])
    with os.fdopen(handle, "wb") as out:
        for name, _, _ in _ARRAYS:
            if getattr(signed, name) is not None:
                out.write(np.ascontiguousarray(getattr(signed, name)).data)
    saved = _Saved(path, len(signed.indexes), signed.sizes is not None)
    return signed._replace(saved=saved, **{name: None for name, _, _ in _ARRAYS})


def _restored(signed: _Signed) -> _Signed:
    """A range signed by a worker, with its arrays read back (and their file removed)."""
    saved = signed.saved
    arrays = {}
    with open(saved.path, "rb") as f:
        for name, kind, per_sample in _ARRAYS:
            if name == "sizes" and not saved.sizes:
                continue
            count = per_sample * saved.samples if per_sample else signed.records
            arrays[name] = np.fromfile(f, kind, count)
            if len(arrays[name]) != count:
                raise DataforgeError(f"{saved.path}: a worker's results were cut short (is the disk full?)")
    os.unlink(saved.path)
    arrays["bands"] = arrays["bands"].reshape(BANDS, saved.samples)
    return signed._replace(saved=None, **arrays)


def _sign_range_here(job: tuple[str, int, int, str | None]) -> _Signed:
    from dataforge.formats import get_format
    from dataforge.formats.choice import FormatChoice
    from dataforge.jsonio.stream import jsonl_records
    from dataforge.lint.engine import relaxed_gc

    path, start, end, fmt_name = job
    with open(path, "rb") as f:
        f.seek(start)
        data = f.read(end - start)
    records, newlines = jsonl_records(data)
    choice = FormatChoice(get_format(fmt_name) if fmt_name else None)
    with relaxed_gc():
        signed = _sign_records(records, choice)._replace(newlines=newlines, span=(start, end))
    sizes = np.fromiter((len(rec.text) + 1 for rec in records), np.int64, len(records))
    if int(sizes.sum()) == len(data):  # no blank line, no CR, no last line without its LF
        signed = signed._replace(sizes=sizes)
    return signed


def _signed_file(path: Path, pool, scratch: str | None) -> Iterable[_Signed]:
    """The file's records signed: in worker processes a line-aligned range each (JSON Lines with a
    pool; the workers leave their arrays in the folder ``scratch``), else here, a batch at a
    time. Record and line numbers are the file's."""
    from dataforge.convert import first_value, open_dataset
    from dataforge.formats.choice import FormatChoice
    from dataforge.jsonio.layout import is_json_lines, record_batches
    from dataforge.jsonio.stream import StructureError
    from dataforge.lint.engine import line_ranges

    with open_dataset(path) as f:
        start = f.tell()
        try:
            batches = record_batches(path, f, 4096)
            first = next(batches, None)
            if first is None:
                return
            choice = FormatChoice.for_file(first_value(first[0]))[0]
            if pool is None or not is_json_lines(path):
                yield _sign_records(first, choice)
                yield from (_sign_records(batch, choice) for batch in batches)
                return
        except StructureError as exc:
            raise DataforgeError(f"{path}:{exc.line}:{exc.column}: {exc.message}",
                                 hint="`dataforge lint` shows every problem in the file") from None
        name = choice.format.name if choice.format is not None else None
        line = record = 0
        jobs = ((p, a, b, name, scratch) for p, a, b in line_ranges(f, str(path), start))
        for signed in map(_restored, pool.imap(_sign_range, jobs)):
            yield signed._replace(indexes=signed.indexes + record, lines=signed.lines + line, first=record)
            line += signed.newlines
            record += signed.records


def dedup_files(paths: Sequence[str], out: str | Path, threshold: float = THRESHOLD, near: bool = True,
                report: str | Path | None = None, force: bool = False, jobs: int = 0) -> DedupResult:
    """Write ``paths`` without their repeats: one file to ``out`` (a .json/.jsonl name), several
    into the folder ``out`` under their own names. Kept records are copied byte for byte; the
    report (JSON Lines) names each removed record, the record it repeats and the similarity.
    ``jobs``: processes that sign JSON Lines (0: every core from 32 MB of them, as lint)."""
    from dataforge.jsonio.layout import RecordWriter, is_json_lines, open_records, record_batches
    from dataforge.jsonio.write import atomic_writer, check_output
    from dataforge.lint.engine import auto_jobs, dataset_files, relaxed_gc

    files = dataset_files(paths)
    out = Path(out)
    targets = _targets(files, out)
    for target in targets:
        check_output(target, files, force)
    report = Path(report) if report else (out / "dedup-report.jsonl" if len(files) > 1 or out.is_dir()
                                          else out.with_name(out.name + ".dedup-report.jsonl"))
    check_output(report, files, True)
    result = DedupResult()
    signatures = Signatures()
    where: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # per signed run: file, record, line
    ranges: list[list[_Range]] = [[] for _ in files]  # the workers' ranges of each file, in order
    jobs = jobs or auto_jobs([f for f in files if is_json_lines(f)])
    total = sum(f.stat().st_size for f in files)
    pool = _pool(jobs) if jobs > 1 else None
    scratch = tempfile.mkdtemp(prefix="dataforge-dedup-") if pool is not None else None
    try:
        with relaxed_gc():
            for number, path in enumerate(files):
                for signed in _signed_file(path, pool, scratch):
                    if signed.span is not None and not len(signatures):
                        # room for every file's samples, guessed from the first range's record size
                        span = signed.span[1] - signed.span[0]
                        signatures.reserve(len(signed.indexes) * total // max(span, 1) * 5 // 4 + 4096)
                    result.records += signed.records
                    result.unreadable += signed.records - len(signed.indexes)
                    signatures.add_bands(signed.digests, signed.bands, signed.empty)
                    where.append((np.full(len(signed.indexes), number, np.int32), signed.indexes, signed.lines))
                    if signed.span is not None:
                        ranges[number].append(_Range(signed.span, signed.first, signed.records, signed.sizes))
    finally:
        if pool is not None:
            pool.terminate()
            shutil.rmtree(scratch, ignore_errors=True)
    if where:
        file_of, record_of, line_of = (np.concatenate(parts) for parts in zip(*where))
    else:
        file_of = record_of = line_of = np.zeros(0, np.int64)

    result.repeats = Removals(signatures.repeats(threshold, near), [str(f) for f in files], file_of, record_of,
                              line_of)
    removed = result.repeats.removed()
    for path, target, spans in zip(files, targets, ranges):
        drop = removed.get(str(path), set())
        target.parent.mkdir(parents=True, exist_ok=True)
        f, _, _ = open_records(path)
        with f, atomic_writer(target) as w:
            writer = RecordWriter(w, target.suffix.lower() in (".jsonl", ".ndjson"))
            if writer.lines and spans:
                result.kept += _write_ranges(f, writer, spans, drop)
            else:
                for batch in record_batches(path, f, 4096):
                    kept = [rec.text for rec in batch if rec.index not in drop]
                    writer.write_texts(kept)
                    result.kept += len(kept)
            writer.close()
        result.outputs.append(target)
    with atomic_writer(report) as w:
        w.write("".join(result.repeats.report_lines()).encode())
    result.report = report
    return result


def _write_ranges(f, writer, ranges: list[_Range], drop: set[int]) -> int:
    """Write the records of the workers' ranges of the open JSON Lines file ``f`` but ``drop``, as
    ``RecordWriter.write_texts`` would; the number written.

    Each range's place in the output is known before any is written (a plain range's kept bytes
    are its size less its dropped records' sizes), so two threads write ranges side by side, each
    at its own offset: a range of plain lines is read in one piece and its kept runs of lines
    written with one vectored write; any other range is read into records again. Two threads
    write a million records about twice as fast as one, and one read and vectored write a range
    beats a copy_file_range call per run of kept records (measured)."""
    dropped = np.array(sorted(drop), np.int64)
    writer.f.flush()
    at = writer.f.tell()
    placed: list[tuple[int, _Range, list[tuple[int, int]] | None]] = []  # (output offset, range, kept runs)
    written = 0
    for part in ranges:
        start, end = part.span
        low, high = np.searchsorted(dropped, [part.first, part.first + part.records])
        gone = dropped[low:high] - part.first
        written += part.records - len(gone)
        if part.sizes is None:
            placed.append((at, part, None))
            at += len(_kept_lines(f, part, drop))  # read again when written: one range in memory at a time
            continue
        offsets = np.concatenate(([0], np.cumsum(part.sizes)))
        run_starts = np.concatenate(([0], offsets[gone + 1]))
        run_ends = np.concatenate((offsets[gone], [end - start]))
        keep = run_ends > run_starts
        placed.append((at, part, list(zip(run_starts[keep].tolist(), run_ends[keep].tolist()))))
        at += (end - start) - int(part.sizes[gone].sum())
    source, out = f.fileno(), writer.f.fileno()

    def place(job: tuple[int, _Range, list[tuple[int, int]] | None]) -> None:
        offset, part, runs = job
        if runs is None:
            _write_at(out, [_kept_lines(f, part, drop)], offset)
            return
        start, end = part.span
        data = memoryview(os.pread(source, end - start, start))
        if len(data) != end - start:
            raise DataforgeError(f"{f.name}: the file changed while dedup read it")
        _write_at(out, [data[a:b] for a, b in runs], offset)
        _write_back(out, offset, sum(b - a for a, b in runs))

    with ThreadPoolExecutor(2) as threads:
        for _ in threads.map(place, placed):
            pass
    writer.f.seek(at)
    writer.count += written
    return written


def _kept_lines(f, part: _Range, drop: set[int]) -> bytes:
    """The kept records of a range that is not plain LF-ended lines, each ending in an LF."""
    from dataforge.jsonio.stream import jsonl_records

    start, end = part.span
    records, _ = jsonl_records(os.pread(f.fileno(), end - start, start), part.first)
    texts = [rec.text for rec in records if rec.index not in drop]
    return b"\n".join(texts) + b"\n" if texts else b""


def _write_back(fd: int, offset: int, length: int) -> None:
    """Start writing these bytes of ``fd`` to disk now, and let the cache drop them (dedup does
    not read its output back): the final fsync then waits for less, and the disk works while
    the next ranges are copied (a fifth of the writing time of a million records, measured)."""
    if hasattr(os, "posix_fadvise"):  # Linux; elsewhere the fsync does it all
        try:
            os.posix_fadvise(fd, offset, length, os.POSIX_FADV_DONTNEED)
        except OSError:  # only advice: a file system may not take it
            pass


_IOV_MAX = 1024  # pieces one vectored write takes (POSIX's floor for IOV_MAX)


def _write_at(fd: int, pieces: list, offset: int) -> None:
    """Write ``pieces`` one after another at ``offset`` of the file ``fd``, however many calls it
    takes (a write may stop short)."""
    pieces = [p for p in pieces if len(p)]
    i = 0
    while i < len(pieces):
        batch = pieces[i:i + _IOV_MAX]
        done = os.pwritev(fd, batch, offset) if hasattr(os, "pwritev") else os.pwrite(fd, b"".join(batch), offset)
        if done <= 0:
            raise OSError(f"no byte written at offset {offset}")
        offset += done
        while i < len(pieces) and done >= len(pieces[i]):
            done -= len(pieces[i])
            i += 1
        if done:
            pieces[i] = memoryview(pieces[i])[done:]


def _pool(jobs: int):
    """Worker processes started from a fork server, never forked from here: rensa signs on a pool
    of Rust threads that Python cannot see, and a process forked after they started hangs on its
    first signature (seen)."""
    import multiprocessing

    return multiprocessing.get_context("forkserver").Pool(jobs, initializer=_one_signing_thread)


def _one_signing_thread() -> None:
    """A worker's rensa signs on one thread: the workers already keep every core busy, and rensa's
    own threads only compete with them (15% more processor time a signature, measured). Set
    before the worker's first signature, when rensa starts its threads."""
    os.environ["RAYON_NUM_THREADS"] = "1"


def _targets(files: list[Path], out: Path) -> list[Path]:
    if len(files) == 1 and out.suffix.lower() in (".json", ".jsonl", ".ndjson") and not out.is_dir():
        return [out]
    names = [f.name for f in files]
    clash = next((n for n in names if names.count(n) > 1), None)
    if clash is not None:
        raise DataforgeError(f"two inputs are named {clash}; their outputs in {out} would collide",
                             hint="dedup them in separate runs, or rename one")
    return [out / f.name for f in files]
