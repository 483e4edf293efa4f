"""k-core and leave-one-out split properties, on random interaction graphs (hypothesis)."""

from __future__ import annotations

import itertools
from collections import Counter

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from persona4rec.data.kcore import kcore
from persona4rec.data.split import leave_one_out

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def interactions(draw, max_users: int = 12, max_items: int = 10, max_edges: int = 60):
    """Unique (user, item) pairs with timestamps drawn from a small range, so ties are common."""
    pairs = draw(
        st.sets(st.tuples(st.integers(0, max_users - 1), st.integers(0, max_items - 1)), min_size=1, max_size=max_edges)
    )
    pairs = sorted(pairs)
    times = draw(st.lists(st.integers(0, 5), min_size=len(pairs), max_size=len(pairs)))
    return pd.DataFrame(
        {"user_id": [f"u{u}" for u, _ in pairs], "item_id": [f"i{i:02d}" for _, i in pairs], "timestamp": times}
    )


def _degrees_ok(frame: pd.DataFrame, k: int) -> bool:
    return bool((frame["user_id"].value_counts() >= k).all() and (frame["item_id"].value_counts() >= k).all())


@SETTINGS
@given(interactions(), st.integers(0, 4))
def test_kcore_is_a_fixed_point_with_every_degree_at_least_k(frame, k):
    core, report = kcore(frame, k)
    assert _degrees_ok(core, k)
    again, second = kcore(core, k)
    assert again.equals(core) and second.interactions_removed == 0
    assert report.interactions_removed == len(frame) - len(core)
    assert set(map(tuple, core[["user_id", "item_id"]].to_numpy())) <= set(
        map(tuple, frame[["user_id", "item_id"]].to_numpy())
    )


@SETTINGS
@given(interactions(max_users=5, max_items=4, max_edges=11), st.integers(1, 3))
def test_kcore_is_maximal(frame, k):
    """Brute force: the union of every edge subset in which all degrees are >= k equals the k-core."""
    edges = list(map(tuple, frame[["user_id", "item_id"]].to_numpy()))
    union: set = set()
    for size in range(1, len(edges) + 1):
        for subset in itertools.combinations(edges, size):
            users, items = Counter(u for u, _ in subset), Counter(i for _, i in subset)
            if min(users.values()) >= k and min(items.values()) >= k:
                union |= set(subset)
    core, _ = kcore(frame, k)
    assert set(map(tuple, core[["user_id", "item_id"]].to_numpy())) == union


def test_kcore_peels_in_rounds():
    # u3 has 1 interaction -> removing it drops item c under 2, which then drops u2 under 2.
    frame = pd.DataFrame(
        {
            "user_id": ["u1", "u1", "u2", "u2", "u3", "u4", "u4"],
            "item_id": ["a", "b", "a", "c", "c", "a", "b"],
            "timestamp": [0] * 7,
        }
    )
    core, report = kcore(frame, 2)
    assert sorted(core["user_id"].unique()) == ["u1", "u4"] and report.iterations == 4
    assert (report.users_removed, report.items_removed, report.interactions_removed) == (2, 1, 3)
    assert kcore(frame, 0)[0].equals(frame)


@SETTINGS
@given(interactions())
def test_leave_one_out(frame):
    split, counts = leave_one_out(frame)
    assert split[["user_id", "item_id"]].equals(frame[["user_id", "item_id"]].astype("string"))
    merged = frame.assign(split=split["split"].to_numpy())
    for _user, rows in merged.groupby("user_id"):
        ordered = rows.sort_values(["timestamp", "item_id"])
        if len(rows) < 3:
            assert set(rows["split"]) == {"train"}
            continue
        assert ordered["split"].tolist() == ["train"] * (len(rows) - 2) + ["valid", "test"]
        test = ordered.iloc[-1]
        assert test["timestamp"] == rows["timestamp"].max()  # the test item is the user's latest
        assert test["item_id"] == rows.loc[rows["timestamp"] == test["timestamp"], "item_id"].max()
    splittable = frame.groupby("user_id").size() >= 3
    assert counts["test"] == counts["valid"] == int(splittable.sum())
    assert counts["users_train_only"] == int((~splittable).sum())


@SETTINGS
@given(interactions(), st.integers(3, 4))
def test_after_a_kcore_every_user_has_train_valid_and_test(frame, k):
    core, _ = kcore(frame, k)
    split, counts = leave_one_out(core)
    assert counts["users_train_only"] == 0
    for _, rows in split.groupby("user_id"):
        assert set(rows["split"]) == {"train", "valid", "test"}
        assert (rows["split"] == "test").sum() == 1 and (rows["split"] == "valid").sum() == 1


def test_split_is_deterministic_under_row_order():
    frame = pd.DataFrame({"user_id": ["u"] * 4, "item_id": ["d", "c", "b", "a"], "timestamp": [1, 1, 1, 0]})
    a, _ = leave_one_out(frame)
    b, _ = leave_one_out(frame.iloc[::-1].reset_index(drop=True))
    key = lambda s: dict(zip(s["item_id"], s["split"]))  # noqa: E731
    assert key(a) == key(b) == {"a": "train", "b": "train", "c": "valid", "d": "test"}
