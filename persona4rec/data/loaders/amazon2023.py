"""Amazon Reviews 2023 (Hou et al., McAuley lab), the paper's Books data.

reviews: user_id, parent_asin (the item), asin, rating, title, text, timestamp (ms), helpful_vote,
         verified_purchase, images
meta:    parent_asin, title, author (a name or {name, about, avatar}), categories, description (list),
         features (list), main_category, store, details, average_rating, rating_number, price
"""

from __future__ import annotations

from pathlib import Path

from ..fields import Fields
from ..reading import WRONG_TYPE, BadRecord
from . import amazon2014
from .common import ItemRow, LoadedDataset, ReviewRow, without_empty

SOURCE = "amazon2023"


def parse_review(f: Fields) -> ReviewRow:
    f.optional("helpful_vote", int)
    f.optional("verified_purchase", bool)
    return (
        f.id("user_id"),
        f.id("parent_asin"),
        f.rating("rating", amazon2014.RATING_SCALE),
        f.text("title"),
        f.text("text"),
        f.epoch("timestamp", unit_ms=1),
    )


def _author(f: Fields) -> str:
    author = f.optional("author", str, dict)
    if isinstance(author, dict):
        name = author.get("name")
        if name is not None and not isinstance(name, str):
            raise BadRecord(WRONG_TYPE, "expected author.name to be a string", path=f.path, line=f.line, field="author")
        return name or ""
    return author or ""


def parse_item(f: Fields) -> ItemRow:
    return {
        "item_id": f.id("parent_asin"),
        "title": f.text("title"),
        "description": f.text_or_list("description"),
        "categories": f.str_list("categories"),
        "attributes": without_empty(
            {
                "author": _author(f),
                "store": f.text("store"),
                "main_category": f.text("main_category"),
                "features": f.str_list("features"),
                "details": f.mapping("details"),
                "price": f.optional("price", int, float, str),
                "average_rating": f.number("average_rating", required=False),
                "rating_number": f.optional("rating_number", int),
            }
        ),
    }


def load(reviews: Path, meta: Path | None = None, *, skip_bad_lines: bool = False) -> LoadedDataset:
    return amazon2014.load(
        reviews, meta, skip_bad_lines=skip_bad_lines, review_parser=parse_review, item_parser=parse_item, source=SOURCE
    )
