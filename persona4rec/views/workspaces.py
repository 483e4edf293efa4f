"""Which workspaces the app can show, which one it opens first, and what each has built so far.

A page whose inputs are missing names the command that builds them (`build_command`) instead of failing.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..workspace import MANIFEST, Workspace, default_home, list_workspaces

WORKSPACE_ENV = "PERSONA4REC_WORKSPACE"
DEMO_NAME = "demo"
GENERATOR_ORDER = ("bpr", "lightgcn", "pop")


def workspace_arg(argv: Sequence[str]) -> str | None:
    """The value of `--workspace X` / `--workspace=X` in the script's arguments
    (`streamlit run app.py -- --workspace X`), else None."""
    args = list(argv)
    for n, arg in enumerate(args):
        if arg == "--workspace" and n + 1 < len(args):
            return args[n + 1]
        if arg.startswith("--workspace="):
            return arg.split("=", 1)[1]
    return None


def is_workspace(path: str | Path) -> bool:
    return (Path(path) / MANIFEST).is_file()


def discover(home: str | Path | None = None, pinned: str | Path | None = None) -> list[Path]:
    """Every built workspace under `home` ($PERSONA4REC_HOME, default ./workspaces), plus `pinned`
    (a workspace named on the command line or in $PERSONA4REC_WORKSPACE) wherever it lives; pinned first."""
    found = [ws.root for ws in list_workspaces(home if home is not None else default_home())]
    if pinned is not None and is_workspace(pinned):
        pinned_path = Path(pinned)
        found = [pinned_path] + [p for p in found if p.resolve() != pinned_path.resolve()]
    return found


def pinned_workspace(argv: Sequence[str] = (), environ: dict[str, str] | None = None) -> str | None:
    """--workspace from the script arguments, else $PERSONA4REC_WORKSPACE, else None."""
    environ = os.environ if environ is None else environ
    return workspace_arg(argv) or environ.get(WORKSPACE_ENV) or None


def initial_choice(choices: Sequence[Path], pinned: str | None) -> int:
    """Index of the workspace to open first: the pinned one, else the demo one, else the first."""
    if not choices:
        return 0
    resolved = [p.resolve() for p in choices]
    if pinned is not None and Path(pinned).resolve() in resolved:
        return resolved.index(Path(pinned).resolve())
    names = [p.name for p in choices]
    return names.index(DEMO_NAME) if DEMO_NAME in names else 0


def is_synthetic(ws: Workspace) -> bool:
    manifest = ws.manifest()
    return bool(manifest.get("synthetic")) or manifest.get("source") == "synthetic-demo"


def label(ws: Workspace) -> str:
    """The name shown in the picker; the synthetic demo says so."""
    return f"{ws.name} (SYNTHETIC demo)" if is_synthetic(ws) else ws.name


def _has_lines(path: Path) -> bool:
    return path.is_file() and path.stat().st_size > 0


@dataclass(frozen=True)
class Readiness:
    """What a workspace has on disk, read from its files (imported artefacts count as built)."""

    data: bool
    summaries: bool
    aspects: bool
    personas: bool
    personas_single: bool
    generators: tuple[str, ...]  # candidate files present, best-known first
    trained_encoder: bool
    metrics: bool

    @classmethod
    def of(cls, ws: Workspace) -> Readiness:
        off = ws.offline_dir
        present = {p.stem for p in ws.candidates_dir.glob("*.parquet")} if ws.candidates_dir.is_dir() else set()
        generators = tuple(g for g in GENERATOR_ORDER if g in present) + tuple(sorted(present - set(GENERATOR_ORDER)))
        return cls(
            data=all((ws.data_dir / f).is_file() for f in ("reviews.parquet", "items.parquet", "split.parquet")),
            summaries=_has_lines(off / "summaries.jsonl"),
            aspects=_has_lines(off / "aspects.jsonl"),
            personas=_has_lines(off / "personas.jsonl"),
            personas_single=_has_lines(off / "personas_single.jsonl"),
            generators=generators,
            trained_encoder=(ws.encoder_dir / "modules.json").is_file(),
            metrics=(ws.reports_dir / "metrics.json").is_file(),
        )


def build_command(ws: Workspace, what: str) -> str:
    """The command that builds `what` for this workspace (shown where a page needs it)."""
    root = str(ws.root)
    commands = {
        "data": f"persona4rec data import ... --out {root}",
        "summaries": f"persona4rec offline summarize {root}",
        "aspects": f"persona4rec offline aspects {root}",
        "personas": f"persona4rec offline all {root}",
        "personas_single": f"persona4rec offline personas {root} --single",
        "candidates": f"persona4rec candidates {root} --generator bpr",
        "encoder": f"persona4rec train {root}",
        "metrics": f"persona4rec evaluate {root} --generator bpr",
    }
    return commands[what]
