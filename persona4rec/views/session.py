"""The Streamlit side of the app: the chosen workspace and cached loaders (the only module here that
imports streamlit).

Caching: the workspace's records and the rerankers are read-only objects shared by every session, so
they are st.cache_resource (no per-rerun copy); display tables are st.cache_data. Every key carries the
modification stamp of the files it was built from, so a rebuilt workspace is picked up without a restart.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import streamlit as st

from ..errors import WorkspaceError
from ..workspace import Workspace
from . import workspaces
from .catalogue import Catalogue, catalogue_stamp, load_catalogue
from .text import md

if TYPE_CHECKING:
    from ..annotation.db import Database
    from ..rerank import Reranker
    from .importing import SourcePreview
    from .match import PersonaMatch

WORKSPACE_KEY = "workspace"
ENTRY_RAN_KEY = "_persona4rec_entry_ran"


def _mtime(path: Path) -> int:
    return path.stat().st_mtime_ns if path.exists() else 0


# -- the workspace ---------------------------------------------------------------------------------


def workspace_picker() -> Workspace | None:
    """The sidebar picker over every built workspace (pinned by --workspace / $PERSONA4REC_WORKSPACE,
    else the demo one first); returns the chosen one, or None when there is none."""
    pinned = workspaces.pinned_workspace(sys.argv[1:])
    choices = workspaces.discover(pinned=pinned)
    if not choices:
        st.sidebar.warning("No built workspace found.")
        return None
    by_path = {str(p): Workspace(p) for p in choices}
    if st.session_state.get(WORKSPACE_KEY) not in by_path:
        st.session_state[WORKSPACE_KEY] = str(choices[workspaces.initial_choice(choices, pinned)])
    chosen = st.sidebar.selectbox(
        "Workspace", list(by_path), key=WORKSPACE_KEY, format_func=lambda p: workspaces.label(by_path[p])
    )
    ws = by_path[chosen]
    if workspaces.is_synthetic(ws):
        st.sidebar.warning("SYNTHETIC demo data: generated products, users and reviews, not real ones.")
    st.sidebar.caption(md(str(ws.root)))
    return ws


def mark_entry_ran() -> None:
    """Called by app.py after the picker: tells the page this run went through the entry script."""
    st.session_state[ENTRY_RAN_KEY] = True


def page_setup() -> None:
    """First line of every page.

    With a pages/ folder beside app.py, Streamlit runs the first request of a fresh server process (and
    an AppTest page switch) in its legacy multipage mode: a deep link such as /annotate then executes the
    page file alone, without app.py, its navigation, page config or workspace picker. When that happens
    the page hands over to app.py, which registers st.navigation (ending legacy mode for the process) and
    runs this same page again, now through the entry script; the outer run then stops.
    """
    if st.session_state.pop(ENTRY_RAN_KEY, False):
        return
    import runpy

    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    entry = Path(ctx.pages_manager.main_script_path) if ctx is not None else None
    if entry is None or not entry.is_file():
        workspace_picker()
        return
    runpy.run_path(str(entry), run_name="__main__")
    st.stop()


def current_workspace() -> Workspace | None:
    chosen = st.session_state.get(WORKSPACE_KEY)
    return Workspace(chosen) if chosen and workspaces.is_workspace(chosen) else None


def workspace_at(root: str | Path) -> Workspace | None:
    """The workspace at `root`, or None when there is none (any more)."""
    return Workspace(root) if workspaces.is_workspace(root) else None


def choose_workspace(root: str) -> None:
    """Make the sidebar picker show `root` (a button's on_click: it runs before the picker is drawn)."""
    st.session_state[WORKSPACE_KEY] = root


def require_workspace() -> Workspace:
    """The chosen workspace, or a message saying how to build one and a stop."""
    ws = current_workspace()
    if ws is None:
        st.info(
            "No workspace yet. Build the demo one with `persona4rec demo --out workspaces/demo` "
            "(or `make demo`), or import data with `persona4rec data import ... --out workspaces/NAME`."
        )
        st.stop()
    return ws


def say_missing(ws: Workspace, what: str, needed_for: str) -> None:
    """Tell the user which command builds what this page needs."""
    label = {
        "personas_single": "single-persona records",
        "metrics": "evaluation metrics",
        "candidates": "first-stage candidates",
    }.get(what, what)
    st.info(f"{needed_for}: this workspace has no {label} yet. Build them with:")
    st.code(workspaces.build_command(ws, what), language="bash")


# -- cached loaders ---------------------------------------------------------------------------------


@st.cache_resource(show_spinner="Reading the workspace…", max_entries=4)
def _catalogue(root: str, stamp: tuple[int, ...]) -> Catalogue:
    return load_catalogue(Workspace(root))


def catalogue(ws: Workspace) -> Catalogue:
    """The workspace's catalogue; a workspace whose tables cannot be read is said, and the page stops."""
    try:
        return _catalogue(str(ws.root), catalogue_stamp(ws))
    except WorkspaceError as exc:
        st.error(md(str(exc)))
        st.stop()


@st.cache_data(show_spinner="Reading the first rows…", max_entries=16)
def _source_preview(path: str, stamp: tuple[int, int]) -> SourcePreview:
    from .importing import preview_source

    return preview_source(path)


def source_preview(path: Path) -> SourcePreview:
    """views.importing.preview_source, read again only when the file changes."""
    stat = path.stat() if path.is_file() else None
    return _source_preview(str(path), (stat.st_mtime_ns, stat.st_size) if stat else (0, 0))


@st.cache_data(show_spinner=False, max_entries=16)
def _candidates(root: str, generator: str, split: str, stamp: int) -> dict[str, tuple[list[str], list[float]]]:
    from ..candidates.generate import candidate_lists

    users, lists, scores = candidate_lists(Workspace(root), generator, split)
    return dict(zip(users, zip(lists, scores)))


def candidates(ws: Workspace, generator: str, split: str = "test") -> dict[str, tuple[list[str], list[float]]]:
    """Each user's first-stage `split` list: user -> (item ids in CF order, CF scores), users sorted."""
    return _candidates(str(ws.root), generator, split, _mtime(ws.candidates_dir / f"{generator}.parquet"))


@st.cache_resource(show_spinner="Loading the encoder and the persona index (built first if missing)…", max_entries=8)
def _reranker(root: str, variant: str, generator: str | None, stamp: tuple[int, ...]) -> Reranker:
    from ..rerank import Reranker

    return Reranker.from_workspace(Workspace(root), variant, generator=generator)


def _reranker_stamp(ws: Workspace, variant: str) -> tuple[int, ...]:
    records = "personas_single.jsonl" if variant == "single" else "personas.jsonl"
    return (
        _mtime(ws.offline_dir / records),
        _mtime(ws.encoder_dir / "modules.json"),
        _mtime(ws.data_dir / "split.parquet"),
        _mtime(ws.root / "serving.json"),
    )


def reranker(ws: Workspace, variant: str, generator: str | None = None) -> Reranker:
    """The reranker serving.json describes for (variant, generator): tuned on VALID, as `recommend` serves."""
    return _reranker(str(ws.root), variant, generator, _reranker_stamp(ws, variant))


@st.cache_data(show_spinner="Comparing the persona with the user's history…", max_entries=64)
def _persona_match(
    root: str, variant: str, generator: str | None, user_id: str, persona_key: str, split: str, stamp: tuple
) -> PersonaMatch:
    from .match import persona_match as match

    ws = Workspace(root)
    ranker = _reranker(root, variant, generator, _reranker_stamp(ws, variant))
    return match(ranker, _catalogue(root, catalogue_stamp(ws)), user_id, persona_key, split)


def persona_match(
    ws: Workspace, variant: str, generator: str | None, user_id: str, persona_key: str, split: str = "test"
) -> PersonaMatch:
    """Both sides of one user-persona match (views.match.persona_match), with the reranker the page uses."""
    stamp = (*_reranker_stamp(ws, variant), *catalogue_stamp(ws))
    return _persona_match(str(ws.root), variant, generator, user_id, persona_key, split, stamp)


@st.cache_resource(show_spinner="Opening the study database…")
def _database(url: str) -> Database:
    from ..annotation.db import open_database

    return open_database(url)


def database() -> Database:
    """The study database (PERSONA4REC_DB_URL, else db/persona4rec.sqlite), migrated, one per process."""
    from ..annotation.engine import resolve_url

    return _database(resolve_url())


# -- who is looking ---------------------------------------------------------------------------------

OWNER_KEY = "_persona4rec_owner"
OPEN, OWNER, VISITOR = "open", "owner", "visitor"


def access() -> str:
    """OPEN when no owner secret is configured (every page open), OWNER after a sign-in in this session,
    else VISITOR (the sign-in page only; annotators come in through their invitation links)."""
    from ..annotation.owners import owner_secret_configured

    if not owner_secret_configured(database()):
        return OPEN
    return OWNER if st.session_state.get(OWNER_KEY) else VISITOR


def sign_in(secret: str) -> bool:
    """Check a typed owner secret (never stored or logged); True signs this session in."""
    from ..annotation.owners import is_owner

    signed_in = is_owner(database(), secret)
    if signed_in:
        st.session_state[OWNER_KEY] = True
    return signed_in


def sign_out() -> None:
    st.session_state.pop(OWNER_KEY, None)


def require_owner() -> None:
    """First lines of an owner page: a visitor who reached it anyway (a deep link) sees nothing of it."""
    if access() == VISITOR:
        st.warning("This page is for the study's owner: sign in first. Annotators: open your personal link.")
        st.stop()
