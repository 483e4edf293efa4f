"""Latency of the online path, measured (not asserted): max-over-personas scoring of candidate sets
(`benchmark_scoring`, random unit vectors standing in for personas where only size matters) and a real
Reranker on a real workspace (`benchmark_reranker`). Full-catalogue retrieval, flat vs HNSW, is
index/retrieval.py's `hnsw_recall`, run at scale by evaluation/latency.py.

Timings are wall-clock, in process, warm (one untimed warm-up pass), single-threaded numpy/FAISS calls
as configured by the environment; report the machine with them.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Sequence

import numpy as np

from .scoring import PaddedPersonaTable, inner_products_by_row


@contextlib.contextmanager
def single_threaded(threads: int = 1) -> Iterator[None]:
    """Run numpy's BLAS and FAISS's OpenMP on `threads` threads: one online request is served by one core,
    and on a shared machine multi-threaded single queries mostly measure OpenMP spin-waiting."""
    import faiss
    from threadpoolctl import threadpool_limits

    previous = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(threads)
    try:
        with threadpool_limits(limits=threads):
            yield
    finally:
        faiss.omp_set_num_threads(previous)


def unit_vectors(n: int, dim: int, rng: np.random.Generator, chunk: int = 100_000) -> np.ndarray:
    """n random unit vectors in float32, drawn in chunks (no float64 copy of a 1.5 GB matrix)."""
    out = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n, chunk):
        block = rng.standard_normal(size=(min(chunk, n - start), dim), dtype=np.float32)
        out[start : start + len(block)] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def synthetic_table(
    n_items: int = 5000, personas_per_item: tuple[int, int] = (2, 7), dim: int = 384, seed: int = 0
) -> PaddedPersonaTable:
    rng = np.random.default_rng(seed)
    counts = rng.integers(personas_per_item[0], personas_per_item[1] + 1, size=n_items)
    entry_items = [f"i{n}" for n, c in enumerate(counts) for _ in range(c)]
    return PaddedPersonaTable.build(entry_items, unit_vectors(len(entry_items), dim, rng))


def _percentiles(samples_ms: list[float]) -> dict[str, float]:
    arr = np.asarray(samples_ms)
    return {
        "p50_ms": float(np.percentile(arr, 50)),
        "p99_ms": float(np.percentile(arr, 99)),
        "mean_ms": float(arr.mean()),
    }


def benchmark_scoring(
    table: PaddedPersonaTable | None = None,
    n_candidates: int = 20,
    batch_sizes: Sequence[int] = (1, 10, 100, 1000),
    candidate_sizes: Sequence[int] = (20, 50, 100, 200, 500, 1000),
    single_requests: int = 2000,
    seed: int = 0,
) -> dict:
    """Scoring latency: single request p50/p99, amortised per user in batches, and against list size."""
    table = table or synthetic_table(seed=seed)
    rng = np.random.default_rng(seed + 1)
    dim, n_items = table.tensor.shape[2], len(table.item_ids)

    def lists(n_users: int, size: int) -> np.ndarray:
        return np.stack([rng.choice(n_items, size=min(size, n_items), replace=False) for _ in range(n_users)])

    users = unit_vectors(max(max(batch_sizes), single_requests), dim, rng)
    single_rows = lists(single_requests, n_candidates)
    table.score_one(users[0], single_rows[0])  # warm-up
    samples = []
    for n in range(single_requests):
        t0 = time.perf_counter()
        table.score_one(users[n], single_rows[n])
        samples.append((time.perf_counter() - t0) * 1000)
    out = {
        "single_request": {"candidates": n_candidates, "requests": single_requests, **_percentiles(samples)},
        "batched": {},
        "by_candidates": {},
        "items": n_items,
        "max_personas": table.max_personas,
        "dim": dim,
    }
    for batch in batch_sizes:
        rows = lists(batch, n_candidates)
        table.score(users[:batch], rows)  # warm-up
        repeats = max(3, 2000 // batch)
        t0 = time.perf_counter()
        for _ in range(repeats):
            table.score(users[:batch], rows)
        total_ms = (time.perf_counter() - t0) * 1000 / repeats
        out["batched"][batch] = {"ms_per_batch": total_ms, "ms_per_user": total_ms / batch}
    for size in candidate_sizes:
        rows = lists(200, size)
        samples = []
        for n in range(200):
            t0 = time.perf_counter()
            table.score_one(users[n], rows[n])
            samples.append((time.perf_counter() - t0) * 1000)
        out["by_candidates"][size] = _percentiles(samples)
    return out


def benchmark_reranker(
    reranker,
    user_ids: Sequence[str],
    candidate_lists: Sequence[Sequence[str]],
    split: str = "test",
    batch_sizes: Sequence[int] = (1, 10, 100, 1000),
) -> dict:
    """End-to-end timing of a real Reranker per single request, and `rank_ids_many` (user vectors from the
    cache + scoring + sort) amortised per user in batches. A single request is timed three ways, since
    `rerank` makes each RankedItem when it is first read:
        single_rerank           `rerank`: the list scored and ordered, explanations made on access
        single_rerank_top1      and the top item's explanation read (persona, persona_scores): what a
                                response that explains its first recommendation costs
        single_rerank_all       and every item made with its persona_scores: the cost of explaining all"""

    def top1(ranked):
        return ranked[0].persona, ranked[0].persona_scores

    def every(ranked):
        return [item.persona_scores for item in ranked]

    out: dict = {"batched_rank_ids": {}}
    for name, read in (("single_rerank", None), ("single_rerank_top1", top1), ("single_rerank_all", every)):
        reranker.rerank(user_ids[0], candidate_lists[0], split)  # warm-up
        samples = []
        for user, cands in zip(user_ids, candidate_lists):
            t0 = time.perf_counter()
            ranked = reranker.rerank(user, cands, split)
            if read is not None:
                read(ranked)
            samples.append((time.perf_counter() - t0) * 1000)
        out[name] = {"requests": len(samples), **_percentiles(samples)}
    for batch in batch_sizes:
        if batch > len(user_ids):
            continue
        users, lists = list(user_ids[:batch]), list(candidate_lists[:batch])
        reranker.rank_ids_many(users, lists, split)
        repeats = max(3, 1000 // batch)
        t0 = time.perf_counter()
        for _ in range(repeats):
            reranker.rank_ids_many(users, lists, split)
        total_ms = (time.perf_counter() - t0) * 1000 / repeats
        out["batched_rank_ids"][batch] = {"ms_per_batch": total_ms, "ms_per_user": total_ms / batch}
    return out


def memory_floor(table: PaddedPersonaTable, rows: np.ndarray, min_seconds: float = 0.05) -> dict:
    """The memory-traffic floor of scoring candidate lists (rows: (U, C) table rows): the bytes of the
    candidates' persona vectors a request must read, over the rate at which the scoring kernel itself
    streams the whole persona matrix (warm, so from the cache level the index lives in). floor_ms is the
    time no implementation reading those bytes at that rate can beat."""
    dim = table.dim
    personas = table.mask[rows].sum(axis=(1, 2))  # real persona rows per request (padding is not read)
    every_row = np.arange(len(table.vectors), dtype=np.int64)[None, :]
    probe = np.ones((1, dim), dtype=np.float32) / np.sqrt(dim)
    inner_products_by_row(probe, table.vectors, every_row)  # warm
    runs, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < min_seconds or runs < 3:
        inner_products_by_row(probe, table.vectors, every_row)
        runs += 1
    rate = table.vectors.nbytes * runs / (time.perf_counter() - t0)
    touched = float(personas.mean()) * dim * 4
    return {
        "bytes_touched": touched,
        "bytes_touched_max": int(rows.shape[1] * table.max_personas * dim * 4),
        "read_bytes_per_s": rate,
        "floor_ms": touched / rate * 1000,
        "how": "bytes of the candidates' persona vectors (mean over the requests) / the rate of the scoring "
        "kernel streaming the whole persona matrix, one thread, warm",
    }
