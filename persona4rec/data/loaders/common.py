"""What every loader shares: the loaded result, row collectors, and the review/metadata read loops."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...errors import InputError
from ..fields import Fields
from ..reading import BadLines, BadRecord, JsonLinesSource

log = logging.getLogger(__name__)

# A review parser returns (user_id, item_id, rating, title, text, timestamp_ms).
ReviewRow = tuple[str, str, float, str, str, int]
# An item parser returns the canonical item fields (item_id, title, description, categories, attributes).
ItemRow = dict[str, Any]


@dataclass
class LoadedDataset:
    """A loader's output: uncleaned canonical frames (rows in file order) and what reading them found."""

    reviews: Any
    items: Any
    report: dict[str, Any]
    inputs: list[Path]
    source: str
    extra_tables: dict[str, Any] | None = None


@dataclass
class FileReport:
    path: Path
    bad: BadLines
    records: int = 0
    notes: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"path": str(self.path), "records": self.records, "bad_lines": self.bad.report(), **self.notes}


def parsed_rows(source, parse: Callable[[Fields], Any], report: FileReport) -> Iterator[Any]:
    """Each record of `source` (reading.JsonLinesSource, a data.tabular table) through `parse`; a bad line is
    counted in `report` (or stops the read, as report.bad says) and skipped."""
    for number, record in source.records(report.bad):
        try:
            row = parse(Fields(record, report.path, number, numbering=source.numbering))
        except BadRecord as err:
            report.bad.handle(err)
            continue
        yield row


def read_reviews(
    path: Path,
    parse: Callable[[Fields], ReviewRow | None],
    *,
    skip_bad_lines: bool,
    allow_literal: bool = False,
    source=None,
) -> tuple[Any, FileReport]:
    """Stream a reviews file (JSON lines, or any record `source` for it) through `parse` (None = filtered out,
    not an error) into a frame."""
    import pandas as pd

    source = source or JsonLinesSource(path, allow_literal=allow_literal)
    report = FileReport(Path(path), BadLines(skip_bad_lines))
    rows: list[ReviewRow] = []
    filtered = 0
    for row in parsed_rows(source, parse, report):
        if row is None:
            filtered += 1
            continue
        rows.append(row)
    report.records = len(rows)
    if filtered:
        report.notes["filtered_out"] = filtered
    log.info("%s: %d reviews read, %d filtered out, %d bad lines skipped", path, len(rows), filtered, report.bad.total)
    if not rows:
        raise InputError(
            "no usable review records" + (f" ({report.bad.total} bad lines skipped)" if report.bad.total else ""),
            path=path,
        )
    frame = pd.DataFrame(rows, columns=["user_id", "item_id", "rating", "title", "text", "timestamp"])
    return frame, report


def read_items(
    path: Path,
    parse: Callable[[Fields], ItemRow],
    *,
    skip_bad_lines: bool,
    keep: set[str] | None,
    allow_literal: bool = True,
    source=None,
) -> tuple[Any, FileReport]:
    """Stream a metadata file (or record `source`) into an items frame; only ids in `keep` (the reviewed
    items) are kept."""
    import pandas as pd

    source = source or JsonLinesSource(path, allow_literal=allow_literal)
    report = FileReport(Path(path), BadLines(skip_bad_lines))
    rows: dict[str, ItemRow] = {}
    duplicates = unreviewed = 0
    for row in parsed_rows(source, parse, report):
        item_id = row["item_id"]
        if keep is not None and item_id not in keep:
            unreviewed += 1
        elif item_id in rows:
            duplicates += 1  # the first record of an item wins; later ones are counted, not merged
        else:
            rows[item_id] = row
    report.records = len(rows)
    report.notes.update(duplicate_items=duplicates, items_without_reviews=unreviewed)
    log.info(
        "%s: %d items kept, %d not reviewed, %d duplicates, %d bad lines skipped",
        path,
        len(rows),
        unreviewed,
        duplicates,
        report.bad.total,
    )
    frame = pd.DataFrame(list(rows.values()), columns=["item_id", "title", "description", "categories", "attributes"])
    return frame, report


def without_empty(attributes: dict[str, Any]) -> dict[str, Any]:
    """Drop absent/empty attribute values so items carry only what the source actually said."""
    return {k: v for k, v in attributes.items() if v not in (None, "", [], {})}


def assemble(
    source: str,
    reviews,
    review_report: FileReport,
    items=None,
    item_report: FileReport | None = None,
    extra_report: dict[str, Any] | None = None,
) -> LoadedDataset:
    import pandas as pd

    if items is None:
        items = pd.DataFrame(columns=["item_id", "title", "description", "categories", "attributes"])
    files = {"reviews": review_report.as_dict()}
    inputs = [review_report.path]
    if item_report is not None:
        files["items"] = item_report.as_dict()
        inputs.append(item_report.path)
    skipped = review_report.bad.total + (item_report.bad.total if item_report else 0)
    report = {"format": source, "files": files, "bad_lines_skipped": skipped, **(extra_report or {})}
    return LoadedDataset(reviews=reviews, items=items, report=report, inputs=inputs, source=source)
