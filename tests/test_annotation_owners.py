"""The owner role: PERSONA4REC_ADMIN_TOKEN or an owner account's token (stored as a salted hash) signs in;
without either the app is in open mode and says so; with one, a visitor sees only the sign-in page, even
through a deep link, and the owner sees every page.
Each runs on SQLite and on a real PostgreSQL server (tests/conftest.py: db_url)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from persona4rec.annotation.db import open_database
from persona4rec.annotation.models import Owner
from persona4rec.annotation.owners import ADMIN_TOKEN_ENV, create_owner, is_owner, owner_secret_configured
from persona4rec.cli import main
from persona4rec.errors import InputError

APP = Path(__file__).resolve().parent.parent / "app.py"
ADMIN = "correct horse battery staple"


@pytest.fixture()
def db(db_url):
    database = open_database(db_url)
    yield database
    database.dispose()


def test_admin_token_and_owner_accounts_by_hand(db):
    assert not owner_secret_configured(db, environ={})
    assert owner_secret_configured(db, environ={ADMIN_TOKEN_ENV: ADMIN})
    assert is_owner(db, ADMIN, environ={ADMIN_TOKEN_ENV: ADMIN})
    for wrong in (None, "", ADMIN[:-1], ADMIN + " "):
        assert not is_owner(db, wrong, environ={ADMIN_TOKEN_ENV: ADMIN})
    account = create_owner(db, "olivia")
    assert owner_secret_configured(db, environ={})
    assert is_owner(db, account.token, environ={}) and not is_owner(db, ADMIN, environ={})
    owner_id, secret = account.token.split("-", 1)
    assert not is_owner(db, f"{owner_id}-{secret[::-1]}", environ={})
    with db.read() as session:
        (stored,) = session.scalars(select(Owner)).all()
    assert secret not in stored.secret_hash and stored.name == "olivia"
    with pytest.raises(InputError, match="exists already"):
        create_owner(db, "olivia")


def test_cli_admin_create_prints_the_secret_once(db, capsys):
    assert main(["admin", "create", "oscar", "--url", str(db.engine.url)]) == 0
    out = capsys.readouterr().out
    token = out.split("secret ", 1)[1].split()[0]
    assert is_owner(db, token, environ={})


def _app(monkeypatch, db, admin: str | None):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("PERSONA4REC_DB_URL", str(db.engine.url))
    if admin is None:
        monkeypatch.delenv(ADMIN_TOKEN_ENV, raising=False)
    else:
        monkeypatch.setenv(ADMIN_TOKEN_ENV, admin)
    return AppTest.from_file(str(APP), default_timeout=120)


@pytest.mark.slow
def test_open_mode_says_so(monkeypatch, db, tmp_path):
    monkeypatch.setenv("PERSONA4REC_HOME", str(tmp_path / "home"))
    at = _app(monkeypatch, db, None).run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Open mode" in i.value for i in at.sidebar.info)


@pytest.mark.slow
def test_a_visitor_sees_only_the_sign_in_page_and_the_owner_signs_in(monkeypatch, db, tmp_path):
    monkeypatch.setenv("PERSONA4REC_HOME", str(tmp_path / "home"))
    at = _app(monkeypatch, db, ADMIN).run()
    assert not at.exception, [e.value for e in at.exception]
    assert [t.value for t in at.title] == ["Persona4Rec"] and not at.sidebar.selectbox and not at.sidebar.info
    at.text_input(key="owner_secret").input("wrong")  # a form: its values go with the submit
    at.button[0].click().run()
    assert [e.value for e in at.error] == ["That is not an owner's secret."]
    with pytest.raises(ValueError, match="Known pages: \\['[^']*sign_in.py'\\]"):
        at.switch_page("pages/studies.py")  # signed out, no other page is even registered

    owner = _app(monkeypatch, db, ADMIN).run()
    owner.text_input(key="owner_secret").input(ADMIN)
    owner.button[0].click().run()
    assert not owner.exception, [e.value for e in owner.exception]
    assert [b.label for b in owner.sidebar.button] == ["Sign out"] and "owner_secret" not in owner.session_state
    owner.switch_page("pages/studies.py").run()
    assert not owner.exception and [t.value for t in owner.title] == ["Studies and results"]
    assert [t.label for t in owner.tabs] == ["Results", "Create a study", "Invite annotators"]
    owner.sidebar.button[0].click().run()  # sign out: back to the sign-in page
    assert [t.value for t in owner.title] == ["Persona4Rec"]
