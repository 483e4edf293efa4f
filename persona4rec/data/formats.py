"""Which loader reads which files: the format registry, auto-detection and the typed import config.

Built-in formats: amazon2014, amazon2018, amazon2023, yelp. Other modules add their own with
`register_format(name, loader)` (e.g. the paper authors' artifact files): a loader takes an
`ImportRequest` and returns a `LoadedDataset`. `--format auto` looks at the first records of the
reviews file and picks the built-in format whose fields they carry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ConfigError, InputError
from .loaders.common import LoadedDataset
from .reading import peek_records


@dataclass
class ImportConfig:
    """`[data]` section / PERSONA4REC_DATA_* variables / `data import` flags."""

    format: str = "auto"
    kcore: int = 5  # users and items each keep >= kcore interactions; 0 turns filtering off
    skip_bad_lines: bool = False
    city: str | None = None  # Yelp only
    category: str | None = None  # Yelp only


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


FORMATS: dict[str, Loader] = {
    "amazon2014": _amazon("amazon2014"),
    "amazon2018": _amazon("amazon2018"),
    "amazon2023": _amazon("amazon2023"),
    "yelp": _yelp,
}


def register_format(name: str, loader: Loader) -> None:
    """Make `persona4rec data import --format NAME` use `loader` (called by other modules' register())."""
    FORMATS[name] = loader


def format_names() -> list[str]:
    return ["auto", *FORMATS]


_AMAZON2018_ONLY = ("verified", "vote", "style", "image")


def detect_format(reviews: Path, n: int = 20) -> str:
    """Name the built-in format whose fields the first `n` readable records carry."""
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
        f"cannot detect the format from the fields {sorted(keys)[:12]}; pass --format ({', '.join(FORMATS)})",
        path=reviews,
    )


def load_dataset(request: ImportRequest) -> LoadedDataset:
    """Read the request's files with the configured (or detected) format's loader."""
    name = request.config.format
    if name == "auto":
        name = detect_format(request.reviews)
    if name not in FORMATS:
        raise ConfigError(f"unknown format {name!r} (known: {', '.join(format_names())})")
    dataset = FORMATS[name](request)
    dataset.report.setdefault("format_detected", request.config.format == "auto")
    return dataset
