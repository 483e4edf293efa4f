"""Browsing items: each item's summary, its personas, and the review aspects each persona grew from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..data.schema import review_key
from ..offline.schema import Persona
from ..offline.text import snippet
from .catalogue import Catalogue

if TYPE_CHECKING:
    import pandas as pd


def item_table(cat: Catalogue, query: str = "") -> pd.DataFrame:
    """Items whose id, title or categories contain `query` (any case), with review and persona counts."""
    import pandas as pd

    items = cat.items
    reviews = cat.interactions.groupby("item_id").size()
    text = (
        items["item_id"].astype(str)
        + " "
        + items["title"].astype(str)
        + " "
        + items["categories"].map(lambda c: " ".join(c))
    )
    chosen = items[text.str.contains(query.strip(), case=False, regex=False)] if query.strip() else items
    rows = []
    for item_id, title, categories in zip(chosen["item_id"], chosen["title"], chosen["categories"]):
        record = cat.personas.get(item_id)
        rows.append(
            {
                "item_id": item_id,
                "title": title,
                "categories": " > ".join(categories),
                "reviews": int(reviews.get(item_id, 0)),
                "personas": len(record.personas) if record else 0,
                "summary_only": bool(record.summary_only) if record else False,
            }
        )
    return pd.DataFrame(rows, columns=["item_id", "title", "categories", "reviews", "personas", "summary_only"])


@dataclass(frozen=True)
class PersonaView:
    persona: Persona
    evidence: pd.DataFrame  # user_id, rating, review snippet, aspects: the reviews it grew from


@dataclass(frozen=True)
class ItemView:
    item_id: str
    title: str
    categories: list[str]
    description: str
    summary: str
    summary_source: str
    summary_backend: str
    personas: list[PersonaView]
    personas_backend: str
    summary_only: bool
    single: Persona | None
    single_backend: str


def _evidence(cat: Catalogue, item_id: str, keys: list[str]) -> pd.DataFrame:
    import pandas as pd

    reviews = cat.interactions[cat.interactions["item_id"] == item_id]
    by_key = {review_key(u, item_id): row for u, row in zip(reviews["user_id"], reviews.itertuples(index=False))}
    rows = []
    for key in keys:
        row = by_key.get(key)
        aspects = cat.aspects.get(key)
        rows.append(
            {
                "user_id": key.split("|", 1)[0],
                "rating": row.rating if row is not None else None,
                "review": snippet(row.text, 240) if row is not None else "",
                "aspects": aspects.aspects.as_text() if aspects else "",
            }
        )
    return pd.DataFrame(rows, columns=["user_id", "rating", "review", "aspects"])


def item_view(cat: Catalogue, item_id: str) -> ItemView:
    item = cat.items.loc[item_id]
    summary = cat.summaries.get(item_id)
    record = cat.personas.get(item_id)
    single = cat.personas_single.get(item_id)
    personas = (
        [PersonaView(p, _evidence(cat, item_id, record.evidence.get(p.id, []))) for p in record.personas]
        if record
        else []
    )
    return ItemView(
        item_id=item_id,
        title=str(item["title"]),
        categories=list(item["categories"]),
        description=str(item["description"]),
        summary=summary.summary if summary else "",
        summary_source=summary.source if summary else "",
        summary_backend=summary.backend if summary else "",
        personas=personas,
        personas_backend=record.backend if record else "",
        summary_only=bool(record.summary_only) if record else False,
        single=single.personas[0] if single and single.personas else None,
        single_backend=single.backend if single else "",
    )
