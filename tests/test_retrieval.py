"""Full-catalogue retrieval at scale: the index chosen by size, exact top-k items on small sets (each item
once, seen items dropped), IVF cells widened when they run dry, nprobe tuning, the build-time index of a
large workspace, the realistic persona generator reproducing the spread it was fitted to, and the
benchmark record's shape. Correctness only: no figure here is timed."""

from __future__ import annotations

import numpy as np
import pytest

from persona4rec.index.retrieval import (
    FLAT_MAX_PERSONAS,
    build_search_index,
    choose_factory,
    exact_items,
    index_bytes,
    inverted_file,
    ivf_lists,
    lower_bound,
    recalls_at,
    retrieve,
    tune_nprobe,
)
from persona4rec.index.retrieval_bench import RetrievalBenchConfig, benchmark_retrieval
from persona4rec.index.synthetic import fit_persona_model, spread

GiB = 2**30


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


def clustered_catalogue(n_items: int = 600, dim: int = 32, seed: int = 0):
    """A stand-in for real persona vectors, made by another process than the model's: anisotropic topic
    centres, items around them, 1-6 personas per item with an item-specific spread."""
    rng = np.random.default_rng(seed)
    scales = np.linspace(2.0, 0.2, dim)  # a decaying spectrum, as real embeddings have
    topics = rng.normal(size=(12, dim)) * scales
    centres = topics[rng.integers(0, 12, n_items)] + 0.6 * rng.normal(size=(n_items, dim)) * scales
    counts = rng.integers(1, 7, n_items)
    spreads = rng.uniform(0.3, 1.5, n_items)
    items = np.repeat(np.arange(n_items), counts)
    vectors = centres[items] + spreads[items, None] * rng.normal(size=(len(items), dim))
    order = rng.permutation(len(items))  # rows of one item need not be adjacent
    return _unit(vectors[order]), [f"item{i}" for i in items[order]]


def brute_force_items(vectors, entry_items, user, k, exclude=()):
    best: dict = {}
    for row, item in enumerate(entry_items):
        score = float(vectors[row] @ user)
        if item not in exclude and (item not in best or score > best[item][0]):
            best[item] = (score, row)
    ranked = sorted(best, key=lambda i: -best[i][0])[:k]
    return ranked, [best[i][1] for i in ranked]


def test_the_index_is_chosen_by_size_and_memory():
    assert choose_factory(FLAT_MAX_PERSONAS, 384) == "Flat"
    assert choose_factory(10**6, 384) == f"IVF{ivf_lists(10**6)},PQ192x4fs,RFlat"
    assert ivf_lists(10**6) == 4096 and ivf_lists(10**5) == 1024 and ivf_lists(10) == 16
    # 10^7 x 384 float32 does not fit 8 GiB: re-scored from 8-bit codes; 2 GiB: the 4-bit codes alone
    assert choose_factory(10**7, 384, 8 * GiB).endswith(",Refine(SQ8)")
    assert choose_factory(10**7, 384, 2 * GiB) == f"IVF{ivf_lists(10**7)},PQ192x4fs"


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_chosen_index_returns_the_exact_items_on_a_small_set(seed):
    vectors, entry_items = clustered_catalogue(seed=seed)
    index = build_search_index(vectors)  # small: exact
    assert inverted_file(index) is None and index_bytes(index) == vectors.nbytes
    rng = np.random.default_rng(seed)
    for _ in range(5):
        user = _unit(vectors[rng.integers(0, len(vectors), 10)].mean(axis=0))
        seen = set(rng.choice(sorted(set(entry_items)), size=15, replace=False))
        hits = retrieve(index, entry_items, 6, user, k=40, exclude=seen)
        expected, rows = brute_force_items(vectors, entry_items, user, 40, seen)
        assert [h.item_id for h in hits] == expected  # each item once, by its best persona
        assert [h.entry_row for h in hits] == rows
        assert len({h.item_id for h in hits}) == len(hits) and not seen & {h.item_id for h in hits}
        np.testing.assert_allclose([h.score for h in hits], [vectors[r] @ user for r in rows], rtol=1e-5)
    everything = retrieve(index, entry_items, 6, user, k=10**6, exclude=seen)
    assert len(everything) == len(set(entry_items) - seen)


def test_an_inverted_file_searching_every_cell_is_exact_and_widens_dry_cells():
    vectors, entry_items = clustered_catalogue(n_items=400, seed=4)
    index = build_search_index(vectors, "IVF16,Flat")
    user = _unit(vectors[:8].mean(axis=0))
    expected, _ = brute_force_items(vectors, entry_items, user, 30)
    assert [h.item_id for h in retrieve(index, entry_items, 6, user, k=30, nprobe=16)] == expected
    # one cell holds fewer than 300 items: nprobe doubles until 300 unseen items are found
    assert len(retrieve(index, entry_items, 6, user, k=300, nprobe=1)) == 300


