"""Errors that name where bad input is: file, line and field."""

from __future__ import annotations

from pathlib import Path


class Persona4RecError(Exception):
    """Base class for errors shown to users as one clear message (the CLI prints it, no traceback)."""


class InputError(Persona4RecError):
    """Bad input data: says which file, which line (1-based) and which field, when known. Files without
    lines (Parquet) name the 1-based data row instead."""

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        line: int | None = None,
        field: str | None = None,
        row: int | None = None,
    ):
        self.path = str(path) if path is not None else None
        self.line = line
        self.row = row
        self.field = field
        self.reason = message
        where = []
        if self.path:
            where.append(self.path)
        if line is not None:
            where.append(f"line {line}")
        if row is not None:
            where.append(f"row {row}")
        if field:
            where.append(f"field '{field}'")
        super().__init__(f"{': '.join([', '.join(where)] if where else [])}{': ' if where else ''}{message}")


class WorkspaceError(Persona4RecError):
    """A workspace is missing, incomplete, or lacks the stage a command needs."""


class ConfigError(Persona4RecError):
    """A configuration file, flag or environment variable has a bad value."""


class BudgetExceeded(Persona4RecError):
    """The next LLM call would pass --max-cost: the stage stops cleanly, finished units are kept."""


class LLMUnavailable(Persona4RecError):
    """The LLM server stayed unreachable (or kept failing) after all retries: the stage stops, and a
    re-run resumes from the finished units. Not a per-unit failure: the unit is not recorded as failed."""
