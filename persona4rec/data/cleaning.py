"""Cleaning real review data: markup, Unicode, duplicates, empty reviews. Everything done is counted.

- Text fields (review title/text, item title/description, categories, string attributes): HTML tags and
  entities removed (script/style blocks with their content), Unicode NFKC-normalised, control characters
  dropped, whitespace collapsed.
- An item title that was only markup is replaced from the description's first sentence, then the brand
  (or author/store), then the features/details/main category; never left as markup. A title that was
  simply absent stays "" (metadata coverage reports it honestly).
- Duplicate (user, item) pairs: the latest review by timestamp is kept; on a timestamp tie the one later
  in the file wins. Deterministic for a given input order.
- Reviews with neither title nor text stay as interactions, flagged `textless`.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections import Counter
from typing import Any

_BLOCKS = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_COMMENTS = re.compile(r"<!--.*?-->", re.DOTALL)
# A tag must start with a letter (or /letter) right after '<', so "a < b > c" in prose is left alone.
_TAGS = re.compile(r"</?[A-Za-z][A-Za-z0-9:-]*(?:\s[^<>]*)?/?>")
# Control characters become spaces and runs of whitespace one space, in a single pass.
_SPACE_OR_CONTROL = re.compile(r"[\s\x00-\x08\x0e-\x1f\x7f-\x9f]+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s")
MAX_TITLE_CHARS = 100


def _strip_markup(text: str) -> str:
    text = _TAGS.sub(" ", _COMMENTS.sub(" ", _BLOCKS.sub(" ", text)))
    # Entities are decoded after tag removal; escaped markup (&lt;b&gt;) then shows up as tags: remove again.
    unescaped = html.unescape(text)
    if unescaped != text:
        unescaped = _TAGS.sub(" ", _BLOCKS.sub(" ", unescaped))
    return unescaped


class TextCleaner:
    """Cleans strings and counts, per field, how many had markup removed or Unicode normalised."""

    def __init__(self) -> None:
        self.html: Counter[str] = Counter()
        self.unicode: Counter[str] = Counter()

    def clean(self, text: Any, field: str) -> str:
        if not isinstance(text, str) or not text:
            return ""
        stripped = _strip_markup(text) if ("<" in text or "&" in text) else text
        if stripped != text:
            self.html[field] += 1
        normalised = unicodedata.normalize("NFKC", stripped)
        if normalised != stripped:
            self.unicode[field] += 1
        return _SPACE_OR_CONTROL.sub(" ", normalised).strip()

    def clean_value(self, value: Any, field: str) -> Any:
        """Clean strings inside attribute values (lists and maps too); other values pass unchanged."""
        if isinstance(value, str):
            return self.clean(value, field)
        if isinstance(value, list):
            return [self.clean_value(v, field) for v in value]
        if isinstance(value, dict):
            return {self.clean(str(k), field).rstrip(":").strip(): self.clean_value(v, field) for k, v in value.items()}
        return value

    def report(self) -> dict[str, Any]:
        return {
            "html_stripped": dict(sorted(self.html.items())),
            "unicode_normalised": dict(sorted(self.unicode.items())),
        }


def _first_sentence(text: str) -> str:
    sentence = _SENTENCE_END.split(text, maxsplit=1)[0]
    if len(sentence) <= MAX_TITLE_CHARS:
        return sentence
    return sentence[:MAX_TITLE_CHARS].rsplit(" ", 1)[0] + "…"


def _first_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return next((t for t in (_first_text(v) for v in value) if t), "")
    if isinstance(value, dict):
        return next((f"{k}: {t}" for k, t in ((k, _first_text(v)) for k, v in value.items()) if t), "")
    return ""


def title_fallback(description: str, categories: list[str], attributes: dict[str, Any]) -> tuple[str, str]:
    """(replacement title, where it came from) for an item whose title was only markup."""
    if description:
        return _first_sentence(description), "description"
    for key in ("brand", "author", "store"):
        if attributes.get(key):
            return str(attributes[key]), key
    for key in ("features", "details", "main_cat", "main_category"):
        text = _first_text(attributes.get(key))
        if text:
            return _first_sentence(text), key
    if categories:
        return categories[-1], "categories"
    return "", "none"


def clean_items(items) -> tuple[Any, dict[str, Any]]:
    """Clean item text fields; replace markup-only titles. Returns (frame, report)."""
    import pandas as pd

    from .schema import as_items

    cleaner = TextCleaner()
    replaced: Counter[str] = Counter()
    rows = []
    for row in as_items(items).to_dict("records"):
        raw_title = row["title"] or ""
        title = cleaner.clean(raw_title, "item_title")
        description = cleaner.clean(row["description"], "item_description")
        categories = list(dict.fromkeys(c for c in (cleaner.clean(c, "categories") for c in row["categories"]) if c))
        attributes = {k: cleaner.clean_value(v, "attributes") for k, v in row["attributes"].items()}
        if raw_title.strip() and not title:
            title, origin = title_fallback(description, categories, attributes)
            replaced[origin] += 1
        rows.append(
            {
                "item_id": row["item_id"],
                "title": title,
                "description": description,
                "categories": categories,
                "attributes": attributes,
            }
        )
    frame = as_items(pd.DataFrame(rows, columns=["item_id", "title", "description", "categories", "attributes"]))
    return frame, {**cleaner.report(), "markup_only_titles_replaced": dict(sorted(replaced.items()))}


def clean_review_text(reviews) -> tuple[Any, dict[str, Any]]:
    """Clean review titles and texts and flag textless reviews. Rows keep their order."""
    cleaner = TextCleaner()
    reviews = reviews.copy()
    reviews["title"] = [cleaner.clean(t, "review_title") for t in reviews["title"].tolist()]
    reviews["text"] = [cleaner.clean(t, "review_text") for t in reviews["text"].tolist()]
    reviews["textless"] = [not (t or x) for t, x in zip(reviews["title"], reviews["text"])]
    return reviews, {**cleaner.report(), "textless_reviews": int(reviews["textless"].sum())}


def drop_duplicate_pairs(reviews) -> tuple[Any, int]:
    """Keep one review per (user, item): the latest by timestamp, a tie going to the later file row."""
    order = reviews.assign(_row=range(len(reviews)))
    order = order.sort_values(["timestamp", "_row"], kind="stable")
    kept = order.drop_duplicates(["user_id", "item_id"], keep="last").sort_values("_row")
    return kept.drop(columns="_row").reset_index(drop=True), len(reviews) - len(kept)


def clean_reviews(reviews) -> tuple[Any, dict[str, Any]]:
    """Cleaned, de-duplicated canonical reviews (file order kept) and the counts of what was done."""
    from .schema import as_reviews

    deduped, duplicates = drop_duplicate_pairs(reviews)
    cleaned, text_report = clean_review_text(deduped)
    return as_reviews(cleaned), {**text_report, "duplicate_pairs_removed": duplicates}
