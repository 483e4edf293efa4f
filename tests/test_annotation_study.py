"""Study logic on a real database, SQLite and PostgreSQL (conftest.py: db_urls): creation, access tokens,
queues, left/right order, idempotent submits, revisions with history, progress, export and the CLI verbs."""

from __future__ import annotations

import csv
import json

import pytest
from sqlalchemy import func, select

from persona4rec.annotation.criteria import EXPLANATION_CRITERIA, PERSONA_CRITERIA, criterion_keys
from persona4rec.annotation.db import open_database
from persona4rec.annotation.export import EXPORT_COLUMNS, export_ratings, progress_frame, rating_records
from persona4rec.annotation.models import Assignment, Rating, RatingHistory, Submission
from persona4rec.annotation.stats import study_results
from persona4rec.annotation.study import (
    AccessDenied,
    ExampleInput,
    annotator_progress,
    annotator_queue,
    create_study,
    get_assignment,
    get_study,
    identify_annotator,
    left_is_a_for,
    list_studies,
    next_assignment,
    rating_history,
    release_stale_assignments,
    set_access_token,
    study_progress,
    submit_ratings,
)
from persona4rec.cli import main as cli_main
from persona4rec.errors import InputError

SCRIPT = '<script>alert("x")</script> & <b>bold</b>'


@pytest.fixture(scope="module")
def db(module_db_urls):
    database = open_database(module_db_urls.new("studies"))
    yield database
    database.dispose()


def examples(n: int, prefix: str = "") -> list[ExampleInput]:
    return [
        ExampleInput(
            user_id=f"{prefix}u{i}",
            item_id=f"{prefix}i{i}",
            explanation_a=f"multi {i}",
            explanation_b=f"single {i}",
            history=[{"title": f"past {i}", "rating": 4}],
            item_title=f"Item {i}",
            workspace="demo",
        )
        for i in range(n)
    ]


def all_criteria(value: str, criteria=EXPLANATION_CRITERIA) -> dict[str, str]:
    return {c.key: value for c in criteria}


def test_create_study_records_everything_and_samples_reproducibly(db):
    info = create_study(
        db, "sampled", "explanation", "multi_persona", "single_persona", examples(10), seed=3, examples_per_study=4
    )
    again = create_study(
        db,
        "sampled-again",
        "explanation",
        "multi_persona",
        "single_persona",
        examples(10),
        seed=3,
        examples_per_study=4,
    )
    assert info.examples_per_study == 4 and info.annotators_per_example == 3
    assert not info.requires_token and info.system_a == "multi_persona"
    assert [c.key for c in info.criteria] == criterion_keys("explanation")
    assert get_study(db, "sampled") == info == get_study(db, info.id)
    assert {"sampled", "sampled-again"} <= {s.name for s in list_studies(db)}
    with db.read() as session:
        from persona4rec.annotation.models import Example

        items = [
            session.scalars(select(Example.item_id).where(Example.study_id == s.id).order_by(Example.position)).all()
            for s in (info, again)
        ]
    assert items[0] == items[1] and len(items[0]) == 4


@pytest.mark.parametrize(
    "kwargs, field",
    [
        (dict(name=""), "name"),
        (dict(criteria_set="fluency"), "criteria_set"),
        (dict(system_b="multi_persona"), "system_b"),
        (dict(examples=[]), "examples"),
        (dict(annotators_per_example=0), "annotators_per_example"),
    ],
)
def test_create_study_rejects_bad_input(db, kwargs, field):
    args = dict(
        name="bad",
        criteria_set="explanation",
        system_a="multi_persona",
        system_b="single_persona",
        examples=examples(2),
    )
    args.update(kwargs)
    with pytest.raises(InputError) as err:
        create_study(
            db,
            args.pop("name"),
            args.pop("criteria_set"),
            args.pop("system_a"),
            args.pop("system_b"),
            args.pop("examples"),
            **args,
        )
    assert err.value.field == field


def test_bad_example_names_its_position_and_field(db):
    bad = examples(3)
    bad[1] = ExampleInput("u", "i", "fine", "   ")
    with pytest.raises(InputError, match="line 2, field 'explanation_b'"):
        create_study(db, "bad-example", "explanation", "a", "b", bad)


def test_duplicate_study_name_is_an_input_error(db):
    create_study(db, "twice", "persona", "multi_persona", "single_persona", examples(1))
    with pytest.raises(InputError, match="already exists"):
        create_study(db, "twice", "persona", "multi_persona", "single_persona", examples(1))


