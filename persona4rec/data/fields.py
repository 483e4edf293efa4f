"""Typed access to one record's fields: a missing or mistyped field raises a BadRecord naming it.

A `Fields` wraps one parsed line (its file and line number travel with it; a Parquet record's is its row
number) so loaders read `rec.text("reviewerID")` and never format error locations themselves.

Times: every loader's timestamps become UTC milliseconds between 1970 (ISO dates may go earlier) and the
end of year 9999; a number past that (1e20) is a bad value, not an overflow. `detect_time_unit` decides
whether a table's time column holds seconds, milliseconds or ISO 8601 text.
"""

from __future__ import annotations

import datetime as _dt
import math
import statistics
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .reading import BAD_VALUE, MISSING_FIELD, WRONG_TYPE, BadRecord

_MISSING = object()

# Unix times: the last millisecond of year 9999 (datetime's limit). In seconds, anything from 1e11 on is past
# year 5138, and in milliseconds anything below it is before March 1973, so 1e11 tells the units apart.
MAX_TIME_MS = 253_402_300_799_999
MIN_TIME_MS = -62_135_596_800_000  # 0001-01-01T00:00:00Z, for ISO dates (Unix numbers may not be negative)
MILLISECONDS_FROM = 1e11
TIME_UNITS = ("auto", "s", "ms", "iso")
_UNIT_NAMES = {"s": "Unix seconds", "ms": "Unix milliseconds", "iso": "an ISO 8601 date"}

RatingScale = tuple[float, float]


def _type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _as_float(value: Any) -> float | None:
    """A number (or numeric text, as CSV cells are) as a float; None when it is not one. Integers too large
    for a float read as infinite, which every caller rejects as not finite."""
    if _is_number(value):
        try:
            return float(value)
        except OverflowError:
            return math.inf
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def scale_text(scale: RatingScale) -> str:
    return f"{scale[0]:g}–{scale[1]:g}"


