"""Typed access to one record's fields: a missing or mistyped field raises a BadRecord naming it.

A `Fields` wraps one parsed line (its file and line number travel with it) so loaders read
`rec.text("reviewerID")` and never format error locations themselves.
"""

from __future__ import annotations

import datetime as _dt
import math
from pathlib import Path
from typing import Any

from .reading import BAD_VALUE, MISSING_FIELD, WRONG_TYPE, BadRecord

_MISSING = object()


def _type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


class Fields:
    def __init__(self, record: dict[str, Any], path: Path, line: int):
        self.record = record
        self.path = path
        self.line = line

    def _error(self, kind: str, field: str, message: str) -> BadRecord:
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
        if not math.isfinite(value):
            raise self._error(BAD_VALUE, field, f"expected a finite number, found {value!r}")
        return float(value)

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
        if value < 0:
            raise self._error(BAD_VALUE, field, f"time is negative ({value})")
        return int(value) * unit_ms

    def datetime_text(self, field: str) -> int:
        """A required 'YYYY-MM-DD HH:MM:SS' (or ISO) date string, read as UTC, as milliseconds."""
        value = self.text(field, required=True)
        try:
            parsed = _dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise self._error(
                BAD_VALUE, field, f"expected a date like 2016-03-09 17:44:55, found {value!r:.40}"
            ) from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=_dt.UTC)
        return int(parsed.timestamp() * 1000)

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
