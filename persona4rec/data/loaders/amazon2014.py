"""Amazon product data, 2014 release (McAuley lab): reviews + Python-literal or JSON metadata lines.

reviews: reviewerID, asin, overall, summary, reviewText, unixReviewTime (seconds), reviewerName, helpful
meta:    asin, title, description, categories (a list of category paths), brand, price, salesRank, related
"""

from __future__ import annotations

from pathlib import Path

from ..fields import Fields
from .common import ItemRow, LoadedDataset, ReviewRow, assemble, read_items, read_reviews, without_empty

SOURCE = "amazon2014"
RATING_SCALE = (1.0, 5.0)  # stars, for the 2014, 2018 and 2023 releases alike


def parse_review(f: Fields) -> ReviewRow:
    return (
        f.id("reviewerID"),
        f.id("asin"),
        f.rating("overall", RATING_SCALE),
        f.text("summary"),
        f.text("reviewText"),
        f.epoch("unixReviewTime", unit_ms=1000),
    )


def parse_item(f: Fields) -> ItemRow:
    return {
        "item_id": f.id("asin"),
        "title": f.text("title"),
        "description": f.text_or_list("description"),
        "categories": f.category_paths("categories"),
        "attributes": without_empty(
            {
                "brand": f.text("brand"),
                "price": f.optional("price", int, float, str),
                "sales_rank": f.optional("salesRank", dict),
            }
        ),
    }


def load(
    reviews: Path,
    meta: Path | None = None,
    *,
    skip_bad_lines: bool = False,
    review_parser=parse_review,
    item_parser=parse_item,
    source: str = SOURCE,
) -> LoadedDataset:
    frame, review_report = read_reviews(reviews, review_parser, skip_bad_lines=skip_bad_lines)
    scale = {"rating_scale": list(RATING_SCALE)}
    if meta is None:
        return assemble(source, frame, review_report, extra_report=scale)
    items, item_report = read_items(meta, item_parser, skip_bad_lines=skip_bad_lines, keep=set(frame["item_id"]))
    return assemble(source, frame, review_report, items, item_report, scale)
