"""The canonical schema every loader produces and every later stage reads.

reviews: one row per (user, item) interaction after de-duplication
    user_id   string        item_id  string
    rating    float64       (1..5 for Amazon and Yelp; NaN when a source has none)
    title     string        ("" when absent)        text  string ("" when absent)
    timestamp int64         UTC milliseconds
    textless  bool          True when title and text are both empty: kept as an interaction, no aspects
items: one row per item
    item_id     string
    title       string       ("" when absent)
    description string       ("" when absent)
    categories  object       list[str], flattened category path(s), de-duplicated in order
    attributes  object       dict[str, Any] of everything else worth keeping (brand, author, city, ...)
split: one row per interaction in reviews
    user_id, item_id  string;  split  string in {"train", "valid", "test"}
A review (= an interaction) is named by `review_key(user_id, item_id)`, "user|item", everywhere later.
"""

from __future__ import annotations

import json

REVIEW_DTYPES: dict[str, str] = {
    "user_id": "string",
    "item_id": "string",
    "rating": "float64",
    "title": "string",
    "text": "string",
    "timestamp": "int64",
    "textless": "bool",
}
ITEM_DTYPES: dict[str, str] = {
    "item_id": "string",
    "title": "string",
    "description": "string",
    "categories": "object",
    "attributes": "object",
}
SPLIT_DTYPES: dict[str, str] = {"user_id": "string", "item_id": "string", "split": "string"}
SPLITS = ("train", "valid", "test")


def review_key(user_id: str, item_id: str) -> str:
    """The key of one review / interaction ("user|item"): aspects, alignment and persona evidence are keyed by
    it, and so is every later lookup of a user's review of an item."""
    return f"{user_id}|{item_id}"


def empty_items():
    import pandas as pd

    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in ITEM_DTYPES.items()})


def as_reviews(frame):
    """Return `frame` with exactly the canonical review columns, in order, with fixed dtypes."""
    frame = frame.copy()
    for col in ("title", "text"):
        if col not in frame:
            frame[col] = ""
        frame[col] = frame[col].fillna("")
    if "textless" not in frame:
        frame["textless"] = (frame["title"].str.strip() == "") & (frame["text"].str.strip() == "")
    return frame[list(REVIEW_DTYPES)].astype(REVIEW_DTYPES).reset_index(drop=True)


def as_items(frame):
    """Return `frame` with exactly the canonical item columns, in order, with fixed dtypes."""
    frame = frame.copy()
    for col in ("title", "description"):
        if col not in frame:
            frame[col] = ""
        frame[col] = frame[col].fillna("")
    if "categories" not in frame:
        frame["categories"] = [[] for _ in range(len(frame))]
    if "attributes" not in frame:
        frame["attributes"] = [{} for _ in range(len(frame))]
    frame["categories"] = [
        list(c) if isinstance(c, (list, tuple)) or hasattr(c, "tolist") else [] for c in frame["categories"]
    ]
    frame["categories"] = [[str(x) for x in (c.tolist() if hasattr(c, "tolist") else c)] for c in frame["categories"]]
    frame["attributes"] = [a if isinstance(a, dict) else {} for a in frame["attributes"]]
    return frame[list(ITEM_DTYPES)].astype(ITEM_DTYPES).reset_index(drop=True)


# Parquet keeps lists natively but a free-form dict would be forced into one struct type across rows,
# so attributes travel as a JSON string on disk and as a dict in memory.
def items_to_disk(items):
    out = items.copy()
    out["attributes"] = [json.dumps(a, ensure_ascii=False, sort_keys=True, default=str) for a in items["attributes"]]
    return out


def items_from_disk(frame):
    frame = frame.copy()
    frame["attributes"] = [json.loads(a) if isinstance(a, str) and a else {} for a in frame["attributes"]]
    return as_items(frame)
