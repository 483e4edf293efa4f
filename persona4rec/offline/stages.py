"""The five offline stages as resumable, idempotent runs over a workspace.

Each stage builds its units (items, reviews or interactions) from the workspace, skips the units whose
records are already on disk (and, unless `retry_failed=True`, the ones recorded as failed), hands the
rest to the backend in batches, and appends each batch's records (and failures) at once. A crash, even
kill -9, therefore loses at most the batch in flight, and a re-run does only the missing units.

Stage functions return a `StageReport`. Options every backend-driven stage accepts (`**opts`):
    batch_size     units per backend call (default: the backend's `batch_size`, else 32)
    dry_run        build the units and estimate usage with `backend.estimate(task, inputs)`; call and write nothing
    retry_failed   also run units recorded in offline/failures.jsonl
    overwrite      the stage file holds another backend's records: start the stage over (else an error)
    progress       show a tqdm bar (default True)

Decisions worth knowing:
- Summaries come from metadata (description, categories, attributes); an item with none is summarised
  from its TRAIN reviews (source "reviews"), an item with neither from its title (source "title").
- Aspects are extracted for every review with text, in all splits (valid aspects are history at test
  time); persona pools use TRAIN reviews only, so held-out targets never shape personas.
- An item with no usable train aspect gets one persona made from its summary, `summary_only=True`,
  without a backend call; so does alignment of an item with a single persona (nothing to choose).
- Alignment covers training interactions; the profile of (u, i) is u's last L train interactions
  strictly before i (by timestamp, then item id), oldest first.
- BudgetExceeded / LLMUnavailable stop the stage after every finished unit is persisted; the manifest
  records status "stopped" with the reason, and pending units are NOT recorded as failed.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import BudgetExceeded, ConfigError, LLMUnavailable, WorkspaceError
from ..io import write_jsonl
from ..workspace import Workspace
from .backend import AlignmentRequest, ItemInput, PersonaRequest, ReviewInput, UnitResult, Usage
from .records import (
    append_records,
    failures_path,
    load_aspects,
    load_failures,
    load_personas,
    load_summaries,
    read_raw,
    review_key,
    stage_path,
)
from .schema import (
    MAX_PERSONAS,
    AlignmentRecord,
    AspectRecord,
    AspectTuple,
    FailureRecord,
    Persona,
    PersonaRecord,
    ProfileEntry,
    ProfileRecord,
    SummaryRecord,
)

DEFAULT_BATCH_SIZE = 32
DEFAULT_HISTORY_LENGTH = 10
MAX_SUMMARY_REVIEWS = 10  # reviews read to summarise an item without metadata


# -- the report ------------------------------------------------------------------------------------


@dataclass
class StageReport:
    stage: str
    backend: str
    total: int = 0  # units in scope
    done: int = 0  # units finished by this run
    skipped: int = 0  # units already on disk (resume / idempotence)
    failed: int = 0  # units that failed in this run (recorded in offline/failures.jsonl)
    skipped_failed: int = 0  # units that failed before and were not retried
    dropped: int = 0  # aspects: tuples with more than 75% null slots
    flagged: int = 0  # personas: summary-only items
    usage: Usage = field(default_factory=Usage)
    seconds: float = 0.0
    stopped_reason: str | None = None
    dry_run: bool = False
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def status(self) -> str:
        if self.dry_run:
            return "dry-run"
        return "stopped" if self.stopped_reason else "done"

    @property
    def pending(self) -> int:
        return self.total - self.skipped - self.skipped_failed

    def counts(self) -> dict[str, int]:
        return {
            "total": self.total,
            "done": self.done,
            "skipped": self.skipped,
            "failed": self.failed,
            "skipped_failed": self.skipped_failed,
            "dropped": self.dropped,
            "flagged": self.flagged,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "backend": self.backend,
            "status": self.status,
            **self.counts(),
            "usage": dataclasses.asdict(self.usage),
            "seconds": round(self.seconds, 3),
            "stopped_reason": self.stopped_reason,
            "notes": self.notes,
        }

    def line(self) -> str:
        """One summary line for the CLI."""
        u = self.usage
        usage = (
            f"calls={u.calls} cached={u.cached_calls} tokens={u.prompt_tokens}+{u.completion_tokens} "
            f"cost=${u.cost_usd:.4f}"
        )
        if self.backend == "none":  # profiles: assembled, no backend
            return (
                f"{self.stage} {'[dry run] would write' if self.dry_run else 'done:'} {self.total} profiles"
                f"{'' if self.dry_run else f' in {self.seconds:.1f}s'}"
            )
        if self.dry_run:
            return (
                f"{self.stage} [dry run, {self.backend}]: {self.pending} units would run "
                f"({self.skipped} already done, {self.skipped_failed} failed before); estimate {usage}"
            )
        text = (
            f"{self.stage} [{self.backend}] {self.status}: done={self.done} skipped={self.skipped} "
            f"failed={self.failed} dropped={self.dropped} summary_only={self.flagged} "
            f"(of {self.total}) {usage} in {self.seconds:.1f}s"
        )
        if self.skipped_failed:
            text += f"; {self.skipped_failed} failed earlier (--retry-failed to retry)"
        if self.stopped_reason:
            text += f"; STOPPED: {self.stopped_reason}"
        return text


def add_usage(total: Usage, more: Usage) -> None:
    total.calls += more.calls
    total.cached_calls += more.cached_calls
    total.prompt_tokens += more.prompt_tokens
    total.completion_tokens += more.completion_tokens
    total.cost_usd += more.cost_usd


# -- options ---------------------------------------------------------------------------------------


@dataclass
class RunOptions:
    batch_size: int | None = None
    dry_run: bool = False
    retry_failed: bool = False
    overwrite: bool = False
    progress: bool = True

    @classmethod
    def from_opts(cls, opts: dict[str, Any]) -> RunOptions:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(opts) - known
        if unknown:
            raise TypeError(f"unknown stage option(s): {', '.join(sorted(unknown))}")
        options = cls(**opts)
        if options.batch_size is not None and options.batch_size < 1:
            raise ConfigError(f"batch size must be at least 1, got {options.batch_size}")
        return options


# -- workspace tables ------------------------------------------------------------------------------


@dataclass
class Tables:
    reviews: Any  # canonical reviews joined with their split
    items: Any

    @property
    def train(self):
        return self.reviews[self.reviews["split"] == "train"]


def load_tables(ws: Workspace) -> Tables:
    import pandas as pd

    from ..data.importer import load_workspace_tables
    from ..data.schema import as_items

    reviews, items, split = load_workspace_tables(ws)
    reviews = reviews.merge(split, on=["user_id", "item_id"], how="left")
    if reviews["split"].isna().any():
        missing = reviews[reviews["split"].isna()].iloc[0]
        raise WorkspaceError(
            f"{ws.data_dir / 'split.parquet'}: no split for interaction "
            f"({missing['user_id']}, {missing['item_id']}) of data/reviews.parquet"
        )
    # Items that only appear in reviews still get a (title-less) row, so every reviewed item is a unit.
    extra = sorted(set(reviews["item_id"]) - set(items["item_id"]))
    if extra:
        items = pd.concat([items, as_items(pd.DataFrame({"item_id": extra}))], ignore_index=True)
    return Tables(reviews=reviews, items=items)


def first_ids(values: Iterable[str], n: int | None) -> list[str]:
    """The subset rule: the first N ids in sorted order (all when n is None)."""
    ids = sorted(set(values))
    if n is None:
        return ids
    if n < 1:
        raise ConfigError(f"a subset size must be at least 1, got {n}")
    return ids[:n]


def _str(value) -> str:
    return "" if value is None or (isinstance(value, float) and value != value) else str(value)


def _rating(value) -> float | None:
    try:
        rating = float(value)
    except (TypeError, ValueError):
        return None
    return None if rating != rating else rating


def _review_input(row, item_titles: dict[str, str]) -> ReviewInput:
    return ReviewInput(
        user_id=str(row.user_id),
        item_id=str(row.item_id),
        rating=_rating(row.rating),
        title=_str(row.title),
        text=_str(row.text),
        item_title=item_titles.get(str(row.item_id), ""),
    )


# -- the engine ------------------------------------------------------------------------------------


@dataclass
class _Unit:
    key: str
    payload: Any


@dataclass
class _StageSpec:
    name: str  # manifest stage name and records file key
    task: str  # backend.estimate task
    call: Callable[[list], list]  # backend method over a batch of payloads
    to_record: Callable[[Any, Any], tuple[dict | None, str | None, dict[str, int]]]
    # ^ (payload, value) -> (record, failure reason, count increments)
    local: Callable[[Any], Any] | None = None  # payload -> value without a backend call, or None
    config: dict[str, Any] = field(default_factory=dict)


def _backend_name(backend) -> str:
    return getattr(backend, "name", type(backend).__name__)


def _clear_stage(ws: Workspace, stage: str) -> None:
    """Start a stage over: drop its records and its failures (both rewritten atomically)."""
    stage_path(ws, stage).unlink(missing_ok=True)
    kept = [f.model_dump() for f in load_failures(ws) if f.stage != stage]
    if failures_path(ws).exists():
        write_jsonl(failures_path(ws), kept)


def _done_keys(ws: Workspace, stage: str, backend_name: str, opts: RunOptions) -> set[str]:
    existing = read_raw(ws, stage)
    foreign = {rec.get("backend") for rec in existing.values()} - {backend_name}
    if foreign:
        if not opts.overwrite and not opts.dry_run:  # a dry run estimates the redo instead
            raise WorkspaceError(
                f"{stage_path(ws, stage)}: holds {len(existing)} records made by "
                f"{', '.join(sorted(map(str, foreign)))}; "
                f"this run uses {backend_name}. Pass --overwrite to redo the stage with it, or use another workspace"
            )
        if not opts.dry_run:
            _clear_stage(ws, stage)
        return set()
    return set(existing)


def _mark_stopped(ws: Workspace, stage: str, reason: str) -> None:
    manifest = ws.manifest()
    info = manifest.setdefault("stages", {}).setdefault(stage, {})
    info.update(status="stopped", stopped_reason=reason)
    ws.write_manifest(manifest)


def _estimate(backend, task: str, payloads: list) -> Usage:
    if hasattr(backend, "estimate"):
        return backend.estimate(task, payloads)
    return Usage(calls=len(payloads))


def _execute(
    ws: Workspace, backend, spec: _StageSpec, units: list[_Unit], opts: RunOptions, notes: dict[str, Any] | None = None
) -> StageReport:
    name = _backend_name(backend)
    report = StageReport(stage=spec.name, backend=name, total=len(units), dry_run=opts.dry_run, notes=dict(notes or {}))
    t0 = time.perf_counter()
    done = _done_keys(ws, spec.name, name, opts)
    failed_before = {f.key for f in load_failures(ws, spec.name)} - done
    pending = []
    for unit in units:
        if unit.key in done:
            report.skipped += 1
        elif unit.key in failed_before and not opts.retry_failed:
            report.skipped_failed += 1
        else:
            pending.append(unit)
    if opts.dry_run:
        remote = [u.payload for u in pending if spec.local is None or spec.local(u.payload) is None]
        report.usage = _estimate(backend, spec.task, remote) if remote else Usage()
        report.notes["local_units"] = len(pending) - len(remote)
        report.seconds = time.perf_counter() - t0
        return report

    batch_size = opts.batch_size or getattr(backend, "batch_size", None) or DEFAULT_BATCH_SIZE
    with ws.stage(spec.name, backend=name, **spec.config) as info:
        try:
            _run_batches(ws, backend, spec, pending, batch_size, opts.progress, report)
        except (BudgetExceeded, LLMUnavailable) as exc:
            report.stopped_reason = f"{type(exc).__name__}: {exc}"
        report.seconds = time.perf_counter() - t0
        info["counts"] = report.counts()
        info["usage"] = dataclasses.asdict(report.usage)
        if report.notes:
            info["notes"] = report.notes
    if report.stopped_reason:
        _mark_stopped(ws, spec.name, report.stopped_reason)
    return report


def _run_batches(
    ws, backend, spec: _StageSpec, pending: list[_Unit], batch_size: int, progress: bool, report: StageReport
) -> None:
    from tqdm.auto import tqdm

    name = _backend_name(backend)
    out_path = stage_path(ws, spec.name)
    with tqdm(total=len(pending), desc=spec.name, unit="unit", disable=not progress, leave=False) as bar:
        for start in range(0, len(pending), batch_size):
            batch = pending[start : start + batch_size]
            results = _results_for(spec, batch)
            remote = [u for u in batch if u.key not in results]
            if remote:
                for result in spec.call([u.payload for u in remote]):
                    results[result.key] = result
            records, failures = [], []
            for unit in batch:
                result = results.get(unit.key)
                if result is None:
                    failures.append(
                        _failure(spec.name, unit.key, "the backend returned no result for this unit", None, name)
                    )
                    continue
                add_usage(report.usage, result.usage)
                if not result.ok:
                    failures.append(_failure(spec.name, unit.key, result.error or "no value", result.raw, name))
                    continue
                record, reason, increments = spec.to_record(unit.payload, result.value)
                if record is None:
                    failures.append(_failure(spec.name, unit.key, reason or "invalid value", result.raw, name))
                    continue
                record["backend"] = name
                records.append(record)
                for counter, n in increments.items():
                    setattr(report, counter, getattr(report, counter) + n)
            append_records(out_path, records)
            if failures:
                append_records(failures_path(ws), failures)
            report.done += len(records)
            report.failed += len(failures)
            bar.update(len(batch))


def _results_for(spec: _StageSpec, batch: list[_Unit]) -> dict[str, UnitResult]:
    results = {}
    if spec.local is not None:
        for unit in batch:
            value = spec.local(unit.payload)
            if value is not None:
                results[unit.key] = UnitResult(key=unit.key, value=value)
    return results


def _failure(stage: str, key: str, reason: str, raw: str | None, backend: str) -> dict:
    return FailureRecord(stage=stage, key=key, reason=reason, raw=raw, backend=backend).model_dump()


# -- 1. summaries ----------------------------------------------------------------------------------


def has_metadata(item) -> bool:
    return bool(_str(item.description).strip() or len(item.categories) or len(item.attributes))


def summary_source(item_input: ItemInput) -> str:
    if _str(item_input.description).strip() or item_input.categories or item_input.attributes:
        return "metadata"
    return "reviews" if item_input.review_texts else "title"


def _review_text(title: str, text: str) -> str:
    """Title and body as one text, the title its own sentence."""
    title = title.strip()
    if title and title[-1] not in ".!?":
        title += "."
    return f"{title} {text.strip()}".strip()


def _summary_units(tables: Tables, item_ids: list[str]) -> list[_Unit]:
    train = tables.train
    train = train[~train["textless"]].sort_values(["item_id", "timestamp", "user_id"])
    texts_by_item: dict[str, list[str]] = {}
    for row in train.itertuples(index=False):
        texts = texts_by_item.setdefault(str(row.item_id), [])
        if len(texts) < MAX_SUMMARY_REVIEWS:
            texts.append(_review_text(_str(row.title), _str(row.text)))
    wanted = set(item_ids)
    units = []
    for item in tables.items.sort_values("item_id").itertuples(index=False):
        item_id = str(item.item_id)
        if item_id not in wanted:
            continue
        payload = ItemInput(
            item_id=item_id,
            title=_str(item.title),
            description=_str(item.description),
            categories=list(item.categories),
            attributes=dict(item.attributes),
        )
        if not has_metadata(item):
            payload.review_texts = texts_by_item.get(item_id, [])
        units.append(_Unit(item_id, payload))
    return units


def run_summaries(ws: Workspace, backend, *, items: int | None = None, **opts) -> StageReport:
    """Stage 1: one 2-3 sentence summary per item (from metadata, else its train reviews, else its title)."""
    options = RunOptions.from_opts(opts)
    tables = load_tables(ws)
    item_ids = first_ids(tables.items["item_id"], items)
    units = _summary_units(tables, item_ids)

    def to_record(payload: ItemInput, value):
        return (
            SummaryRecord(
                item_id=payload.item_id, summary=value.summary, source=summary_source(payload), backend=""
            ).model_dump(),
            None,
            {},
        )

    spec = _StageSpec("summaries", "summarize", backend.summarize, to_record, config={"items": items})
    sources = [summary_source(u.payload) for u in units]
    notes = {"from_" + s: sources.count(s) for s in ("metadata", "reviews", "title") if sources.count(s)}
    return _execute(ws, backend, spec, units, options, notes)


# -- 2. aspects ------------------------------------------------------------------------------------


def _scoped_reviews(tables: Tables, items: int | None, users: int | None):
    reviews = tables.reviews
    if items is not None:
        reviews = reviews[reviews["item_id"].isin(first_ids(tables.items["item_id"], items))]
    if users is not None:
        reviews = reviews[reviews["user_id"].isin(first_ids(tables.reviews["user_id"], users))]
    return reviews


def run_aspects(ws: Workspace, backend, *, items: int | None = None, users: int | None = None, **opts) -> StageReport:
    """Stage 2: an aspect tuple per review with text (all splits); >75%-null tuples stored as kept=False."""
    options = RunOptions.from_opts(opts)
    tables = load_tables(ws)
    titles = dict(zip(tables.items["item_id"].astype(str), tables.items["title"].astype(str)))
    reviews = _scoped_reviews(tables, items, users)
    textless = int(reviews["textless"].sum())
    reviews = reviews[~reviews["textless"]].sort_values(["user_id", "item_id"])
    units = [
        _Unit(review_key(str(r.user_id), str(r.item_id)), _review_input(r, titles))
        for r in reviews.itertuples(index=False)
    ]
    units.sort(key=lambda u: u.key)

    def to_record(payload: ReviewInput, value: AspectTuple):
        kept = value.usable()
        record = AspectRecord(
            user_id=payload.user_id,
            item_id=payload.item_id,
            aspects=value,
            null_fraction=value.null_fraction(),
            kept=kept,
            backend="",
        ).model_dump()
        return record, None, {"dropped": 0 if kept else 1}

    spec = _StageSpec("aspects", "aspects", backend.extract_aspects, to_record, config={"items": items, "users": users})
    return _execute(ws, backend, spec, units, options, {"textless_reviews": textless} if textless else None)


# -- 3. personas -----------------------------------------------------------------------------------


def summary_only_persona(summary: str, title: str) -> Persona:
    """The one persona of an item no review gave usable evidence for: its summary, labelled as such."""
    label = title.strip() or "this item"
    return Persona(
        id="P1",
        name=f"Summary-only: {label[:60]}",
        description=summary,
        preference_rationale="No review of this item gave usable evidence, so it is described by "
        "its summary alone (summary-only index).",
    )


def _stand_in_summary(item) -> str:
    """Dry run only: a summary-sized text when the summaries stage has not run yet."""
    text = _str(item.description) or _str(item.title) or str(item.item_id)
    return text[:400]


def _stand_in_aspects(review: ReviewInput) -> AspectTuple:
    """Dry run only: an aspect tuple about as long as a real one, when aspects have not run yet."""
    words = f"{review.title} {review.text}".split()
    chunk = " ".join(words[:12]) or "n/a"
    return AspectTuple(
        **{slot: chunk for slot in ("category_preference", "purchase_purpose", "quality_criteria", "usage_context")},
        **{
            f"{slot}_reason": chunk
            for slot in ("category_preference", "purchase_purpose", "quality_criteria", "usage_context")
        },
    )


def _persona_requests(
    ws: Workspace, tables: Tables, item_ids: list[str], single: bool, max_personas: int, dry_run: bool
) -> tuple[list[_Unit], dict[str, Any]]:
    summaries = load_summaries(ws)
    aspects = load_aspects(ws)
    # An item whose summary failed (recorded in failures.jsonl) goes on under its title, as profiles do;
    # one the summaries stage never reached means that stage has not run.
    failed = {f.key for f in load_failures(ws, "summaries")}
    missing = [i for i in item_ids if i not in summaries]
    unrun = [i for i in missing if i not in failed]
    if unrun and not dry_run:
        raise WorkspaceError(
            f"{ws.root}: {len(unrun)} item(s) have no summary (e.g. {unrun[0]}); "
            f"run `persona4rec offline summarize {ws.root}` first"
        )
    if not aspects and not dry_run:
        raise WorkspaceError(f"{ws.root}: no aspect records; run `persona4rec offline aspects {ws.root}` first")
    titles = dict(zip(tables.items["item_id"].astype(str), tables.items["title"].astype(str)))
    item_rows = {str(r.item_id): r for r in tables.items.itertuples(index=False)}
    train = tables.train
    train = train[~train["textless"] & train["item_id"].isin(item_ids)].sort_values(["item_id", "user_id"])
    pools: dict[str, tuple[list[ReviewInput], list[AspectTuple]]] = {}
    not_extracted = 0
    for row in train.itertuples(index=False):
        review = _review_input(row, titles)
        record = aspects.get(review.key)
        if record is None:
            not_extracted += 1
            if not dry_run:
                continue
            tuple_ = _stand_in_aspects(review)
        elif not record.kept:
            continue
        else:
            tuple_ = record.aspects
        reviews_, tuples = pools.setdefault(review.item_id, ([], []))
        reviews_.append(review)
        tuples.append(tuple_)
    units, titled = [], 0
    for item_id in item_ids:
        if item_id in summaries:
            summary = summaries[item_id].summary
        elif item_id in failed:
            summary, titled = _str(item_rows[item_id].title) or item_id, titled + 1
        else:
            summary = _stand_in_summary(item_rows[item_id])
        reviews_, tuples = pools.get(item_id, ([], []))
        units.append(
            _Unit(
                item_id,
                PersonaRequest(
                    item_id=item_id,
                    item_title=titles.get(item_id, ""),
                    summary=summary,
                    reviews=reviews_,
                    aspects=tuples,
                    single=single,
                    max_personas=max_personas,
                ),
            )
        )
    notes = {"train_reviews_without_aspects": not_extracted} if not_extracted else {}
    if titled:
        notes["failed_summaries_replaced_by_title"] = titled
    return units, notes


def run_personas(
    ws: Workspace, backend, *, single: bool = False, items: int | None = None, max_personas: int = MAX_PERSONAS, **opts
) -> StageReport:
    """Stage 3: 1-`max_personas` personas per item from its summary and its TRAIN aspect pool.

    Single mode writes one aggregated persona per item to offline/personas_single.jsonl."""
    options = RunOptions.from_opts(opts)
    if not 1 <= max_personas <= MAX_PERSONAS:
        raise ConfigError(f"max personas must be in [1, {MAX_PERSONAS}], got {max_personas}")
    tables = load_tables(ws)
    item_ids = first_ids(tables.items["item_id"], items)
    units, notes = _persona_requests(ws, tables, item_ids, single, max_personas, options.dry_run)
    limit = 1 if single else max_personas

    def local(request: PersonaRequest):
        if request.aspects:
            return None
        from .schema import PersonaSet

        return PersonaSet(personas=[summary_only_persona(request.summary, request.item_title)])

    def to_record(request: PersonaRequest, value):
        personas = list(value.personas)
        if len(personas) > limit:
            return None, f"{len(personas)} personas returned, more than the allowed {limit}", {}
        evidence = {pid: list(keys) for pid, keys in (getattr(value, "evidence", None) or {}).items()}
        unknown = set(evidence) - {p.id for p in personas}
        if unknown:
            return None, f"evidence names unknown persona id(s) {sorted(unknown)}", {}
        summary_only = not request.aspects
        record = PersonaRecord(
            item_id=request.item_id,
            mode="single" if single else "multi",
            personas=personas,
            summary_only=summary_only,
            evidence=evidence,
            backend="",
        ).model_dump()
        return record, None, {"flagged": int(summary_only)}

    name = "personas_single" if single else "personas"
    spec = _StageSpec(
        name,
        "personas",
        backend.generate_personas,
        to_record,
        local=local,
        config={"items": items, "max_personas": max_personas, "single": single},
    )
    return _execute(ws, backend, spec, units, options, notes)


# -- 4. profiles -----------------------------------------------------------------------------------


def _entry(row, summaries, aspects, titles) -> ProfileEntry:
    item_id = str(row.item_id)
    summary = summaries[item_id].summary if item_id in summaries else (titles.get(item_id) or item_id)
    record = aspects.get(review_key(str(row.user_id), item_id))
    return ProfileEntry(
        item_id=item_id,
        timestamp=int(row.timestamp),
        rating=_rating(row.rating),
        summary=summary,
        aspects=record.aspects if record is not None and record.kept else None,
    )


def train_histories(ws: Workspace, tables: Tables, user_ids: list[str] | None = None) -> dict[str, list[ProfileEntry]]:
    """Every user's TRAIN interactions as profile entries, oldest first (timestamp, then item id)."""
    summaries, aspects = load_summaries(ws), load_aspects(ws)
    titles = dict(zip(tables.items["item_id"].astype(str), tables.items["title"].astype(str)))
    train = tables.train
    if user_ids is not None:
        train = train[train["user_id"].isin(user_ids)]
    train = train.sort_values(["user_id", "timestamp", "item_id"])
    histories: dict[str, list[ProfileEntry]] = {}
    for row in train.itertuples(index=False):
        histories.setdefault(str(row.user_id), []).append(_entry(row, summaries, aspects, titles))
    return histories


