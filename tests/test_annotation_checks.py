"""Attention checks and crowd workers: checks built with a known answer and spread through each queue,
their scoring and flags, results with and without flagged annotators, agreement with the majority, and a
crowd worker identified by the platform's id who gets the completion code only once done. On SQLite and
on a real PostgreSQL server (tests/conftest.py: db_url)."""

from __future__ import annotations

import math

import pytest

from persona4rec.annotation.checks import DECOY_SYSTEM, attention_checks, check_passed, checks_needed
from persona4rec.annotation.criteria import EXPLANATION_CRITERIA
from persona4rec.annotation.crowd import completion_code_for, crowd_study, crowd_url, identify_worker
from persona4rec.annotation.db import open_database
from persona4rec.annotation.export import rating_records
from persona4rec.annotation.quality import annotator_quality, strict_majority, study_quality
from persona4rec.annotation.stats import study_results
from persona4rec.annotation.study import (
    AccessDenied,
    ExampleInput,
    annotator_queue,
    create_study,
    identify_annotator,
    next_assignment,
    study_progress,
    submit_ratings,
)
from persona4rec.errors import InputError

KEYS = [c.key for c in EXPLANATION_CRITERIA]


def examples(n: int = 10) -> list[ExampleInput]:
    return [
        ExampleInput(user_id=f"u{i}", item_id=f"i{i}", explanation_a=f"real A about i{i}", explanation_b=f"B {i}")
        for i in range(n)
    ]


@pytest.fixture()
def db(db_url):
    database = open_database(db_url)
    yield database
    database.dispose()


def test_checks_pair_a_real_explanation_with_one_written_for_another_item():
    made = attention_checks(examples(5), 7, seed=1)
    assert len(made) == 7 and all(c.is_check and c.system_b == DECOY_SYSTEM for c in made)
    for check in made:
        assert check.explanation_a == f"real A about {check.item_id}"
        assert check.explanation_b.startswith("real A about") and not check.explanation_b.endswith(check.item_id)
    assert checks_needed(10, 0.2) == 3 and checks_needed(10, 0) == 0 and checks_needed(1, 0.01) == 1
    with pytest.raises(InputError, match="two different items"):
        attention_checks([examples(1)[0]] * 3, 1)


def test_the_pass_rule_and_the_strict_majority():
    assert check_passed(3, 2) and not check_passed(2, 2) and not check_passed(0, 1)
    assert strict_majority(["a", "a", "b"]) == "a"
    assert strict_majority(["a", "b"]) is None and strict_majority([]) is None


def _rate_all(db, study, annotator: str, pick) -> list:
    """Rate the annotator's whole queue; `pick(view)` -> "A" | "B" | "tie" for every criterion."""
    me = identify_annotator(db, study.id, annotator)
    seen = []
    while (view := next_assignment(db, study.id, me.id)) is not None:
        seen.append(view)
        submit_ratings(db, view.assignment_id, {k: pick(view) for k in KEYS}, annotator_id=me.id)
    return seen


def real_side(view) -> str:
    """The side showing an explanation written for the shown item (what an attentive annotator prefers)."""
    return "A" if view.explanation_shown_a.endswith(view.item_id) else "B"


def test_checks_are_spread_through_each_queue_scored_and_flag_the_careless(db):
    study = create_study(
        db, "checked", "explanation", "multi_persona", "single_persona", examples(10), check_share=0.2, seed=4
    )
    assert study.check_share == 0.2 and study.examples_per_study == 10
    careful = _rate_all(db, study, "careful", real_side)
    careless = _rate_all(db, study, "careless", lambda view: "B" if real_side(view) == "A" else "A")
    me = identify_annotator(db, study.id, "careful")
    queue = annotator_queue(db, study.id, me.id)
    checks = [q for q in queue if q.example_id in {e for e in _check_ids(db, study)}]
    assert len(careful) == len(queue) == 10 + len(checks)
    assert len(checks) == 2 == round(0.2 * len(queue))  # the share, and the queue ends with the real examples
    assert [q.queue_position for q in checks] == [2, 7]  # spread through the queue: due at 3rd and 8th place
    quality = {q.annotator: q for q in study_quality(db, study.id)}
    assert (quality["careful"].checks_rated, quality["careful"].checks_passed) == (2, 2)
    assert quality["careful"].check_score == 1.0 and not quality["careful"].flagged
    assert quality["careless"].check_score == 0.0 and quality["careless"].flagged
    # the two always disagree, and with two annotators each one's "majority of the others" is the other
    assert quality["careful"].agreement_with_majority == 0.0 and quality["careful"].compared == 10 * len(KEYS)
    # progress counts real examples only; checks never enter the results
    progress = study_progress(db, study.id)
    assert (progress.examples, progress.needed, progress.done) == (10, 30, 20)
    every = study_results(db, study.id)
    assert every[0].n == 20
    kept = study_results(db, study.id, exclude_flagged=True)
    assert kept[0].n == 10
    assert len(careless) == len(careful)