def test_access_token_is_checked_and_only_its_hash_stored(db):
    create_study(db, "closed", "explanation", "multi_persona", "single_persona", examples(2), access_token="s3cret")
    for wrong in (None, "", "S3CRET"):
        with pytest.raises(AccessDenied):
            identify_annotator(db, "closed", "eve", wrong)
    me = identify_annotator(db, "closed", "  dana  ", "s3cret")
    assert me.name == "dana" and identify_annotator(db, "closed", "dana", "s3cret").id == me.id
    with db.read() as session:
        from persona4rec.annotation.models import Study

        stored = session.scalar(select(Study.access_token_hash).where(Study.name == "closed"))
    assert "s3cret" not in stored and len(stored) == 64
    assert set_access_token(db, "closed", "new").requires_token
    with pytest.raises(AccessDenied):
        identify_annotator(db, "closed", "dana", "s3cret")
    assert not set_access_token(db, "closed", None).requires_token
    assert identify_annotator(db, "closed", "dana").id == me.id


def test_queue_gives_each_example_to_k_distinct_annotators_then_runs_dry(db):
    study = create_study(
        db, "queue", "explanation", "multi_persona", "single_persona", examples(3), annotators_per_example=2, seed=11
    )
    names = ["q-ann1", "q-ann2", "q-ann3"]
    annotators = [identify_annotator(db, study, n) for n in names]
    seen: dict[int, list[int]] = {}
    for person in annotators:
        while (shown := next_assignment(db, study, person.id)) is not None:
            assert next_assignment(db, study, person.id).assignment_id == shown.assignment_id  # resumes
            seen.setdefault(shown.example_id, []).append(person.id)
            submit_ratings(db, shown.assignment_id, all_criteria("tie"))
    assert sorted(len(v) for v in seen.values()) == [2, 2, 2]
    assert all(len(set(v)) == len(v) for v in seen.values())
    progress = study_progress(db, study)
    assert (progress.needed, progress.done, progress.complete_examples) == (6, 6, 3)
    assert sum(a.done for a in progress.annotators) == 6 and all(a.pending == 0 for a in progress.annotators)
    assert all(a.ratings == a.done * 5 for a in progress.annotators)
    first = annotator_queue(db, study, annotators[0].id)
    assert [q.queue_position for q in first] == list(range(len(first))) and all(q.status == "done" for q in first)
    assert annotator_progress(db, study, identify_annotator(db, study, "q-late").id).assigned == 0
    frame = progress_frame(progress)
    assert sorted(frame["annotator"]) == names[:2] and frame["done"].sum() == 6  # the third found none left
    assert frame["share_of_needed"].sum() == pytest.approx(1.0)


def test_stale_pending_assignments_are_released_to_others(db):
    import datetime as dt

    study = create_study(
        db, "stale", "explanation", "multi_persona", "single_persona", examples(2), annotators_per_example=1
    )
    leaver, rater, other = (identify_annotator(db, study, n) for n in ("s-leaver", "s-rater", "s-other"))
    taken = next_assignment(db, study, leaver.id)
    rated = next_assignment(db, study, rater.id)
    submit_ratings(db, rated.assignment_id, all_criteria("A"))
    assert next_assignment(db, study, other.id) is None  # both slots are held
    assert release_stale_assignments(db, study, dt.timedelta(hours=1)) == 0
    assert release_stale_assignments(db, study, dt.timedelta(0)) == 1  # only the unrated one
    freed = next_assignment(db, study, other.id)
    assert freed.example_id == taken.example_id
    assert rating_records(db, study.id)[0]["annotator"] == "s-rater"
    again = next_assignment(db, study, leaver.id)  # the leaver comes back: nothing left
    assert again is None and annotator_queue(db, study, leaver.id) == []


def test_left_right_order_is_seeded_recorded_and_mapped_back_to_systems(db):
    study = create_study(
        db, "order", "explanation", "sys_one", "sys_two", examples(12), seed=5, annotators_per_example=1
    )
    person = identify_annotator(db, study, "o-ann")
    orders = []
    while (shown := next_assignment(db, study, person.id)) is not None:
        position = int(shown.item_id.lstrip("i"))
        expected_left_a = left_is_a_for(5, "o-ann", position)
        assert shown.explanation_shown_a == (f"multi {position}" if expected_left_a else f"single {position}")
        assert shown.explanation_shown_b == (f"single {position}" if expected_left_a else f"multi {position}")
        orders.append(expected_left_a)
        submit_ratings(db, shown.assignment_id, all_criteria("A"))
    assert True in orders and False in orders  # both orders occur over 12 examples
    records = rating_records(db, "order")
    with db.read() as session:
        recorded = dict(
            session.execute(select(Assignment.id, Assignment.left_is_a).where(Assignment.study_id == study.id)).all()
        )
    for r in records:
        assert r["left_is_a"] == recorded[r["assignment_id"]]
        assert r["shown_choice"] == "A"
        assert r["chosen_system"] == r["shown_left_system"]
        assert r["outcome"] == ("system_a" if r["left_is_a"] else "system_b")


