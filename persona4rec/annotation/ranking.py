"""A Bradley-Terry ranking of a study's systems per criterion, with bootstrap intervals (choix).

Bradley-Terry gives each system a strength theta (log scale, mean zero over the systems) such that system i
is preferred to j with probability 1 / (1 + exp(theta_j - theta_i)); it pools every pair's comparisons into
one ranking. Each rating is one comparison; a tie counts as half a win for each side (every win enters
twice, a tie once each way). The fit is choix's ILSR maximum-likelihood estimate with a weak L2 prior
(`alpha`), so a system that never wins still gets a finite strength. Intervals: percentile bootstrap over
examples (an example's ratings are resampled together, since they are not independent), seeded.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

DEFAULT_ALPHA = 0.01
DEFAULT_BOOTSTRAP = 200


@dataclass(frozen=True)
class SystemStrength:
    criterion: str
    system: str
    rank: int  # 1 = strongest; equal strengths share a rank
    strength: float  # Bradley-Terry theta, mean zero over the study's systems
    ci_low: float
    ci_high: float
    comparisons: int  # ratings of this criterion that involve the system

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def comparisons(ratings: Sequence[Mapping[str, Any]], index: Mapping[str, int]) -> list[tuple[int, int]]:
    """(winner, loser) index pairs from rating records (`system_a`, `system_b`, `outcome`), a tie as half a
    win each way (module docstring)."""
    data: list[tuple[int, int]] = []
    for r in ratings:
        a, b = index[r["system_a"]], index[r["system_b"]]
        if r["outcome"] == "system_a":
            data += [(a, b), (a, b)]
        elif r["outcome"] == "system_b":
            data += [(b, a), (b, a)]
        else:
            data += [(a, b), (b, a)]
    return data


def bradley_terry(n_systems: int, data: Sequence[tuple[int, int]], alpha: float = DEFAULT_ALPHA) -> list[float]:
    """The strengths of `n_systems` from (winner, loser) pairs; all zero without data."""
    if not data:
        return [0.0] * n_systems
    import choix

    return [float(x) for x in choix.ilsr_pairwise(n_systems, list(data), alpha=alpha)]


def rank_systems(
    ratings: Sequence[Mapping[str, Any]],
    criteria: Sequence[Any],
    systems: Sequence[str],
    *,
    alpha: float = DEFAULT_ALPHA,
    bootstrap: int = DEFAULT_BOOTSTRAP,
    confidence: float = 0.95,
    seed: int = 0,
) -> list[SystemStrength]:
    """Per criterion (objects with .key), every system's strength, rank and interval, strongest first."""
    import numpy as np

    index = {s: i for i, s in enumerate(systems)}
    out: list[SystemStrength] = []
    for criterion in criteria:
        mine = [r for r in ratings if r["criterion"] == criterion.key]
        by_example: dict[Any, list[Mapping[str, Any]]] = defaultdict(list)
        for r in mine:
            by_example[r["example_id"]].append(r)
        strengths = bradley_terry(len(systems), comparisons(mine, index), alpha)
        rng = random.Random(seed)
        examples = list(by_example)
        draws = []
        for _ in range(bootstrap if examples else 0):
            sample = [r for _ in examples for r in by_example[examples[rng.randrange(len(examples))]]]
            draws.append(bradley_terry(len(systems), comparisons(sample, index), alpha))
        tail = (1 - confidence) / 2 * 100
        low, high = np.percentile(draws, [tail, 100 - tail], axis=0) if draws else ([np.nan] * len(systems),) * 2
        involved = {s: sum(s in (r["system_a"], r["system_b"]) for r in mine) for s in systems}
        order = sorted(range(len(systems)), key=lambda i: -strengths[i])
        out += [
            SystemStrength(
                criterion.key,
                systems[i],
                _rank(strengths, i),
                strengths[i],
                float(low[i]),
                float(high[i]),
                involved[systems[i]],
            )
            for i in order
        ]
    return out


def _rank(strengths: Sequence[float], i: int) -> int:
    """1 + the number of systems clearly stronger than system i (equal strengths share a rank)."""
    return 1 + sum(1 for s in strengths if s > strengths[i] + 1e-9)


def study_ranking(db, study, exclude_flagged: bool = False, **options) -> list[SystemStrength]:
    """rank_systems over a study's result ratings (stats.result_ratings)."""
    from .stats import result_ratings
    from .study import get_study

    info = get_study(db, study.id if hasattr(study, "id") else study)
    return rank_systems(result_ratings(db, info.id, exclude_flagged), info.criteria, info.systems, **options)
