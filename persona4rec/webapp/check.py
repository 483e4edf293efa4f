"""`persona4rec app --check --workspace WS`: every page of the app, rendered headless on one workspace.

Each page runs under Streamlit's own test driver (streamlit.testing.v1.AppTest, the one the test suite
uses), its key widgets are driven as a person would (choose a user, search items, create a two-example
study, rate it, read its results), and what the page showed is reported. It answers "does my workspace
work in the app?" before anyone opens a browser. The study steps write to a throwaway SQLite file, never
to the configured annotation database.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .launch import app_path

PAGE_TIMEOUT = 300  # seconds for one page run: the first one loads the encoder and builds missing caches


@dataclass
class PageCheck:
    page: str
    ok: bool
    shown: str  # what the page put on screen, in a line
    error: str = ""


@contextmanager
def _environment(workspace: Path, db_url: str) -> Iterator[None]:
    """The app reads its workspace and database from the environment; restore it afterwards."""
    names = ("PERSONA4REC_WORKSPACE", "PERSONA4REC_DB_URL")
    saved = {n: os.environ.get(n) for n in names}
    os.environ.update({"PERSONA4REC_WORKSPACE": str(workspace), "PERSONA4REC_DB_URL": db_url})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def find_table(at, column: str):
    """The first table on the page with this column, or None."""
    return next((df.value for df in at.dataframe if column in df.value.columns), None)


def find_button(at, label: str):
    matches = [b for b in at.button if b.label == label]
    if not matches:
        raise AssertionError(f"no '{label}' button (buttons: {[b.label for b in at.button]})")
    return matches[0]


def _raise_on_exception(at) -> None:
    if at.exception:
        raise AssertionError("; ".join(str(e.value) for e in at.exception))


def _notes(at) -> str:
    """What a page says is missing: the commands it proposes and its warnings."""
    said = [c.value.splitlines()[0] for c in at.code] + [w.value for w in at.warning if "SYNTHETIC" not in w.value]
    return "; ".join(said)


def _explore(at) -> str:
    ranked = find_table(at, "persona")
    if ranked is None:
        return "history shown; no reranked list: " + (_notes(at) or "nothing to rerank")
    user = at.selectbox(key="explore_user").value
    explained = int((ranked["persona"].str.len() > 0).sum())
    moved = int((ranked["cf_rank"] != ranked["new_rank"]).sum())
    chart = "a per-persona similarity chart" if at.get("plotly_chart") else "no chart"
    return (
        f"user {user}: {len(ranked)} candidates reranked, {explained} explained by a persona, "
        f"{moved} moved from their CF rank; {chart}"
    )


def _items(at) -> str:
    table = find_table(at, "summary_only")
    if table is None:
        return "no item table: " + (_notes(at) or "no items")
    made_by = next((c.value.replace("\\", "") for c in at.caption if "made by" in c.value), "")
    return f"{len(table)} items listed, {len(at.expander)} personas shown; {made_by}".rstrip("; ")


def _compare(at) -> str:
    side = find_table(at, "single_persona")
    metrics = find_table(at, "where")
    parts = [f"{len(side)} candidates side by side (multi vs single)" if side is not None else "no side-by-side list"]
    parts.append(f"{len(metrics)} metric rows" if metrics is not None else "no metric report")
    notes = _notes(at)
    return ", ".join(parts) + (f"; {notes}" if notes else "")


def _create_study(at) -> str:
    if not any(getattr(t, "key", None) == "study_name" for t in at.text_input):
        return "study creation not offered: " + (_notes(at) or "the workspace lacks personas")
    at.text_input(key="study_name").input("app-check")
    at.number_input(key="study_examples").set_value(2)
    at.number_input(key="study_annotators").set_value(1)
    find_button(at, "Create study").click().run()
    _raise_on_exception(at)
    if at.error:  # the page refused with a message (e.g. too few explained candidates): shown, not a crash
        return "the page refused to create a study: " + "; ".join(e.value.replace("\\", "") for e in at.error)
    return next(s.value for s in at.success if "Created study" in s.value).replace("\\", "")


def _annotate(at) -> str:
    if at.info and not at.text_input:
        return at.info[0].value
    at.text_input(key="annotate_name").input("app-check")
    find_button(at, "Start annotating").click().run()
    _raise_on_exception(at)
    radios = [r for r in at.radio if r.key.startswith("rate:")]
    if not radios:
        raise AssertionError("no rating controls after identifying")
    for radio in radios:
        radio.set_value("tie")
    find_button(at, "Submit").click().run()
    _raise_on_exception(at)
    saved = [s.value for s in at.success if "Saved" in s.value]
    if not saved:
        raise AssertionError("the rating was not saved: " + "; ".join(e.value for e in at.error))
    return f"two explanations shown, {len(radios)} criteria rated and saved"


def _results(at) -> str:
    table = find_table(at, "win_rate")
    if table is None:
        return at.info[0].value if at.info else "no results table"
    return f"{len(table)} criteria with win/tie/loss rates, n = {int(table['n'].max())} rating(s) each"


# (page file, what to do there); the study pages run in this order so there is something to rate.
STEPS = (
    ("pages/explore_user.py", _explore),
    ("pages/item_personas.py", _items),
    ("pages/single_vs_multi.py", _compare),
    ("pages/studies.py", _create_study),
    ("pages/annotate.py", _annotate),
    ("pages/studies.py", _results),
)


def prepare(workspace: str | Path, progress: bool = True) -> None:
    """Build what the pages would build on first use (persona indexes, the user-vector cache), with a
    progress bar, so no page run is timed against a first-time build of a large workspace."""
    from ..rerank import Reranker
    from ..views.workspaces import Readiness
    from ..workspace import Workspace

    ws = Workspace.open(workspace)
    ready = Readiness.of(ws)
    if ready.personas and ready.generators:
        for variant in ("multi",) + (("single",) if ready.personas_single else ()):
            Reranker.from_workspace(ws, variant, progress=progress)


def check_app(workspace: str | Path, timeout: float = PAGE_TIMEOUT, progress: bool = False) -> list[PageCheck]:
    """Render and drive every page on `workspace`; one PageCheck per step, in order."""
    import logging

    from streamlit.testing.v1 import AppTest

    # Outside a server, Streamlit warns "missing ScriptRunContext" for cached calls: noise here. Its
    # loggers are set up on import, so this comes after the import.
    for name in ("streamlit", "streamlit.runtime.scriptrunner_utils.script_run_context"):
        logging.getLogger(name).setLevel(logging.ERROR)
    prepare(workspace, progress)
    results: list[PageCheck] = []
    with (
        tempfile.TemporaryDirectory(prefix="persona4rec-check-") as tmp,
        _environment(Path(workspace).resolve(), f"sqlite:///{Path(tmp) / 'check.sqlite'}"),
    ):
        at = AppTest.from_file(str(app_path()), default_timeout=timeout)
        try:
            at.run()
        except Exception as exc:  # the entry script itself did not finish: every step reports it
            return [PageCheck(page, False, "", f"app.py: {type(exc).__name__}: {exc}") for page, _ in STEPS]
        for page, step in STEPS:
            try:
                _raise_on_exception(at)
                at.switch_page(page).run()
                _raise_on_exception(at)
                results.append(PageCheck(page, True, step(at)))
            except Exception as exc:  # a check reports every page, whatever broke on one
                results.append(PageCheck(page, False, "", f"{type(exc).__name__}: {exc}"))
    return results
