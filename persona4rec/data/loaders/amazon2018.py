"""Amazon review data, 2018 release (Ni, Li, McAuley): the 2014 review fields plus vote/style/verified/image;
metadata with lists for `category`, `description` and `feature`, a `details` map, and HTML inside fields.

reviews: reviewerID, asin, overall, summary, reviewText (may be absent), unixReviewTime (seconds),
         vote ("1,234" text), style (map), verified (bool), image (list of URLs)
meta:    asin, title, brand, category, description, feature, details, main_cat, price, rank, date
"""

from __future__ import annotations

from pathlib import Path

from ..fields import Fields
from . import amazon2014
from .common import ItemRow, LoadedDataset, ReviewRow, without_empty

SOURCE = "amazon2018"


def parse_review(f: Fields) -> ReviewRow:
    # The extra fields are not part of the canonical schema, but a mistyped one means the file is not
    # what it claims to be, so they are still checked.
    f.optional("vote", str, int)
    f.optional("style", dict)
    f.optional("verified", bool)
    f.str_list("image")
    return amazon2014.parse_review(f)


def parse_item(f: Fields) -> ItemRow:
    return {
        "item_id": f.id("asin"),
        "title": f.text("title"),
        "description": f.text_or_list("description"),
        "categories": f.str_list("category"),
        "attributes": without_empty(
            {
                "brand": f.text("brand"),
                "main_cat": f.text("main_cat"),
                "price": f.optional("price", str, int, float),
                "features": f.str_list("feature"),
                "details": f.mapping("details"),
                "rank": f.optional("rank", str, list),
                "date": f.text("date"),
            }
        ),
    }


def load(reviews: Path, meta: Path | None = None, *, skip_bad_lines: bool = False) -> LoadedDataset:
    return amazon2014.load(
        reviews, meta, skip_bad_lines=skip_bad_lines, review_parser=parse_review, item_parser=parse_item, source=SOURCE
    )
