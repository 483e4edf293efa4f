"""Why a persona matches a user (persona4rec.views.match): the profile items' shares add up to the score the
reranker shows, the review sentences and aspects are the profile's own and come nearest first, and the
"Explore a user" page shows both sides, on the app's demo workspace (tests/app_fixture.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from app_fixture import shared_app_workspace  # noqa: E402

APP = Path(__file__).resolve().parents[1] / "app.py"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """(workspace, catalogue, reranker, {user: (candidates, cf scores)}) of the app's demo workspace."""
    from persona4rec.candidates.generate import candidate_lists
    from persona4rec.rerank import Reranker
    from persona4rec.views.catalogue import load_catalogue

    ws = shared_app_workspace(tmp_path_factory)
    users, lists, scores = candidate_lists(ws, "pop", "test")
    return ws, load_catalogue(ws), Reranker.from_workspace(ws, "multi"), dict(zip(users, zip(lists, scores)))


def _ranked(served, user):
    _, _, reranker, lists = served
    items, scores = lists[user]
    return reranker.rerank(user, items, "test", scores)


def test_item_shares_add_up_to_the_similarity_shown(served):
    from persona4rec.views.match import ITEM, persona_match

    ws, cat, reranker, lists = served
    checked = 0
    for user in sorted(lists)[:4]:
        profile = reranker.users.timelines.history(user, "test", reranker.users.history_length)
        for ranked in _ranked(served, user)[:3]:
            found = persona_match(reranker, cat, user, ranked.persona_key, "test")
            assert found.score == pytest.approx(ranked.persona_scores[ranked.persona_key], abs=1e-5)
            assert found.score == pytest.approx(sum(e.share for e in found.items), abs=1e-9)
            assert sorted(e.item_id for e in found.items) == sorted(profile)  # exactly the profile
            assert all(e.kind == ITEM for e in found.items)
            shares = [e.share for e in found.items]
            assert shares == sorted(shares, reverse=True)
            assert max(e.weight for e in found.items) == pytest.approx(1.0)  # the newest weighs 1
            checked += 1
    assert checked >= 6


def test_sentences_and_aspects_are_the_users_own_nearest_first(served):
    from persona4rec.embedding import QUERY, encode
    from persona4rec.encoder.selection import choose_encoder
    from persona4rec.offline.schema import ASPECT_SLOTS
    from persona4rec.views.match import ASPECT, SENTENCE, persona_match, persona_vector

    ws, cat, reranker, lists = served
    user = sorted(lists)[1]
    ranked = _ranked(served, user)[0]
    found = persona_match(reranker, cat, user, ranked.persona_key, "test", top=3)
    assert 0 < len(found.sentences) <= 3 and 0 < len(found.aspects) <= 3
    assert {e.kind for e in found.sentences} == {SENTENCE} and {e.kind for e in found.aspects} == {ASPECT}

    # every candidate text, gathered independently from the user's reviews and aspect records
    profile = [e.item_id for e in found.items]
    rows = cat.interactions[(cat.interactions["user_id"] == user) & cat.interactions["item_id"].isin(profile)]
    reviews = " ".join(f"{r.title} {r.text}" for r in rows.itertuples())
    aspects = {
        getattr(cat.aspects_of(user, i).aspects, s)
        for i in profile
        if cat.aspects_of(user, i) is not None and cat.aspects_of(user, i).kept
        for s in ASPECT_SLOTS
    } - {None}
    for entry in found.sentences:
        assert entry.text in reviews and entry.item_id in profile
    assert {e.text for e in found.aspects} <= aspects
    assert {e.slot for e in found.aspects} <= set(ASPECT_SLOTS)

    # the similarity is the cosine to the persona's index vector, the text embedded as the user side
    persona = persona_vector(reranker, ranked.persona_key)
    model = choose_encoder(ws, reranker.config.encoder).model
    texts = [e.text for e in found.sentences + found.aspects] + sorted(aspects)
    cosines = encode(texts, model, role=QUERY) @ (persona / np.linalg.norm(persona))
    listed = len(found.sentences) + len(found.aspects)
    assert [e.similarity for e in found.sentences + found.aspects] == pytest.approx(cosines[:listed].tolist(), abs=1e-5)
    assert [e.similarity for e in found.sentences] == sorted((e.similarity for e in found.sentences), reverse=True)
    # the listed aspects are the nearest of all the profile's aspect values
    assert min(e.similarity for e in found.aspects) >= np.sort(cosines[listed:])[-len(found.aspects)] - 1e-5


def test_unknown_persona_and_no_history(served):
    from persona4rec.views.match import persona_match

    ws, cat, reranker, lists = served
    user = sorted(lists)[0]
    with pytest.raises(KeyError, match="not in the multi index"):
        persona_match(reranker, cat, user, "no-such-item_P1")
    key = _ranked(served, user)[0].persona_key
    assert persona_match(reranker, cat, "no-such-user", key).items == []


def test_explore_page_shows_both_sides(tmp_path, monkeypatch, served):
    from streamlit.testing.v1 import AppTest

    from persona4rec.webapp.check import find_table

    ws, _, _, lists = served
    monkeypatch.setenv("PERSONA4REC_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PERSONA4REC_WORKSPACE", str(ws.root))
    monkeypatch.setenv("PERSONA4REC_DB_URL", f"sqlite:///{tmp_path / 'db.sqlite'}")
    monkeypatch.delenv("PERSONA4REC_ADMIN_TOKEN", raising=False)
    at = AppTest.from_file(str(APP), default_timeout=240).run()
    user = sorted(lists)[1]
    at.selectbox(key="explore_user").set_value(user).run()
    assert not at.exception, [e.value for e in at.exception]
    assert [t.label for t in at.tabs] == ["Items", "Review sentences", "Aspects"]
    items = find_table(at, "share")
    ranked = _ranked(served, user)[0]
    assert items["share"].sum() == pytest.approx(ranked.persona_sim, abs=1e-3)  # shares are rounded to 4 places
    sentences, aspects = (t.value for t in at.dataframe if "text" in t.value.columns)
    assert len(sentences) and len(aspects) and "slot" in aspects.columns
    assert any(f"similarity {ranked.persona_sim:.3f}" in c.value for c in at.caption)
