"""One workspace's tables and offline records, read once and shared read-only by every page.

Whatever has not been built yet is simply empty (no personas, no summaries); `readiness` says what is
there, so a page can name the command that builds what it lacks.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..data.schema import review_key
from ..offline.records import load_aspects, load_personas, load_summaries
from ..offline.schema import AspectRecord, PersonaRecord, SummaryRecord
from ..workspace import Workspace
from .workspaces import Readiness, is_synthetic

if TYPE_CHECKING:
    import pandas as pd

_STAMPED = (
    "manifest.json",
    "data/reviews.parquet",
    "data/items.parquet",
    "data/authors_items.parquet",
    "data/split.parquet",
    "offline/summaries.jsonl",
    "offline/aspects.jsonl",
    "offline/personas.jsonl",
    "offline/personas_single.jsonl",
)


def catalogue_stamp(ws: Workspace) -> tuple[int, ...]:
    """Changes whenever a file the catalogue reads changes: the cache key beside the workspace path."""
    stamps = []
    for name in _STAMPED:
        path = ws.root / name
        stamps.append(path.stat().st_mtime_ns if path.exists() else 0)
    return tuple(stamps)


@dataclass
class Catalogue:
    root: Path
    name: str
    synthetic: bool
    readiness: Readiness
    interactions: pd.DataFrame  # reviews + their split, by user then time
    items: pd.DataFrame  # canonical items, indexed by item_id
    summaries: dict[str, SummaryRecord]
    aspects: dict[str, AspectRecord]  # by review key "user|item"
    personas: dict[str, PersonaRecord]  # multi-persona records by item
    personas_single: dict[str, PersonaRecord]

    def title(self, item_id: str) -> str:
        if item_id in self.items.index:
            title = self.items.at[item_id, "title"]
            if isinstance(title, str) and title.strip():
                return title
        return item_id

    def aspects_of(self, user_id: str, item_id: str) -> AspectRecord | None:
        return self.aspects.get(review_key(user_id, item_id))

    def users(self) -> list[str]:
        return sorted(self.interactions["user_id"].unique().tolist())

    def held_out(self, user_id: str, split: str = "test") -> str | None:
        rows = self.interactions[(self.interactions["user_id"] == user_id) & (self.interactions["split"] == split)]
        return str(rows["item_id"].iloc[0]) if len(rows) else None


def load_catalogue(ws: Workspace) -> Catalogue:
    """The workspace as the app shows it. Reviews are joined with their split by data.tables.load_tables, as
    every other reader joins them: an interaction without a split row is an error there (WorkspaceError
    naming it), not shown as "train" history the user vector never saw (the encoder's timelines skip it)."""
    import pandas as pd

    from ..authors.interop import unreviewed_items
    from ..data.tables import load_tables

    readiness = Readiness.of(ws)
    tables = load_tables(ws)
    items = tables.items
    extra = unreviewed_items(ws)
    if extra is not None:  # an authors' sample: items with personas or summaries but no review in it
        items = pd.concat([items, extra[~extra["item_id"].isin(items["item_id"])]], ignore_index=True)
    interactions = tables.reviews.sort_values(["user_id", "timestamp", "item_id"], kind="stable")
    interactions = interactions.reset_index(drop=True)
    return Catalogue(
        root=ws.root,
        name=ws.name,
        synthetic=is_synthetic(ws),
        readiness=readiness,
        interactions=interactions,
        items=items.set_index("item_id", drop=False),
        summaries=load_summaries(ws),
        aspects=load_aspects(ws),
        personas=load_personas(ws),
        personas_single=load_personas(ws, single=True),
    )
