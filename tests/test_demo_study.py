"""`persona4rec demo` leaves one open study on the demo workspace: built once by the one example builder,
kept (not rebuilt, not duplicated) on the next run, with no ratings in it. On SQLite and PostgreSQL."""

from __future__ import annotations

from app_fixture import shared_app_workspace

from persona4rec.annotation.db import open_database
from persona4rec.annotation.study import list_studies, study_progress
from persona4rec.demo.study import DEMO_EXAMPLES, demo_study_name, ensure_demo_study


def test_the_demo_study_is_made_once_and_left_open(tmp_path_factory, db_url):
    ws = shared_app_workspace(tmp_path_factory)
    first = ensure_demo_study(ws, db_url)
    again = ensure_demo_study(ws, db_url)
    assert first.id == again.id and first.name == demo_study_name(ws)
    assert (first.system_a, first.system_b) == ("multi_persona", "single_persona")
    assert first.examples_per_study == DEMO_EXAMPLES and not first.invite_only and not first.requires_token
    db = open_database(db_url)
    try:
        assert [s.name for s in list_studies(db)] == [first.name]
        progress = study_progress(db, first.id)
        assert progress.done == 0 and progress.examples == DEMO_EXAMPLES
    finally:
        db.dispose()
