"""The "New workspace" page's side of the library: where uploads are kept, what a data file looks like before
its import (detected format, columns, first rows, a suggested column map), the import itself through the one
import path (data.importer.import_dataset) and the build's progress through pipeline.build_all.

A new workspace goes under the workspace home ($PERSONA4REC_HOME), where the sidebar picker finds it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, InputError
from ..io import atomic_path
from ..workspace import MANIFEST

if TYPE_CHECKING:
    import pandas as pd

    from ..data.formats import ImportRequest
    from ..pipeline import BuildConfig, BuildReport
    from ..workspace import Workspace

UPLOADS = ".uploads"  # under the home; hidden, so it is never listed as a workspace
AUTO = "auto"
TABLE_FORMATS = ("table", "recbole")  # the formats read through a column map
DATA_SUFFIXES = (".csv", ".tsv", ".tab", ".jsonl", ".ndjson", ".json", ".parquet", ".pq", ".inter", ".item")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def server_path(typed: str) -> Path:
    """A path typed into the page ("~" expanded)."""
    return Path(typed.strip()).expanduser()


def format_choices() -> list[str]:
    """The formats an import can be told to use (auto first), as `data import --format` knows them."""
    from ..data.formats import format_names

    return format_names()


def data_files(folder: str | Path) -> list[Path]:
    """The files in `folder` that an import can read (by extension, a trailing .gz looked through)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and _data_suffix(p))


def likely_roles(files: list[Path]) -> tuple[int, int | None]:
    """Positions in `files` of the likely reviews file and item metadata file (None: no metadata file), by
    name: "review", "rating", "interaction" or RecBole's .inter for the one, "meta", "item" or .item for
    the other (else the first file, and none)."""

    def position(words: tuple[str, ...], suffix: str) -> int | None:
        return next(
            (n for n, f in enumerate(files) if any(w in f.name.lower() for w in words) or suffix in f.suffixes),
            None,
        )

    reviews = position(("review", "rating", "interaction"), ".inter")
    reviews = 0 if reviews is None else reviews
    meta = position(("meta", "item", "product"), ".item")
    return reviews, (None if meta == reviews else meta)


def _data_suffix(path: Path) -> bool:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes.pop()
    return bool(suffixes) and suffixes[-1] in DATA_SUFFIXES


def save_upload(name: str, data: bytes, home: str | Path) -> Path:
    """Keep an uploaded file under HOME/.uploads/<content hash>/<name> (written atomically, once per
    content), so the import can read it by path and the manifest's input record stays valid."""
    safe = Path(name).name.strip() or "upload"
    if not _data_suffix(Path(safe)):
        raise InputError(
            "cannot tell the table format from the file name: name it .csv, .tsv, .jsonl or .parquet "
            "(or RecBole's .inter/.item), optionally followed by .gz",
            path=safe,
        )
    target = Path(home) / UPLOADS / hashlib.sha256(data).hexdigest()[:16] / safe
    if not target.is_file():
        with atomic_path(target) as tmp:
            tmp.write_bytes(data)
    return target


@dataclass
class SourcePreview:
    """What the page shows about a data file before its import."""

    path: Path
    detected: str | None  # the format `--format auto` would use; None when it cannot tell
    problem: str  # why the format could not be detected ("" when it was)
    kind: str  # csv, tsv, jsonl, parquet or recbole
    gzip: bool
    columns: list[str] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    column_map: dict[str, str] = field(default_factory=dict)  # suggested review columns
    meta_column_map: dict[str, str] = field(default_factory=dict)  # suggested item columns
    time_unit: str | None = None

    def rows_frame(self) -> pd.DataFrame:
        """The first rows as a table of text (nested values as written), for the preview."""
        import pandas as pd

        return pd.DataFrame([{c: _cell(r.get(c)) for c in self.columns} for r in self.rows], columns=self.columns)

    def summary(self) -> str:
        """'table (csv, gzip-compressed): 6 columns' or 'amazon2014 (JSON lines): 9 columns'."""
        kind = {"jsonl": "JSON lines", "recbole": "RecBole atomic file"}.get(self.kind, self.kind)
        packed = ", gzip-compressed" if self.gzip else ""
        return f"{self.detected or 'not detected'} ({kind}{packed}): {len(self.columns)} columns"


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


def preview_source(path: str | Path, rows: int = 5) -> SourcePreview:
    """Detect the format of a data file and read its first `rows` records (InputError when it cannot be
    read as a table at all: a missing file, no header, not Parquet)."""
    from ..data.formats import detect_format, preview_table

    path = Path(path)
    if not path.is_file():
        raise InputError("no such file", path=path)
    try:
        detected, problem = detect_format(path), ""
    except InputError as exc:
        detected, problem = None, str(exc)
    table = preview_table(path, rows)
    return SourcePreview(
        path=path,
        detected=detected,
        problem=problem,
        kind=table.kind,
        gzip=table.gzip,
        columns=list(table.columns),
        rows=list(table.rows),
        column_map=dict(table.column_map),
        meta_column_map=dict(table.meta_column_map),
        time_unit=table.time_unit,
    )


