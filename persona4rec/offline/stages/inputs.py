"""Rows of the workspace tables as the backend's inputs: blank text for a missing value, no NaN ratings."""

from __future__ import annotations

from ..backend import ReviewInput
from ..text import as_text


def rating_of(value) -> float | None:
    """A rating cell as a float, None where it is missing or not a number."""
    try:
        rating = float(value)
    except (TypeError, ValueError):
        return None
    return None if rating != rating else rating


def review_input(row, titles: dict[str, str]) -> ReviewInput:
    """One reviews-table row (itertuples) as a backend input, with its item's title from `titles`."""
    return ReviewInput(
        user_id=str(row.user_id),
        item_id=str(row.item_id),
        rating=rating_of(row.rating),
        title=as_text(row.title),
        text=as_text(row.text),
        item_title=titles.get(str(row.item_id), ""),
    )
