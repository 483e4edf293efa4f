"""A workspace's interactions joined with their split, and its items: what every later stage reads.

`load_workspace_tables` (data.importer) returns the three stored tables as they are on disk; `load_tables`
joins reviews with their split (every interaction must have one) and gives each reviewed item a row, so an
item that only appears in reviews is still a unit of work with a (blank) title.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import WorkspaceError
from ..workspace import Workspace


@dataclass
class Tables:
    reviews: Any  # canonical reviews joined with their split
    items: Any  # canonical items, one row per item id that appears in items or reviews

    @property
    def train(self):
        return self.reviews[self.reviews["split"] == "train"]

    def titles(self) -> dict[str, str]:
        """item_id -> title ("" where the item has none)."""
        return item_titles(self.items)


def item_titles(items) -> dict[str, str]:
    """item_id -> title ("" where the item has none) of an items table."""
    return dict(zip(items["item_id"].astype(str), items["title"].fillna("").astype(str)))


def load_tables(ws: Workspace) -> Tables:
    import pandas as pd

    from .importer import load_workspace_tables
    from .schema import as_items

    reviews, items, split = load_workspace_tables(ws)
    reviews = reviews.merge(split, on=["user_id", "item_id"], how="left")
    if reviews["split"].isna().any():
        missing = reviews[reviews["split"].isna()].iloc[0]
        raise WorkspaceError(
            f"{ws.data_dir / 'split.parquet'}: no split for interaction "
            f"({missing['user_id']}, {missing['item_id']}) of data/reviews.parquet"
        )
    # Items that only appear in reviews still get a (title-less) row, so every reviewed item is a unit.
    extra = sorted(set(reviews["item_id"]) - set(items["item_id"]))
    if extra:
        items = pd.concat([items, as_items(pd.DataFrame({"item_id": extra}))], ignore_index=True)
    return Tables(reviews=reviews, items=items)
