"""Personal invitations: one link per annotator, stored only as a salted hash; renewing replaces the link,
revoking closes it; an invite-only study refuses name typing; malformed, unknown and revoked links get a
clear message. Also the CLI verbs and the app: an invitation opens the Annotate page alone, as its annotator,
and a bad link shows the message and nothing else.
Each runs on SQLite and on a real PostgreSQL server (tests/conftest.py: db_url)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import select

from persona4rec.annotation.criteria import EXPLANATION_CRITERIA
from persona4rec.annotation.db import open_database
from persona4rec.annotation.invitations import (
    invitation_url,
    invite_annotators,
    invited_annotators,
    redeem_invitation,
    revoke_invitation,
)
from persona4rec.annotation.models import Invitation
from persona4rec.annotation.study import (
    AccessDenied,
    ExampleInput,
    create_study,
    get_study,
    identify_annotator,
    next_assignment,
    submit_ratings,
)
from persona4rec.cli import main
from persona4rec.errors import InputError

APP = Path(__file__).resolve().parent.parent / "app.py"


def examples(n: int = 3) -> list[ExampleInput]:
    return [
        ExampleInput(user_id=f"u{i}", item_id=f"i{i}", explanation_a=f"persona {i}", explanation_b=f"summary {i}")
        for i in range(n)
    ]


@pytest.fixture()
def db(db_url):
    database = open_database(db_url)
    yield database
    database.dispose()


@pytest.fixture()
def study(db):
    return create_study(db, "blind", "explanation", "multi_persona", "summary_profile", examples(), seed=1)


def page_text(at) -> str:
    """Everything a page shows as text: titles, captions, markdown, plain text, tables, widget labels."""
    parts = [e.value for kind in (at.title, at.subheader, at.caption, at.markdown, at.text, at.error) for e in kind]
    parts += [frame.value.to_csv() for frame in at.dataframe]
    parts += [widget.label for kind in (at.radio, at.selectbox, at.button, at.text_area) for widget in kind]
    return "\n".join(str(part) for part in parts)


def token_of(url: str) -> str:
    return parse_qs(urlparse(url).query)["invite"][0]


def test_an_invitation_identifies_its_annotator_and_only_a_hash_is_stored(db, study):
    alice, bob = invite_annotators(db, study, ["alice", "bob"])
    assert (alice.annotator, bob.annotator) == ("alice", "bob") and alice.token != bob.token
    assert alice.url("http://host:9000/") == invitation_url(alice.token, "http://host:9000")
    assert alice.url("http://host:9000").startswith("http://host:9000/?invite=")
    assert token_of(alice.url()) == alice.token
    invited = redeem_invitation(db, alice.token)
    assert invited.annotator.name == "alice" and invited.study.id == study.id and invited.study.invite_only
    with db.read() as session:
        stored = session.scalars(select(Invitation)).all()
    secret = alice.token.split("-", 1)[1]
    for row in stored:
        assert secret not in row.secret_hash and len(bytes.fromhex(row.salt)) == 16
    assert len({row.salt for row in stored}) == 2  # one salt per invitation
    assert invited_annotators(db, study) == [("alice", False), ("bob", False)]


def test_an_invite_only_study_refuses_name_typing(db, study):
    identify_annotator(db, study, "early")  # open until the first invitation
    invite_annotators(db, study, ["alice"])
    assert get_study(db, study.id).invite_only
    with pytest.raises(AccessDenied, match="by invitation only"):
        identify_annotator(db, study, "alice")
    with pytest.raises(AccessDenied, match="by invitation only"):
        identify_annotator(db, study, "mallory")


def test_malformed_unknown_renewed_and_revoked_links_are_refused_with_a_reason(db, study):
    (first,) = invite_annotators(db, study, ["alice"])
    for bad in (None, "", "not-a-token", "12", "x-" + "a" * 30, first.token + "\n<script>"):
        with pytest.raises(AccessDenied, match="malformed"):
            redeem_invitation(db, bad)
    invitation_id, secret = first.token.split("-", 1)
    with pytest.raises(AccessDenied, match="not valid"):
        redeem_invitation(db, f"{int(invitation_id) + 99}-{secret}")  # unknown id
    with pytest.raises(AccessDenied, match="not valid"):
        redeem_invitation(db, f"{invitation_id}-{secret[::-1]}")  # right id, wrong secret
    (renewed,) = invite_annotators(db, study, ["alice"])
    with pytest.raises(AccessDenied, match="not valid"):
        redeem_invitation(db, first.token)  # renewing replaced the old link
    assert redeem_invitation(db, renewed.token).annotator.name == "alice"
    revoke_invitation(db, study, "alice")
    with pytest.raises(AccessDenied, match="revoked"):
        redeem_invitation(db, renewed.token)
    assert invited_annotators(db, study) == [("alice", True)]
    with pytest.raises(InputError):
        revoke_invitation(db, study, "nobody")
    with pytest.raises(InputError):
        invite_annotators(db, study, ["bob", " bob "])


def test_an_invited_annotator_rates_their_own_queue(db, study):
    (alice,) = invite_annotators(db, study, ["alice"])
    me = redeem_invitation(db, alice.token).annotator
    done = 0
    while (shown := next_assignment(db, study, me.id)) is not None:
        submit_ratings(db, shown.assignment_id, {c.key: "A" for c in EXPLANATION_CRITERIA}, "", f"s{done}")
        done += 1
    assert done == 3


def test_cli_invite_prints_name_and_url_per_annotator_and_revoke_closes_one(db, study, capsys):
    url = str(db.engine.url)
    assert (
        main(["study", "invite", "blind", "--annotators", "alice,bob", "--base-url", "http://h:1", "--url", url]) == 0
    )
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(" ")[0] for line in lines] == ["alice", "bob"]
    tokens = {line.split(" ")[0]: token_of(line.split(" ")[1]) for line in lines}
    assert all(line.split(" ")[1].startswith("http://h:1/?invite=") for line in lines)
    assert redeem_invitation(db, tokens["bob"]).annotator.name == "bob"
    assert main(["study", "revoke", "blind", "--annotator", "bob", "--url", url]) == 0
    with pytest.raises(AccessDenied, match="revoked"):
        redeem_invitation(db, tokens["bob"])
    assert main(["study", "revoke", "blind", "--annotator", "carol", "--url", url]) == 2


@pytest.mark.slow
def test_app_opens_the_annotate_page_alone_for_an_invitation_and_nothing_for_a_bad_one(db, study, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("PERSONA4REC_DB_URL", str(db.engine.url))
    (alice,) = invite_annotators(db, study, ["alice"])

    at = AppTest.from_file(str(APP), default_timeout=120)
    at.query_params["invite"] = alice.token
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    text = page_text(at)
    assert "Annotating as alice" in text
    assert any(f"persona {i}" in text and f"summary {i}" in text for i in range(3))  # both explanations
    assert not at.sidebar.selectbox  # no workspace picker
    assert not [b for b in at.button if b.label == "Switch annotator"]
    assert "multi_persona" not in text and "summary_profile" not in text  # blind: no system names

    bad = AppTest.from_file(str(APP), default_timeout=120)
    bad.query_params["invite"] = "1-" + "x" * 32
    bad.run()
    assert not bad.exception, [e.value for e in bad.exception]
    assert [e.value for e in bad.error] and "not valid" in bad.error[0].value
    assert not bad.selectbox and not bad.radio and not bad.dataframe and not bad.text
