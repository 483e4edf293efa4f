"""Reading study examples from a JSON Lines file (one recommendation with both explanations per line).

Each line: {"user_id": str, "item_id": str, "explanation_a": str, "explanation_b": str,
            "history": [{...}, ...] (optional), "item_title": str (optional), "workspace": str (optional)}
A bad line raises InputError naming the file, the line and the field.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError
from ..io import read_json_objects
from .study import ExampleInput

REQUIRED = ("user_id", "item_id", "explanation_a", "explanation_b")
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