def review_keys() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(every review key a column map may name, the required ones)."""
    from ..data.loaders.table import REQUIRED_REVIEW_KEYS, REVIEW_KEYS

    return REVIEW_KEYS, REQUIRED_REVIEW_KEYS


def item_keys() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(every item key a metadata column map may name, the required ones)."""
    from ..data.loaders.table import ITEM_KEYS, REQUIRED_ITEM_KEYS

    return ITEM_KEYS, REQUIRED_ITEM_KEYS


def workspace_target(name: str, home: str | Path) -> Path:
    """HOME/NAME for a new workspace; a name that is not a plain folder name, or one taken, is refused."""
    name = name.strip()
    if not _NAME.fullmatch(name):
        raise ConfigError(
            f"workspace name {name!r}: use letters, digits, '.', '_' or '-' (at most 64, not starting with a dot)"
        )
    target = Path(home) / name
    if (target / MANIFEST).exists():
        raise ConfigError(f"a workspace named {name!r} already exists in {home}: choose another name")
    if target.exists():
        raise ConfigError(f"{target} exists and is not a workspace: choose another name")
    return target


def parse_rating_scale(text: str) -> tuple[float, float] | None:
    """'1,5' -> (1.0, 5.0); '' -> None (any finite rating)."""
    text = text.strip()
    if not text:
        return None
    low, sep, high = text.partition(",")
    try:
        if not sep:
            raise ValueError
        return float(low), float(high)
    except ValueError:
        raise ConfigError(f"rating scale {text!r}: expected LOW,HIGH, e.g. 1,5") from None


def import_request(
    reviews: str | Path,
    meta: str | Path | None = None,
    *,
    format: str = AUTO,
    column_map: Mapping[str, str] | None = None,
    meta_column_map: Mapping[str, str] | None = None,
    time_unit: str = AUTO,
    rating_scale: str = "",
    kcore: int = 5,
    skip_bad_lines: bool = False,
) -> ImportRequest:
    """What the form says, as the ImportRequest `persona4rec data import` would build: the column maps
    (empty choices left out) only for the formats read through one."""
    from ..data.formats import ImportConfig, ImportRequest

    mapped = format in TABLE_FORMATS
    config = ImportConfig(
        format=format,
        kcore=int(kcore),
        skip_bad_lines=skip_bad_lines,
        column_map={k: c for k, c in (column_map or {}).items() if c} if mapped else None,
        meta_column_map={k: c for k, c in (meta_column_map or {}).items() if c} if mapped and meta else None,
        time_unit=time_unit if mapped else AUTO,
        rating_scale=parse_rating_scale(rating_scale) if mapped else None,
    )
    return ImportRequest(reviews=Path(reviews), meta=Path(meta) if meta else None, config=config)


def import_workspace(request: ImportRequest, out: str | Path) -> Workspace:
    """Import through data.importer.import_dataset (nothing is left at `out` when it fails)."""
    from ..data.importer import import_dataset

    return import_dataset(request, out)[0]


def import_summary(ws: Workspace) -> str:
    """The `persona4rec data stats` text of a workspace."""
    from ..data.stats import format_stats, workspace_stats

    return format_stats(workspace_stats(ws))


# -- the build -------------------------------------------------------------------------------------


@dataclass
class BuildProgress:
    """Follows build_all's echo lines ("[step] ..." when a step starts, "[step] note (x s)" when it ends)
    and tells `on_change(fraction done, what is running)` after each."""

    steps: list[str]
    on_change: Callable[[float, str], None] = lambda fraction, text: None
    finished: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)

    @classmethod
    def for_build(cls, on_change: Callable[[float, str], None]) -> BuildProgress:
        from ..pipeline import STEPS

        return cls([name for name, _ in STEPS], on_change)

    def echo(self, line: str) -> None:
        self.lines.append(line)
        step = next((s for s in self.steps if line.startswith(f"[{s}]")), None)
        if step is None:
            return
        if line.endswith("..."):
            position = self.steps.index(step) + 1
            text = f"step {position} of {len(self.steps)}: {step} ..."
        else:
            if step not in self.finished:
                self.finished.append(step)
            text = f"{step} done" if len(self.finished) < len(self.steps) else "built"
        self.on_change(len(self.finished) / len(self.steps), text)


def build_imported(
    root: str | Path, config: BuildConfig, on_change: Callable[[float, str], None]
) -> tuple[BuildReport, BuildProgress]:
    """Every build step on an imported workspace (pipeline.build_all: resumable, each step skips what is
    done), reporting progress per step."""
    from ..pipeline import build_all

    tracker = BuildProgress.for_build(on_change)
    report = build_all(root, config=config, progress=False, echo=tracker.echo)
    return report, tracker


def build_report_frame(report: BuildReport) -> pd.DataFrame:
    """One row per step of the build: its name, seconds and what it did."""
    import pandas as pd

    rows = [{"step": s.name, "seconds": round(s.seconds, 1), "note": s.note} for s in report.steps]
    return pd.DataFrame(rows, columns=["step", "seconds", "note"])
