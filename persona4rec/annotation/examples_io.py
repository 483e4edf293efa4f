"""Reading study examples from files.

read_examples_jsonl: JSON Lines, one recommendation with both explanations per line:
    {"user_id": str, "item_id": str, "explanation_a": str, "explanation_b": str,
     "history": [{...}, ...] (optional), "item_title": str (optional), "workspace": str (optional)}
read_system_explanations: a team's own systems, one explanation per row, as CSV (header user_id, item_id,
    system, explanation[, item_title]) or JSON Lines with those keys; rows of one (user, item) are one
    example (design.SystemsExample).
A bad line raises InputError naming the file, the line and the field.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError
from ..io import read_json_objects
from .design import SystemsExample
from .study import ExampleInput

REQUIRED = ("user_id", "item_id", "explanation_a", "explanation_b")
EXPLANATION_COLUMNS = ("user_id", "item_id", "system", "explanation")
OPTIONAL = ("history", "item_title", "workspace")


def read_examples_jsonl(path: str | Path) -> list[ExampleInput]:
    path = Path(path)
    if not path.is_file():
        raise InputError("examples file not found", path=path)
    examples: list[ExampleInput] = []
    for line_no, record in read_json_objects(path):
        examples.append(_example(record, path, line_no))
    if not examples:
        raise InputError("no examples in the file", path=path)
    return examples


def _example(record: dict, path: Path, line_no: int) -> ExampleInput:
    for name in REQUIRED:
        value = record.get(name)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and name in ("user_id", "item_id"):
            record[name] = value = str(value)
        if not isinstance(value, str) or not value.strip():
            raise InputError(f"must be a non-empty string, got {value!r}", path=path, line=line_no, field=name)
    history = record.get("history", [])
    if not isinstance(history, list) or not all(isinstance(h, dict) for h in history):
        raise InputError("must be a list of objects", path=path, line=line_no, field="history")
    for name in ("item_title", "workspace"):
        if not isinstance(record.get(name, ""), str):
            raise InputError("must be a string", path=path, line=line_no, field=name)
    unknown = set(record) - set(REQUIRED) - set(OPTIONAL)
    if unknown:
        raise InputError(
            f"unknown field(s); known: {', '.join(REQUIRED + OPTIONAL)}",
            path=path,
            line=line_no,
            field=sorted(unknown)[0],
        )
    return ExampleInput(
        user_id=record["user_id"],
        item_id=record["item_id"],
        explanation_a=record["explanation_a"],
        explanation_b=record["explanation_b"],
        history=history,
        item_title=record.get("item_title", ""),
        workspace=record.get("workspace", ""),
    )


def read_system_explanations(path: str | Path) -> list[SystemsExample]:
    """The (user, item, system, explanation) rows of a CSV or JSON Lines file (by suffix: .csv, else JSON
    Lines), grouped into one SystemsExample per (user, item) in first-seen order."""
    path = Path(path)
    if not path.is_file():
        raise InputError("explanations file not found", path=path)
    rows = _csv_rows(path) if path.suffix.lower() == ".csv" else read_json_objects(path)
    grouped: dict[tuple[str, str], dict] = {}
    for line_no, record in rows:
        values = {}
        for name in (*EXPLANATION_COLUMNS, "item_title"):
            value = record.get(name, "" if name == "item_title" else None)
            if isinstance(value, (int, float)) and not isinstance(value, bool) and name in ("user_id", "item_id"):
                value = str(value)
            if not isinstance(value, str) or (name != "item_title" and not value.strip()):
                raise InputError(f"must be a non-empty string, got {value!r}", path=path, line=line_no, field=name)
            values[name] = value.strip() if name != "explanation" else value
        key = (values["user_id"], values["item_id"])
        example = grouped.setdefault(key, {"explanations": {}, "item_title": values["item_title"]})
        if values["system"] in example["explanations"]:
            raise InputError(
                f"a second explanation by {values['system']!r} for user {key[0]!r} and item {key[1]!r}",
                path=path,
                line=line_no,
                field="system",
            )
        example["explanations"][values["system"]] = values["explanation"]
        example["item_title"] = example["item_title"] or values["item_title"]
    if not grouped:
        raise InputError("no explanations in the file", path=path)
    return [
        SystemsExample(user_id=u, item_id=i, explanations=g["explanations"], item_title=g["item_title"])
        for (u, i), g in grouped.items()
    ]


def _csv_rows(path: Path):
    """(line number, row dict) of a CSV file with a header; InputError for a missing column or bad bytes."""
    import csv

    try:
        with open(path, encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in EXPLANATION_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise InputError(f"the header has no column {missing[0]!r}", path=path, line=1, field=missing[0])
            for row in reader:
                yield reader.line_num, row
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text ({exc.reason})", path=path) from None
    except csv.Error as exc:
        raise InputError(f"malformed CSV: {exc}", path=path) from None
