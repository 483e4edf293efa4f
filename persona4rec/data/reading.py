"""Streaming records out of line-based files (JSON lines, or Python-literal lines), gzip or plain.

Every record comes with its 1-based line number so that any problem can be reported as
"file, line N, field 'x': what is wrong". Lines are read as bytes and decoded one at a time, so an
undecodable byte sequence is pinned to its line (and, with skip mode, costs only that line).

`BadLines` is the single place that decides what a bad line does: in strict mode it raises the error,
in skip mode (`--skip-bad-lines`) it counts it by reason and keeps a few examples for the import report.
"""

from __future__ import annotations

import ast
import gzip
import json
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
    ):
        super().__init__(message, path=path, line=line, field=field)
        self.kind = kind


class BadLines:
    """Strict mode raises each bad line's error; skip mode counts it (by reason) and reads on."""

    def __init__(self, skip: bool = False):
        self.skip = skip
        self.counts: Counter[str] = Counter()
        self.examples: list[str] = []

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
        return {"skipped": self.total, "by_reason": dict(sorted(self.counts.items())), "examples": self.examples}


def _open_binary(path: Path):
    try:
        with open(path, "rb") as fh:
            magic = fh.read(2)
    except FileNotFoundError:
        raise InputError("file not found", path=path) from None
    except IsADirectoryError:
        raise InputError("is a folder, expected a file", path=path) from None
    return gzip.open(path, "rb") if magic == GZIP_MAGIC else open(path, "rb")


def _raw_lines(path: Path, bad: BadLines, progress: bool) -> Iterator[tuple[int, bytes]]:
    """Yield (line number, raw bytes) of each line; a truncated/corrupt gzip stops here with an error."""
    from tqdm import tqdm

    line_no = 0
    # disable=None: the bar shows on a terminal only, never in logs, pipes or tests.
    with (
        _open_binary(path) as fh,
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


def _decode(raw: bytes, path: Path, line_no: int) -> str:
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
    except json.JSONDecodeError as exc:
        if not allow_literal:
            raise BadRecord(
                MALFORMED, f"not a JSON object ({exc.msg} at column {exc.colno})", path=path, line=line_no
            ) from None
        try:
            # Amazon 2014 metadata is written as Python dict literals ('single quotes', True/None).
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError, MemoryError, RecursionError) as lit_exc:
            raise BadRecord(
                MALFORMED,
                f"neither a JSON object nor a Python literal ({exc.msg}; {type(lit_exc).__name__})",
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
    for line_no, raw in _raw_lines(path, bad, progress=limit is None):
        try:
            text = _decode(raw, path, line_no)
            if not text.strip():
                continue
            record = _parse(text, path, line_no, allow_literal)
        except BadRecord as err:
            bad.handle(err)
            continue
        yield line_no, record
        produced += 1
        if limit is not None and produced >= limit:
            return


def peek_records(path: str | Path, n: int = 20, *, allow_literal: bool = True) -> list[dict[str, Any]]:
    """The first `n` readable records (bad lines ignored): what format detection looks at."""
    return [rec for _, rec in iter_records(path, BadLines(skip=True), allow_literal=allow_literal, limit=n)]
