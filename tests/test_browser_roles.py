"""Roles in a real browser on the real server (`streamlit run app.py` with an owner secret in its
environment, Debian's headless Chromium through Playwright):

1. the owner signs in, creates a study from the workspace and invites two annotators on the Studies page;
2. alice and bob open their links in two separate browser contexts and each rate an example: their pages
   hold no system name and no other page, and the results page is out of their reach;
3. a third context without an invitation gets the sign-in page, and a forged link gets a refusal only;
4. the owner, signed in again, sees both annotators' judgements in the results (screenshot saved).
"""

from __future__ import annotations

import os
import sqlite3
import sys
from pathlib import Path
from urllib.parse import urlparse

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from app_fixture import shared_app_workspace  # noqa: E402
from test_browser_annotate import CHROMIUM, CHROMIUM_ARGS, PAGE_TIMEOUT_MS, running_app  # noqa: E402

pytestmark = pytest.mark.browser

ADMIN = "owner secret for the browser test"
SYSTEM_NAMES = ("multi_persona", "single_persona", "summary_profile")
CHOICES = {"Intuitiveness": "A", "Relatability": "B", "Consistency": "Tie", "Persuasiveness": "A", "Specificity": "B"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is absent (install Debian's chromium: scripts/install_system_deps.sh)")
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed (extra 'browser')")
    ws = shared_app_workspace(tmp_path_factory)
    db_path = tmp_path_factory.mktemp("roles") / "studies.sqlite"
    log = tmp_path_factory.mktemp("roles-server") / "streamlit.log"
    with running_app(ws, db_path, log, PERSONA4REC_ADMIN_TOKEN=ADMIN) as base:
        yield base, db_path


def sign_in_and_open_studies(page, base: str) -> None:
    from playwright.sync_api import expect

    page.goto(base)
    page.get_by_label("Owner secret").fill(ADMIN)
    page.get_by_role("button", name="Sign in").click()
    # Switching pages in the sidebar keeps this session (a reload would start a new, signed-out one).
    page.get_by_role("link", name="Studies and results").click()
    expect(page.get_by_role("heading", name="Studies and results")).to_be_visible(timeout=PAGE_TIMEOUT_MS)


def rate_one_example(page) -> None:
    from playwright.sync_api import expect

    expect(page.get_by_text("Explanation A", exact=True)).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    for criterion, choice in CHOICES.items():
        page.locator('[data-testid="stRadio"]').filter(has_text=criterion).get_by_text(choice, exact=True).click()
    page.get_by_role("button", name="Submit", exact=True).click()
    expect(page.get_by_text("Saved. Here is the next example.")).to_be_visible(timeout=PAGE_TIMEOUT_MS)


def test_owner_invites_two_blind_annotators_and_sees_their_results(server, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    base, db_path = server
    # Every expect names its timeout: Playwright's assertions wait 5 s by default whatever the page's
    # set_default_timeout says, and the results page alone took longer on a loaded 2-core machine.
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            owner = browser.new_context().new_page()
            owner.set_default_timeout(PAGE_TIMEOUT_MS)
            sign_in_and_open_studies(owner, base)
            owner.get_by_role("tab", name="Create a study").click()
            owner.get_by_label("Study name").fill("blind-study")
            owner.get_by_label("Examples", exact=True).fill("2")
            owner.get_by_role("button", name="Create study").click()
            expect(owner.get_by_text("Created study blind-study with 2 examples.")).to_be_visible(
                timeout=PAGE_TIMEOUT_MS
            )
            owner.get_by_role("tab", name="Invite annotators").click()
            owner.get_by_label("Annotators (comma-separated)").fill("alice,bob")
            owner.get_by_label("App address").fill(base)
            owner.get_by_role("button", name="Make links").click()
            code = owner.locator('[data-testid="stCode"]')
            expect(code).to_contain_text("alice ", timeout=PAGE_TIMEOUT_MS)
            links = dict(line.split(" ", 1) for line in code.inner_text().strip().splitlines())
            assert set(links) == {"alice", "bob"}
            assert all(urlparse(url).path == "/" and "invite=" in url for url in links.values())

            for name in ("alice", "bob"):  # two separate browser contexts: two people
                page = browser.new_context().new_page()
                page.set_default_timeout(PAGE_TIMEOUT_MS)
                page.goto(links[name])
                expect(page.get_by_text(f"Annotating as {name}")).to_be_visible(timeout=PAGE_TIMEOUT_MS)
                html = page.content()
                assert not any(system in html for system in SYSTEM_NAMES), f"{name} sees a system name"
                assert page.get_by_role("link", name="Studies and results").count() == 0
                assert page.get_by_label("Your name").count() == 0  # nobody types a name
                rate_one_example(page)
                assert not any(system in page.content() for system in SYSTEM_NAMES)
                page.goto(f"{base}/studies")  # the results page is out of reach: only the sign-in page
                expect(page.get_by_label("Owner secret")).to_be_visible(timeout=PAGE_TIMEOUT_MS)
                assert page.get_by_text("Per criterion").count() == 0

            stranger = browser.new_context().new_page()
            stranger.set_default_timeout(PAGE_TIMEOUT_MS)
            stranger.goto(f"{base}/annotate")
            expect(stranger.get_by_label("Owner secret")).to_be_visible(timeout=PAGE_TIMEOUT_MS)
            assert stranger.get_by_text("Explanation A", exact=True).count() == 0
            stranger.goto(f"{base}/?invite=1-{'x' * 32}")
            expect(stranger.get_by_text("this invitation link is not valid", exact=False)).to_be_visible(
                timeout=PAGE_TIMEOUT_MS
            )
            assert stranger.get_by_text("Explanation A", exact=True).count() == 0
            assert not any(system in stranger.content() for system in SYSTEM_NAMES)

            results = browser.new_context(viewport={"width": 1400, "height": 1800}).new_page()
            results.set_default_timeout(PAGE_TIMEOUT_MS)
            sign_in_and_open_studies(results, base)
            expect(results.get_by_text("2 of 6 judgements done", exact=False)).to_be_visible(timeout=PAGE_TIMEOUT_MS)
            expect(results.get_by_text("multi_persona (A) vs single_persona (B)", exact=False)).to_be_visible(
                timeout=PAGE_TIMEOUT_MS
            )
            expect(results.get_by_role("heading", name="Annotators")).to_be_visible(
                timeout=PAGE_TIMEOUT_MS
            )  # the run has finished
            expect(results.get_by_role("button", name="Ratings as CSV")).to_be_visible(timeout=PAGE_TIMEOUT_MS)
            shot = Path(os.environ.get("PERSONA4REC_SCREENSHOTS", tmp_path)) / "owner-results.png"
            results.screenshot(path=str(shot), full_page=True)
            print(f"owner's results page: {shot}")
        finally:
            browser.close()

    with sqlite3.connect(db_path) as conn:
        rows = conn.execute(
            "SELECT a.name, count(*) FROM ratings r JOIN annotators a ON a.id = r.annotator_id GROUP BY a.name"
        ).fetchall()
    assert dict(rows) == {"alice": len(CHOICES), "bob": len(CHOICES)}