def _check_ids(db, study) -> set[int]:
    from sqlalchemy import select

    from persona4rec.annotation.models import Example

    with db.read() as session:
        return set(session.scalars(select(Example.id).where(Example.study_id == study.id, Example.is_check)))


def test_agreement_with_the_majority_leaves_the_annotator_out():
    def rec(example, annotator, outcome, criterion="c"):
        return {
            "example_id": example,
            "annotator_id": annotator,
            "annotator": f"a{annotator}",
            "criterion": criterion,
            "outcome": outcome,
            "is_check": False,
        }

    records = [rec(1, 1, "system_a"), rec(1, 2, "system_a"), rec(1, 3, "system_b")]
    records += [rec(2, 1, "tie"), rec(2, 2, "system_b"), rec(2, 3, "system_b")]
    by = {q.annotator: q for q in annotator_quality(records, pass_mark=0.75)}
    # example 1: a1 vs others (a, b) -> no majority; a2 likewise; a3 vs (a, a) -> disagrees
    # example 2: a1 vs (b, b) -> disagrees; a2 vs (tie, b) -> none; a3 likewise
    assert (by["a1"].compared, by["a1"].agreement_with_majority) == (1, 0.0)
    assert (by["a3"].compared, by["a3"].agreement_with_majority) == (1, 0.0)
    assert by["a2"].compared == 0 and math.isnan(by["a2"].agreement_with_majority)
    assert math.isnan(by["a1"].check_score) and not by["a1"].flagged


def test_check_settings_are_validated(db):
    for kwargs, field in [
        ({"check_share": 1.0}, "check_share"),
        ({"check_pass_mark": 1.5}, "check_pass_mark"),
        ({"worker_id_param": "PROLIFIC PID"}, "worker_id_param"),
        ({"systems": ["multi_persona", "single_persona", DECOY_SYSTEM]}, "systems"),
    ]:
        with pytest.raises(InputError) as err:
            create_study(db, "bad", "explanation", "multi_persona", "single_persona", examples(3), **kwargs)
        assert err.value.field == field


def test_a_crowd_worker_is_who_the_platform_says_and_gets_the_code_only_when_done(db):
    study = create_study(
        db,
        "crowd",
        "explanation",
        "multi_persona",
        "single_persona",
        examples(2),
        annotators_per_example=2,
        worker_id_param="PROLIFIC_PID",
        completion_code="C0DE42",
    )
    link = crowd_url(study, "http://host:8501/")
    assert link == "http://host:8501/?crowd=crowd&PROLIFIC_PID={{%PROLIFIC_PID%}}"
    found, worker = crowd_study(db, {"crowd": "crowd", "PROLIFIC_PID": "5f1a9c"})
    assert (found.id, worker) == (study.id, "5f1a9c")
    for query in (
        {"crowd": "crowd"},
        {"crowd": "crowd", "PROLIFIC_PID": "x y"},
        {"crowd": "nope", "PROLIFIC_PID": "a"},
    ):
        with pytest.raises(AccessDenied):
            crowd_study(db, query)
    me = identify_worker(db, found, worker)
    assert me.name == "PROLIFIC_PID:5f1a9c" and me.external_id == "5f1a9c"
    assert identify_worker(db, found, worker) == me  # the same id on a later visit: the same queue
    assert completion_code_for(db, found, me.id) is None
    view = next_assignment(db, study.id, me.id)
    assert completion_code_for(db, found, me.id) is None  # one pending
    submit_ratings(db, view.assignment_id, {k: "A" for k in KEYS}, annotator_id=me.id)
    view = next_assignment(db, study.id, me.id)
    submit_ratings(db, view.assignment_id, {k: "A" for k in KEYS}, annotator_id=me.id)
    assert next_assignment(db, study.id, me.id) is None
    assert completion_code_for(db, found, me.id) == "C0DE42"
    assert {r["annotator"] for r in rating_records(db, study.id)} == {"PROLIFIC_PID:5f1a9c"}
    plain = create_study(db, "no-crowd", "explanation", "multi_persona", "single_persona", examples(2))
    with pytest.raises(AccessDenied):
        crowd_study(db, {"crowd": plain.name, "PROLIFIC_PID": "a"})


