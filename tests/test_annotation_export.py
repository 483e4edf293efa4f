"""Exported ratings cannot run as spreadsheet formulas: every CSV cell that starts like a formula is
neutralised, while JSON keeps the text as stored; the page's download and `study export` are one text.
Each runs on SQLite and on a real PostgreSQL server (tests/conftest.py: db_url)."""

from __future__ import annotations

import csv
import io
import json

import pytest

from persona4rec.annotation.criteria import EXPLANATION_CRITERIA
from persona4rec.annotation.db import open_database
from persona4rec.annotation.export import export_ratings, ratings_text, spreadsheet_safe
from persona4rec.annotation.study import ExampleInput, create_study, identify_annotator, next_assignment, submit_ratings

ATTACKS = {  # what an annotator or a data file could put in a cell -> what the CSV must hold
    '=HYPERLINK("http://evil","x")': '\'=HYPERLINK("http://evil","x")',
    "+1+cmd|' /C calc'!A0": "'+1+cmd|' /C calc'!A0",
    "-2+3": "'-2+3",
    "@SUM(A1:A9)": "'@SUM(A1:A9)",
    "\t=1+1": "'\t=1+1",
    "fine = 1 + 1": "fine = 1 + 1",
}


def test_spreadsheet_safe_by_hand():
    for text, expected in ATTACKS.items():
        assert spreadsheet_safe(text) == expected
    assert spreadsheet_safe(-3) == -3 and spreadsheet_safe(None) is None and spreadsheet_safe("") == ""


@pytest.fixture()
def rated(db_url):
    db = open_database(db_url)
    examples = [
        ExampleInput(user_id="=cmd", item_id="@item", explanation_a="a", explanation_b="b", item_title="t"),
        ExampleInput(user_id="u2", item_id="i2", explanation_a="a", explanation_b="b", item_title="t"),
    ]
    study = create_study(db, "csv-safety", "explanation", "multi_persona", "single_persona", examples, seed=1)
    person = identify_annotator(db, study, "+annotator")
    comments = iter(ATTACKS)
    while (shown := next_assignment(db, study, person.id)) is not None:
        answers = {c.key: "A" for c in EXPLANATION_CRITERIA}
        submit_ratings(db, shown.assignment_id, answers, comment=next(comments))
    yield db
    db.dispose()


def test_csv_export_neutralises_formula_cells_and_json_keeps_them(rated, tmp_path):
    n = export_ratings(rated, "csv-safety", tmp_path / "r.csv")
    with open(tmp_path / "r.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert n == len(rows) == 2 * len(EXPLANATION_CRITERIA)
    for row in rows:
        for column, cell in row.items():
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (column, cell)
    assert {r["annotator"] for r in rows} == {"'+annotator"}
    assert "'=cmd" in {r["user_id"] for r in rows} and "'@item" in {r["item_id"] for r in rows}
    assert {r["comment"] for r in rows} <= set(ATTACKS.values())

    export_ratings(rated, "csv-safety", tmp_path / "r.json")
    document = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert {r["annotator"] for r in document["ratings"]} == {"+annotator"}
    assert {r["comment"] for r in document["ratings"]} <= set(ATTACKS)


def test_the_download_is_the_exported_file(rated, tmp_path):
    for fmt in ("csv", "json"):
        export_ratings(rated, "csv-safety", tmp_path / f"r.{fmt}")
        text, n = ratings_text(rated, "csv-safety", fmt)
        assert text == (tmp_path / f"r.{fmt}").read_bytes().decode("utf-8") and n == 2 * len(EXPLANATION_CRITERIA)
    assert len(list(csv.DictReader(io.StringIO(ratings_text(rated, "csv-safety", "csv")[0])))) == n
