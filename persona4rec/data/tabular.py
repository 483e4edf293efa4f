"""Reading tables record by record: CSV, TSV, JSON lines and Parquet (gzip or plain), and RecBole's atomic
files (tab-separated, with `name:type` headers).

The kind of a file comes from its extension (`.csv`, `.tsv`, `.jsonl`, `.parquet`, `.inter`, ..., each
optionally `.gz`); gzip itself is recognised by its magic bytes. Every table gives (number, record) pairs,
where number is the 1-based line on which the record starts (line 1 is a header) or, in Parquet, which
has no lines, the 1-based data row; `numbering` says which. A bad row (undecodable bytes, a NUL byte, too
few or too many values: a truncated line) goes to a `BadLines`, which raises it or counts it, so one bad row
costs that row only. What makes the whole file unreadable (no header, a duplicated column, not Parquet) is
an InputError naming the file.
"""

from __future__ import annotations

import csv
import gzip
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import InputError
from .reading import (
    MALFORMED,
    TRUNCATED,
    UNDECODABLE,
    BadLines,
    BadRecord,
    JsonLinesSource,
    decode_line,
    open_binary,
    raw_lines,
)

KINDS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".inter": "recbole",
    ".item": "recbole",
    ".user": "recbole",
}
RECBOLE_TYPES = ("token", "token_seq", "float", "float_seq")
PARQUET_BATCH_ROWS = 8_192


def table_kind(path: str | Path) -> str:
    """csv, tsv, jsonl, parquet or recbole, from the file's extension (a trailing .gz is looked through)."""
    path = Path(path)
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes.pop()
    kind = KINDS.get(suffixes[-1]) if suffixes else None
    if kind is None:
        raise InputError(
            f"cannot tell the table format from the name {path.name!r}: name it .csv, .tsv, .jsonl or .parquet "
            "(or RecBole's .inter/.item), optionally followed by .gz",
            path=path,
        )
    return kind


def is_gzip(path: Path) -> bool:
    """Whether `path` is gzip-compressed (by its magic bytes); a missing file or a folder is an InputError."""
    with open_binary(path) as fh:
        return isinstance(fh, gzip.GzipFile)


class _LineFeed:
    """Decoded lines for the csv module; remembers on which line the record being read began. An
    undecodable line goes to `bad` and is left out."""

    def __init__(self, lines: Iterator[tuple[int, bytes]], path: Path, bad: BadLines):
        self.lines = lines
        self.path = path
        self.bad = bad
        self.first: int | None = None
        self.last = 0

    def __iter__(self) -> _LineFeed:
        return self

    def __next__(self) -> str:
        while True:
            number, raw = next(self.lines)
            try:
                text = decode_line(raw, self.path, number)
            except BadRecord as err:
                self.bad.handle(err)
                continue
            if self.first is None:
                self.first = number
            self.last = number
            return text


