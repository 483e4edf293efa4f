"""Where each offline stage keeps its records, and how later code reads them back.

Every stage appends finished units to its own JSON-lines file under <workspace>/offline/ (a JsonlLog,
so a crash loses nothing that finished). A key may appear more than once after `--retry-failed` or a
forced redo; readers keep the LAST record per key, which is the newest answer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from ..data.schema import review_key
from ..io import JsonlLog
from ..workspace import Workspace
from .schema import AlignmentRecord, AspectRecord, FailureRecord, PersonaRecord, ProfileRecord, SummaryRecord

STAGE_FILES = {
    "summaries": "summaries.jsonl",
    "aspects": "aspects.jsonl",
    "personas": "personas.jsonl",
    "personas_single": "personas_single.jsonl",
    "profiles": "profiles.jsonl",
    "alignment": "alignment.jsonl",
}
FAILURES_FILE = "failures.jsonl"


def stage_path(ws: Workspace, stage: str) -> Path:
    return ws.offline_dir / STAGE_FILES[stage]


def failures_path(ws: Workspace) -> Path:
    return ws.offline_dir / FAILURES_FILE


def record_key(stage: str, record: dict) -> str:
    """The unit key a stored record answers (item id, or "user|item")."""
    if stage in ("aspects", "alignment"):
        return review_key(record["user_id"], record["item_id"])
    if stage == "profiles":
        return record["user_id"]
    return record["item_id"]


def read_raw(ws: Workspace, stage: str) -> dict[str, dict]:
    """Stored records of a stage as plain dicts by key (last one wins), in first-seen key order."""
    out: dict[str, dict] = {}
    for rec in JsonlLog(stage_path(ws, stage)).read():
        out[record_key(stage, rec)] = rec
    return out


def _typed(ws: Workspace, stage: str, model: Callable) -> dict:
    return {key: model.model_validate(rec) for key, rec in read_raw(ws, stage).items()}


def load_summaries(ws: Workspace) -> dict[str, SummaryRecord]:
    return _typed(ws, "summaries", SummaryRecord)


def load_aspects(ws: Workspace) -> dict[str, AspectRecord]:
    """Aspect records by review key "user|item" (kept=False ones included: they mark dropped tuples)."""
    return _typed(ws, "aspects", AspectRecord)


def load_personas(ws: Workspace, single: bool = False) -> dict[str, PersonaRecord]:
    return _typed(ws, "personas_single" if single else "personas", PersonaRecord)


def load_profiles(ws: Workspace) -> dict[str, ProfileRecord]:
    return _typed(ws, "profiles", ProfileRecord)


def load_alignment(ws: Workspace) -> dict[str, AlignmentRecord]:
    return _typed(ws, "alignment", AlignmentRecord)


def load_failures(ws: Workspace, stage: str | None = None) -> list[FailureRecord]:
    records = [FailureRecord.model_validate(r) for r in JsonlLog(failures_path(ws)).read()]
    return [r for r in records if stage is None or r.stage == stage]


def append_records(path: Path, records: Iterable[dict]) -> int:
    return JsonlLog(path).append(records)
