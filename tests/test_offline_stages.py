"""The five offline stages on a tiny workspace with the real extractive backend."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from offline_tiny import HELD_OUT, HELD_OUT_WORD, REVIEWS, CountingBackend, build_tiny_workspace

from persona4rec.offline import stages
from persona4rec.offline.extractive import ExtractiveBackend
from persona4rec.offline.records import (
    load_alignment,
    load_aspects,
    load_personas,
    load_profiles,
    load_summaries,
    stage_path,
)
from persona4rec.offline.schema import PersonaRecord

BACKEND = "extractive:all-MiniLM-L6-v2"
TRAIN = [(u, i) for u, i, *_ in REVIEWS if (u, i) not in HELD_OUT]


@pytest.fixture(scope="module")
def backend():
    return ExtractiveBackend()


@pytest.fixture(scope="module")
def built(tmp_path_factory, backend):
    ws = build_tiny_workspace(tmp_path_factory.mktemp("stages") / "ws")
    reports = stages.run_all(ws, backend, single=True, progress=False)
    return ws, {r.stage: r for r in reports}


def test_every_stage_finishes_and_is_recorded(built):
    ws, reports = built
    assert list(reports) == ["summaries", "aspects", "personas", "personas_single", "profiles", "alignment"]
    for name, report in reports.items():
        assert report.status == "done" and report.failed == 0, report.line()
        info = ws.stage_info(name)
        assert info["status"] == "done" and info["counts"]["done"] == report.done


def test_summaries_come_from_metadata_else_train_reviews(built):
    ws, _ = built
    summaries = load_summaries(ws)
    assert sorted(summaries) == ["A1", "B2", "C3", "D4"]
    assert summaries["A1"].source == "metadata" and "Phosphor bronze" in summaries["A1"].summary
    assert summaries["B2"].source == "reviews"  # no description, categories or attributes
    assert "tune my guitar" in summaries["B2"].summary or "gift for my nephew" in summaries["B2"].summary
    assert HELD_OUT_WORD not in summaries["B2"].summary
    assert {s.backend for s in summaries.values()} == {BACKEND}


def test_aspects_cover_every_review_with_text_and_drop_mostly_null_tuples(built):
    ws, reports = built
    aspects = load_aspects(ws)
    with_text = {f"{u}|{i}" for u, i, _, t, x, _ in REVIEWS if (t + x).strip()}
    assert set(aspects) == with_text  # all splits, textless review u4|B2 excluded
    dropped = {k for k, r in aspects.items() if not r.kept}
    assert {"u1|C3", "u2|C3"} <= dropped  # "ok" / "fine": no evidence for any slot
    assert all(aspects[k].null_fraction > 0.75 for k in dropped)
    assert all(r.null_fraction <= 0.75 for k, r in aspects.items() if k not in dropped)
    assert reports["aspects"].dropped == len(dropped)
    gift = aspects["u1|A1"].aspects
    assert "gift" in gift.purchase_purpose and gift.purchase_purpose in gift.purchase_purpose_reason


def test_personas_follow_the_reasons_reviewers_give(built):
    ws, _ = built
    personas = load_personas(ws)
    assert sorted(personas) == ["A1", "B2", "C3", "D4"]
    a1 = personas["A1"]
    groups = sorted(sorted(keys) for keys in a1.evidence.values())
    assert groups == [["u1|A1", "u2|A1"], ["u3|A1", "u4|A1"], ["u5|A1", "u6|A1"]]  # gift / stage / broke
    for record in personas.values():
        PersonaRecord.model_validate(record.model_dump())
        assert 1 <= len(record.personas) <= 7 and record.mode == "multi" and record.backend == BACKEND
    for persona in a1.personas:  # review-grounded: every description and rationale quotes a review
        assert '"' in persona.description and '"' in persona.preference_rationale


def test_persona_pools_use_train_reviews_only(built):
    ws, _ = built
    personas = load_personas(ws)
    evidence = {k for r in personas.values() for keys in r.evidence.values() for k in keys}
    assert evidence.isdisjoint({f"{u}|{i}" for u, i in HELD_OUT})
    kept_train = {k for k, r in load_aspects(ws).items() if r.kept and tuple(k.split("|")) in set(TRAIN)}
    assert evidence == kept_train  # every kept train tuple is evidence of exactly one persona
    assert HELD_OUT_WORD not in json.dumps([r.model_dump() for r in personas.values()])


def test_item_without_usable_aspects_is_summary_only(built):
    ws, reports = built
    c3 = load_personas(ws)["C3"]  # its train reviews say "ok" / "fine"; its useful review is held out
    assert c3.summary_only and len(c3.personas) == 1 and c3.evidence == {}
    assert c3.personas[0].description == load_summaries(ws)["C3"].summary
    assert reports["personas"].flagged == 1


def test_single_mode_writes_one_persona_per_item(built):
    ws, _ = built
    single = load_personas(ws, single=True)
    assert sorted(single) == ["A1", "B2", "C3", "D4"]
    assert all(r.mode == "single" and len(r.personas) == 1 for r in single.values())
    assert sorted(single["A1"].evidence["P1"]) == sorted(
        k for r in load_personas(ws)["A1"].evidence.values() for k in r
    )


def test_profiles_are_the_last_l_train_interactions_oldest_first(built):
    ws, _ = built
    stages.build_profiles(ws, history_length=2)
    profiles = load_profiles(ws)
    reviews = pd.DataFrame(REVIEWS, columns=["u", "i", "r", "t", "x", "day"])
    train = reviews[[(u, i) not in HELD_OUT for u, i in zip(reviews.u, reviews.i)]]
    for user, group in train.groupby("u"):
        expected = list(group.sort_values("day").i)[-2:]
        assert [e.item_id for e in profiles[user].history] == expected
    assert "u7" not in profiles  # u7 has no train interaction
    assert profiles["u1"].history[-1].aspects is not None
    stages.build_profiles(ws)  # back to L=10 for the other tests


def test_alignment_covers_training_interactions_with_existing_personas(built):
    ws, _ = built
    alignment = load_alignment(ws)
    personas = load_personas(ws)
    assert set(alignment) == {f"{u}|{i}" for u, i in TRAIN}
    for record in alignment.values():
        assert record.persona_id in {p.id for p in personas[record.item_id].personas}
        assert record.justification and record.backend == BACKEND


def test_second_run_calls_the_backend_for_nothing(built, backend):
    ws, _ = built
    files = {
        name: stage_path(ws, name).read_bytes()
        for name in ("summaries", "aspects", "personas", "personas_single", "alignment")
    }
    counting = CountingBackend(backend)
    reports = stages.run_all(ws, counting, single=True, progress=False)
    assert counting.units == {task: 0 for task in CountingBackend.TASKS}
    assert all(r.done == 0 for r in reports if r.stage != "profiles")
    assert {name: stage_path(ws, name).read_bytes() for name in files} == files


def test_subsets_take_the_first_ids_in_sorted_order(tmp_path, backend):
    ws = build_tiny_workspace(tmp_path / "ws")
    stages.run_summaries(ws, backend, items=2, progress=False)
    assert sorted(load_summaries(ws)) == ["A1", "B2"]
    stages.run_aspects(ws, backend, items=2, users=2, progress=False)
    assert {(r.user_id, r.item_id) for r in load_aspects(ws).values()} == {
        ("u1", "A1"),
        ("u2", "A1"),
        ("u1", "B2"),
        ("u2", "B2"),
    }
    report = stages.run_personas(ws, backend, items=2, progress=False)
    assert report.total == 2 and sorted(load_personas(ws)) == ["A1", "B2"]
    report = stages.run_alignment(ws, backend, users=1, progress=False)
    assert {r.user_id for r in load_alignment(ws).values()} == {"u1"}
    assert report.notes["interactions_without_personas"] == 2  # u1's C3 and D4 were not in the item subset
