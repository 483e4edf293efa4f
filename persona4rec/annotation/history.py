"""The history a study shows beside an example: the user's last few interactions before the held-out one.

One format everywhere it is shown or read (the stored example, the Annotate page, the online LLM's
prompt): item_id, title, rating, review_title, a snippet of the review text, date (YYYY-MM-DD, UTC),
oldest first. Which interactions count as "before" is the split protocol of data/split.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..offline.text import as_text, snippet

HISTORY_SHOWN = 5  # interactions an annotator (and the online LLM) is shown
REVIEW_SNIPPET_CHARS = 300


def review_snippet(text: Any, limit: int = REVIEW_SNIPPET_CHARS) -> str:
    """The review on one line (whitespace collapsed), cut at `limit` characters with an ellipsis."""
    return snippet(text, limit)


def shown_histories(
    reviews, titles: Mapping[str, str], split: str, length: int = HISTORY_SHOWN
) -> dict[str, list[dict[str, Any]]]:
    """Each user's last `length` interactions before their held-out `split` item, oldest first (users with
    none are absent). `reviews` is the reviews table joined with its split (data.tables.load_tables)."""
    from ..data.split import earlier_splits

    earlier = reviews[reviews["split"].isin(earlier_splits(split))]
    earlier = earlier.sort_values(["user_id", "timestamp", "item_id"], kind="stable")
    return {
        str(user_id): [_entry(row, titles) for row in rows.tail(length).itertuples()]
        for user_id, rows in earlier.groupby("user_id", sort=False)
    }


def _entry(row, titles: Mapping[str, str]) -> dict[str, Any]:
    import pandas as pd

    item_id = str(row.item_id)
    return {
        "item_id": item_id,
        "title": titles.get(item_id, "") or item_id,
        "rating": None if pd.isna(row.rating) else float(row.rating),
        "review_title": as_text(row.title),
        "review": review_snippet(row.text),
        "date": pd.Timestamp(int(row.timestamp), unit="ms", tz="UTC").strftime("%Y-%m-%d"),
    }
