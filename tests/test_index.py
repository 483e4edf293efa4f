"""The persona-profiled index: variants, save/load round trip, staleness, max-over-personas scoring
against brute force, full-catalogue retrieval, HNSW recall."""

from __future__ import annotations

import numpy as np
import pytest
from encoder_tiny import PERSONAS, build_tiny_workspace, write_personas
from hypothesis import given, settings
from hypothesis import strategies as st

from persona4rec.embedding import encode
from persona4rec.encoder.selection import choose_encoder
from persona4rec.errors import ConfigError, WorkspaceError
from persona4rec.index.persona_index import PersonaIndex, build_index, index_location, open_index
from persona4rec.index.retrieval import hnsw_recall, retrieve
from persona4rec.index.scoring import PaddedPersonaTable
from persona4rec.index.variants import parse_variant, variant_entries


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    return build_tiny_workspace(tmp_path_factory.mktemp("idx") / "ws")


def test_variant_rows(ws):
    multi = variant_entries(ws, "multi")
    assert len(multi) == sum(len(p) for p in PERSONAS.values()) + 1  # + cable's summary fallback
    cable = multi[multi["item_id"] == "cable"]
    assert cable["source"].tolist() == ["summary-fallback"] and cable["text"].iloc[0].startswith("A 10 ft")
    assert multi[multi["item_id"] == "piano"]["persona_key"].tolist() == ["piano_P1", "piano_P2", "piano_P3"]
    first1 = variant_entries(ws, "first-1")
    assert first1.groupby("item_id").size().max() == 1 and len(first1) == 7
    assert len(variant_entries(ws, "first-2")) == 2 * 4 + 1 + 1 + 1  # 4 items with >= 2, tuner, bench, cable
    single = variant_entries(ws, "single")
    assert len(single) == 7 and single.groupby("item_id").size().max() == 1
    summary = variant_entries(ws, "summary")
    assert set(summary["source"]) == {"summary"} and len(summary) == 7
    assert summary[summary["item_id"] == "piano"]["text"].iloc[0].startswith("An 88-key")
    assert variant_entries(ws, "multi", "description")["text"].iloc[0] == PERSONAS["guitar"][0][2]
    for bad in ("first-0", "many", "first-x"):
        with pytest.raises(ConfigError):
            parse_variant(bad)


def test_build_save_load_round_trip_and_staleness(ws):
    index = build_index(ws, "multi")
    again = PersonaIndex.load(index.path)
    np.testing.assert_array_equal(np.asarray(again.vectors), np.asarray(index.vectors))
    assert again.entries.equals(index.entries) and again.meta == index.meta
    np.testing.assert_allclose(np.asarray(index.vectors), encode(index.entries["text"].tolist()), atol=1e-5)
    # the FAISS file searches the same vectors
    q = np.asarray(index.vectors[:1])
    _, rows = again.faiss.search(q, 3)
    brute = np.argsort(-(np.asarray(index.vectors) @ q[0]), kind="stable")[:3]
    assert set(rows[0]) == set(brute)
    assert ws.stage_done("index:multi")
    # fresh: opened, not rebuilt
    built = index.meta["built"]
    assert open_index(ws, "multi").meta["built"] == built
    # personas changed: stale; open_index rebuilds, build=False explains
    changed = dict(PERSONAS)
    changed["tuner"] = [("P1", "Ukulele player", "Someone tuning a ukulele.", "Ukulele owners like it.")]
    write_personas(ws, changed)
    with pytest.raises(WorkspaceError, match="input files changed"):
        open_index(ws, "multi", build=False)
    rebuilt = open_index(ws, "multi")
    assert "tuner_P1" in rebuilt.entries["persona_key"].tolist()
    assert rebuilt.entries.set_index("persona_key").loc["tuner_P1", "name"] == "Ukulele player"
    write_personas(ws, PERSONAS)
    assert index_location(ws, "multi", choose_encoder(ws, "vanilla")).name == "multi"  # no trained model yet
    assert not list(ws.index_dir.glob(".multi*"))  # no staging folders left behind


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), n_users=st.integers(1, 40), n_cands=st.integers(1, 12))
def test_max_over_personas_equals_brute_force(seed, n_users, n_cands):
    rng = np.random.default_rng(seed)
    n_items = 15
    counts = rng.integers(1, 6, size=n_items)
    entry_items = [f"i{n}" for n, c in enumerate(counts) for _ in range(c)]
    rng.shuffle(entry_items)  # rows of an item need not be adjacent
    vectors = rng.normal(size=(len(entry_items), 16)).astype(np.float32)
    users = rng.normal(size=(n_users, 16)).astype(np.float32)
    table = PaddedPersonaTable.build(entry_items, vectors)
    lists = [
        [f"i{j}" for j in rng.choice(n_items + 3, size=rng.integers(1, n_cands + 1), replace=False)]
        for _ in range(n_users)
    ]  # i15..i17 are unknown; lists are ragged
    scores = table.score(users, table.rows_for(lists))
    for u, cands in enumerate(lists):
        for c, item in enumerate(cands):
            rows = [r for r, it in enumerate(entry_items) if it == item]
            if not rows:
                assert scores.score[u, c] == -np.inf and scores.winner[u, c] == -1
                continue
            sims = vectors[rows] @ users[u]
            assert scores.score[u, c] == pytest.approx(sims.max(), rel=1e-5, abs=1e-5)
            assert scores.winner[u, c] == rows[int(np.argmax(sims))]
        assert np.all(scores.score[u, len(cands) :] == -np.inf)  # padding never wins
    best, slot = table.score_one(users[0], table.rows_for(lists[:1])[0])
    np.testing.assert_allclose(best, scores.score[0, : len(lists[0])], rtol=1e-5, atol=1e-5)


def test_full_retrieval_keeps_best_persona_per_item_and_excludes_seen():
    import faiss

    rng = np.random.default_rng(3)
    entry_items = [f"i{n % 50}" for n in range(200)]  # 50 items x 4 personas
    vectors = rng.normal(size=(200, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    flat = faiss.IndexFlatIP(8)
    flat.add(vectors)
    user = vectors[0] + 0.1 * rng.normal(size=8).astype(np.float32)
    seen = {f"i{n}" for n in range(0, 50, 3)}
    hits = retrieve(flat, entry_items, 4, user, k=10, exclude=seen)
    best = {}
    for row, item in enumerate(entry_items):
        s = float(vectors[row] @ user)
        if item not in seen and s > best.get(item, (-9, 0))[0]:
            best[item] = (s, row)
    expected = sorted(best, key=lambda i: -best[i][0])[:10]
    assert [h.item_id for h in hits] == expected
    assert [h.entry_row for h in hits] == [best[i][1] for i in expected]
    assert not seen & {h.item_id for h in hits}
    # asking for more than exists returns every unseen item
    assert len(retrieve(flat, entry_items, 4, user, k=100, exclude=seen)) == 50 - len(seen)


def test_hnsw_recall_against_flat():
    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(3000, 32)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    result = hnsw_recall(vectors, vectors[:50] + 0.01, k=10, ef_search=128)
    assert 0.9 <= result["recall_at_k"] <= 1.0
    low = hnsw_recall(vectors, vectors[:50] + 0.01, k=10, m=4, ef_construction=8, ef_search=1)
    assert low["recall_at_k"] < result["recall_at_k"]