# -- the app --------------------------------------------------------------------------------------------

APP = __import__("pathlib").Path(__file__).resolve().parent.parent / "app.py"


def _page_text(at) -> str:
    parts = [m.value for kind in ("markdown", "caption", "text", "success", "code") for m in getattr(at, kind)]
    return "\n".join(parts)


@pytest.mark.slow
def test_owner_page_shows_pairs_ranking_and_quality_and_can_leave_flagged_out(db, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from persona4rec.annotation.design import SystemsExample, paired_examples

    systems = ["multi_persona", "single_persona", "summary_profile"]
    explained = [
        SystemsExample(f"u{i}", f"i{i}", {s: f"{s} about i{i}" for s in systems}, item_title=f"Item {i}")
        for i in range(6)
    ]
    paired, _ = paired_examples(explained, systems)
    study = create_study(
        db, "three-checked", "explanation", *systems[:2], paired, systems=systems, check_share=0.2, seed=2
    )
    _rate_all(db, study, "careful", real_side)
    _rate_all(db, study, "careless", lambda view: "B" if real_side(view) == "A" else "A")
    monkeypatch.setenv("PERSONA4REC_DB_URL", str(db.engine.url.render_as_string(hide_password=False)))
    monkeypatch.delenv("PERSONA4REC_ADMIN_TOKEN", raising=False)
    at = AppTest.from_file(str(APP), default_timeout=120).run()
    at.switch_page("pages/studies.py").run()
    assert not at.exception, [e.value for e in at.exception]
    frames = _frames(at)
    pairs, ranking, annotators = frames["pairs"], frames["ranking"], frames["annotators"]
    assert len(pairs) == 3 * 5 and {"system_a", "system_b", "sign_test_p_holm"} <= set(pairs.columns)
    assert set(ranking["system"]) == set(systems) and {"strength", "ci_low", "ci_high"} <= set(ranking.columns)
    by_name = annotators.set_index("annotator")
    assert by_name.loc["careful", "check score"] == 1.0 and not by_name.loc["careful", "flagged"]
    assert by_name.loc["careless", "flagged"] and 0 <= by_name.loc["careful", "agreement with majority"] <= 1
    assert any("1 annotator(s) flagged" in w.value for w in at.warning)
    before = frames["criteria"]["n"].sum()
    at.toggle(key="results_without_flagged").set_value(True).run()
    assert _frames(at)["criteria"]["n"].sum() == before / 2


def _frames(at) -> dict:
    """The results tab's tables by what they hold (AppTest does not expose dataframe keys)."""
    found = {}
    for df in at.dataframe:
        columns = set(df.value.columns)
        kind = (
            "pairs"
            if "system_a" in columns
            else "criteria"
            if "win_rate" in columns
            else "ranking"
            if "strength" in columns
            else "annotators"
            if "check score" in columns
            else None
        )
        if kind:
            found[kind] = df.value
    return found


@pytest.mark.slow
def test_a_crowd_link_opens_the_annotate_page_alone_and_ends_with_the_code(db, monkeypatch):
    from streamlit.testing.v1 import AppTest

    study = create_study(
        db,
        "crowd-app",
        "explanation",
        "multi_persona",
        "single_persona",
        examples(1),
        worker_id_param="PROLIFIC_PID",
        completion_code="DONE-7Q",
    )
    monkeypatch.setenv("PERSONA4REC_DB_URL", str(db.engine.url.render_as_string(hide_password=False)))
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.query_params["crowd"] = study.name
    at.query_params["PROLIFIC_PID"] = "w123"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Annotating as PROLIFIC_PID:w123" in _page_text(at).replace("\\", "")
    assert "DONE-7Q" not in _page_text(at) and not at.sidebar.selectbox
    assignment_id = int(next(r.key for r in at.radio if r.key.startswith("rate:")).split(":")[1])
    for key in KEYS:
        at.radio(key=f"rate:{assignment_id}:{key}").set_value("A")
    next(b for b in at.button if b.label == "Submit").click().run()
    assert not at.exception
    assert "DONE-7Q" in _page_text(at)

    bad = AppTest.from_file(str(APP), default_timeout=120)
    bad.query_params["crowd"] = study.name
    bad.run()
    assert [e.value for e in bad.error] and "worker id" in bad.error[0].value
    assert not bad.radio and not bad.text
