"""Which loader reads which files: the format registry, auto-detection and the typed import config.

Built-in formats: amazon2014, amazon2018, amazon2023, yelp (each knows its rating scale, 1-5), table (any
CSV/TSV/JSON-lines/Parquet table through a column map) and recbole (RecBole's atomic files). Other modules
add their own with `register_format(name, loader)` (e.g. the paper authors' artifact files): a loader takes
an `ImportRequest` and returns a `LoadedDataset`. `--format auto` reads .csv/.tsv/.parquet files as tables
and .inter files as RecBole's; for JSON lines it looks at the first records and picks the built-in format
whose fields they carry.

From Python (what the CLI does, and what the app's import page can do):

    config = ImportConfig(format="table", column_map={"user_id": "customer", "item_id": "sku",
                          "rating": "stars", "timestamp": "when"}, meta_column_map={"title": "name"})
    ws, source = importer.import_dataset(ImportRequest(reviews=path, meta=items_path, config=config), out)

and `preview_table(path)` gives a file's kind, columns, first rows and a suggested column map beforehand.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ConfigError, InputError
from .fields import TIME_UNITS
from .loaders.common import LoadedDataset
from .reading import peek_records

TABLE_FORMATS = ("table", "recbole")


def parse_column_map(text: str | dict[str, str] | None, what: str = "--map") -> dict[str, str]:
    """ "user_id=uid,item_id=sku" (or a dict, as a TOML table gives it) -> {"user_id": "uid", "item_id": "sku"}."""
    if text is None:
        return {}
    if isinstance(text, dict):
        pairs = list(text.items())
    else:
        pairs = []
        for part in (p.strip() for p in text.split(",")):
            if not part:
                continue
            key, sep, column = part.partition("=")
            if not sep:
                raise ConfigError(f"{what}: expected KEY=COLUMN pairs separated by commas, found {part!r}")
            pairs.append((key, column))
    mapping: dict[str, str] = {}
    for key, column in pairs:
        key, column = str(key).strip(), str(column).strip()
        if not key or not column:
            raise ConfigError(f"{what}: empty key or column in {key}={column}")
        if key in mapping:
            raise ConfigError(f"{what}: {key} is mapped twice")
        mapping[key] = column
    return mapping


@dataclass
class ImportConfig:
    """`[data]` section / PERSONA4REC_DATA_* variables / `data import` flags."""

    format: str = "auto"
    kcore: int = 5  # users and items each keep >= kcore interactions; 0 turns filtering off
    skip_bad_lines: bool = False
    city: str | None = None  # Yelp only
    category: str | None = None  # Yelp only
    # table / recbole only: canonical field -> column, as a dict or as "user_id=uid,item_id=sku" (--map,
    # --meta-map); how timestamps are written (--time-unit: auto, s, ms or iso); ratings outside
    # (low, high) are bad values (--rating-scale LOW,HIGH; None: any finite number)
    column_map: dict[str, str] | str | None = None
    meta_column_map: dict[str, str] | str | None = None
    time_unit: str = "auto"
    rating_scale: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        self.column_map = parse_column_map(self.column_map, "--map")
        self.meta_column_map = parse_column_map(self.meta_column_map, "--meta-map")
        if self.time_unit not in TIME_UNITS:
            raise ConfigError(f"time unit {self.time_unit!r}: expected one of {', '.join(TIME_UNITS)}")
        if self.rating_scale is not None:
            scale = tuple(float(x) for x in self.rating_scale)
            if len(scale) != 2 or not scale[0] <= scale[1]:
                raise ConfigError(f"rating scale {self.rating_scale!r}: expected LOW,HIGH with LOW <= HIGH")
            self.rating_scale = scale


@dataclass
class ImportRequest:
    reviews: Path
    meta: Path | None = None
    business: Path | None = None
    config: ImportConfig = field(default_factory=ImportConfig)


Loader = Callable[[ImportRequest], LoadedDataset]


def _amazon(module_name: str) -> Loader:
    def load(request: ImportRequest) -> LoadedDataset:
        import importlib

        module = importlib.import_module(f"persona4rec.data.loaders.{module_name}")
        return module.load(request.reviews, request.meta, skip_bad_lines=request.config.skip_bad_lines)

    return load


def _yelp(request: ImportRequest) -> LoadedDataset:
    from .loaders import yelp

    return yelp.load(
        request.reviews,
        request.business or request.meta,
        city=request.config.city,
        category=request.config.category,
        skip_bad_lines=request.config.skip_bad_lines,
    )


def _table_options(config: ImportConfig):
    from .loaders.table import TableOptions

    return TableOptions(
        column_map=dict(config.column_map or {}),
        meta_column_map=dict(config.meta_column_map or {}),
        time_unit=config.time_unit,
        rating_scale=config.rating_scale,
    )


def _table(request: ImportRequest) -> LoadedDataset:
    from .loaders import table

    options = _table_options(request.config)
    return table.load(request.reviews, request.meta, options, skip_bad_lines=request.config.skip_bad_lines)


def _recbole(request: ImportRequest) -> LoadedDataset:
    from .loaders import recbole

    options = _table_options(request.config)
    return recbole.load(request.reviews, request.meta, options, skip_bad_lines=request.config.skip_bad_lines)


FORMATS: dict[str, Loader] = {
    "amazon2014": _amazon("amazon2014"),
    "amazon2018": _amazon("amazon2018"),
    "amazon2023": _amazon("amazon2023"),
    "yelp": _yelp,
    "table": _table,
    "recbole": _recbole,
}


def register_format(name: str, loader: Loader) -> None:
    """Make `persona4rec data import --format NAME` use `loader` (called by other modules' register())."""
    FORMATS[name] = loader


def format_names() -> list[str]:
    return ["auto", *FORMATS]


_AMAZON2018_ONLY = ("verified", "vote", "style", "image")


def preview_table(path: str | Path, rows: int = 5, *, kind: str | None = None):
    """A table file's kind, columns, first `rows` records, suggested column maps and time unit
    (loaders.table.TablePreview), for a form to show before `import_dataset`."""
    from .loaders.table import preview_table as preview

    return preview(path, rows, kind=kind)


def detect_format(reviews: Path, n: int = 20) -> str:
    """Name the format of `reviews`: by extension for CSV/TSV/Parquet tables and RecBole files, else the
    built-in format whose fields the first `n` readable records carry."""
    from .tabular import KINDS

    suffixes = [x.lower() for x in Path(reviews).suffixes if x.lower() != ".gz"]
    kind = KINDS.get(suffixes[-1]) if suffixes else None
    if kind in ("csv", "tsv", "parquet"):
        return "table"
    if kind == "recbole":
        return "recbole"
    records = peek_records(reviews, n, allow_literal=True)
    if not records:
        raise InputError(
            "cannot detect the format: no readable record among the first lines (pass --format explicitly)",
            path=reviews,
        )
    keys: set[str] = set().union(*(r.keys() for r in records))
    if {"business_id", "stars"} <= keys:
        return "yelp"
    if {"user_id", "parent_asin"} <= keys:
        return "amazon2023"
    if {"reviewerID", "asin"} <= keys:
        return "amazon2018" if keys & set(_AMAZON2018_ONLY) else "amazon2014"
    raise InputError(
        f"cannot detect the format from the fields {sorted(keys)[:12]}; pass --format ({', '.join(FORMATS)}); "
        "any other table: --format table --map user_id=COL,item_id=COL,rating=COL,timestamp=COL",
        path=reviews,
    )


def load_dataset(request: ImportRequest) -> LoadedDataset:
    """Read the request's files with the configured (or detected) format's loader."""
    name = request.config.format
    if name == "auto":
        name = detect_format(request.reviews)
    if name not in FORMATS:
        raise ConfigError(f"unknown format {name!r} (known: {', '.join(format_names())})")
    if name not in TABLE_FORMATS and (request.config.column_map or request.config.meta_column_map):
        raise ConfigError(f"--map and --meta-map are for --format table or recbole, not {name}")
    dataset = FORMATS[name](request)
    dataset.report.setdefault("format_detected", request.config.format == "auto")
    return dataset
