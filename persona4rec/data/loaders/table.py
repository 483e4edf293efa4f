"""Any table of interactions, and optionally one of items, read through a column map (`--format table`).

    persona4rec data import FILE --format table --map user_id=COL,item_id=COL,rating=COL,timestamp=COL \\
        [--meta FILE --meta-map item_id=COL,title=COL,description=COL,categories=COL,brand=COL] --out WS

Files: CSV, TSV, JSON lines or Parquet, gzip or plain, each chosen by its extension (data.tabular).
Reviews: user_id, item_id and timestamp are required; rating (any finite number, or inside `rating_scale`),
title and text are optional. Items: item_id is required; title, description (text or a list of texts),
categories (a list, a JSON list, or text split at "|", ";", ">" or ",", the first of them it holds) and
brand are optional. A key not mapped reads the column of its own name when there is one.

Timestamps are Unix seconds, Unix milliseconds or ISO 8601 text (naive = UTC); `time_unit` "auto" decides
from the column's first 1,000 values (data.fields.detect_time_unit), and the import report says what it
decided. Columns not mapped are kept as item attributes: every one of the items file, and those of the
reviews file that hold one value per item (a product name, a brand); a review-file column whose value
varies within an item (helpful votes, a reviewer's name) is not an item's, and the report lists it as
dropped.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...errors import ConfigError, InputError
from ..fields import Fields, RatingScale, detect_time_unit
from ..reading import WRONG_TYPE, BadLines
from ..tabular import is_gzip, open_table
from .common import ItemRow, LoadedDataset, ReviewRow, assemble, read_items, read_reviews

SOURCE = "table"
REVIEW_KEYS = ("user_id", "item_id", "rating", "timestamp", "title", "text")
REQUIRED_REVIEW_KEYS = ("user_id", "item_id", "timestamp")
ITEM_KEYS = ("item_id", "title", "description", "categories", "brand")
REQUIRED_ITEM_KEYS = ("item_id",)
TIME_SAMPLE = 1_000
_CATEGORY_SEPARATORS = ("|", ";", ">", ",")

# Column names a preview suggests for each key (compared without case, "_", "-" or spaces).
REVIEW_SYNONYMS = {
    "user_id": ("user_id", "userid", "user", "reviewerid", "customer_id", "customer", "uid", "member_id"),
    "item_id": (
        "item_id",
        "itemid",
        "item",
        "parent_asin",
        "asin",
        "product_id",
        "product",
        "sku",
        "business_id",
        "movie_id",
        "iid",
    ),
    "rating": ("rating", "overall", "stars", "score", "rate"),
    "timestamp": ("timestamp", "unixreviewtime", "time", "date", "datetime", "ts", "created_at", "review_date"),
    "title": ("title", "summary", "review_title", "headline"),
    "text": ("text", "reviewtext", "review_text", "review", "body", "comment", "content"),
}
ITEM_SYNONYMS = {
    "item_id": REVIEW_SYNONYMS["item_id"],
    "title": ("title", "name", "product_name", "item_name", "movie_title"),
    "description": ("description", "desc", "about", "overview"),
    "categories": ("categories", "category", "genres", "genre", "class"),
    "brand": ("brand", "manufacturer", "maker", "store"),
}


@dataclass
class TableOptions:
    """What the import config says about a table (formats.ImportConfig's table fields)."""

    column_map: dict[str, str] = field(default_factory=dict)
    meta_column_map: dict[str, str] = field(default_factory=dict)
    time_unit: str = "auto"
    rating_scale: RatingScale | None = None


def _plain(name: str) -> str:
    return "".join(ch for ch in name.casefold() if ch not in "_- ")


def suggest_columns(columns: list[str], synonyms: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """key -> the first column whose name is one of the key's usual names (for a form's first guess)."""
    by_plain: dict[str, str] = {}
    for column in columns:
        by_plain.setdefault(_plain(column), column)
    found = {}
    for key, names in synonyms.items():
        column = next((by_plain[_plain(n)] for n in names if _plain(n) in by_plain), None)
        if column is not None:
            found[key] = column
    return found


def _check_keys(given: dict[str, str], keys: tuple[str, ...], what: str) -> None:
    unknown = sorted(set(given) - set(keys))
    if unknown:
        raise ConfigError(f"{what}: unknown key(s) {', '.join(unknown)} (known: {', '.join(keys)})")


def resolve_columns(
    table, given: dict[str, str], keys: tuple[str, ...], required: tuple[str, ...], what: str, defaults=None
) -> dict[str, str]:
    """key -> column for `table`: the given ones (which must exist), else a column named like the key (or as
    `defaults` says). A required key without a column is an error naming the file and its columns."""
    _check_keys(given, keys, what)
    columns = table.columns()
    present = set(columns)
    # CSV/TSV name their columns on a header line; JSON lines only in records (the first ones are looked at).
    line = getattr(table, "header_line", None)
    where = "header" if table.kind != "jsonl" else "first records"
    shown = ", ".join(columns[:30]) + (" ..." if len(columns) > 30 else "")
    for key, column in given.items():
        if column not in present:
            raise InputError(
                f"column {column!r} ({what} {key}={column}) is not in the {where} (columns: {shown or 'none'})",
                path=table.path,
                line=line,
                field=column,
            )
    resolved = dict(given)
    for key in keys:
        if key in resolved:
            continue
        candidates = (defaults or {}).get(key, (key,))
        column = next((c for c in candidates if c in present), None)
        if column is not None:
            resolved[key] = column
        elif key in required:
            raise InputError(
                f"no column for {key}: map one with {what} {key}=COLUMN (columns: {shown or 'none'})",
                path=table.path,
                line=line,
            )
    return resolved


def _empty(value: Any) -> bool:
    return (
        value is None
        or (isinstance(value, str) and not value.strip())
        or (isinstance(value, float) and math.isnan(value))
        or (isinstance(value, (list, dict)) and not value)
    )


class RecBoleValues:
    """Typed values of RecBole columns: float, float_seq and token_seq cells are converted, tokens stay text."""

    def __init__(self, types: dict[str, str]):
        self.types = types

    def value(self, f: Fields, column: str) -> Any:
        raw = f.record.get(column)
        kind = self.types.get(column, "token")
        if not isinstance(raw, str) or kind == "token":
            return raw
        if kind == "token_seq":
            return raw.split()
        try:
            numbers = [float(v) for v in raw.split()]
        except ValueError:
            raise f._error(WRONG_TYPE, column, f"expected {kind} numbers, found {raw!r:.40}") from None
        if kind == "float":
            if len(numbers) > 1:
                raise f._error(WRONG_TYPE, column, f"expected one float, found {raw!r:.40}")
            return numbers[0] if numbers else None
        return numbers


def _cell(f: Fields, column: str, typed: RecBoleValues | None) -> Any:
    return typed.value(f, column) if typed else f.record.get(column)


def _attributes(f: Fields, used: set[str], typed: RecBoleValues | None) -> dict[str, Any]:
    return {c: v for c in f.record if c not in used and not _empty(v := _cell(f, c, typed))}


class ItemColumns:
    """The reviews file's unmapped columns that hold one value per item become that item's attributes."""

    def __init__(self, used: set[str], typed: RecBoleValues | None):
        self.used = used
        self.typed = typed
        self.values: dict[str, dict[str, Any]] = {}
        self.varying: set[str] = set()

    def add(self, item_id: str, f: Fields) -> None:
        seen = self.values.setdefault(item_id, {})
        for column in f.record:
            if column in self.used or column in self.varying or _empty(value := _cell(f, column, self.typed)):
                continue
            if column not in seen:
                seen[column] = value
            elif seen[column] != value:
                self.varying.add(column)

    def attributes(self, item_id: str) -> dict[str, Any]:
        return {c: v for c, v in self.values.get(item_id, {}).items() if c not in self.varying}

    def kept(self) -> list[str]:
        return sorted({c for values in self.values.values() for c in values} - self.varying)


def _text(f: Fields, column: str | None) -> str:
    return f.text(column) if column else ""


def review_parser(
    columns: dict[str, str], unit: str, scale: RatingScale | None, extra: ItemColumns, typed: RecBoleValues | None
) -> Callable[[Fields], ReviewRow]:
    def parse(f: Fields) -> ReviewRow:
        user_id = f.id(columns["user_id"])
        item_id = f.id(columns["item_id"])
        rating = f.rating(columns["rating"], scale, text_ok=True) if "rating" in columns else math.nan
        timestamp = f.time(columns["timestamp"], unit)
        title, text = _text(f, columns.get("title")), _text(f, columns.get("text"))
        extra.add(item_id, f)  # last: a row that fails above adds nothing
        return (user_id, item_id, rating, title, text, timestamp)

    return parse


def _categories(f: Fields, column: str | None, typed: RecBoleValues | None) -> list[str]:
    if column is None:
        return []
    value = _cell(f, column, typed)
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except ValueError:
                value = text
        if isinstance(value, str):
            separator = next((s for s in _CATEGORY_SEPARATORS if s in value), None)
            return [c.strip() for c in (value.split(separator) if separator else [value]) if c.strip()]
    if _empty(value):
        return []
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return list(value)
    raise f._error(WRONG_TYPE, column, f"expected categories as text or a list of strings, found {value!r:.40}")


def item_parser(columns: dict[str, str], typed: RecBoleValues | None) -> Callable[[Fields], ItemRow]:
    used = set(columns.values())

    def parse(f: Fields) -> ItemRow:
        attributes = _attributes(f, used, typed)
        brand = _text(f, columns.get("brand"))
        if brand:
            attributes["brand"] = brand
        description = columns.get("description")
        return {
            "item_id": f.id(columns["item_id"]),
            "title": _text(f, columns.get("title")),
            "description": f.text_or_list(description) if description else "",
            "categories": _categories(f, columns.get("categories"), typed),
            "attributes": attributes,
        }

    return parse


def time_unit_of(table, column: str, unit: str) -> tuple[str, bool]:
    """(unit, detected?) for the time column: `unit` unless "auto", else detected from the first values."""
    if unit != "auto":
        return unit, False
    sample = (r.get(column) for _, r in table.records(BadLines(skip=True), limit=TIME_SAMPLE))
    return detect_time_unit(sample), True


def _file_info(table, columns: dict[str, str]) -> dict[str, Any]:
    return {"kind": table.kind, "gzip": is_gzip(table.path), "columns": columns}


def _with_review_attributes(items, extra: ItemColumns, item_ids: list[str]):
    """Items of the items file, their attributes completed by the reviews file's per-item columns; items
    with such columns but no record get a row of their own."""
    import pandas as pd

    rows = {row["item_id"]: row for row in (items.to_dict("records") if items is not None else [])}
    for item_id in dict.fromkeys(item_ids):
        found = extra.attributes(item_id)
        if not found:
            continue
        row = rows.setdefault(
            item_id, {"item_id": item_id, "title": "", "description": "", "categories": [], "attributes": {}}
        )
        row["attributes"] = {**found, **row["attributes"]}  # the items file has the last word
    return pd.DataFrame(list(rows.values()), columns=["item_id", "title", "description", "categories", "attributes"])


def load(
    reviews: Path,
    meta: Path | None,
    options: TableOptions,
    *,
    skip_bad_lines: bool = False,
    kind: str | None = None,
    source: str = SOURCE,
    review_defaults: dict[str, tuple[str, ...]] | None = None,
    item_defaults: dict[str, tuple[str, ...]] | None = None,
) -> LoadedDataset:
    """Read `reviews` (and `meta`) through the column maps in `options` into canonical frames."""
    table = open_table(reviews, kind)
    typed = RecBoleValues(table.header()[1]) if table.kind == "recbole" else None
    columns = resolve_columns(table, options.column_map, REVIEW_KEYS, REQUIRED_REVIEW_KEYS, "--map", review_defaults)
    unit, detected = time_unit_of(table, columns["timestamp"], options.time_unit)
    extra = ItemColumns(set(columns.values()), typed)
    parse = review_parser(columns, unit, options.rating_scale, extra, typed)
    frame, review_report = read_reviews(reviews, parse, skip_bad_lines=skip_bad_lines, source=table)
    info: dict[str, Any] = {
        "reviews": {
            **_file_info(table, columns),
            "time_unit": unit,
            "time_unit_detected": detected,
            "item_attribute_columns": extra.kept(),
            "dropped_columns": {c: "varies within an item" for c in sorted(extra.varying)},
        },
    }
    items = item_report = None
    if meta is not None:
        meta_table = open_table(meta, kind if kind == "recbole" else None)
        meta_typed = RecBoleValues(meta_table.header()[1]) if meta_table.kind == "recbole" else None
        defaults = {"item_id": (columns["item_id"], "item_id"), **(item_defaults or {})}
        meta_columns = resolve_columns(
            meta_table, options.meta_column_map, ITEM_KEYS, REQUIRED_ITEM_KEYS, "--meta-map", defaults
        )
        items, item_report = read_items(
            meta,
            item_parser(meta_columns, meta_typed),
            skip_bad_lines=skip_bad_lines,
            keep=set(frame["item_id"]),
            source=meta_table,
        )
        info["items"] = _file_info(meta_table, meta_columns)
    elif options.meta_column_map:
        raise ConfigError("--meta-map needs --meta FILE (the items table it maps)")
    items = _with_review_attributes(items, extra, frame["item_id"].tolist())
    scale = list(options.rating_scale) if options.rating_scale else None
    return assemble(source, frame, review_report, items, item_report, {"table": info, "rating_scale": scale})


@dataclass
class TablePreview:
    """What a form shows before an import: the detected kind, the columns, the first rows, a first guess at
    the column map and the time column's unit."""

    path: Path
    kind: str
    gzip: bool
    columns: list[str]
    rows: list[dict[str, Any]]
    column_map: dict[str, str]
    meta_column_map: dict[str, str]
    time_unit: str | None
    bad_rows: list[str]


def preview_table(path: str | Path, rows: int = 5, *, kind: str | None = None) -> TablePreview:
    """The first `rows` readable records of a table file and a suggested column map (raises InputError for a
    file that cannot be read as a table at all)."""
    table = open_table(path, kind)
    bad = BadLines(skip=True)
    first = [record for _, record in table.records(bad, limit=rows)]
    columns = table.columns()
    suggested = suggest_columns(columns, REVIEW_SYNONYMS)
    unit = time_unit_of(table, suggested["timestamp"], "auto")[0] if "timestamp" in suggested else None
    return TablePreview(
        path=Path(path),
        kind=table.kind,
        gzip=is_gzip(Path(path)),
        columns=columns,
        rows=first,
        column_map=suggested,
        meta_column_map=suggest_columns(columns, ITEM_SYNONYMS),
        time_unit=unit,
        bad_rows=bad.examples,
    )