def build_profiles(
    ws: Workspace, *, history_length: int = DEFAULT_HISTORY_LENGTH, users: int | None = None, **opts
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


# -- 5. alignment ----------------------------------------------------------------------------------


def _stand_in_personas(n: int = 4) -> list[Persona]:
    """Dry run only: personas of typical size when the personas stage has not run yet."""
    filler = " ".join(["word"] * 40)
    return [
        Persona(id=f"P{k}", name="stand-in persona", description=filler, preference_rationale=filler)
        for k in range(1, n + 1)
    ]


def run_alignment(
    ws: Workspace,
    backend,
    *,
    users: int | None = None,
    items: int | None = None,
    history_length: int = DEFAULT_HISTORY_LENGTH,
    **opts,
) -> StageReport:
    """Stage 5: for each training interaction (u, i), the persona of i that best explains the choice,
    judged from u's last L train interactions before i. With `items`, only interactions with the first N
    items (the subset the persona stage covered), so a dry run counts what a real run will do."""
    options = RunOptions.from_opts(opts)
    tables = load_tables(ws)
    personas = load_personas(ws)
    if not personas and not options.dry_run:
        raise WorkspaceError(f"{ws.root}: no personas; run `persona4rec offline personas {ws.root}` first")
    titles = dict(zip(tables.items["item_id"].astype(str), tables.items["title"].astype(str)))
    user_ids = first_ids(tables.reviews["user_id"], users)
    in_scope = set(first_ids(tables.items["item_id"], items)) if items is not None else None
    histories = train_histories(ws, tables, user_ids)
    units, without_personas = [], 0
    for user_id in sorted(histories):
        history = histories[user_id]
        for position, entry in enumerate(history):
            if in_scope is not None and entry.item_id not in in_scope:
                continue
            record = personas.get(entry.item_id)
            if record is None and not options.dry_run:
                without_personas += 1
                continue
            item_personas = record.personas if record is not None else _stand_in_personas()
            request = AlignmentRequest(
                user_id=user_id,
                item_id=entry.item_id,
                item_title=titles.get(entry.item_id, ""),
                profile=history[max(0, position - history_length) : position],
                personas=list(item_personas),
            )
            units.append(_Unit(request.key, request))

    def local(request: AlignmentRequest):
        if len(request.personas) != 1:
            return None
        from .schema import PersonaSelection

        return PersonaSelection(
            persona_id=request.personas[0].id,
            justification="The item has a single persona, so it explains every choice of it.",
        )

    def to_record(request: AlignmentRequest, value):
        ids = [p.id for p in request.personas]
        if value.persona_id not in ids:
            return None, f"picked persona id {value.persona_id!r}, not one of {ids}", {}
        return (
            AlignmentRecord(
                user_id=request.user_id,
                item_id=request.item_id,
                persona_id=value.persona_id,
                justification=value.justification,
                backend="",
            ).model_dump(),
            None,
            {},
        )

    spec = _StageSpec(
        "alignment",
        "align",
        backend.align,
        to_record,
        local=local,
        config={"users": users, "items": items, "history_length": history_length},
    )
    notes = {"interactions_without_personas": without_personas} if without_personas else None
    return _execute(ws, backend, spec, units, options, notes)


# -- the whole chain -------------------------------------------------------------------------------

STAGES = ("summaries", "aspects", "personas", "profiles", "alignment")


def run_all(
    ws: Workspace,
    backend,
    *,
    items: int | None = None,
    users: int | None = None,
    single: bool = False,
    max_personas: int = MAX_PERSONAS,
    history_length: int = DEFAULT_HISTORY_LENGTH,
    on_report: Callable[[StageReport], None] | None = None,
    **opts,
) -> list[StageReport]:
    """The five stages in order (with `single`, the single-persona index is built after the multi one);
    stops after a stage that was stopped (budget, LLM unavailable)."""
    runs: Sequence[Callable[[], StageReport]] = (
        lambda: run_summaries(ws, backend, items=items, **opts),
        lambda: run_aspects(ws, backend, items=items, users=users, **opts),
        lambda: run_personas(ws, backend, items=items, max_personas=max_personas, **opts),
        *([lambda: run_personas(ws, backend, single=True, items=items, **opts)] if single else []),
        lambda: build_profiles(ws, history_length=history_length, users=users, **opts),
        lambda: run_alignment(ws, backend, users=users, items=items, history_length=history_length, **opts),
    )
    reports = []
    for run in runs:
        report = run()
        reports.append(report)
        if on_report is not None:
            on_report(report)
        if report.stopped_reason:
            break
    return reports
