"""From loaded frames to a workspace: clean, k-core, split, write; and reading the tables back.

`build_workspace` is the one way data tables enter a workspace (real datasets, the demo catalogue, the
authors' artifacts). It writes inside `Workspace.create`, so a failure at any step leaves no workspace and
no staging folder behind. The manifest's "data" stage records the source, the config and the counts.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

from ..errors import InputError, WorkspaceError
from ..io import sha256_file, write_json, write_parquet
from ..workspace import Workspace
from .cleaning import clean_items, clean_reviews
from .kcore import kcore as kcore_filter
from .schema import SPLIT_DTYPES, as_items, as_reviews, empty_items, items_from_disk, items_to_disk
from .split import leave_one_out

log = logging.getLogger(__name__)

STAGE = "data"
REVIEW_FILE, ITEM_FILE, SPLIT_FILE, REPORT_FILE = (
    "reviews.parquet",
    "items.parquet",
    "split.parquet",
    "import_report.json",
)
_REQUIRED_REVIEW_COLUMNS = ("user_id", "item_id", "rating", "timestamp")
_TABLE_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_RESERVED = {"reviews", "items", "split"}


def _counts(reviews) -> dict[str, int]:
    return {
        "interactions": int(len(reviews)),
        "users": int(reviews["user_id"].nunique()),
        "items": int(reviews["item_id"].nunique()),
    }


def _check_frames(reviews, extra_tables: dict[str, Any]) -> None:
    missing = [c for c in _REQUIRED_REVIEW_COLUMNS if c not in reviews.columns]
    if missing:
        raise InputError(f"reviews table lacks column(s) {missing}", field=missing[0])
    if len(reviews) == 0:
        raise InputError("no reviews to import")
    for name in extra_tables:
        if not _TABLE_NAME.match(name) or name in _RESERVED:
            raise InputError(f"extra table name {name!r} must be lower_snake_case and not one of {sorted(_RESERVED)}")


def _items_for(reviews, items) -> tuple[Any, int]:
    """Exactly one item row per reviewed item, in first-review order; items without metadata get empty rows."""
    import pandas as pd

    items = as_items(items).drop_duplicates("item_id", keep="first")
    wanted = pd.DataFrame({"item_id": reviews["item_id"].drop_duplicates().astype("string")})
    merged = wanted.merge(items, on="item_id", how="left")
    without_meta = int(merged["title"].isna().sum())
    return as_items(merged), without_meta


def _check_target(out: Path, overwrite: bool) -> None:
    """--overwrite replaces a workspace, never an unrelated non-empty folder that happens to be at --out."""
    if overwrite and out.is_dir() and not (out / "manifest.json").exists() and any(out.iterdir()):
        raise WorkspaceError(f"{out}: exists and is not a workspace (no manifest.json); refusing to replace it")


def _input_entries(inputs: list[Path]) -> list[dict[str, Any]]:
    entries = []
    for path in inputs:
        path = Path(path)
        entries.append({"path": str(path.resolve()), "bytes": path.stat().st_size, "sha256": sha256_file(path)})
    return entries


def prepare_tables(reviews, items, *, kcore: int = 5) -> tuple[Any, Any, Any, dict[str, Any]]:
    """Clean, k-core and split in memory: (reviews, items, split, report). No files are touched."""
    raw_counts = _counts(reviews)
    cleaned, review_cleaning = clean_reviews(reviews)
    cored, core_report = kcore_filter(cleaned, kcore)
    if cored.empty:
        raise InputError(
            f"nothing survives the {kcore}-core ({raw_counts['interactions']} interactions, "
            f"{raw_counts['users']} users, {raw_counts['items']} items before): "
            f"lower --kcore (0 turns it off)"
        )
    item_rows, without_meta = _items_for(cored, items if items is not None else empty_items())
    item_rows, item_cleaning = clean_items(item_rows)
    split, split_counts = leave_one_out(cored)
    report = {
        "counts_before": raw_counts,
        "counts_after_dedup": _counts(cleaned),
        "counts_after": _counts(cored),
        "cleaning": {"reviews": review_cleaning, "items": item_cleaning},
        "items_without_metadata": without_meta,
        "kcore": core_report.as_dict(),
        "split": split_counts,
    }
    return as_reviews(cored), item_rows, split, report


def build_workspace(
    out: str | Path,
    reviews,
    items,
    *,
    kcore: int = 5,
    report: dict[str, Any],
    inputs: list[Path],
    source: str,
    extra_tables: dict[str, Any] | None = None,
    overwrite: bool = False,
) -> Workspace:
    """Clean, k-core and split `reviews`/`items`, and write them as a new workspace at `out`.

    `reviews` rows are in file order (the duplicate tie-break uses it); `items` may lack some reviewed
    items (they get empty metadata) and may hold unreviewed ones (dropped). `report` (the loader's:
    format, files, bad lines) is extended with what cleaning, k-core and split did and written as
    data/import_report.json. `extra_tables` become data/<name>.parquet as given (e.g. planted truth).
    """
    extra_tables = dict(extra_tables or {})
    _check_target(Path(out), overwrite)
    _check_frames(reviews, extra_tables)
    if kcore < 0:
        raise InputError(f"kcore must be >= 0, got {kcore}", field="kcore")
    reviews_out, items_out, split, prepared = prepare_tables(reviews, items, kcore=kcore)
    full_report = {**report, "source": source, **prepared}
    manifest = {
        "source": source,
        "inputs": _input_entries(list(inputs)),
        "config": {"data": {"kcore": kcore, "source": source}},
        "counts": {"before": prepared["counts_before"], "after": prepared["counts_after"]},
    }
    with Workspace.create(out, overwrite=overwrite, manifest=manifest) as ws:
        with ws.stage(STAGE, kcore=kcore, source=source) as info:
            write_parquet(ws.data_dir / REVIEW_FILE, reviews_out)
            write_parquet(ws.data_dir / ITEM_FILE, items_to_disk(items_out))
            write_parquet(ws.data_dir / SPLIT_FILE, split)
            for name, table in extra_tables.items():
                write_parquet(ws.data_dir / f"{name}.parquet", table)
            write_json(ws.data_dir / REPORT_FILE, full_report)
            info["counts"] = {
                **prepared["counts_after"],
                **prepared["split"],
                "bad_lines_skipped": int(report.get("bad_lines_skipped", 0)),
            }
    log.info(
        "workspace %s: %s before, %s after cleaning and the %d-core",
        out,
        prepared["counts_before"],
        prepared["counts_after"],
        kcore,
    )
    return ws


def import_dataset(request, out: str | Path, *, overwrite: bool = False) -> tuple[Workspace, str]:
    """Read a dataset as `request` (a formats.ImportRequest) says and write it as a new workspace at `out`:
    what `persona4rec data import` and `persona4rec build --data` do. Returns (workspace, source)."""
    from .formats import load_dataset

    dataset = load_dataset(request)
    ws = build_workspace(
        out,
        dataset.reviews,
        dataset.items,
        kcore=request.config.kcore,
        report=dataset.report,
        inputs=dataset.inputs,
        source=dataset.source,
        extra_tables=dataset.extra_tables,
        overwrite=overwrite,
    )
    return ws, dataset.source


def load_workspace_tables(ws: Workspace | str | Path) -> tuple[Any, Any, Any]:
    """(reviews, items, split) of a workspace with the canonical dtypes (items' attributes as dicts)."""
    import pandas as pd

    ws = ws if isinstance(ws, Workspace) else Workspace.open(ws)
    paths = [ws.data_dir / name for name in (REVIEW_FILE, ITEM_FILE, SPLIT_FILE)]
    missing = [p.name for p in paths if not p.exists()]
    if missing:
        raise WorkspaceError(
            f"{ws.root}: data tables missing ({', '.join(missing)}); "
            f"run `persona4rec data import ... --out {ws.root}` first"
        )
    reviews = as_reviews(pd.read_parquet(paths[0]))
    items = items_from_disk(pd.read_parquet(paths[1]))
    split = pd.read_parquet(paths[2])[list(SPLIT_DTYPES)].astype(SPLIT_DTYPES)
    return reviews, items, split


def load_import_report(ws: Workspace) -> dict[str, Any]:
    from ..io import read_json

    path = ws.data_dir / REPORT_FILE
    return read_json(path) if path.exists() else {}
