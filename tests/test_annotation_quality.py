"""Quality control, first part: the owner's guidelines are shown (as text) before an annotator's first
example, and the time each example was on screen is recorded per assignment and summarised per annotator.
Each runs on SQLite and on a real PostgreSQL server (tests/conftest.py: db_url)."""

from __future__ import annotations

from pathlib import Path

import pytest

from persona4rec.annotation.criteria import EXPLANATION_CRITERIA
from persona4rec.annotation.db import open_database
from persona4rec.annotation.invitations import invite_annotators
from persona4rec.annotation.study import (
    ExampleInput,
    annotator_progress,
    create_study,
    get_study,
    identify_annotator,
    next_assignment,
    study_progress,
    submit_ratings,
)
from persona4rec.cli import main

APP = Path(__file__).resolve().parent.parent / "app.py"
GUIDELINES = "Judge only the text.\n<b>Not bold</b> and [no link](http://x) :red[plain]"
ANSWERS = {c.key: "tie" for c in EXPLANATION_CRITERIA}


def examples(n: int = 3) -> list[ExampleInput]:
    return [
        ExampleInput(user_id=f"u{i}", item_id=f"i{i}", explanation_a=f"a{i}", explanation_b=f"b{i}") for i in range(n)
    ]


@pytest.fixture()
def db(db_url):
    database = open_database(db_url)
    yield database
    database.dispose()


def test_guidelines_are_stored_as_written(db, tmp_path, capsys):
    info = create_study(db, "g", "explanation", "multi_persona", "summary_profile", examples(), guidelines=GUIDELINES)
    assert get_study(db, info.id).guidelines == GUIDELINES
    assert create_study(db, "no-g", "explanation", "multi_persona", "summary_profile", examples()).guidelines == ""
    (tmp_path / "ex.jsonl").write_text('{"user_id": "u", "item_id": "i", "explanation_a": "a", "explanation_b": "b"}\n')
    (tmp_path / "guide.txt").write_text(GUIDELINES, encoding="utf-8")

    def create(name: str, guidelines: Path) -> int:
        argv = ["study", "create", "--url", str(db.engine.url), "--name", name, "--system-a", "multi_persona"]
        argv += ["--system-b", "single_persona", "--examples", str(tmp_path / "ex.jsonl")]
        return main([*argv, "--guidelines-file", str(guidelines)])

    assert create("from-cli", tmp_path / "guide.txt") == 0
    assert get_study(db, "from-cli").guidelines == GUIDELINES
    assert create("other", tmp_path / "missing.txt") == 2
    assert "missing.txt" in capsys.readouterr().err


def test_time_on_screen_is_summed_per_assignment_and_summarised_per_annotator(db):
    study = create_study(db, "t", "explanation", "multi_persona", "summary_profile", examples(3))
    me = identify_annotator(db, study, "tim")
    spent = iter([4.0, 10.0, 30.0])
    while (shown := next_assignment(db, study, me.id)) is not None:
        submit_ratings(db, shown.assignment_id, ANSWERS, "", f"s{shown.assignment_id}", seconds_spent=next(spent))
    assert annotator_progress(db, study, me.id).median_seconds == 10.0
    other = identify_annotator(db, study, "unmeasured")
    shown = next_assignment(db, study, other.id)
    submit_ratings(db, shown.assignment_id, ANSWERS, "", "once")  # no time measured (e.g. the CLI or an API)
    assert annotator_progress(db, study, other.id).median_seconds is None
    # A revision adds its time; a resent (duplicate) submit adds none.
    revised = dict(ANSWERS, intuitiveness="A")
    submit_ratings(db, shown.assignment_id, revised, "", "again", seconds_spent=6.0)
    submit_ratings(db, shown.assignment_id, revised, "", "again", seconds_spent=100.0)
    assert annotator_progress(db, study, other.id).median_seconds == 6.0
    by_name = {a.annotator: a.median_seconds for a in study_progress(db, study).annotators}
    assert by_name == {"tim": 10.0, "unmeasured": 6.0}


@pytest.mark.slow
def test_the_annotate_page_shows_the_guidelines_first_and_records_the_time(db, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("PERSONA4REC_DB_URL", str(db.engine.url))
    study = create_study(
        db, "qc", "explanation", "multi_persona", "summary_profile", examples(2), guidelines=GUIDELINES
    )
    (link,) = invite_annotators(db, study, ["gina"])
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.query_params["invite"] = link.token
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert [t.value for t in at.text] == [GUIDELINES]  # plain text, not markdown
    assert not at.radio  # no example before the guidelines are read
    at.button(key="annotate_guidelines_read").click().run()
    assert not at.exception and at.radio
    for radio in at.radio:
        radio.set_value("tie")
    next(b for b in at.button if b.label == "Submit").click().run()
    assert not at.exception, [e.value for e in at.exception]
    me = next(a for a in study_progress(db, study).annotators if a.annotator == "gina")
    assert me.done == 1 and me.median_seconds is not None and me.median_seconds >= 0