class DelimitedTable:
    """A CSV or TSV file with a header line; RecBole atomic files are TSV whose header cells are name:type."""

    numbering = "line"

    def __init__(self, path: str | Path, kind: str):
        self.path = Path(path)
        self.kind = kind
        self.dialect = "excel" if kind == "csv" else "excel-tab"
        self._header: tuple[int, list[str], dict[str, str]] | None = None

    def _reader(self, bad: BadLines, limit: int | None):
        feed = _LineFeed(raw_lines(self.path, bad, progress=limit is None), self.path, bad)
        return feed, csv.reader(feed, dialect=self.dialect)

    def _next_row(self, feed: _LineFeed, reader) -> tuple[int, list[str]] | None:
        """The next non-blank row and the line it starts on; None at the end; a csv error is a BadRecord."""
        while True:
            feed.first = None
            try:
                row = next(reader)
            except StopIteration:
                return None
            except csv.Error as exc:
                raise BadRecord(
                    MALFORMED,
                    f"not a valid {self.kind.upper()} row ({exc})",
                    path=self.path,
                    line=feed.first or feed.last + 1,
                ) from None
            if row and any(cell.strip() for cell in row):
                return (feed.first or feed.last), row

    def _read_header(self, feed: _LineFeed, reader) -> tuple[int, list[str], dict[str, str]]:
        strict = BadLines(skip=False)
        feed.bad, kept = strict, feed.bad
        try:
            found = self._next_row(feed, reader)
        except BadRecord as err:
            raise InputError(f"the header line is unreadable: {err.reason}", path=self.path, line=err.line) from None
        finally:
            feed.bad = kept
        if found is None:
            raise InputError("file is empty: expected a header line naming the columns", path=self.path)
        line, cells = found
        names, types = [], {}
        for cell in cells:
            name = cell.strip()
            if self.kind == "recbole":
                name, sep, kind = name.rpartition(":")
                if not sep or kind not in RECBOLE_TYPES:
                    raise InputError(
                        f"not a RecBole atomic-file header: expected name:type with a type among "
                        f"{', '.join(RECBOLE_TYPES)}, found {cell!r:.60}",
                        path=self.path,
                        line=line,
                    )
                types[name] = kind
            if name and name in names:
                raise InputError("column named twice in the header", path=self.path, line=line, field=name)
            names.append(name)
        return line, names, types

    def header(self) -> tuple[list[str], dict[str, str]]:
        """(column names, RecBole types by name) from the header line."""
        if self._header is None:
            feed, reader = self._reader(BadLines(skip=False), limit=1)
            self._header = self._read_header(feed, reader)
        return self._header[1], self._header[2]

    def columns(self) -> list[str]:
        return [c for c in self.header()[0] if c]

    @property
    def header_line(self) -> int:
        """The line the header is on (the first line that is not blank)."""
        self.header()
        return self._header[0]

    def records(self, bad: BadLines, limit: int | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
        feed, reader = self._reader(bad, limit)
        _, names, _ = self._header = self._read_header(feed, reader)
        produced = 0
        while True:
            try:
                found = self._next_row(feed, reader)
            except BadRecord as err:
                bad.handle(err)
                continue
            if found is None:
                return
            line, row = found
            if len(row) != len(names):
                bad.handle(
                    BadRecord(
                        MALFORMED,
                        f"row has {len(row)} values, the header has {len(names)} columns"
                        + (" (a truncated line?)" if len(row) < len(names) else ""),
                        path=self.path,
                        line=line,
                    )
                )
                continue
            # Unnamed columns (a spreadsheet's or pandas' index) are left out.
            yield line, {name: value for name, value in zip(names, row) if name}
            produced += 1
            if limit is not None and produced >= limit:
                return


class JsonLinesTable(JsonLinesSource):
    """One JSON object a line; columns are whatever keys the records carry."""

    kind = "jsonl"

    def __init__(self, path: str | Path):
        super().__init__(path, allow_literal=False)

    def header(self) -> tuple[list[str] | None, dict[str, str]]:
        return None, {}

    def columns(self, sample: int = 200) -> list[str]:
        """The keys seen in the first `sample` readable records, in first-seen order."""
        seen: dict[str, None] = {}
        for _, record in self.records(BadLines(skip=True), limit=sample):
            seen.update(dict.fromkeys(record))
        return list(seen)


class ParquetTable:
    """A Parquet file (gzip-wrapped ones are unwrapped in memory), streamed in record batches."""

    numbering = "row"
    kind = "parquet"

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def _file(self):
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            if is_gzip(self.path):
                with gzip.open(self.path, "rb") as fh:
                    return pq.ParquetFile(pa.BufferReader(fh.read()))
            return pq.ParquetFile(self.path)
        except InputError:
            raise
        except (pa.ArrowException, OSError, ValueError, EOFError) as exc:
            raise InputError(f"not a readable Parquet file ({type(exc).__name__}: {exc})", path=self.path) from None

    def header(self) -> tuple[list[str], dict[str, str]]:
        return list(self._file().schema_arrow.names), {}

    def columns(self) -> list[str]:
        return self.header()[0]

    def records(self, bad: BadLines, limit: int | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
        import pyarrow as pa

        parquet = self._file()
        names = parquet.schema_arrow.names
        if len(set(names)) != len(names):
            twice = next(n for n in names if names.count(n) > 1)
            raise InputError("column named twice in the schema", path=self.path, field=twice)
        row = 0
        batches = parquet.iter_batches(batch_size=PARQUET_BATCH_ROWS)
        while True:
            try:
                batch = next(batches, None)
                records = batch.to_pylist() if batch is not None else None
            except (pa.ArrowException, OSError, ValueError, EOFError) as exc:
                # A corrupt page loses its batch; the rows read before it are whole.
                bad.handle(
                    BadRecord(
                        TRUNCATED if isinstance(exc, (OSError, EOFError)) else UNDECODABLE,
                        f"rows from {row + 1} on cannot be read ({type(exc).__name__}: {exc})",
                        path=self.path,
                        row=row + 1,
                    )
                )
                return
            if records is None:
                return
            for record in records:
                row += 1
                yield row, record
                if limit is not None and row >= limit:
                    return


def open_table(path: str | Path, kind: str | None = None):
    """The table at `path`, read as `kind` (default: from its extension)."""
    kind = kind or table_kind(path)
    if kind in ("csv", "tsv", "recbole"):
        return DelimitedTable(path, kind)
    if kind == "jsonl":
        return JsonLinesTable(path)
    if kind == "parquet":
        return ParquetTable(path)
    raise InputError(f"unknown table kind {kind!r}", path=path)
