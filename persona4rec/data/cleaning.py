"""Cleaning real review data: markup, Unicode, duplicates, empty reviews. Everything done is counted.

- Text fields (review title/text, item title/description, categories, string attributes): markup removed
  by an HTML parser (the stdlib's `html.parser`: a tag needs a letter right after '<', so prose such as
  "size < 10 and > 5" stays; script/style blocks go with their content; a tag cut off at the end of a field,
  `<span class="a-size-medium"` with no '>', is markup too, as HTML5 reads it), entities decoded, mojibake
  repaired (ftfy: "CafÃ©" -> "Café"), Unicode NFKC-normalised, control characters dropped, whitespace
  collapsed. (Lone surrogates, which no encoding can write, are replaced while reading: data.reading.)
- An item title that was only markup is replaced from the description's first sentence, then the brand
  (or author/store), then the features/details/main category; never left as markup. A title that was
  simply absent stays "" (metadata coverage reports it honestly).
- Duplicate (user, item) pairs: the latest review by timestamp is kept; on a timestamp tie the one later
  in the file wins. Deterministic for a given input order.
- Reviews with neither title nor text stay as interactions, flagged `textless`.

`plain_text` is the same cleaning without the counting: the one cleaner the offline stages use too.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from html.parser import HTMLParser
from typing import Any

# Control characters become spaces and runs of whitespace one space, in a single pass.
_SPACE_OR_CONTROL = re.compile(r"[\s\x00-\x08\x0e-\x1f\x7f-\x9f]+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s")
# What the parser still holds at the end of the input when a tag, end tag, comment or declaration was
# never closed (anything else it holds is text).
_UNTERMINATED = re.compile(r"<(?:[A-Za-z!?]|/[A-Za-z])")
_ESCAPED_LT = re.compile(r"&(?:lt;?|#0*60;?|#x0*3c;?)", re.IGNORECASE)
_TAG_START = re.compile(r"<(?:[A-Za-z!?]|/[A-Za-z])")
_SKIPPED_CONTENT = {"script", "style"}
MAX_TITLE_CHARS = 100


class _TextOnly(HTMLParser):
    """Collects the text of an HTML fragment: each tag becomes `separator`, comments and declarations
    vanish, script/style content is dropped, entities are decoded."""

    def __init__(self, separator: str):
        super().__init__(convert_charrefs=True)
        self.separator = separator
        self.parts: list[str] = []
        self.skipping: str | None = None

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in _SKIPPED_CONTENT:
            self.skipping = tag
        self.parts.append(self.separator)

    def handle_startendtag(self, tag: str, attrs) -> None:
        self.parts.append(self.separator)

    def handle_endtag(self, tag: str) -> None:
        if tag == self.skipping:
            self.skipping = None
        self.parts.append(self.separator)

    def handle_data(self, data: str) -> None:
        if self.skipping is None:
            self.parts.append(data)

    def text(self, markup: str) -> str:
        self.feed(markup)
        # The parser keeps an unclosed tag buffered, waiting for more input, and close() would hand it back
        # as text; at the end of a field it is a cut-off tag, which HTML5 drops.
        if _UNTERMINATED.match(self.rawdata):
            self.rawdata = ""
        self.close()
        return "".join(self.parts)


def strip_markup(text: str, separator: str = " ") -> str:
    """`text` without HTML markup, entities decoded; each tag becomes `separator`."""
    if "<" not in text and "&" not in text:
        return text
    stripped = _TextOnly(separator).text(text)
    if _ESCAPED_LT.search(text) and _TAG_START.search(stripped):
        # Escaped markup (&lt;b&gt;) shows up as tags once decoded: those are markup too.
        stripped = _TextOnly(separator).text(stripped)
    return stripped


def _repair_mojibake(text: str) -> str:
    if text.isascii():
        return text
    import ftfy

    return ftfy.fix_encoding(text)


def _cleaned(text: str, note=None) -> str:
    """The whole cleaning of one string; `note(kind)` hears each kind of change made."""
    stripped = strip_markup(text)
    if stripped != text:
        note and note("html")
    repaired = _repair_mojibake(stripped)
    if repaired != stripped:
        note and note("mojibake")
    normalised = unicodedata.normalize("NFKC", repaired)
    if normalised != repaired:
        note and note("unicode")
    return _SPACE_OR_CONTROL.sub(" ", normalised).strip()


def plain_text(text: Any) -> str:
    """One clean line of text: markup, entities, mojibake, Unicode and whitespace as the importer cleans them
    ("" for a non-string). Clean text comes back unchanged."""
    if not isinstance(text, str) or not text:
        return ""
    return _cleaned(text)


class TextCleaner:
    """Cleans strings and counts, per field, how many had markup removed, mojibake repaired or Unicode
    normalised."""

    def __init__(self) -> None:
        self.counts: dict[str, Counter[str]] = {k: Counter() for k in ("html", "mojibake", "unicode")}

    @property
    def html(self) -> Counter[str]:
        return self.counts["html"]

    @property
    def unicode(self) -> Counter[str]:
        return self.counts["unicode"]

    def clean(self, text: Any, field: str) -> str:
        if not isinstance(text, str) or not text:
            return ""
        return _cleaned(text, lambda kind: self.counts[kind].update((field,)))

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
            "mojibake_repaired": dict(sorted(self.counts["mojibake"].items())),
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
