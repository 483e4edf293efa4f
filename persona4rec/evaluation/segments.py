"""Warm/cold users and head/tail items, as the paper (Table 5) and its authors' eval.py define them.

The rule (`split_by_percentile`), identical to the authors' `classify_by_percentile`:
    sort the n counts ascending;
    top threshold    = counts[max(0, int(0.8 n) - 1)],  head/warm = every entity with count >= it
    bottom threshold = counts[min(n - 1, int(0.2 n))],  tail/cold = every entity with count <= it
Ties at a threshold all go to the same side, so a segment can hold more than 20% of the entities (with
many users at the 5-core minimum, "cold" is often far more than 20%), and an entity can be in both when
all counts are equal. `int()` truncates.

Populations (also as the authors): users are the evaluated users, counted by their number of reviews;
items are the distinct ground-truth items of the evaluated users, counted by their number of reviews.
A user is in "head"/"tail" when their ground-truth item is. In workspace mode the counts come from the
TRAIN split only (so held-out interactions do not leak into the segment); an item with no train
interaction counts 0. In authors'-file mode the counts come from every line of the given review file,
exactly as their eval.py does. Segment metrics are reported @10 (HR and NDCG; MRR is kept too).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from ..metrics import first_hit_rank, metrics_at

SEGMENT_NAMES = ("warm", "cold", "head", "tail")
TOP_PERCENTILE = 0.8
BOTTOM_PERCENTILE = 0.2


def split_by_percentile(
    counts: Mapping[str, int], top_p: float = TOP_PERCENTILE, bottom_p: float = BOTTOM_PERCENTILE
) -> tuple[set[str], set[str]]:
    """(top set, bottom set) by the thresholds above; both empty for empty counts."""
    if not counts:
        return set(), set()
    ordered = sorted(counts.values())
    n = len(ordered)
    top_threshold = ordered[max(0, int(n * top_p) - 1)]
    bottom_threshold = ordered[min(n - 1, int(n * bottom_p))]
    top = {key for key, value in counts.items() if value >= top_threshold}
    bottom = {key for key, value in counts.items() if value <= bottom_threshold}
    return top, bottom


@dataclass
class Segments:
    warm_users: set[str]
    cold_users: set[str]
    head_items: set[str]
    tail_items: set[str]

    def of(self, user: str, target: str | Collection[str]) -> list[str]:
        """The segments a user belongs to (a target set is head/tail if any of its items is)."""
        items = {target} if isinstance(target, str) else set(target)
        names = []
        if user in self.warm_users:
            names.append("warm")
        if user in self.cold_users:
            names.append("cold")
        if items & self.head_items:
            names.append("head")
        if items & self.tail_items:
            names.append("tail")
        return names

    def sizes(self) -> dict[str, int]:
        return {
            "warm_users": len(self.warm_users),
            "cold_users": len(self.cold_users),
            "head_items": len(self.head_items),
            "tail_items": len(self.tail_items),
        }


def build_segments(user_counts: Mapping[str, int], item_counts: Mapping[str, int]) -> Segments:
    warm, cold = split_by_percentile(user_counts)
    head, tail = split_by_percentile(item_counts)
    return Segments(warm_users=warm, cold_users=cold, head_items=head, tail_items=tail)


def segments_from_train(split, user_ids: Collection[str], targets: Sequence[str | Collection[str]]) -> Segments:
    """Segments for the evaluated users and their target items, counted on the train split only."""
    train = split[split["split"] == "train"]
    user_train = train["user_id"].astype(str).value_counts().to_dict()
    item_train = train["item_id"].astype(str).value_counts().to_dict()
    target_items = set()
    for target in targets:
        target_items |= {target} if isinstance(target, str) else set(target)
    return build_segments(
        {u: int(user_train.get(u, 0)) for u in set(user_ids)}, {i: int(item_train.get(i, 0)) for i in target_items}
    )


def segment_metrics(
    user_ids: Sequence[str],
    ranked_item_ids: Sequence[Sequence[str]],
    targets: Sequence[str | Collection[str]],
    segments: Segments,
    k: int = 10,
) -> dict[str, dict[str, float]]:
    """{segment: {"HR@k", "MRR@k", "NDCG@k", "users"}}; a user counts once per segment they belong to."""
    sums = {name: {"HR": 0.0, "MRR": 0.0, "NDCG": 0.0} for name in SEGMENT_NAMES}
    members: dict[str, set[str]] = {name: set() for name in SEGMENT_NAMES}
    for user, ranked, target in zip(user_ids, ranked_item_ids, targets):
        values = metrics_at(first_hit_rank(ranked, target), k)
        for name in segments.of(user, target):
            members[name].add(user)
            for metric, value in values.items():
                sums[name][metric] += value
    out = {}
    for name in SEGMENT_NAMES:
        n = len(members[name])
        out[name] = {f"{metric}@{k}": (total / n if n else 0.0) for metric, total in sums[name].items()}
        out[name]["users"] = n
    return out
