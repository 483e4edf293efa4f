"""Reports: reports/metrics.json (merged by key), reports/report.md (one section per key) and figures.

    write_report(ws, [ReportSection(key="cf", title="First-stage generators", tables=[...], figures=[...],
                                    metrics={...})])

Several commands write reports into the same workspace (evaluate, bench, ...), so nothing here replaces
another writer's work: metrics are merged under each section's key (other keys untouched), each
section's markdown is kept in reports/sections/<key>.md, and report.md is rebuilt from all sections in
the order they first appeared. A file lock serialises concurrent writers; every file is written atomically.
Figures are plotly HTML files in reports/figures/ sharing one local plotly.js (viewable offline).
"""

from __future__ import annotations

import contextlib
import fcntl
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..io import atomic_path, read_json, write_json, write_text
from ..workspace import Workspace, utc_now

METRICS_FILE = "metrics.json"
REPORT_FILE = "report.md"


@dataclass
class ReportSection:
    key: str  # metrics.json key and section id (letters, digits, - _ . :)
    title: str
    text: str = ""  # markdown paragraph(s) under the title
    tables: list[tuple[str, Any]] = field(default_factory=list)  # (caption, DataFrame)
    figures: list[tuple[str, Any]] = field(default_factory=list)  # (name, plotly Figure)
    metrics: dict[str, Any] | None = None


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "section"


@contextlib.contextmanager
def reports_lock(ws: Workspace) -> Iterator[None]:
    ws.reports_dir.mkdir(parents=True, exist_ok=True)
    with open(ws.reports_dir / ".lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def read_metrics(ws: Workspace) -> dict[str, Any]:
    path = ws.reports_dir / METRICS_FILE
    return read_json(path) if path.exists() else {}


def _deep_merge(into: dict, new: dict) -> dict:
    for key, value in new.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _deep_merge(into[key], value)
        else:
            into[key] = value
    return into


def merge_metrics(ws: Workspace, key: str | tuple[str, ...], value: Any) -> dict[str, Any]:
    """Set metrics.json[key...] = value (dicts merged recursively), leaving every other key alone."""
    path_keys = (key,) if isinstance(key, str) else tuple(key)
    with reports_lock(ws):
        metrics = read_metrics(ws)
        node = metrics
        for part in path_keys[:-1]:
            if not isinstance(node.get(part), dict):
                node[part] = {}
            node = node[part]
        last = path_keys[-1]
        if isinstance(value, dict) and isinstance(node.get(last), dict):
            _deep_merge(node[last], value)
        else:
            node[last] = value
        write_json(ws.reports_dir / METRICS_FILE, metrics)
    return metrics


def markdown_table(frame, floatfmt: str = ".4f") -> str:
    """A GitHub markdown table of a DataFrame (index included when it is named or not a RangeIndex)."""
    import pandas as pd

    if not isinstance(frame.index, pd.RangeIndex) or frame.index.name:
        frame = frame.reset_index()

    def cell(v: Any) -> str:
        if isinstance(v, float):
            return "" if v != v else format(v, floatfmt)
        return str(v).replace("|", "\\|")

    header = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "| " + " | ".join("---" for _ in frame.columns) + " |"
    rows = ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *rows])


def _section_markdown(section: ReportSection, figure_paths: list[Path], reports_dir: Path) -> str:
    parts = [f"## {section.title}", ""]
    if section.text:
        parts += [section.text.strip(), ""]
    for caption, table in section.tables:
        if caption:
            parts += [f"**{caption}**", ""]
        parts += [markdown_table(table), ""]
    for path in figure_paths:
        parts += [f"Figure: [{path.stem}]({path.relative_to(reports_dir).as_posix()})", ""]
    return "\n".join(parts)


def write_report(ws: Workspace, sections: list[ReportSection]) -> Path:
    """Merge each section into metrics.json, save its figures and markdown, rebuild report.md."""
    reports = ws.reports_dir
    figures_dir = reports / "figures"
    sections_dir = reports / "sections"
    for section in sections:
        figure_paths = []
        for name, figure in section.figures:
            figures_dir.mkdir(parents=True, exist_ok=True)
            target = figures_dir / f"{slug(section.key)}--{slug(name)}.html"
            # "directory" writes plotly.min.js once beside the figures: small files that open offline.
            with atomic_path(target) as tmp:
                figure.write_html(str(tmp), include_plotlyjs="directory", full_html=True)
            figure_paths.append(target)
        if section.metrics is not None:
            merge_metrics(ws, section.key, section.metrics)
        with reports_lock(ws):
            write_text(sections_dir / f"{slug(section.key)}.md", _section_markdown(section, figure_paths, reports))
            order_path = sections_dir / "order.json"
            order = read_json(order_path) if order_path.exists() else []
            if slug(section.key) not in order:
                order.append(slug(section.key))
                write_json(order_path, order)
    return rebuild_report(ws)


def rebuild_report(ws: Workspace) -> Path:
    sections_dir = ws.reports_dir / "sections"
    with reports_lock(ws):
        order_path = sections_dir / "order.json"
        order = read_json(order_path) if order_path.exists() else []
        body = [f"# Persona4Rec report: {ws.name}", "", f"_Updated {utc_now()}. Numbers are in metrics.json._", ""]
        for key in order:
            path = sections_dir / f"{key}.md"
            if path.exists():
                body.append(path.read_text(encoding="utf-8"))
        target = ws.reports_dir / REPORT_FILE
        write_text(target, "\n".join(body).rstrip() + "\n")
    return target
