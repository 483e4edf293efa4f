"""Leave-one-out split by time, as in the paper.

Per user, interactions are ordered by (timestamp, item_id): the last one is the test item, the one before
it the validation item, the rest are training history. The item_id tie-break makes equal timestamps
(common: Amazon 2014 times are whole days) split the same way on every run.

Users with fewer than 3 interactions cannot give train, valid and test. They are kept, all their
interactions in train (they still teach collaborative filtering), and counted as `users_train_only`;
evaluation only looks at users that have a test row. After a k-core with k >= 3 there are none.
"""

from __future__ import annotations

from typing import Any

MIN_SPLITTABLE = 3
# The paper's L: a user is represented by their last L interactions (the profile the offline stage reads,
# the history the encoder embeds, the one the app shows as "in profile").
HISTORY_LENGTH = 10
# The splits whose interactions a held-out item of each split may see: train < valid < test in time.
EARLIER_SPLITS = {"valid": ("train",), "test": ("train", "valid")}


def earlier_splits(split: str) -> tuple[str, ...]:
    """The splits a `split` target's history is made of (the whole of train for "train" itself)."""
    return EARLIER_SPLITS.get(split, ("train",))


def leave_one_out(reviews) -> tuple[Any, dict[str, Any]]:
    """One (user_id, item_id, split) row per interaction, in the order of `reviews`; and counts."""
    import numpy as np

    from .schema import SPLIT_DTYPES

    reviews = reviews.reset_index(drop=True)
    ordered = reviews[["user_id", "item_id", "timestamp"]].sort_values(
        ["user_id", "timestamp", "item_id"], kind="stable"
    )
    from_end = ordered.groupby("user_id", sort=False).cumcount(ascending=False).to_numpy()
    sizes = ordered.groupby("user_id", sort=False)["item_id"].transform("size").to_numpy()
    split = np.where(from_end == 0, "test", np.where(from_end == 1, "valid", "train"))
    split = np.where(sizes < MIN_SPLITTABLE, "train", split)
    ordered = ordered.assign(split=split).sort_index()
    frame = ordered[["user_id", "item_id", "split"]].astype(SPLIT_DTYPES).reset_index(drop=True)
    counts = frame["split"].value_counts()
    users_sizes = reviews.groupby("user_id").size()
    return frame, {
        "train": int(counts.get("train", 0)),
        "valid": int(counts.get("valid", 0)),
        "test": int(counts.get("test", 0)),
        "users_train_only": int((users_sizes < MIN_SPLITTABLE).sum()),
    }


def split_targets(frame, split: str) -> dict[str, str]:
    """user_id -> their held-out item of `split`, from any frame with user_id, item_id and split columns
    (the split table, or reviews joined with it)."""
    rows = frame[frame["split"] == split]
    return dict(zip(rows["user_id"].astype(str), rows["item_id"].astype(str)))
