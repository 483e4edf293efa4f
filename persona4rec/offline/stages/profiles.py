"""Stage 4, profiles (no backend): each user's last L train interactions (summary, aspects), oldest first.

A history entry stands for one train interaction: its item's summary (the item's title, else its id, where
the item has none) and the user's kept aspect tuple of it (None where there is none). Histories are ordered
by timestamp, then item id. offline/profiles.jsonl is rebuilt whole and replaced atomically on every run.
"""

from __future__ import annotations

import time

from ...data.schema import review_key
from ...data.split import HISTORY_LENGTH
from ...data.tables import Tables, load_tables
from ...errors import ConfigError
from ...io import write_jsonl
from ...workspace import Workspace
from ..engine import RunOptions, StageReport, first_ids
from ..records import load_aspects, load_summaries, stage_path
from ..schema import AspectRecord, ProfileEntry, ProfileRecord, SummaryRecord
from .inputs import rating_of


def _entry(
    row, summaries: dict[str, SummaryRecord], aspects: dict[str, AspectRecord], titles: dict[str, str]
) -> ProfileEntry:
    item_id = str(row.item_id)
    summary = summaries[item_id].summary if item_id in summaries else (titles.get(item_id) or item_id)
    record = aspects.get(review_key(str(row.user_id), item_id))
    return ProfileEntry(
        item_id=item_id,
        timestamp=int(row.timestamp),
        rating=rating_of(row.rating),
        summary=summary,
        aspects=record.aspects if record is not None and record.kept else None,
    )


def train_histories(ws: Workspace, tables: Tables, user_ids: list[str] | None = None) -> dict[str, list[ProfileEntry]]:
    """Every user's TRAIN interactions as profile entries, oldest first (timestamp, then item id)."""
    summaries, aspects = load_summaries(ws), load_aspects(ws)
    titles = tables.titles()
    train = tables.train
    if user_ids is not None:
        train = train[train["user_id"].isin(user_ids)]
    train = train.sort_values(["user_id", "timestamp", "item_id"])
    histories: dict[str, list[ProfileEntry]] = {}
    for row in train.itertuples(index=False):
        histories.setdefault(str(row.user_id), []).append(_entry(row, summaries, aspects, titles))
    return histories


def build_profiles(
    ws: Workspace, *, history_length: int = HISTORY_LENGTH, users: int | None = None, **opts
) -> StageReport:
    """Stage 4 (no backend): each user's last L train interactions (summary, aspects), oldest first.

    offline/profiles.jsonl is rebuilt whole and replaced atomically on every run."""
    options = RunOptions.from_opts(opts)
    if history_length < 1:
        raise ConfigError(f"history length must be at least 1, got {history_length}")
    tables = load_tables(ws)
    user_ids = first_ids(tables.reviews["user_id"], users)
    report = StageReport(stage="profiles", backend="none", dry_run=options.dry_run)
    t0 = time.perf_counter()
    histories = train_histories(ws, tables, user_ids)
    records = [ProfileRecord(user_id=u, history=h[-history_length:]).model_dump() for u, h in sorted(histories.items())]
    report.total = len(records)
    report.notes = {
        "users_without_train": len(user_ids) - len(records),
        "entries_without_summary": sum(e["summary"] == e["item_id"] for r in records for e in r["history"]),
    }
    if options.dry_run:
        return report
    with ws.stage("profiles", history_length=history_length, users=users) as info:
        write_jsonl(stage_path(ws, "profiles"), records)
        report.done = len(records)
        report.seconds = time.perf_counter() - t0
        info["counts"] = report.counts()
    return report
