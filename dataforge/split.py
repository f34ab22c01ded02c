"""Train/eval splits that share nothing: no exact or near repeat has one copy on each side.

Samples linked by a repeat (dedup's clusters: exact, or near at the similarity threshold) go to
the same side. Clusters are shuffled with the seed and taken into eval until it holds the asked
size; a cluster that would overshoot is passed over for a smaller one, so eval is exact unless
repeats make it impossible (then the result says so). Stratified by source, every source file
gives eval its share, rounded by largest remainder. Both sides keep the input order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from dataforge.dedup import THRESHOLD, Signatures
from dataforge.errors import DataforgeError
from dataforge.model import Sample


@dataclass
class Split:
    train: list[int]
    eval: list[int]
    wanted: int  # the eval size asked for
    clusters_kept_whole: int  # clusters of two or more samples, each on one side

    @property
    def note(self) -> str:
        if len(self.eval) == self.wanted:
            return ""
        return (f"eval holds {len(self.eval)} samples, not {self.wanted}: groups of repeats are kept on one side "
                f"and none of the remaining ones fit")


def eval_size(text: str) -> float | int:
    """``--eval`` as typed: a share below 1 (``0.1``, ``10%``) or a count (``500``)."""
    raw = text.strip()
    try:
        if raw.endswith("%"):
            value = float(raw[:-1]) / 100
        elif raw.isdigit():
            return int(raw)
        else:
            value = float(raw)
    except ValueError:
        raise DataforgeError(f"--eval takes a share (0.1 or 10%) or a count (500), not {text!r}") from None
    if not 0 < value < 1:
        raise DataforgeError(f"--eval as a share must be between 0 and 1, not {text}")
    return value


def wanted_eval(size: float | int, total: int) -> int:
    """The eval count for ``total`` samples; an error when it leaves either side empty."""
    wanted = round(total * size) if isinstance(size, float) else size
    if isinstance(size, float) and wanted == 0 and total > 1:
        wanted = 1
    if wanted < 1 or wanted >= total:
        raise DataforgeError(f"an eval split of {size} leaves {'eval' if wanted < 1 else 'train'} empty "
                             f"with {total} sample(s)", hint="use fewer eval samples or more data")
    return wanted


def split_samples(samples: Sequence[Sample], size: float | int, seed: int = 0, stratify: bool = False,
                  threshold: float = THRESHOLD) -> Split:
    """Split ``samples``; with ``stratify``, by their source file (``meta["file"]``)."""
    wanted = wanted_eval(size, len(samples))
    signatures = Signatures()
    for start in range(0, len(samples), 4096):
        signatures.add(samples[start:start + 4096])
    clusters = signatures.clusters(threshold)
    members: dict[int, list[int]] = defaultdict(list)
    for index, cluster in enumerate(clusters.tolist()):
        members[cluster].append(index)
    groups = list(members.values())  # in order of first member
    rng = np.random.default_rng(seed)
    if stratify:
        strata: dict[str, list[list[int]]] = defaultdict(list)
        for group in groups:
            strata[str((samples[group[0]].meta or {}).get("file", ""))].append(group)
        sizes = {name: sum(map(len, gs)) for name, gs in strata.items()}
        quotas = _largest_remainder(sizes, wanted)
        chosen = [i for name, gs in strata.items() for i in _fill(gs, quotas[name], rng)]
    else:
        chosen = _fill(groups, wanted, rng)
    picked = set(chosen)
    return Split([i for i in range(len(samples)) if i not in picked], sorted(picked), wanted,
                 sum(1 for g in groups if len(g) > 1))


def _fill(groups: list[list[int]], wanted: int, rng: np.random.Generator) -> list[int]:
    chosen: list[int] = []
    for k in rng.permutation(len(groups)).tolist():
        if len(chosen) + len(groups[k]) <= wanted:
            chosen.extend(groups[k])
            if len(chosen) == wanted:
                break
    return chosen


def _largest_remainder(sizes: dict[str, int], wanted: int) -> dict[str, int]:
    total = sum(sizes.values())
    exact = {name: wanted * n / total for name, n in sizes.items()}
    quotas = {name: int(v) for name, v in exact.items()}
    for name in sorted(exact, key=lambda k: exact[k] - quotas[k], reverse=True)[:wanted - sum(quotas.values())]:
        quotas[name] += 1
    return quotas
