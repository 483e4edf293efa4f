"""Yelp Open Dataset: review.json + business.json, filtered to one city and one category.

review:   review_id, user_id, business_id, stars, text, date ("YYYY-MM-DD HH:MM:SS", local time, read as UTC)
business: business_id, name, address, city, state, categories ("Restaurants, Pizza" or null), stars,
          review_count, attributes (map), hours (map)
The paper uses restaurants in Philadelphia: `--city Philadelphia --category Restaurants`. Businesses are
read first (small) so the review file, which is large, is streamed once keeping only their reviews.
"""

from __future__ import annotations

from pathlib import Path

from ...errors import InputError
from ..fields import Fields
from .common import ItemRow, LoadedDataset, ReviewRow, assemble, read_items, read_reviews, without_empty

SOURCE = "yelp"
RATING_SCALE = (1.0, 5.0)  # stars


def _categories(f: Fields) -> list[str]:
    value = f.optional("categories", str, list)
    if isinstance(value, list):
        return f.str_list("categories")
    return [c.strip() for c in (value or "").split(",") if c.strip()]


def parse_business(f: Fields) -> ItemRow:
    return {
        "item_id": f.id("business_id"),
        "title": f.text("name", required=True),
        "description": "",
        "categories": _categories(f),
        "attributes": without_empty(
            {
                "city": f.text("city"),
                "state": f.text("state"),
                "address": f.text("address"),
                "stars": f.number("stars", required=False),
                "review_count": f.optional("review_count", int),
                "yelp_attributes": f.mapping("attributes"),
                "hours": f.mapping("hours"),
            }
        ),
    }


def _matches(row: ItemRow, city: str | None, category: str | None) -> bool:
    if city and row["attributes"].get("city", "").strip().casefold() != city.strip().casefold():
        return False
    if category and category.strip().casefold() not in {c.casefold() for c in row["categories"]}:
        return False
    return True


def load(
    reviews: Path,
    business: Path | None,
    *,
    city: str | None = None,
    category: str | None = None,
    skip_bad_lines: bool = False,
) -> LoadedDataset:
    if business is None:
        raise InputError("the Yelp format needs the business file: pass --business business.json", path=reviews)
    businesses, business_report = read_items(
        business, parse_business, skip_bad_lines=skip_bad_lines, keep=None, allow_literal=False
    )
    keep = [_matches(row, city, category) for row in businesses.to_dict("records")]
    businesses = businesses[keep].reset_index(drop=True)
    business_report.notes["outside_filter"] = len(keep) - len(businesses)
    if businesses.empty:
        raise InputError(f"no business matches city={city!r} category={category!r}", path=business)
    wanted = set(businesses["item_id"])

    def parse_review(f: Fields) -> ReviewRow | None:
        item_id = f.id("business_id")
        if item_id not in wanted:
            return None
        f.optional("review_id", str)
        stars = f.rating("stars", RATING_SCALE)
        return (f.id("user_id"), item_id, stars, "", f.text("text"), f.datetime_text("date"))

    frame, review_report = read_reviews(reviews, parse_review, skip_bad_lines=skip_bad_lines)
    return assemble(
        SOURCE,
        frame,
        review_report,
        businesses,
        business_report,
        {
            "filter": {"city": city, "category": category, "businesses_kept": len(businesses)},
            "rating_scale": list(RATING_SCALE),
        },
    )