def test_nprobe_is_tuned_to_the_smallest_power_of_two_reaching_the_target():
    vectors, entry_items = clustered_catalogue(n_items=800, seed=5)
    items = np.asarray(entry_items, dtype=object)
    index = build_search_index(vectors, "IVF32_HNSW32,PQ16x4fs,RFlat")
    queries = _unit(vectors[np.random.default_rng(0).integers(0, len(vectors), (40, 5))].mean(axis=1))
    exact = exact_items(vectors, items, 6, queries, 20)
    seen = [()] * len(queries)
    nprobe = tune_nprobe(index, items, 6, queries, exact, seen, 20, target=0.9)
    recalls = recalls_at(index, items, 6, queries, exact, seen, 20, nprobe)
    assert lower_bound(recalls) >= 0.9 and recalls.mean() > lower_bound(recalls)
    if nprobe > 1:
        assert lower_bound(recalls_at(index, items, 6, queries, exact, seen, 20, nprobe // 2)) < 0.9
    assert tune_nprobe(build_search_index(vectors), items, 6, queries, exact, seen, 20) is None  # exact


def test_a_large_workspace_index_is_an_inverted_file_with_a_tuned_nprobe():
    from persona4rec.index.persona_index import size_chosen_index

    vectors, entry_items = clustered_catalogue(n_items=9000, seed=6)
    assert len(vectors) > FLAT_MAX_PERSONAS
    index, search = size_chosen_index(vectors, entry_items)
    assert search["factory"] == choose_factory(len(vectors), 32) and search["factory"].startswith("IVF")
    assert inverted_file(index).nprobe == search["nprobe"] >= 1


def test_the_generator_reproduces_the_spread_it_was_fitted_to():
    vectors, entry_items = clustered_catalogue(n_items=1500, seed=7)
    model = fit_persona_model(vectors, entry_items)
    fitted = spread(vectors, entry_items)
    synthetic, items = model.sample_all(30_000, seed=3)
    got = spread(synthetic, items)
    for name in ("within_item_cosine", "between_item_cosine", "persona_to_centre_cosine"):
        assert got[name] == pytest.approx(fitted[name], abs=0.02), name
    assert got["top10_variance_share"] == pytest.approx(fitted["top10_variance_share"], abs=0.03)
    assert got["personas_per_item"] == pytest.approx(fitted["personas_per_item"], rel=0.03)
    # and it is far from random unit vectors, the old benchmark's
    random = np.random.default_rng(0).normal(size=synthetic.shape).astype(np.float32)
    assert spread(random, items)["within_item_cosine"] < got["within_item_cosine"] - 0.1


def test_the_generator_yields_exactly_n_unit_personas_in_whole_items():
    vectors, entry_items = clustered_catalogue(n_items=300, seed=8)
    model = fit_persona_model(vectors, entry_items)
    chunks = list(model.sample(10_007, seed=1, chunk=2_000))
    assert sum(len(v) for v, _ in chunks) == 10_007 and len(chunks) > 1
    ids = np.concatenate([i for _, i in chunks])
    assert np.all(np.diff(ids) >= 0) and ids[0] == 0  # items numbered in order, never split over chunks
    for (_, before), (_, after) in zip(chunks, chunks[1:]):
        assert before[-1] < after[0]
    assert np.bincount(ids).max() <= model.counts.max()
    np.testing.assert_allclose(np.linalg.norm(np.vstack([v for v, _ in chunks]), axis=1), 1.0, atol=1e-5)
    again = next(model.sample(10_007, seed=1, chunk=2_000))[0]
    np.testing.assert_array_equal(again, chunks[0][0])  # seeded: the same sample


def test_the_benchmark_record_on_an_exact_and_an_inverted_index():
    vectors, entry_items = clustered_catalogue(n_items=600, seed=9)
    model = fit_persona_model(vectors, entry_items)
    rng = np.random.default_rng(1)
    queries = _unit(vectors[rng.integers(0, len(vectors), (12, 8))].mean(axis=1))
    tuning = _unit(vectors[rng.integers(0, len(vectors), (12, 8))].mean(axis=1))
    config = RetrievalBenchConfig(k=20, excluded=3, flat_queries=2, repeats=1, chunk=1_500)
    exact = benchmark_retrieval(model, 4_000, queries, tuning, config, say=lambda _: None)
    assert exact["index"] == "Flat" and exact["recall_at_k"] == 1.0 and exact["search_parameter"] is None
    assert exact["bytes_per_persona"] == 32 * 4 and exact["n_vectors"] == 4_000
    inverted = benchmark_retrieval(
        model, 4_000, queries, tuning, RetrievalBenchConfig(**{**config.__dict__, "factory": "IVF32,Flat"})
    )
    assert inverted["index"] == "IVF32,Flat"
    nprobes = [p["nprobe"] for p in inverted["curve"]]
    assert nprobes == sorted(nprobes) and nprobes[0] == 1
    chosen = inverted["search_parameter"]["nprobe"]
    point = next(p for p in inverted["curve"] if p["nprobe"] == chosen)
    assert point["tuning_lower_bound"] >= 0.95 and inverted["recall_at_k"] == point["recall"]
    assert point["tuning_recall"] >= point["tuning_lower_bound"]
    assert all(p["tuning_lower_bound"] < 0.95 for p in inverted["curve"] if p["nprobe"] < chosen)
    for key in ("recall_at_k", "p50_ms", "p99_ms", "index", "build_s", "bytes_per_persona", "flat_ms_per_query"):
        assert key in inverted
    assert 0.0 <= inverted["recall_at_k"] <= 1.0 and inverted["p50_ms"] <= inverted["p99_ms"]
