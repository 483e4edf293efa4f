"""The online path's fast scoring and bulk explanations: the fast path (rank_ids_many) and the explained
path (rerank, rerank_many) give identical rankings, the explanations equal an independent computation,
the in-place scoring kernel equals numpy, user vectors are the same floats as weighted_user_vector, and
the memory-traffic floor counts the bytes a request reads. Correctness only: nothing here is timed."""

from __future__ import annotations

import numpy as np
import pytest
from encoder_tiny import PERSONAS, build_tiny_workspace, write_full_candidates

from persona4rec.data.schema import review_key
from persona4rec.encoder.user import weighted_user_vector
from persona4rec.errors import ConfigError
from persona4rec.index.bench import memory_floor
from persona4rec.index.scoring import PaddedPersonaTable, inner_products_by_row
from persona4rec.rerank import RankedItem, RankedList, Reranker, ServingConfig

CANDS = ["guitar", "drums", "piano", "bench", "sticks", "cable", "tuner", "not-in-catalogue"]
USERS = ["u_guitar", "u_drums", "u_piano", "u_mixed", "u_new", "nobody"]


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    ws = build_tiny_workspace(tmp_path_factory.mktemp("online") / "ws")
    write_full_candidates(ws)
    return ws


@pytest.fixture(scope="module", params=[0.0, 0.4], ids=["paper", "fused"])
def reranker(ws, request):
    return Reranker.from_workspace(ws, ServingConfig(gamma=0.8, fusion_weight=request.param))


def lists_for(users):
    rng = np.random.default_rng(0)
    return [list(rng.permutation(CANDS)[: rng.integers(1, len(CANDS) + 1)]) for _ in users]


def test_fast_and_explained_paths_rank_identically(reranker):
    users = USERS * 3
    lists = lists_for(users)
    cf = [list(np.linspace(1.0, 0.1, len(c))) for c in lists]
    for split in ("valid", "test"):
        for scores in (None, cf):
            fast = reranker.rank_ids_many(users, lists, split, cf_scores=scores)
            many = reranker.rerank_many(users, lists, split, cf_scores=scores)
            assert fast == [[r.item_id for r in ranked] for ranked in many]
            for n, (user, cands) in enumerate(zip(users, lists)):
                one = reranker.rerank(user, cands, split, cf_scores=None if scores is None else scores[n])
                assert one == many[n]  # every field, floats included: one code path
                assert [r.item_id for r in one] == fast[n]


def test_explanations_equal_an_independent_computation(reranker):
    entries = reranker.index.entries
    vectors = np.asarray(reranker.index.vectors)
    for user in USERS:
        ranked = reranker.rerank(user, CANDS, "test")
        e_u = reranker.users.embed(user, "test")
        assert [r.new_rank for r in ranked] == list(range(1, len(CANDS) + 1))
        assert sorted(r.cf_rank for r in ranked) == list(range(1, len(CANDS) + 1))
        assert all(isinstance(r, RankedItem) and r.contributions == [] for r in ranked)
        for r in ranked:
            rows = entries.index[entries["item_id"] == r.item_id].tolist()
            if not rows:
                assert r.persona is None and r.persona_key is None and r.fallback == "unknown-item"
                assert r.persona_scores == {} and r.persona_sim == -np.inf
                continue
            sims = vectors[rows] @ e_u
            assert r.persona_scores == pytest.approx(dict(zip(entries.loc[rows, "persona_key"], sims)), abs=1e-5)
            best = rows[int(np.argmax(sims))]
            assert r.persona_sim == pytest.approx(float(sims.max()), abs=1e-5)
            assert r.persona_key == entries.loc[best, "persona_key"]
            source = entries.loc[best, "source"]
            if not e_u.any():
                assert r.fallback == "no-history"
            else:
                assert r.fallback == (None if source == "persona" else source)
            if source == "persona":
                assert r.persona.description in {p[2] for p in PERSONAS[r.item_id]}
    assert all(r.fallback in ("no-history", "unknown-item") for r in reranker.rerank("nobody", CANDS))


def test_a_request_makes_its_items_on_first_read(reranker):
    eager = reranker.rerank_many(["u_mixed"], [CANDS], "test")[0]
    lazy = reranker.rerank("u_mixed", CANDS, "test")
    assert isinstance(lazy, RankedList) and len(lazy) == len(CANDS)
    assert lazy._items == [None] * len(CANDS)  # nothing made yet
    assert lazy[-1] == eager[-1] and None not in lazy._items  # the first read makes them all
    assert lazy[0] is lazy[0]  # made once
    assert lazy[1:3] == eager[1:3] and lazy == eager and eager == lazy and list(lazy) == eager
    with pytest.raises(IndexError):
        lazy[len(CANDS)]
    first = reranker.rerank("u_mixed", CANDS, "test")[0]
    assert first._persona_scores is None  # the dict is zipped on its first read ...
    assert first.persona_scores == eager[0].persona_scores and first._persona_scores is not None
    first.contributions.append(("x", 1.0, 0.5))  # ... and an item stays a mutable record
    assert first != eager[0] and "contributions=[('x', 1.0, 0.5)]" in repr(first)


