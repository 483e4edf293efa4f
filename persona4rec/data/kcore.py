"""k-core filtering of the user-item interaction graph, iterated to a fixed point.

Removing a sparse user can push an item under k and vice versa, so users and items are pruned in turns
until nothing changes. Peeling never removes an interaction that belongs to some subgraph in which every
user and item has >= k interactions, so the result is the maximal such subgraph (the k-core), and it is
unique whatever the order of removal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class KCoreReport:
    k: int
    iterations: int
    interactions_removed: int
    users_removed: int
    items_removed: int

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def kcore(reviews, k: int) -> tuple[Any, KCoreReport]:
    """Rows of `reviews` (one per user-item pair) whose user and item both keep >= k interactions."""
    if k < 0:
        raise ValueError(f"k must be >= 0, got {k}")
    users_before, items_before = reviews["user_id"].nunique(), reviews["item_id"].nunique()
    kept = reviews
    iterations = 0
    while k > 0:
        iterations += 1
        user_ok = kept["user_id"].map(kept["user_id"].value_counts()) >= k
        item_ok = kept["item_id"].map(kept["item_id"].value_counts()) >= k
        mask = user_ok & item_ok
        if bool(mask.all()):
            break
        kept = kept[mask]
    kept = kept.reset_index(drop=True)
    return kept, KCoreReport(
        k=k,
        iterations=iterations,
        interactions_removed=len(reviews) - len(kept),
        users_removed=users_before - kept["user_id"].nunique(),
        items_removed=items_before - kept["item_id"].nunique(),
    )
