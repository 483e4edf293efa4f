"""Offline throughput by engine: `persona4rec offline bench-engine WS --workers 1,2`.

The whole offline chain (`stages.run_all`) runs once on the local engine and once on the Ray engine per
worker count, each time in a fresh scratch copy of the workspace's data (the workspace's own records are
never touched), timed per stage. Each Ray run's records are compared with the local run's, byte for byte.
The report goes to WS/reports/offline_engine.json; what it holds is in `bench_engines`' docstring.

Seconds are wall-clock on this machine and include, for Ray, each stage's actor start (a worker imports
the backend and loads the encoder once per stage); Ray's own start is reported apart (`ray_start_s`).
The load average before and after each run is recorded: figures taken while other work shares the CPUs
are slower than on a quiet machine.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..io import read_json, write_json
from ..workspace import Workspace
from .records import STAGE_FILES, stage_path

log = logging.getLogger(__name__)

REPORT_FILE = "offline_engine.json"
COMPARED = ("summaries", "aspects", "personas", "profiles", "alignment")


def scratch_copy(ws: Workspace, root: Path) -> Workspace:
    """A new workspace at `root` with `ws`'s data and manifest but no offline stage, cache or model."""
    root.mkdir(parents=True)
    shutil.copytree(ws.data_dir, root / "data")
    for sub in ("offline", "encoder", "index", "candidates", "reports"):
        (root / sub).mkdir()
    manifest = read_json(ws.manifest_path)
    manifest["stages"] = {name: info for name, info in manifest.get("stages", {}).items() if name == "data"}
    write_json(root / "manifest.json", manifest)
    return Workspace.open(root)


def _records(ws: Workspace) -> dict[str, bytes]:
    return {name: stage_path(ws, name).read_bytes() for name in COMPARED if stage_path(ws, name).exists()}


def _load() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def _one_run(ws: Workspace, make_backend: Callable, engine, run_opts: dict) -> tuple[list, float]:
    from .stages import run_all

    backend = make_backend(ws)
    t0 = time.perf_counter()
    reports = run_all(ws, backend, engine=engine, progress=False, **run_opts)
    return reports, time.perf_counter() - t0


def bench_engines(
    ws: Workspace,
    make_backend: Callable[[Workspace], Any],
    workers: Sequence[int] = (1, 2),
    *,
    address: str | None = None,
    items: int | None = None,
    users: int | None = None,
    batch_size: int | None = None,
    say: Callable[[str], None] = log.info,
) -> dict[str, Any]:
    """Run the offline chain on the local engine, then on Ray with each of `workers`, and report:

    runs[]: engine ("local" / "ray"), workers, seconds (the chain), ray_start_s, load_before/after (1, 5 and
    15-minute load averages), stages {stage: {units, seconds, units_per_s}}, units (all stages),
    units_per_s, identical_to_local {stage file: bool} and identical (all of them).
    speedup: the chain's seconds with the fewest Ray workers over each Ray run's (ray_<n>: x)."""
    from .ray_engine import RayEngine

    run_opts = {"items": items, "users": users, "batch_size": batch_size}
    report: dict[str, Any] = {
        "workspace": str(ws.root),
        "items": items,
        "users": users,
        "batch_size": batch_size,
        "cpus": os.cpu_count(),
        "runs": [],
    }
    reference: dict[str, bytes] | None = None
    with tempfile.TemporaryDirectory(prefix="p4r-bench-engine-") as tmp:
        for n, count in enumerate([None, *workers]):
            scratch = scratch_copy(ws, Path(tmp) / f"run{n}")
            load_before = _load()
            ray_start = 0.0
            if count is None:
                reports, seconds = _one_run(scratch, make_backend, None, run_opts)
            else:
                t0 = time.perf_counter()
                with RayEngine(address=address, workers=count) as engine:
                    ray_start = time.perf_counter() - t0
                    reports, seconds = _one_run(scratch, make_backend, engine, run_opts)
            run = _run_row("local" if count is None else "ray", count, reports, seconds, ray_start)
            run.update(load_before=load_before, load_after=_load())
            records = _records(scratch)
            if reference is None:
                reference = records
            run["identical_to_local"] = {name: records.get(name) == reference.get(name) for name in reference}
            run["identical"] = all(run["identical_to_local"].values()) and records.keys() == reference.keys()
            report["runs"].append(run)
            say(_line(run))
            shutil.rmtree(scratch.root)
    ray_runs = [r for r in report["runs"] if r["engine"] == "ray"]
    if ray_runs:
        base = ray_runs[0]["seconds"]
        report["speedup"] = {f"ray_{r['workers']}": round(base / r["seconds"], 3) for r in ray_runs}
    write_json(ws.reports_dir / REPORT_FILE, report)
    return report


def _run_row(engine: str, workers: int | None, reports, seconds: float, ray_start: float) -> dict[str, Any]:
    stages = {
        r.stage: {
            "units": r.done,
            "seconds": round(r.seconds, 3),
            "units_per_s": round(r.done / r.seconds, 2) if r.seconds else None,
        }
        for r in reports
    }
    units = sum(s["units"] for s in stages.values())
    return {
        "engine": engine,
        "workers": workers,
        "seconds": round(seconds, 3),
        "ray_start_s": round(ray_start, 3),
        "stages": stages,
        "units": units,
        "units_per_s": round(units / seconds, 2) if seconds else None,
        "stopped": [r.stage for r in reports if r.stopped_reason],
    }


def _line(run: dict[str, Any]) -> str:
    label = "local" if run["engine"] == "local" else f"ray x{run['workers']}"
    stages = " ".join(f"{name}={s['seconds']:.1f}s" for name, s in run["stages"].items() if name in STAGE_FILES)
    same = "" if run["engine"] == "local" else f"; records identical to local: {run['identical']}"
    return f"{label}: {run['units']} units in {run['seconds']:.1f}s ({run['units_per_s']} units/s; {stages}){same}"