def test_the_in_place_kernel_equals_numpy():
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(50, 16)).astype(np.float32)
    queries = rng.normal(size=(4, 16)).astype(np.float32)
    rows = rng.integers(-1, 50, size=(4, 3, 5))
    got = inner_products_by_row(queries, vectors, rows)
    expected = np.einsum("ud,ucpd->ucp", queries, vectors[np.maximum(rows, 0)])
    np.testing.assert_allclose(got[rows >= 0], expected[rows >= 0], rtol=1e-5, atol=1e-5)
    assert np.all(got[rows < 0] == -np.inf)
    with pytest.raises(ValueError, match="do not match"):
        inner_products_by_row(queries[:2], vectors, rows)


def test_table_rows_for_lists_of_one_length_and_of_many():
    table = PaddedPersonaTable.build(["a", "b", "a", "c"], np.eye(4, dtype=np.float32))
    unknown = table.unknown_row
    assert table.rows_for([["c", "a"], ["x", "b"]]).tolist() == [[2, 0], [unknown, 1]]  # one length
    assert table.rows_for([["c"], ["x", "b", "a"]]).tolist() == [[2, unknown, unknown], [unknown, 1, 0]]
    assert table.rows_for([["b", "zz"]]).tolist() == [[1, unknown]]  # a single request
    assert table.rows_for([]).shape == (0, 0)


def test_history_rows_are_looked_up_once_per_split_and_match_the_timeline(reranker):
    users = reranker.users
    for split in ("valid", "test"):
        for user in USERS:
            items = users.timelines.history(user, split, users.history_length)
            keys = [review_key(user, i) for i in items]
            expected = [users.key_rows[k] for k in keys if k in users.key_rows]
            assert users.history_rows(user, split).tolist() == expected
    assert users.history_rows("nobody", "test").size == 0
    assert users.with_gamma(0.5).history is users.history  # tuning gamma shares the lookup
    with pytest.raises(ConfigError, match="not 'valid' or 'test'"):
        users.history_rows("u_guitar", "train")


def test_the_padded_tensor_is_built_on_demand_from_the_rows():
    rng = np.random.default_rng(1)
    entry_items = ["a", "b", "a", "c", "a", "b"]
    vectors = rng.normal(size=(6, 8)).astype(np.float32)
    table = PaddedPersonaTable.build(entry_items, vectors)
    assert table.tensor.shape == (4, 3, 8) and table.padded_bytes() == 4 * 3 * 8 * 4
    np.testing.assert_array_equal(table.tensor[0], vectors[[0, 2, 4]])
    np.testing.assert_array_equal(table.tensor[1, :2], vectors[[1, 5]])
    assert not table.tensor[1, 2].any() and not table.tensor[3].any()  # padding and the unknown row


def test_user_vectors_are_the_same_floats_as_weighted_user_vector(reranker):
    users = reranker.users
    batch = users.embed_many(USERS, "test")
    for n, user in enumerate(USERS):
        rows = users.history_rows(user, "test")
        one = users.embed(user, "test")
        np.testing.assert_array_equal(batch[n], one)
        if len(rows):
            np.testing.assert_array_equal(one, weighted_user_vector(users.vectors[rows], users.gamma))
        else:
            assert not one.any()


def test_the_floor_counts_the_bytes_of_the_candidates_personas(reranker):
    table = reranker.table
    lists = [["guitar", "piano", "cable"], ["tuner", "not-in-catalogue"]]
    floor = memory_floor(table, table.rows_for(lists), min_seconds=0.0)
    personas = [len(PERSONAS["guitar"]) + len(PERSONAS["piano"]) + 1, len(PERSONAS["tuner"])]  # cable: summary
    assert floor["bytes_touched"] == pytest.approx(np.mean(personas) * table.dim * 4)
    assert floor["bytes_touched_max"] == 3 * table.max_personas * table.dim * 4
    assert floor["read_bytes_per_s"] > 0 and floor["floor_ms"] > 0


def test_a_single_user_and_a_batch_sum_the_same_floats(reranker):
    # embed_many groups a batch by history length; a single request takes the one-user path
    users = reranker.users
    batch = users.embed_many(USERS * 2, "valid")
    for n, user in enumerate(USERS * 2):
        np.testing.assert_array_equal(users.embed_many([user], "valid")[0], batch[n])