def test_orders_and_queues_replay_in_a_fresh_database(db, db_urls):
    def run(database, study_name, names):
        study = create_study(
            database, study_name, "explanation", "sys_one", "sys_two", examples(6), seed=9, annotators_per_example=2
        )
        seen = []
        for name in names:
            person = identify_annotator(database, study, name)
            while (shown := next_assignment(database, study, person.id)) is not None:
                seen.append((name, shown.item_id, shown.explanation_shown_a))
                submit_ratings(database, shown.assignment_id, all_criteria("tie"))
        return seen

    identify_annotator(db, "order", "someone-registered-first")  # shifts annotator ids in `db` only
    fresh = open_database(db_urls.new("fresh"))
    assert run(db, "replay", ["rp-1", "rp-2"]) == run(fresh, "replay", ["rp-1", "rp-2"])
    fresh.dispose()


def test_submit_is_idempotent_and_revisions_keep_history(db):
    study = create_study(db, "revise", "persona", "multi_persona", "single_persona", examples(1))
    person = identify_annotator(db, study, "r-ann")
    shown = next_assignment(db, study, person.id)
    first = all_criteria("A", PERSONA_CRITERIA)
    assert submit_ratings(db, shown.assignment_id, first, "note", "click-1").outcome == "stored"
    assert submit_ratings(db, shown.assignment_id, first, "note", "click-1").outcome == "duplicate"
    assert submit_ratings(db, shown.assignment_id, first, "note", "click-2").outcome == "unchanged"
    # a stale resend of an old submission after a revision must not undo the revision
    changed = dict(first, coverage="tie", clarity="B")
    revised = submit_ratings(db, shown.assignment_id, changed, "note", "click-3")
    assert revised.outcome == "revised" and set(revised.changed) == {"coverage", "clarity"}
    assert submit_ratings(db, shown.assignment_id, first, "note", "click-1").outcome == "duplicate"
    view = get_assignment(db, shown.assignment_id, person.id)
    assert view.status == "done" and view.answers == changed and view.comment == "note"
    history = rating_history(db, shown.assignment_id)
    assert sorted((h["criterion"], h["shown_choice"], h["revision"], h["submission_id"]) for h in history) == [
        ("clarity", "A", 0, "click-1"),
        ("coverage", "A", 0, "click-1"),
    ]
    with db.read() as session:
        rows = session.scalars(select(Rating).where(Rating.assignment_id == shown.assignment_id)).all()
        submissions = session.scalar(
            select(func.count()).select_from(Submission).where(Submission.assignment_id == shown.assignment_id)
        )
    assert len(rows) == 5 and submissions == 3  # click-1, click-2, click-3
    assert {r.criterion: r.revision for r in rows} == {
        c.key: int(c.key in ("coverage", "clarity")) for c in PERSONA_CRITERIA
    }
    # a comment-only change is a revision too
    assert submit_ratings(db, shown.assignment_id, changed, "second thoughts").outcome == "revised"
    with db.read() as session:
        assert (
            session.scalar(
                select(func.count())
                .select_from(RatingHistory)
                .join(Rating)
                .where(Rating.assignment_id == shown.assignment_id)
            )
            == 2 + 5
        )


@pytest.mark.parametrize(
    "choices, field",
    [
        ({"intuitiveness": "A"}, "relatability"),  # missing criteria
        (dict(all_criteria("A"), intuitiveness="maybe"), "intuitiveness"),  # bad value
        (dict(all_criteria("A"), fluency="A"), "fluency"),  # not in the set
    ],
)
def test_submit_rejects_incomplete_or_bad_answers_and_stores_nothing(db, choices, field):
    study = create_study(db, f"reject-{field}", "explanation", "multi_persona", "single_persona", examples(1))
    person = identify_annotator(db, study, f"x-{field}")
    shown = next_assignment(db, study, person.id)
    with pytest.raises(InputError) as err:
        submit_ratings(db, shown.assignment_id, choices)
    assert err.value.field == field
    assert get_assignment(db, shown.assignment_id).status == "pending"
    assert rating_records(db, study.id) == []


def test_answers_accept_display_names_and_any_case(db):
    study = create_study(db, "names", "explanation", "multi_persona", "single_persona", examples(1))
    person = identify_annotator(db, study, "n-ann")
    shown = next_assignment(db, study, person.id)
    result = submit_ratings(
        db, shown.assignment_id, {c.name: v for c, v in zip(EXPLANATION_CRITERIA, ["a", "B", "TIE", "Tie", "b"])}
    )
    assert result.outcome == "stored"
    assert list(get_assignment(db, shown.assignment_id).answers.values()).count("tie") == 2


