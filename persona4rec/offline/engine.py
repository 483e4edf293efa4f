"""The resumable batch engine every backend-driven offline stage runs on, and the report it returns.

A stage describes itself as a `StageSpec` (its records file, the backend method it calls, how a value
becomes a record) and a list of `Unit`s (a key and the backend's input). `execute` skips the units whose
records are already on disk (and, unless `retry_failed=True`, the ones recorded as failed), hands the rest
to an engine in batches, and appends each batch's records (and failures) at once, in batch order. A crash,
even kill -9, therefore loses at most the batches in flight, and a re-run does only the missing units.

Engines differ only in where `batch_results` (a batch's values, the pure part of a stage) runs: `LOCAL`
runs it here, batch after batch; `offline.ray_engine.RayEngine` maps it over Ray Data batches on a
cluster's workers. Building units, turning values into records, writing records and failures, skipping
what is done and stopping cleanly stay here, in the driver, so both write the same files.

Options every backend-driven stage accepts (`**opts`, parsed by `RunOptions.from_opts`):
    batch_size     units per backend call (default: the backend's `batch_size`, else 32)
    dry_run        build the units and estimate usage with `backend.estimate(task, inputs)`; call and write nothing
    retry_failed   also run units recorded in offline/failures.jsonl
    overwrite      the stage file holds another backend's records: start the stage over (else an error)
    progress       show a tqdm bar (default True)
    engine         where batches run: None = LOCAL (this process), or a RayEngine

BudgetExceeded / LLMUnavailable stop the stage after every finished unit is persisted; the manifest records
status "stopped" with the reason, and pending units are NOT recorded as failed.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ..errors import BudgetExceeded, ConfigError, LLMUnavailable, WorkspaceError
from ..io import write_jsonl
from ..llm.usage import Usage
from ..workspace import Workspace
from .backend import UnitResult
from .records import append_records, failures_path, load_failures, read_raw, stage_path
from .schema import FailureRecord

DEFAULT_BATCH_SIZE = 32
BatchOutcome = tuple[list["Unit"], dict[str, UnitResult]]  # a batch and its results by key, as engines yield them


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


# -- options and scope -----------------------------------------------------------------------------


@dataclass
class RunOptions:
    batch_size: int | None = None
    dry_run: bool = False
    retry_failed: bool = False
    overwrite: bool = False
    progress: bool = True
    engine: Any = None  # None: LOCAL

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


def first_ids(values: Iterable[str], n: int | None) -> list[str]:
    """The subset rule: the first N ids in sorted order (all when n is None)."""
    ids = sorted(set(values))
    if n is None:
        return ids
    if n < 1:
        raise ConfigError(f"a subset size must be at least 1, got {n}")
    return ids[:n]


# -- units and stage specs -------------------------------------------------------------------------


@dataclass
class Unit:
    key: str
    payload: Any


@dataclass
class StageSpec:
    name: str  # manifest stage name and records file key
    task: str  # backend.estimate task
    method: str  # the backend method called over a batch of payloads ("summarize", ...)
    to_record: Callable[[Any, Any], tuple[dict | None, str | None, dict[str, int]]]
    # ^ (payload, value) -> (record, failure reason, count increments)
    local: Callable[[Any], Any] | None = None  # payload -> value without a backend call, or None
    config: dict[str, Any] = field(default_factory=dict)


def _backend_name(backend) -> str:
    return getattr(backend, "name", type(backend).__name__)


# -- what is already done --------------------------------------------------------------------------


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


# -- running a stage -------------------------------------------------------------------------------


def execute(
    ws: Workspace, backend, spec: StageSpec, units: list[Unit], opts: RunOptions, notes: dict[str, Any] | None = None
) -> StageReport:
    """Run `spec` over the `units` not done yet (a dry run only estimates them); see the module docstring."""
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
    engine = opts.engine or LOCAL
    with ws.stage(spec.name, backend=name, **spec.config) as info:
        info["engine"] = engine.describe()
        try:
            _run_batches(ws, backend, spec, pending, batch_size, opts.progress, report, engine)
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
    ws,
    backend,
    spec: StageSpec,
    pending: list[Unit],
    batch_size: int,
    progress: bool,
    report: StageReport,
    engine,
) -> None:
    from tqdm.auto import tqdm

    name = _backend_name(backend)
    out_path = stage_path(ws, spec.name)
    batches = [pending[start : start + batch_size] for start in range(0, len(pending), batch_size)]
    with tqdm(total=len(pending), desc=spec.name, unit="unit", disable=not progress, leave=False) as bar:
        for batch, results in engine.map_batches(backend, spec, batches):
            records, failures = [], []
            for unit in batch:
                record, failure = _outcome(spec, unit, results.get(unit.key), name, report)
                if record is not None:
                    records.append(record)
                else:
                    failures.append(failure)
            append_records(out_path, records)
            if failures:
                append_records(failures_path(ws), failures)
            report.done += len(records)
            report.failed += len(failures)
            bar.update(len(batch))


def _outcome(
    spec: StageSpec, unit: Unit, result: UnitResult | None, backend_name: str, report: StageReport
) -> tuple[dict | None, dict | None]:
    """One unit's record, or its failure record; usage and the stage's counters go into `report`."""
    if result is None:
        return None, _failure(spec.name, unit.key, "the backend returned no result for this unit", None, backend_name)
    report.usage.add(result.usage)
    if not result.ok:
        return None, _failure(spec.name, unit.key, result.error or "no value", result.raw, backend_name)
    record, reason, increments = spec.to_record(unit.payload, result.value)
    if record is None:
        return None, _failure(spec.name, unit.key, reason or "invalid value", result.raw, backend_name)
    record["backend"] = backend_name
    for counter, n in increments.items():
        setattr(report, counter, getattr(report, counter) + n)
    return record, None


def batch_results(backend, method: str, local: Callable[[Any], Any] | None, batch: list[Unit]) -> dict[str, UnitResult]:
    """One batch's results by unit key: the units the stage answers itself (`local`), the rest from one call
    of the backend's `method`. What every engine runs per batch, wherever it runs."""
    results = {}
    if local is not None:
        for unit in batch:
            value = local(unit.payload)
            if value is not None:
                results[unit.key] = UnitResult(key=unit.key, value=value)
    remote = [u for u in batch if u.key not in results]
    if remote:
        for result in getattr(backend, method)([u.payload for u in remote]):
            results[result.key] = result
    return results


class LocalEngine:
    """Batches run here, one after another, on the driver's backend."""

    def describe(self) -> dict[str, Any]:
        return {"name": "local"}

    def map_batches(self, backend, spec: StageSpec, batches: list[list[Unit]]) -> Iterator[BatchOutcome]:
        for batch in batches:
            yield batch, batch_results(backend, spec.method, spec.local, batch)


LOCAL = LocalEngine()


def _failure(stage: str, key: str, reason: str, raw: str | None, backend: str) -> dict:
    return FailureRecord(stage=stage, key=key, reason=reason, raw=raw, backend=backend).model_dump()