class Fields:
    numbering = "line"  # what `line` counts: "line" (text files) or "row" (Parquet)

    def __init__(self, record: dict[str, Any], path: Path, line: int, *, numbering: str = "line"):
        self.record = record
        self.path = path
        self.line = line
        self.numbering = numbering

    def _error(self, kind: str, field: str, message: str) -> BadRecord:
        if self.numbering == "row":
            return BadRecord(kind, message, path=self.path, row=self.line, field=field)
        return BadRecord(kind, message, path=self.path, line=self.line, field=field)

    def _get(self, field: str, required: bool) -> Any:
        value = self.record.get(field, _MISSING)
        if value is _MISSING or (value is None and required):
            if required:
                raise self._error(
                    MISSING_FIELD, field, "required field is missing" if value is _MISSING else "required field is null"
                )
            return None
        return value

    def has(self, field: str) -> bool:
        return self.record.get(field) is not None

    def id(self, field: str) -> str:
        """A required identifier: a non-empty string (numbers are accepted and written as text)."""
        value = self._get(field, True)
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise self._error(WRONG_TYPE, field, f"expected a string id, found {_type_name(value)}")
        value = str(value).strip()
        if not value:
            raise self._error(BAD_VALUE, field, "id is empty")
        return value

    def text(self, field: str, *, required: bool = False) -> str:
        """A string field; absent or null reads as "" unless required."""
        value = self._get(field, required)
        if value is None:
            return ""
        if not isinstance(value, str):
            raise self._error(WRONG_TYPE, field, f"expected a string, found {_type_name(value)}")
        return value

    def text_or_list(self, field: str) -> str:
        """A string or a list of strings (Amazon 2018/2023 descriptions), joined by newlines."""
        value = self._get(field, False)
        if value is None:
            return ""
        if isinstance(value, str):
            return value
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return "\n".join(value)
        raise self._error(WRONG_TYPE, field, f"expected a string or a list of strings, found {_type_name(value)}")

    def number(self, field: str, *, required: bool = True) -> float | None:
        value = self._get(field, required)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self._error(WRONG_TYPE, field, f"expected a number, found {_type_name(value)} {value!r:.40}")
        number = _as_float(value)
        if not math.isfinite(number):
            raise self._error(BAD_VALUE, field, f"expected a finite number, found {value!r:.40}")
        return number

    def numeric(self, field: str, *, required: bool = True) -> float | None:
        """A number, or text holding one (CSV cells); "" reads as absent."""
        value = self._get(field, required)
        if isinstance(value, str) and not value.strip():
            if required:
                raise self._error(MISSING_FIELD, field, "required value is empty")
            return None
        if value is None:
            return None
        number = _as_float(value)
        if number is None:
            raise self._error(WRONG_TYPE, field, f"expected a number, found {_type_name(value)} {value!r:.40}")
        if not math.isfinite(number):
            raise self._error(BAD_VALUE, field, f"expected a finite number, found {value!r:.40}")
        return number

    def rating(self, field: str, scale: RatingScale | None, *, text_ok: bool = False) -> float:
        """A required rating inside `scale` (low, high), both ends included; None = any finite number."""
        rating = self.numeric(field) if text_ok else self.number(field)
        if scale is not None and not scale[0] <= rating <= scale[1]:
            raise self._error(BAD_VALUE, field, f"rating {rating:g} is outside the {scale_text(scale)} scale")
        return rating

    def epoch(self, field: str, *, unit_ms: int) -> int:
        """A required non-negative Unix time (integer seconds or ms) as UTC milliseconds."""
        value = self._get(field, True)
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or (isinstance(value, float) and not value.is_integer())
        ):
            raise self._error(
                WRONG_TYPE, field, f"expected an integer Unix time, found {_type_name(value)} {value!r:.40}"
            )
        return self._epoch_ms(field, value, unit_ms)

    def _epoch_ms(self, field: str, value: int | float, unit_ms: int) -> int:
        """A Unix time in seconds (unit_ms=1000) or milliseconds (1) as milliseconds, range-checked."""
        if isinstance(value, float) and math.isnan(value):
            raise self._error(BAD_VALUE, field, "time is not a number (NaN)")
        if value < 0:
            raise self._error(BAD_VALUE, field, f"time is negative ({value!r:.40})")
        if value * unit_ms > MAX_TIME_MS:  # compared as given: an int past any float, inf, 1e20
            unit = "seconds" if unit_ms == 1000 else "milliseconds"
            raise self._error(BAD_VALUE, field, f"time {value!r:.40} is past the year 9999 (read as Unix {unit})")
        return int(value) * unit_ms if isinstance(value, int) else round(value * unit_ms)

    def datetime_text(self, field: str) -> int:
        """A required 'YYYY-MM-DD HH:MM:SS' (or ISO) date string, read as UTC, as milliseconds."""
        value = self.text(field, required=True)
        try:
            parsed = _dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise self._error(
                BAD_VALUE, field, f"expected a date like 2016-03-09 17:44:55, found {value!r:.40}"
            ) from None
        return self._datetime_ms(field, parsed)

    def _datetime_ms(self, field: str, moment: _dt.datetime | _dt.date) -> int:
        """A datetime (naive = UTC) or a date (its midnight, UTC) as Unix milliseconds."""
        if not isinstance(moment, _dt.datetime):
            moment = _dt.datetime(moment.year, moment.month, moment.day)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=_dt.UTC)
        try:
            ms = round(moment.timestamp() * 1000)
        except (OverflowError, ValueError, OSError):  # a time zone pushing year 1 out of range
            ms = None
        if ms is None or not MIN_TIME_MS <= ms <= MAX_TIME_MS:  # or year 9999 (in UTC, that is 10000)
            raise self._error(BAD_VALUE, field, f"date {moment.isoformat()} is outside the years 1 to 9999 (UTC)")
        return ms

    def time(self, field: str, unit: str) -> int:
        """A required table timestamp as UTC milliseconds: `unit` "s", "ms" or "iso" says how the column
        is written; datetime values (Parquet timestamp columns) are read as they are, whatever `unit`."""
        value = self._get(field, True)
        if isinstance(value, _dt.date):
            return self._datetime_ms(field, value)
        if isinstance(value, str) and not value.strip():
            raise self._error(MISSING_FIELD, field, "required value is empty")
        if unit == "iso":
            if not isinstance(value, str):
                raise self._error(
                    WRONG_TYPE, field, f"expected an ISO 8601 date, found {_type_name(value)} {value!r:.40}"
                )
            try:
                parsed = _dt.datetime.fromisoformat(value.strip())
            except ValueError:
                raise self._error(
                    BAD_VALUE, field, f"expected an ISO 8601 date like 2016-03-09T17:44:55Z, found {value!r:.40}"
                ) from None
            return self._datetime_ms(field, parsed)
        number = _as_float(value)
        if number is None:
            raise self._error(
                WRONG_TYPE, field, f"expected {_UNIT_NAMES[unit]} (a number), found {_type_name(value)} {value!r:.40}"
            )
        exact = value if isinstance(value, int) and not isinstance(value, bool) else number
        if isinstance(value, str) and number.is_integer() and abs(number) < 2**53:
            exact = int(number)
        return self._epoch_ms(field, exact, 1000 if unit == "s" else 1)

    def str_list(self, field: str) -> list[str]:
        value = self._get(field, False)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self._error(WRONG_TYPE, field, f"expected a list of strings, found {_type_name(value)}")
        return list(value)

    def category_paths(self, field: str) -> list[str]:
        """Amazon 2014 `categories`: a list of category paths (lists of strings), flattened in order."""
        value = self._get(field, False)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self._error(WRONG_TYPE, field, f"expected a list of category paths, found {_type_name(value)}")
        flat: list[str] = []
        for path in value:
            if isinstance(path, str):
                flat.append(path)
            elif isinstance(path, list) and all(isinstance(v, str) for v in path):
                flat.extend(path)
            else:
                raise self._error(WRONG_TYPE, field, "expected each category path to be a list of strings")
        return flat

    def mapping(self, field: str) -> dict[str, Any]:
        value = self._get(field, False)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self._error(WRONG_TYPE, field, f"expected an object, found {_type_name(value)}")
        return value

    def optional(self, field: str, *types: type) -> Any:
        """Any optional field checked against `types` (kept as is, for attributes)."""
        value = self._get(field, False)
        if value is None:
            return None
        if isinstance(value, bool) and bool not in types:
            raise self._error(WRONG_TYPE, field, f"expected {'/'.join(t.__name__ for t in types)}, found bool")
        if not isinstance(value, types):
            raise self._error(
                WRONG_TYPE, field, f"expected {'/'.join(t.__name__ for t in types)}, found {_type_name(value)}"
            )
        return value


