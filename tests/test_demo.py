"""The synthetic demo catalogue: deterministic, the promised shape, and a planted structure that the
review text really carries (so later stages can be checked against it)."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from persona4rec.cli import main as cli_main
from persona4rec.data.importer import load_workspace_tables
from persona4rec.data.kcore import kcore
from persona4rec.demo.catalogue import (
    SOURCE,
    SYNTHETIC_NOTE,
    all_reasons,
    build_demo_workspace,
    generate_demo,
    load_truth,
)
from persona4rec.demo.vocabulary import CATEGORIES, FILLERS, NOISE_TEXTS
from persona4rec.errors import WorkspaceError
from persona4rec.workspace import Workspace


@pytest.fixture(scope="module")
def demo():
    return generate_demo(seed=0)


@pytest.fixture(scope="module")
def demo_ws(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "ws"
    assert cli_main(["data", "demo", "--out", str(out), "--seed", "0"]) == 0
    return Workspace.open(out)


def _tables(catalogue):
    return [catalogue.reviews, catalogue.items, *catalogue.truth_tables().values()]


def test_same_seed_gives_identical_tables_and_another_seed_differs(demo):
    again = generate_demo(seed=0)
    for a, b in zip(_tables(demo), _tables(again)):
        pd.testing.assert_frame_equal(a, b)
    other = generate_demo(seed=1)
    assert not demo.reviews.equals(other.reviews)
    assert not demo.planted_users.equals(other.planted_users)


def test_shape_is_within_the_promised_ranges(demo):
    assert 3 <= len(CATEGORIES) <= 4
    assert all(5 <= len(c.reasons) <= 8 for c in CATEGORIES)
    assert 60 <= len(demo.items) <= 100
    assert 150 <= demo.reviews["user_id"].nunique() <= 300
    assert 2000 <= len(demo.reviews) <= 5000
    per_item = demo.planted_items.groupby("item_id").size()
    assert per_item.between(2, 5).all() and len(per_item) == len(demo.items)
    per_user = demo.planted_users.groupby("user_id").size()
    assert per_user.between(1, 3).all()
    assert (demo.planted_users.groupby("user_id")["weight"].sum() - 1).abs().max() < 1e-3
    # every item carries only reasons of its own category
    reasons = all_reasons()
    category_of = dict(zip(demo.items["item_id"], demo.items["categories"].map(lambda c: c[-1])))
    assert all(reasons[r][0].name == category_of[i] for i, r in demo.planted_items.itertuples(index=False))
    # some users prefer reasons in more than one category
    users_categories = demo.planted_users.assign(cat=demo.planted_users["reason_id"].str.split(".").str[0])
    assert (users_categories.groupby("user_id")["cat"].nunique() > 1).sum() >= 10


def test_planted_reason_is_the_items_and_for_positive_reviews_the_users(demo):
    truth = demo.planted_reviews
    assert list(truth[["user_id", "item_id"]].itertuples(index=False)) == list(
        demo.reviews[["user_id", "item_id"]].itertuples(index=False)
    )
    item_reasons = set(demo.planted_items.itertuples(index=False))
    user_prefs = set(demo.planted_users[["user_id", "reason_id"]].itertuples(index=False))
    voiced = truth[truth["sentiment"] != "noise"]
    assert voiced["reason_id"].notna().all() and truth.loc[truth["sentiment"] == "noise", "reason_id"].isna().all()
    assert all((i, r) in item_reasons for i, r in voiced[["item_id", "reason_id"]].itertuples(index=False))
    positive = truth[truth["sentiment"] == "positive"]
    assert all((u, r) in user_prefs for u, r in positive[["user_id", "reason_id"]].itertuples(index=False))
    counts = truth["sentiment"].value_counts()
    assert counts["positive"] > 0.6 * len(truth)
    assert counts["negative"] > 0.04 * len(truth) and counts["noise"] > 0.04 * len(truth)


def test_ratings_follow_the_sentiment(demo):
    rating = demo.reviews["rating"]
    sentiment = demo.planted_reviews["sentiment"]
    assert (rating[sentiment == "positive"] >= 4).all()
    assert (rating[sentiment == "negative"] <= 2).all()


def test_every_vocabulary_template_uses_its_reasons_words():
    for category in CATEGORIES:
        for reason in category.reasons:
            for template in reason.positive + reason.negative:
                assert any(k in template.lower() for k in reason.keywords), (reason.key, template)
    for sentence in FILLERS + NOISE_TEXTS:
        words = set(re.findall(r"[a-z-]+", sentence.lower()))
        hits = [k for c in CATEGORIES for r in c.reasons for k in r.keywords if " " not in k and k in words]
        assert not hits, (sentence, hits)  # noise must carry no reason's words


def test_review_text_mentions_its_reasons_wording_family(demo):
    reasons = all_reasons()
    voiced = demo.planted_reviews["sentiment"] != "noise"
    for text, reason_id in zip(demo.reviews.loc[voiced, "text"], demo.planted_reviews.loc[voiced, "reason_id"]):
        keywords = reasons[reason_id][1].keywords
        assert any(k in text.lower() for k in keywords), (reason_id, text)
    # wording varies: the positive reviews of one reason use several different sentences
    texts = demo.reviews.loc[demo.planted_reviews["reason_id"] == "hp.noise_cancelling", "text"]
    assert texts.nunique() > 0.9 * len(texts)


def test_item_metadata_is_derived_from_reasons_not_copied_from_reviews(demo):
    descriptions = demo.items["description"].tolist()
    assert all(d.endswith(SYNTHETIC_NOTE) for d in descriptions)
    assert all(c[0] == "Synthetic demo" for c in demo.items["categories"])
    assert all(a.get("synthetic") is True for a in demo.items["attributes"])
    sentences = {s.strip() for t in demo.reviews["text"] for s in re.split(r"(?<=[.!?]) ", t) if len(s) > 25}
    assert not [s for s in sentences if any(s in d for d in descriptions)]
    reasons = all_reasons()
    for item_id, description in zip(demo.items["item_id"], descriptions):
        for reason_id in demo.planted_items.loc[demo.planted_items["item_id"] == item_id, "reason_id"]:
            assert any(f in description for f in reasons[reason_id][1].features)


def test_held_out_items_are_drawn_by_the_users_preferences(demo):
    last = demo.reviews.assign(reason_id=demo.planted_reviews["reason_id"], sentiment=demo.planted_reviews["sentiment"])
    last = last.sort_values("timestamp").groupby("user_id").tail(2)
    prefs = set(demo.planted_users[["user_id", "reason_id"]].itertuples(index=False))
    assert (last["sentiment"] == "positive").all()
    assert all((u, r) in prefs for u, r in last[["user_id", "reason_id"]].itertuples(index=False))
    # no timestamp ties within a user: leave-one-out is well defined
    assert not demo.reviews.duplicated(["user_id", "timestamp"]).any()


def test_five_core_keeps_nearly_everything(demo):
    cored, report = kcore(demo.reviews, 5)
    assert len(cored) >= 0.95 * len(demo.reviews)
    assert report.users_removed <= 0.05 * demo.reviews["user_id"].nunique()


def test_demo_workspace_is_labeled_synthetic_and_carries_the_truth(demo_ws, demo):
    manifest = demo_ws.manifest()
    assert manifest["source"] == SOURCE and manifest["synthetic"] is True
    assert manifest["demo"]["seed"] == 0 and demo_ws.stage_done("data")
    reviews, items, split = load_workspace_tables(demo_ws)
    assert len(reviews) == len(demo.reviews) and len(items) == len(demo.items)
    assert set(split["split"]) == {"train", "valid", "test"}
    assert (split["split"] == "test").sum() == reviews["user_id"].nunique()
    truth = load_truth(demo_ws)
    assert set(truth["planted_reviews"][["user_id", "item_id"]].itertuples(index=False)) == set(
        reviews[["user_id", "item_id"]].itertuples(index=False)
    )
    pd.testing.assert_frame_equal(truth["planted_users"], demo.planted_users)
    assert all(len(table) > 0 for table in truth.values())
    assert all(a["synthetic"] is True for a in items["attributes"])


def test_demo_workspace_is_not_replaced_without_overwrite(demo_ws, tmp_path, capsys):
    assert cli_main(["data", "demo", "--out", str(demo_ws.root)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert demo_ws.manifest()["demo"]["seed"] == 0
    small = build_demo_workspace(tmp_path / "small", seed=3, n_items=40, n_users=160)
    again = build_demo_workspace(small.root, seed=4, overwrite=True, n_items=40, n_users=160)
    assert again.manifest()["demo"]["seed"] == 4
    assert load_workspace_tables(again)[1]["item_id"].nunique() == 40


def test_truth_is_only_in_demo_workspaces(tmp_path):
    from persona4rec.data.importer import build_workspace

    small = generate_demo(seed=2, n_items=40, n_users=160)
    ws = build_workspace(tmp_path / "plain", small.reviews, small.items, kcore=5, report={}, inputs=[], source="test")
    with pytest.raises(WorkspaceError, match="no planted truth"):
        load_truth(ws)
