"""run_bench: the whole bench, in order (inputs, accuracy rows, tables, latency, the LLM baseline, report)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict

from ...io import write_json
from ...workspace import Workspace
from .accuracy import accuracy
from .config import BenchConfig, BenchResult
from .figures import bench_figures
from .inputs import ensure_inputs
from .listwise import llm_baseline
from .report import json_records, jsonable, latency_note, tuning_text, write_bench_report
from .tables import build_tables, latency_tables
from .timing import measure_latency, measure_parts

log = logging.getLogger(__name__)


def run_bench(ws: Workspace, config: BenchConfig | None = None, say: Callable[[str], None] = log.info) -> BenchResult:
    """Run the bench on `ws`; say: where progress lines go (the CLI prints them)."""
    import pandas as pd

    config = config or BenchConfig()
    config.validate()
    if config.only:
        return run_parts(ws, config, say)
    started = time.perf_counter()
    encoders = ensure_inputs(ws, config, say)
    grid, tuning, primary = accuracy(ws, config, encoders, say)
    accuracy_frame = pd.DataFrame(grid.rows)
    segments_frame = pd.DataFrame(grid.segment_rows)
    tables = build_tables(accuracy_frame, segments_frame, config.ks, encoders[-1])

    first = config.generators[0]
    users, lists, scores = grid.lists[first]
    latency = measure_latency(primary[first], users, lists, config, say)
    llm = llm_baseline(
        ws,
        config,
        primary[first],
        users,
        lists,
        scores,
        latency["reranker"]["single_rerank"]["p50_ms"],
        grid.split_frame,
        say,
    )
    latency["llm_listwise"] = llm
    write_json(ws.reports_dir / "latency.json", latency)
    latency_tabs = latency_tables(latency, llm)

    metrics = {
        "config": {**asdict(config), "latency": asdict(config.latency)},
        "encoders": encoders,
        "accuracy": json_records(accuracy_frame),
        "segments@10": json_records(segments_frame),
        "segment_sizes": {g: grid.baselines[g].segment_sizes for g in config.generators},
        "tuning": jsonable(tuning),
        "serving": grid.serving,
        "latency": latency,
        "llm_listwise": llm,
        "seconds": round(time.perf_counter() - started, 1),
    }
    figures = bench_figures(accuracy_frame, latency)
    report = write_bench_report(ws, tables, latency_tabs, metrics, figures, tuning_text(tuning))
    return BenchResult(
        accuracy=accuracy_frame,
        segments=segments_frame,
        tuning=tuning,
        latency=latency,
        llm=llm,
        encoders=encoders,
        report_path=str(report),
        tables={**tables, **latency_tabs},
    )


def run_parts(ws: Workspace, config: BenchConfig, say: Callable[[str], None]) -> BenchResult:
    """`bench --only ...`: just those latency parts, merged into latency.json and the report's latency
    section (the accuracy tables and sections are left as they are)."""
    import pandas as pd

    from ..report import ReportSection, write_report
    from .figures import latency_figures

    latency = measure_parts(ws, config, say)
    write_json(ws.reports_dir / "latency.json", latency)
    llm = latency.get("llm_listwise", {})
    tables = latency_tables(latency, llm)
    section = ReportSection(
        key="bench-latency",
        title="Bench: latency and scale (Table 7, Figure 4)",
        text=latency_note(latency),
        tables=list(tables.items()),
        figures=latency_figures(latency),
    )
    report = write_report(ws, [section])
    empty = pd.DataFrame()
    return BenchResult(empty, empty, {}, latency, llm, [], str(report), tables)
