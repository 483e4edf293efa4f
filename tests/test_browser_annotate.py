"""A real browser on the real server: `streamlit run app.py` on a free local port, Debian's headless
Chromium driven by Playwright opens the Annotate page, identifies, rates an example on every criterion and
submits; the rows are then read straight from the SQLite file."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from app_fixture import MARKUP_REVIEW, shared_app_workspace  # noqa: E402

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
START_TIMEOUT_S = 120
PAGE_TIMEOUT_MS = 180_000  # the first page loads the encoder on a shared, busy machine


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(base: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"streamlit exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"streamlit not healthy after {START_TIMEOUT_S}s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def study_db(tmp_path_factory):
    """A study database with one explanation study over two examples of the app workspace."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is absent (install Debian's chromium: scripts/install_system_deps.sh)")
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed (extra 'browser')")
    from persona4rec.annotation import create_study, open_database
    from persona4rec.views.studies import study_examples

    ws = shared_app_workspace(tmp_path_factory)
    path = tmp_path_factory.mktemp("browser") / "studies.sqlite"
    db = open_database(f"sqlite:///{path}")
    examples = study_examples(ws, ["multi_persona", "single_persona"], 2)
    # Explanations are stored as given (any JSONL can carry markup): the page must show it as text.
    examples = [dataclasses.replace(e, explanation_a=f"{e.explanation_a} {MARKUP_REVIEW}") for e in examples]
    create_study(
        db, "browser-study", "explanation", "multi_persona", "single_persona", examples, annotators_per_example=1
    )
    db.dispose()
    return ws, path


@contextlib.contextmanager
def running_app(ws, db_path: Path, log: Path, **extra_env: str):
    """`streamlit run app.py` as `persona4rec app` starts it, on a free port of 127.0.0.1, with the study
    database at `db_path` and `extra_env` in its environment (never on its command line); yields its URL."""
    from persona4rec.webapp.launch import app_command

    port = free_port()
    env = {
        **os.environ,
        "PERSONA4REC_WORKSPACE": str(ws.root),
        "PERSONA4REC_DB_URL": f"sqlite:///{db_path}",
        "PERSONA4REC_HOME": str(ws.root.parent),
        **extra_env,
    }
    with open(log, "w") as out:
        proc = subprocess.Popen(app_command(ws.root, port), cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, proc, log)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def server(study_db, tmp_path_factory):
    ws, db_path = study_db
    with running_app(ws, db_path, tmp_path_factory.mktemp("server") / "streamlit.log") as base:
        yield base


def test_annotate_in_a_real_browser(server, study_db):
    from playwright.sync_api import expect, sync_playwright

    _, db_path = study_db
    choices = {
        "Intuitiveness": "A",
        "Relatability": "B",
        "Consistency": "Tie",
        "Persuasiveness": "A",
        "Specificity": "B",
    }
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.set_default_timeout(PAGE_TIMEOUT_MS)
            page.goto(f"{server}/annotate")
            page.get_by_label("Your name").fill("bob")
            page.get_by_role("button", name="Start annotating").click()
            expect(page.get_by_text("Explanation A", exact=True)).to_be_visible(timeout=PAGE_TIMEOUT_MS)
            expect(page.get_by_text("<script>window.__p4r_xss = 1</script>", exact=False)).to_be_visible(
                timeout=PAGE_TIMEOUT_MS
            )
            assert page.evaluate("window.__p4r_xss === undefined")
            for criterion, choice in choices.items():
                group = page.locator('[data-testid="stRadio"]').filter(has_text=criterion)
                group.get_by_text(choice, exact=True).click()
            page.get_by_role("button", name="Submit", exact=True).click()
            expect(page.get_by_text("Saved. Here is the next example.")).to_be_visible(timeout=PAGE_TIMEOUT_MS)
            # The markup in the explanation was shown as text, and its <script> never ran.
            assert page.evaluate("window.__p4r_xss === undefined")
        finally:
            browser.close()

    with sqlite3.connect(db_path) as conn:
        rows = conn.execute(
            "SELECT r.criterion, r.shown_choice FROM ratings r JOIN annotators a "
            "ON a.id = r.annotator_id WHERE a.name = 'bob'"
        ).fetchall()
    expected = {name.lower(): ("tie" if choice == "Tie" else choice) for name, choice in choices.items()}
    assert dict(rows) == expected