def test_someone_elses_assignment_is_refused(db):
    study = create_study(db, "owner", "explanation", "multi_persona", "single_persona", examples(1))
    owner, other = identify_annotator(db, study, "own-1"), identify_annotator(db, study, "own-2")
    shown = next_assignment(db, study, owner.id)
    with pytest.raises(InputError):
        submit_ratings(db, shown.assignment_id, all_criteria("A"), annotator_id=other.id)
    with pytest.raises(InputError):
        get_assignment(db, shown.assignment_id, other.id)


def test_text_is_stored_and_exported_exactly_as_given(db, tmp_path):
    markup = [ExampleInput("u<1>", "i&1", SCRIPT, "plain", history=[{"text": SCRIPT}], item_title=SCRIPT)]
    study = create_study(db, "markup", "explanation", "multi_persona", "single_persona", markup)
    person = identify_annotator(db, study, "<img src=x onerror=alert(1)>")
    shown = next_assignment(db, study, person.id)
    assert SCRIPT in (shown.explanation_shown_a, shown.explanation_shown_b)
    assert shown.history == [{"text": SCRIPT}] and shown.item_title == SCRIPT
    submit_ratings(db, shown.assignment_id, all_criteria("B"), comment=SCRIPT)
    assert export_ratings(db, "markup", tmp_path / "r.json") == 5
    document = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert {r["comment"] for r in document["ratings"]} == {SCRIPT}
    assert {r["annotator"] for r in document["ratings"]} == {"<img src=x onerror=alert(1)>"}


def test_export_csv_and_json_carry_every_rating_and_match_the_results(db, tmp_path):
    study = create_study(
        db, "export", "explanation", "multi_persona", "single_persona", examples(2), annotators_per_example=2, seed=2
    )
    for name in ("e-1", "e-2"):
        person = identify_annotator(db, study, name)
        while (shown := next_assignment(db, study, person.id)) is not None:
            submit_ratings(db, shown.assignment_id, all_criteria("A"), comment="c")
    assert export_ratings(db, "export", tmp_path / "r.csv") == 20
    with open(tmp_path / "r.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 20 and tuple(rows[0]) == EXPORT_COLUMNS
    assert export_ratings(db, study.id, tmp_path / "r.out", fmt="json") == 20
    document = json.loads((tmp_path / "r.out").read_text(encoding="utf-8"))
    assert document["study"]["name"] == "export" and len(document["ratings"]) == 20
    assert {(r["example_id"], r["annotator"], r["criterion"]) for r in document["ratings"]} == {
        (int(r["example_id"]), r["annotator"], r["criterion"]) for r in rows
    }
    results = study_results(db, "export")
    a_wins = sum(r["outcome"] == "system_a" for r in rows)
    assert sum(r.wins for r in results) == a_wins and sum(r.n for r in results) == 20
    with pytest.raises(InputError, match="csv or json"):
        export_ratings(db, "export", tmp_path / "r.xlsx")


def test_cli_verbs_upgrade_create_list_results_export(db_url, tmp_path, capsys, monkeypatch):
    url = db_url
    assert cli_main(["db", "upgrade", "--url", url]) == 0
    lines = [
        json.dumps(
            {
                "user_id": "u1",
                "item_id": "i1",
                "explanation_a": "why A",
                "explanation_b": "why B",
                "history": [{"title": "t"}],
            }
        ),
        json.dumps({"user_id": 7, "item_id": "i2", "explanation_a": "x", "explanation_b": "y"}),
    ]
    good = tmp_path / "examples.jsonl"
    good.write_text("\n".join(lines) + "\n")
    monkeypatch.setenv("STUDY_TOKEN", "tok")
    assert (
        cli_main(
            [
                "study",
                "create",
                "--url",
                url,
                "--name",
                "cli-study",
                "--system-a",
                "multi_persona",
                "--system-b",
                "single_persona",
                "--examples",
                str(good),
                "--token-env",
                "STUDY_TOKEN",
            ]
        )
        == 0
    )
    assert "access token required" in capsys.readouterr().out
    bad = tmp_path / "bad.jsonl"
    bad.write_text(lines[0] + "\n" + json.dumps({"user_id": "u", "item_id": "i", "explanation_a": "x"}) + "\n")
    assert (
        cli_main(
            [
                "study",
                "create",
                "--url",
                url,
                "--name",
                "bad",
                "--system-a",
                "a",
                "--system-b",
                "b",
                "--examples",
                str(bad),
            ]
        )
        == 2
    )
    assert f"{bad}, line 2, field 'explanation_b'" in capsys.readouterr().err
    assert cli_main(["study", "list", "--url", url]) == 0
    assert "cli-study" in capsys.readouterr().out
    assert cli_main(["study", "results", "--url", url, "--name", "cli-study", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 5
    assert cli_main(["study", "export", "--url", url, "--name", "cli-study", "--out", str(tmp_path / "out.csv")]) == 0
    assert "wrote 0 ratings" in capsys.readouterr().out
    assert (tmp_path / "out.csv").read_text().startswith("study,study_id,")
