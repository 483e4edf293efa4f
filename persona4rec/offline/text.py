"""Small, deterministic text helpers: clean, split, trim and quote (the extractive backend builds on them),
and the one-line snippet every view and study shows of a review.

Cleaning has one home, the data layer's (`data.cleaning`: an HTML parser, so prose such as "size < 10 and
> 5" survives, and text the importer already cleaned comes back unchanged); `clean` and `sentences` use it.
"""

from __future__ import annotations

import re

from ..data.cleaning import plain_text, strip_markup

_SPACE = re.compile(r"\s+")
# A sentence ends at . ! ? (optionally followed by closing quotes/brackets) before whitespace; newlines
# and bullet-like separators also end one.
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’)\]]*\s+|\s*[\n\r•|]+\s*")
_QUOTED = re.compile(r"\"([^\"]+)\"")


def clean(text: str) -> str:
    """Plain text: markup and entities removed, whitespace collapsed (data.cleaning.plain_text)."""
    return plain_text(text)


def sentences(text: str, min_words: int = 2) -> list[str]:
    """The sentences of `text` that have at least `min_words` words, in order (a tag ends one)."""
    raw = _SENTENCE_END.split(strip_markup(text or "", separator="\n"))
    out = []
    for part in raw:
        part = _SPACE.sub(" ", part).strip(" -*\t")
        if len(part.split()) >= min_words:
            out.append(part)
    return out


def trim(text: str, max_words: int = 25) -> str:
    """At most `max_words` words; a cut is marked with an ellipsis."""
    words = text.split()
    if len(words) <= max_words:
        return text.strip()
    return " ".join(words[:max_words]).rstrip(",;:") + "…"


def quote(text: str, max_words: int = 20) -> str:
    """A review phrase as a quotation (inner double quotes become single so quotes stay parseable)."""
    return '"' + trim(text, max_words).replace('"', "'") + '"'


def quoted_phrases(text: str) -> list[str]:
    return [m.strip() for m in _QUOTED.findall(text or "") if m.strip()]


def as_text(value: object) -> str:
    """A table cell as text: "" for a missing value (None, NaN, pandas' NA), not "None" / "nan"."""
    if value is None or (isinstance(value, float) and value != value) or type(value).__name__ == "NAType":
        return ""
    return str(value)


def snippet(value: object, limit: int = 160) -> str:
    """One line of at most `limit` characters (whitespace collapsed), with an ellipsis when cut."""
    text = " ".join(as_text(value).split())
    return text if len(text) <= limit else text[: max(0, limit - 1)].rstrip() + "…"
