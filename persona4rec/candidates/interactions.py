"""The train/valid/test interactions as integer indices, and the per-split masks of seen items."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError

SPLIT_COLUMNS = ("user_id", "item_id", "split")


@dataclass
class Interactions:
    """Users and items numbered 0..n-1 (sorted ids, so numbering is stable across runs)."""

    user_ids: np.ndarray  # object array of user id strings, index = user number
    item_ids: np.ndarray  # object array of item id strings, index = item number
    train_users: np.ndarray  # int64, one entry per train interaction
    train_items: np.ndarray  # int64
    valid_target: np.ndarray  # int64 per user, -1 where the user has no valid item
    test_target: np.ndarray  # int64 per user, -1 where the user has no test item

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    def seen_pairs(self, split: str) -> tuple[np.ndarray, np.ndarray]:
        """(users, items) to exclude when ranking for `split`: train items, plus the valid item for test."""
        if split == "valid":
            return self.train_users, self.train_items
        if split == "test":
            has_valid = self.valid_target >= 0
            users = np.concatenate([self.train_users, np.flatnonzero(has_valid)])
            items = np.concatenate([self.train_items, self.valid_target[has_valid]])
            return users, items
        raise ValueError(f"unknown split {split!r} (expected 'valid' or 'test')")

    def seen_index(self, split: str):
        """The pairs of `seen_pairs(split)` grouped by user (cached: built once per split)."""
        from .ranking import SeenIndex

        cache = self.__dict__.setdefault("_seen_cache", {})
        if split not in cache:
            cache[split] = SeenIndex(*self.seen_pairs(split), n_users=self.n_users)
        return cache[split]

    def targets(self, split: str) -> np.ndarray:
        return {"valid": self.valid_target, "test": self.test_target}[split]

    def train_item_counts(self) -> np.ndarray:
        return np.bincount(self.train_items, minlength=self.n_items)


def interactions_from_split(split, source: str = "data/split.parquet") -> Interactions:
    """Number users and items from a split frame (user_id, item_id, split in train/valid/test).

    Users with no train interaction get no candidates (nothing to learn from); every item in any split
    is part of the catalogue that is ranked.
    """
    missing = [c for c in SPLIT_COLUMNS if c not in split.columns]
    if missing:
        raise InputError(f"missing column(s) {', '.join(missing)}", path=source, field=missing[0])
    bad = ~split["split"].isin(["train", "valid", "test"])
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(f"unknown split value {split['split'].iloc[row]!r}", path=source, line=row + 1, field="split")
    frame = split[list(SPLIT_COLUMNS)].astype(str)
    # Sorted train rows: the shuffles that follow depend on the seed only, not on the file's row order.
    train = frame[frame["split"] == "train"].sort_values(["user_id", "item_id"], kind="stable")
    if train.empty:
        raise InputError("no 'train' rows: nothing to train a generator on", path=source, field="split")
    user_ids = np.array(sorted(train["user_id"].unique()), dtype=object)
    item_ids = np.array(sorted(frame["item_id"].unique()), dtype=object)
    user_index = {u: n for n, u in enumerate(user_ids)}
    item_index = {i: n for n, i in enumerate(item_ids)}

    def targets_for(name: str) -> np.ndarray:
        out = np.full(len(user_ids), -1, dtype=np.int64)
        rows = frame[frame["split"] == name]
        duplicated = rows["user_id"].duplicated()
        if duplicated.any():
            user = rows["user_id"][duplicated].iloc[0]
            raise InputError(
                f"user {user!r} has more than one '{name}' item (leave-one-out expects one)", path=source, field="split"
            )
        for user, item in zip(rows["user_id"], rows["item_id"]):
            if user in user_index:
                out[user_index[user]] = item_index[item]
        return out

    return Interactions(
        user_ids=user_ids,
        item_ids=item_ids,
        train_users=train["user_id"].map(user_index).to_numpy(np.int64),
        train_items=train["item_id"].map(item_index).to_numpy(np.int64),
        valid_target=targets_for("valid"),
        test_target=targets_for("test"),
    )
