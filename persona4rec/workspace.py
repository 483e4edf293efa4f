"""A workspace: one built catalogue on disk, and its manifest.

    <root>/manifest.json      config, input hashes, package versions, stage status, counts and timings
    <root>/data/              reviews.parquet, items.parquet, split.parquet (+ planted truth for the demo)
    <root>/offline/           summaries, aspects, personas, profiles, alignment (jsonl)
    <root>/llm_cache.sqlite   every LLM request/response
    <root>/encoder/ index/ candidates/ reports/

A workspace is created atomically (`Workspace.create` builds in a hidden sibling folder and renames it
into place on success, so a failed import leaves nothing behind). Stages record themselves in the
manifest through `Workspace.stage(...)`, which notes start, end, seconds, counts and failures.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import functools
import importlib.metadata
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from . import __version__
from .errors import WorkspaceError
from .io import atomic_dir, read_json, write_json

MANIFEST = "manifest.json"
SUBDIRS = ("data", "offline", "encoder", "index", "candidates", "reports")
_TRACKED_PACKAGES = (
    "pandas",
    "numpy",
    "torch",
    "transformers",
    "sentence-transformers",
    "faiss-cpu",
    "openai",
    "sqlalchemy",
    "streamlit",
)


def utc_now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def package_versions() -> dict[str, str | None]:
    """The versions that made a workspace (recorded in its manifest); read once per process."""
    return dict(_package_versions())


@functools.cache
def _package_versions() -> dict[str, str | None]:
    # importlib.metadata scans site-packages on every call (milliseconds each, per workspace written)
    versions: dict[str, str | None] = {
        "python": ".".join(map(str, __import__("sys").version_info[:3])),
        "persona4rec": __version__,
    }
    for name in _TRACKED_PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def default_home() -> Path:
    """Where named workspaces live: $PERSONA4REC_HOME, else ./workspaces."""
    return Path(os.environ.get("PERSONA4REC_HOME", "workspaces"))


class Workspace:
    def __init__(self, root: str | Path):
        self.root = Path(root)

    # -- locations -------------------------------------------------------------------------------
    def path(self, *parts: str) -> Path:
        return self.root.joinpath(*parts)

    @property
    def manifest_path(self) -> Path:
        return self.root / MANIFEST

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def offline_dir(self) -> Path:
        return self.root / "offline"

    @property
    def encoder_dir(self) -> Path:
        return self.root / "encoder"

    @property
    def index_dir(self) -> Path:
        return self.root / "index"

    @property
    def candidates_dir(self) -> Path:
        return self.root / "candidates"

    @property
    def reports_dir(self) -> Path:
        return self.root / "reports"

    @property
    def llm_cache_path(self) -> Path:
        return self.root / "llm_cache.sqlite"

    @property
    def name(self) -> str:
        return self.root.name

    def __repr__(self) -> str:
        return f"Workspace({str(self.root)!r})"

    # -- opening and creating --------------------------------------------------------------------
    @classmethod
    def open(cls, root: str | Path) -> Workspace:
        ws = cls(root)
        if not ws.manifest_path.exists():
            raise WorkspaceError(
                f"{ws.root}: not a workspace (no {MANIFEST}); "
                f"create one with `persona4rec data import ... --out {ws.root}`"
            )
        return ws

    @classmethod
    @contextlib.contextmanager
    def create(
        cls, root: str | Path, *, overwrite: bool = False, manifest: dict[str, Any] | None = None
    ) -> Iterator[Workspace]:
        """Build a new workspace in a hidden sibling; it appears at `root` only if the block succeeds."""
        root = Path(root)
        if root.exists() and not overwrite:
            raise WorkspaceError(f"{root}: already exists (pass --overwrite to replace it)")
        with atomic_dir(root) as staging:
            ws = cls(staging)
            for sub in SUBDIRS:
                (staging / sub).mkdir()
            base = {
                "persona4rec_version": __version__,
                "created": utc_now(),
                "versions": package_versions(),
                "inputs": [],
                "config": {},
                "counts": {},
                "stages": {},
            }
            base.update(manifest or {})
            ws.write_manifest(base)
            yield ws
        ws.root = root

    # -- manifest --------------------------------------------------------------------------------
    def manifest(self) -> dict[str, Any]:
        return read_json(self.manifest_path)

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        write_json(self.manifest_path, manifest)

    def update_manifest(self, **fields: Any) -> dict[str, Any]:
        manifest = self.manifest()
        manifest.update(fields)
        self.write_manifest(manifest)
        return manifest

    def stage_info(self, name: str) -> dict[str, Any] | None:
        return self.manifest().get("stages", {}).get(name)

    def stage_done(self, name: str) -> bool:
        info = self.stage_info(name)
        return bool(info) and info.get("status") == "done"

    def _set_stage(self, name: str, info: dict[str, Any]) -> None:
        manifest = self.manifest()
        manifest.setdefault("stages", {})[name] = info
        self.write_manifest(manifest)

    @contextlib.contextmanager
    def stage(self, name: str, **config: Any) -> Iterator[dict[str, Any]]:
        """Record a stage run. The block fills the yielded dict (counts, notes); timing is added here.

        On an exception the stage is recorded as failed with the error, and the exception propagates;
        whatever the stage already persisted stays on disk for the resume.
        """
        previous = self.stage_info(name) or {}
        info: dict[str, Any] = {
            "status": "running",
            "started": utc_now(),
            "config": config,
            "runs": previous.get("runs", 0) + 1,
        }
        self._set_stage(name, info)
        t0 = time.perf_counter()
        try:
            yield info
        except BaseException as exc:
            info.update(
                status="failed",
                finished=utc_now(),
                seconds=round(time.perf_counter() - t0, 3),
                error=f"{type(exc).__name__}: {exc}",
            )
            self._set_stage(name, info)
            raise
        info.update(status="done", finished=utc_now(), seconds=round(time.perf_counter() - t0, 3))
        self._set_stage(name, info)


def list_workspaces(home: str | Path | None = None) -> list[Workspace]:
    """Every built workspace directly under `home` (hidden staging folders excluded)."""
    home = Path(home) if home is not None else default_home()
    if not home.is_dir():
        return []
    return [
        Workspace(p)
        for p in sorted(home.iterdir())
        if p.is_dir() and not p.name.startswith(".") and (p / MANIFEST).exists()
    ]
