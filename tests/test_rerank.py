"""Reranking with explanations on the tiny workspace: against brute force with the real encoder,
fallback flags, fusion, batched == single, retrieval excludes seen items, tuning, and the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
from encoder_tiny import PERSONAS, build_tiny_workspace, write_full_candidates

from persona4rec.cli import main
from persona4rec.embedding import encode
from persona4rec.evaluation.tuning import tune_fusion_weight, tune_gamma
from persona4rec.ltr.features import normalised_cf
from persona4rec.metrics import ndcg_at
from persona4rec.offline.persona_text import persona_text
from persona4rec.offline.schema import Persona
from persona4rec.rerank import Reranker, ServingConfig

CANDS = ["guitar", "drums", "piano", "bench", "sticks", "cable", "not-in-catalogue"]


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    ws = build_tiny_workspace(tmp_path_factory.mktemp("rr") / "ws")
    write_full_candidates(ws)
    return ws


@pytest.fixture(scope="module")
def reranker(ws):
    return Reranker.from_workspace(ws, ServingConfig(gamma=0.8))


def test_rerank_equals_brute_force_max_over_personas(ws, reranker):
    user = reranker.users.embed("u_piano", "test")
    ranked = reranker.rerank("u_piano", CANDS, "test")
    assert [r.new_rank for r in ranked] == list(range(1, len(CANDS) + 1))
    assert sorted(r.cf_rank for r in ranked) == list(range(1, len(CANDS) + 1))
    assert {r.item_id for r in ranked} == set(CANDS)
    assert ranked[-1].item_id == "not-in-catalogue" and ranked[-1].fallback == "unknown-item"
    for r in ranked[:-1]:
        if r.item_id == "cable":  # no persona record: its summary vector
            assert r.persona is None and r.fallback == "summary-fallback" and r.persona_key == "cable_summary"
            continue
        personas = [Persona(id=p, name=n, description=d, preference_rationale=w) for p, n, d, w in PERSONAS[r.item_id]]
        sims = encode([persona_text(p) for p in personas]) @ user
        assert r.persona_sim == pytest.approx(float(sims.max()), abs=1e-4)
        assert r.persona == personas[int(np.argmax(sims))] and r.fallback is None
        assert r.persona_key == f"{r.item_id}_{r.persona.id}"
        assert set(r.persona_scores) == {f"{r.item_id}_{p.id}" for p in personas}
        assert max(r.persona_scores, key=r.persona_scores.get) == r.persona_key
    scores = [r.score for r in ranked]
    assert scores == sorted(scores, reverse=True)
    # the pianist's history (bench, classical piano practice) makes a piano persona win over drums
    assert [r.item_id for r in ranked].index("piano") < [r.item_id for r in ranked].index("drums")


def test_batched_equals_single_and_fast_path(reranker):
    users = ["u_guitar", "u_drums", "u_piano", "u_mixed"]
    lists = [CANDS, CANDS[:3], CANDS[2:], ["tuner"]]
    many = reranker.rerank_many(users, lists, "valid")
    for user, cands, got in zip(users, lists, many):
        one = reranker.rerank(user, cands, "valid")
        assert [(r.item_id, r.persona_key) for r in got] == [(r.item_id, r.persona_key) for r in one]
        np.testing.assert_allclose([r.score for r in got], [r.score for r in one], rtol=1e-5)
    assert reranker.rank_ids_many(users, lists, "valid") == [[r.item_id for r in got] for got in many]


def test_fusion_weight_blends_normalised_cf(reranker):
    cands, cf = CANDS[:6], [6.0, 5.0, 4.0, 3.0, 2.0, 1.0]
    pure = {r.item_id: r.persona_sim for r in reranker.rerank("u_drums", cands, cf_scores=cf)}
    cf_only = reranker.with_options(fusion_weight=1.0).rerank("u_drums", cands, cf_scores=cf)
    assert [r.item_id for r in cf_only] == cands
    half = reranker.with_options(fusion_weight=0.5).rerank("u_drums", cands, cf_scores=cf)
    for r in half:
        norm = (cf[cands.index(r.item_id)] - 1.0) / 5.0
        assert r.score == pytest.approx(0.5 * pure[r.item_id] + 0.5 * norm, abs=1e-5)
    # without scores, list order stands in for the CF score
    assert [r.item_id for r in reranker.with_options(fusion_weight=1.0).rerank("u_drums", cands)] == cands
    np.testing.assert_allclose(normalised_cf(np.array([[2.0, 2.0, 0.0]]), np.array([[True, True, False]])), [[1, 1, 0]])


def test_full_cf_weight_keeps_padding_finite_and_last(reranker):
    """Lists of unequal length are padded; at weight 1.0, 0 * -inf must not turn the padding into NaN."""
    fused = reranker.with_options(fusion_weight=1.0)
    lists = [CANDS[:5], CANDS[:2]]
    final, _, order = fused.score_many(["u_drums", "u_piano"], lists, "valid")
    assert not np.isnan(final).any()
    assert np.isneginf(final[1, 2:]).all() and list(order[1, :2]) == [0, 1]
    assert fused.rank_ids_many(["u_drums", "u_piano"], lists, "valid") == lists


def test_user_without_history_keeps_cf_order_and_is_flagged(reranker):
    ranked = reranker.rerank("stranger", ["piano", "guitar"])
    assert [r.item_id for r in ranked] == ["piano", "guitar"] and {r.fallback for r in ranked} == {"no-history"}


def test_retrieval_excludes_seen_and_ranks_by_best_persona(reranker):
    hits = reranker.retrieve("u_drums", k=10, split="test")
    seen = {"sticks", "drums", "cable", "tuner"}
    assert {h.item_id for h in hits} == {"guitar", "piano", "bench"}
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    for h in hits:
        assert h.persona_scores[h.persona_key] == pytest.approx(max(h.persona_scores.values()), abs=1e-5)
    assert not seen & {h.item_id for h in reranker.retrieve("u_drums", k=2)}


def test_tuning_on_valid(ws, reranker):
    fusion = tune_fusion_weight(ws, "bpr", weights=(0.0, 0.5, 1.0), reranker=reranker)
    assert set(fusion["ndcg@10"]) == {0.0, 0.5, 1.0} and fusion["users"] == 5
    assert fusion["ndcg@10"][1.0] == pytest.approx(fusion["cf_ndcg"])  # w = 1 is the CF ranking itself
    assert fusion["best"] in fusion["ndcg@10"]
    gamma = tune_gamma(ws, gammas=(0.5, 1.0), reranker=reranker)
    assert gamma["source"] == "candidates:bpr" and set(gamma["ndcg@10"]) == {0.5, 1.0}
    by_retrieval = tune_gamma(ws, gammas=(0.9,), generator=None, reranker=reranker)
    assert by_retrieval["source"] == "retrieval" and 0.0 <= by_retrieval["ndcg@10"][0.9] <= 1.0
    assert ndcg_at([["a", "b"], ["c"]], ["b", "x"]) == pytest.approx((1 / np.log2(3)) / 2)


def test_cli_index_and_recommend(ws, capsys):
    assert main(["index", str(ws.root), "--variant", "single", "--variant", "first-1", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "single" in out and "first-1" in out and (ws.index_dir / "first-1" / "meta.json").exists()
    assert main(["recommend", str(ws.root), "--user", "u_piano", "--json", "--top", "3"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 3 and rows[0]["new_rank"] == 1
    explained = [r for r in rows if r["persona"]]
    assert explained[0]["item_id"] in {"piano", "bench"} and explained[0]["persona"]["preference_rationale"]
    assert all(r["score"] is not None for r in rows)
    assert main(["recommend", str(ws.root), "--user", "u_piano", "--variant", "single"]) == 0
    assert "why:" in capsys.readouterr().out
    assert main(["recommend", str(ws.root), "--user", "u_piano", "--generator", "lightgcn"]) == 2
    assert "persona4rec candidates" in capsys.readouterr().err
    assert main(["recommend", str(ws.root), "--user", "ghost"]) == 2
    assert "ghost" in capsys.readouterr().err
