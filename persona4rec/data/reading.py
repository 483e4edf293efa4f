"""Streaming records out of line-based files (JSON lines, or Python-literal lines), gzip or plain.

Every record comes with its 1-based line number so that any problem can be reported as
"file, line N, field 'x': what is wrong". Lines are read as bytes and decoded one at a time, so an
undecodable byte sequence is pinned to its line (and, with skip mode, costs only that line). An escape
can still spell a lone surrogate (JSON "\\ud800"), a code point no encoding writes (Parquet would fail
on it): it becomes U+FFFD, surrogate pairs (Python-literal escapes) are joined, and the line is counted.

`BadLines` is the single place that decides what a bad line does: in strict mode it raises the error,
in skip mode (`--skip-bad-lines`) it counts it by reason and keeps a few examples for the import report.
"""

from __future__ import annotations

import ast
import gzip
import json
import re
import zlib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import InputError

GZIP_MAGIC = b"\x1f\x8b"
MAX_EXAMPLES = 5

# Reasons a line can be bad; they are the keys of the import report's bad-line counts.
MALFORMED = "malformed_line"
UNDECODABLE = "undecodable_line"
MISSING_FIELD = "missing_field"
WRONG_TYPE = "wrong_type"
BAD_VALUE = "bad_value"
TRUNCATED = "truncated_file"

_SURROGATE = re.compile("[\ud800-\udfff]")


class BadRecord(InputError):
    """An InputError that also says which kind of problem it is (for counting skipped lines)."""

    def __init__(
        self,
        kind: str,
        message: str,
        *,
        path: str | Path | None = None,
        line: int | None = None,
        field: str | None = None,
        row: int | None = None,
    ):
        super().__init__(message, path=path, line=line, field=field, row=row)
        self.kind = kind


class BadLines:
    """Strict mode raises each bad line's error; skip mode counts it (by reason) and reads on."""

    def __init__(self, skip: bool = False):
        self.skip = skip
        self.counts: Counter[str] = Counter()
        self.examples: list[str] = []
        self.surrogate_lines = 0  # lines read after replacing lone surrogates (not bad: repaired)

    def handle(self, error: BadRecord) -> None:
        if not self.skip:
            raise error
        self.counts[error.kind] += 1
        if len(self.examples) < MAX_EXAMPLES:
            self.examples.append(str(error))

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def report(self) -> dict[str, Any]:
        return {
            "skipped": self.total,
            "by_reason": dict(sorted(self.counts.items())),
            "examples": self.examples,
            "surrogate_lines_repaired": self.surrogate_lines,
        }


def _holds_surrogates(value: Any) -> bool:
    if isinstance(value, str):
        return _SURROGATE.search(value) is not None
    if isinstance(value, dict):
        return any(_holds_surrogates(k) or _holds_surrogates(v) for k, v in value.items())
    if isinstance(value, (list, tuple, set, frozenset)):
        return any(_holds_surrogates(v) for v in value)
    return False


def _without_surrogates(value: Any) -> Any:
    """`value` with every string in it (keys too) holding no surrogates: pairs joined, lone ones U+FFFD."""
    if isinstance(value, str):
        if _SURROGATE.search(value) is None:
            return value
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, dict):
        return {_without_surrogates(k): _without_surrogates(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return type(value)(_without_surrogates(v) for v in value)
    return value


def open_binary(path: Path):
    try:
        with open(path, "rb") as fh:
            magic = fh.read(2)
    except FileNotFoundError:
        raise InputError("file not found", path=path) from None
    except IsADirectoryError:
        raise InputError("is a folder, expected a file", path=path) from None
    return gzip.open(path, "rb") if magic == GZIP_MAGIC else open(path, "rb")


def raw_lines(path: Path, bad: BadLines, progress: bool) -> Iterator[tuple[int, bytes]]:
    """Yield (line number, raw bytes) of each line; a truncated/corrupt gzip stops here with an error."""
    from tqdm import tqdm

    line_no = 0
    # disable=None: the bar shows on a terminal only, never in logs, pipes or tests.
    with (
        open_binary(path) as fh,
        tqdm(desc=path.name, unit=" lines", disable=None if progress else True, mininterval=0.5, leave=False) as bar,
    ):
        try:
            for raw in fh:
                line_no += 1
                bar.update()
                yield line_no, raw
        except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
            # The partial line at the cut is lost; what was read before it is complete and kept.
            bad.handle(
                BadRecord(
                    TRUNCATED,
                    f"file is truncated or corrupt, it ends inside line {line_no + 1} ({type(exc).__name__}: {exc})",
                    path=path,
                    line=line_no + 1,
                )
            )


def decode_line(raw: bytes, path: Path, line_no: int) -> str:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRecord(
            UNDECODABLE, f"not valid UTF-8 (byte {exc.start}: {exc.reason})", path=path, line=line_no
        ) from None
    return text.lstrip("\ufeff") if line_no == 1 else text


def _parse(text: str, path: Path, line_no: int, allow_literal: bool) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as exc:
        # ValueError covers JSONDecodeError and integers past Python's digit limit; RecursionError, nesting
        # too deep to parse.
        msg = f"{exc.msg} at column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else type(exc).__name__
        if not allow_literal:
            raise BadRecord(MALFORMED, f"not a JSON object ({msg})", path=path, line=line_no) from None
        try:
            # Amazon 2014 metadata is written as Python dict literals ('single quotes', True/None).
            value = ast.literal_eval(text)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError) as lit_exc:
            raise BadRecord(
                MALFORMED,
                f"neither a JSON object nor a Python literal ({msg}; {type(lit_exc).__name__})",
                path=path,
                line=line_no,
            ) from None
    if not isinstance(value, dict):
        raise BadRecord(
            MALFORMED, f"expected an object/dict per line, found {type(value).__name__}", path=path, line=line_no
        )
    return value


def iter_records(
    path: str | Path, bad: BadLines, *, allow_literal: bool = False, limit: int | None = None
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (line number, record) for each non-blank line; bad lines go to `bad` (raise or count)."""
    path = Path(path)
    produced = 0
    for line_no, raw in raw_lines(path, bad, progress=limit is None):
        try:
            text = decode_line(raw, path, line_no)
            if not text.strip():
                continue
            record = _parse(text, path, line_no, allow_literal)
        except BadRecord as err:
            bad.handle(err)
            continue
        # Surrogates only come from escapes (raw bytes that would spell one do not decode).
        if ("\\u" in text or "\\U" in text) and _holds_surrogates(record):
            record = _without_surrogates(record)
            bad.surrogate_lines += 1
        yield line_no, record
        produced += 1
        if limit is not None and produced >= limit:
            return


class JsonLinesSource:
    """The records of one JSON-lines (or Python-literal lines) file, numbered by line. Loaders read any
    record source with `.path`, `.numbering` ("line" or "row") and `.records(bad)`; data.tabular has the
    CSV, TSV and Parquet ones."""

    numbering = "line"

    def __init__(self, path: str | Path, *, allow_literal: bool = False):
        self.path = Path(path)
        self.allow_literal = allow_literal

    def records(self, bad: BadLines, limit: int | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
        return iter_records(self.path, bad, allow_literal=self.allow_literal, limit=limit)


def peek_records(path: str | Path, n: int = 20, *, allow_literal: bool = True) -> list[dict[str, Any]]:
    """The first `n` readable records (bad lines ignored): what format detection looks at."""
    return [rec for _, rec in iter_records(path, BadLines(skip=True), allow_literal=allow_literal, limit=n)]