def time_kind(value: Any) -> str | None:
    """ "number", "iso", "datetime" or None (empty or unreadable): what one timestamp cell looks like."""
    if isinstance(value, _dt.date):
        return "datetime"
    if _is_number(value):
        return "number"
    if isinstance(value, str) and value.strip():
        if _as_float(value) is not None:
            return "number"
        try:
            _dt.datetime.fromisoformat(value.strip())
        except ValueError:
            return None
        return "iso"
    return None


def detect_time_unit(values: Iterable[Any]) -> str:
    """ "s", "ms" or "iso" for a time column, from (a sample of) its values: the kind most of them have;
    numbers are milliseconds when their median is 1e11 or more. Values of another kind later fail on their
    own row, naming it. A column of datetime values (Parquet timestamps) needs no unit; it reports "iso"."""
    kinds: dict[str, int] = {}
    numbers: list[float] = []
    for value in values:
        kind = time_kind(value)
        if kind is None:
            continue
        kinds[kind] = kinds.get(kind, 0) + 1
        if kind == "number":
            number = _as_float(value)
            if math.isfinite(number):
                numbers.append(number)
    if not kinds:
        return "s"
    top = max(kinds, key=lambda k: (kinds[k], k == "number"))
    if top != "number":
        return "iso"
    return "ms" if numbers and statistics.median(numbers) >= MILLISECONDS_FROM else "s"
