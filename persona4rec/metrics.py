"""Leave-one-out ranking metrics: HR, MRR and NDCG at K.

For each user, r is the 1-based position of the first ground-truth item in the ranked list (absent: no r).
    HR@K   = 1 if r <= K else 0                  (equals recall@K with one held-out item)
    MRR@K  = 1/r if r <= K else 0
    NDCG@K = 1/log2(r + 1) if r <= K else 0      (the ideal DCG is 1 with one relevant item)
and each metric is the mean over users. A target may be one item id or a set of ids (the authors' gt
files allow several lines per user); the first position holding any of them counts. Padding entries
("[PAD]") occupy a position like any other id and never match, as in the authors' eval.py.

This module is the one home of these formulas: ranked id lists go through `rank_metrics` / `ndcg_at`;
code that already has each user's rank as an array (generator training, the adapter's and the learned
ranker's VALID scores) uses `mean_ndcg`. numpy is imported inside the functions that need it.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Sequence

DEFAULT_KS = (5, 10, 20)
METRIC_NAMES = ("HR", "MRR", "NDCG")
PAD = "[PAD]"


def _as_set(target: str | Collection[str]) -> Collection[str]:
    return {target} if isinstance(target, str) else target


def first_hit_rank(ranked: Sequence[str], target: str | Collection[str]) -> int:
    """1-based position of the first ranked id in `target`; 0 when none is present."""
    wanted = _as_set(target)
    for position, item in enumerate(ranked, start=1):
        if item in wanted and item != PAD:
            return position
    return 0


def metrics_at(rank: int, k: int) -> dict[str, float]:
    """HR, MRR and NDCG at k for one user whose target sits at `rank` (0 = absent)."""
    if rank <= 0 or rank > k:
        return {"HR": 0.0, "MRR": 0.0, "NDCG": 0.0}
    return {"HR": 1.0, "MRR": 1.0 / rank, "NDCG": 1.0 / math.log2(rank + 1.0)}


def metric_columns(ks: Iterable[int] = DEFAULT_KS) -> list[str]:
    return [f"{name}@{k}" for k in ks for name in METRIC_NAMES]


def rank_metrics(
    ranked_item_ids: Sequence[Sequence[str]], targets: Sequence[str | Collection[str]], ks: Iterable[int] = DEFAULT_KS
) -> dict[str, float]:
    """Mean HR/MRR/NDCG@K over users, keys like "NDCG@10", plus "users" (the denominator)."""
    ks = tuple(ks)
    if len(ranked_item_ids) != len(targets):
        raise ValueError(f"{len(ranked_item_ids)} ranked lists but {len(targets)} targets")
    sums = {col: 0.0 for col in metric_columns(ks)}
    for ranked, target in zip(ranked_item_ids, targets):
        rank = first_hit_rank(ranked, target)
        for k in ks:
            for name, value in metrics_at(rank, k).items():
                sums[f"{name}@{k}"] += value
    n = len(targets)
    out = {col: (total / n if n else 0.0) for col, total in sums.items()}
    out["users"] = n
    return out


def per_user_metrics(
    user_ids: Sequence[str],
    ranked_item_ids: Sequence[Sequence[str]],
    targets: Sequence[str | Collection[str]],
    ks: Iterable[int] = DEFAULT_KS,
):
    """One row per user: user_id, rank (0 = target absent) and every metric column (for paired tests)."""
    import pandas as pd

    ks = tuple(ks)
    if not (len(user_ids) == len(ranked_item_ids) == len(targets)):
        raise ValueError("user_ids, ranked_item_ids and targets must have the same length")
    rows = []
    for user, ranked, target in zip(user_ids, ranked_item_ids, targets):
        rank = first_hit_rank(ranked, target)
        row: dict = {"user_id": user, "rank": rank}
        for k in ks:
            row.update({f"{name}@{k}": v for name, v in metrics_at(rank, k).items()})
        rows.append(row)
    return pd.DataFrame(rows, columns=["user_id", "rank", *metric_columns(ks)])


def ndcg_at(ranked: Sequence[Sequence[str]], targets: Sequence[str | None], k: int = 10) -> float:
    """Mean NDCG@k of ranked id lists, one held-out target per list (None: no target, a miss)."""
    if not targets:
        return 0.0
    return rank_metrics(ranked, [t if t is not None else "" for t in targets], (k,))[f"NDCG@{k}"]


def ndcg_gains(ranks, k: int):
    """Per-user NDCG@k, 1/log2(r + 1), of an array of 1-based ranks (0 or beyond k: 0), as float64."""
    import numpy as np

    ranks = np.asarray(ranks)
    hit = (ranks >= 1) & (ranks <= k)
    # np.maximum keeps log2(1) = 0 out of the division for misses (their gain is 0 anyway).
    return np.where(hit, 1.0 / np.log2(np.maximum(ranks, 1) + 1.0), 0.0)


def mean_ndcg(ranks, k: int, users: int | None = None) -> float:
    """Mean NDCG@k over `users` users whose targets sit at `ranks` (1-based; 0 or beyond k is a miss).

    users: the denominator when `ranks` holds only some of them (the others' targets were not in their
    lists, so they count 0); default len(ranks). 0.0 when there are no users."""
    gains = ndcg_gains(ranks, k)
    users = len(gains) if users is None else users
    return float(gains.sum() / users) if users else 0.0


def summarize(per_user) -> dict[str, float]:
    """Means of a per_user_metrics frame, in the same shape as rank_metrics."""
    cols = [c for c in per_user.columns if "@" in c]
    out = {c: float(per_user[c].mean()) if len(per_user) else 0.0 for c in cols}
    out["users"] = len(per_user)
    return out
