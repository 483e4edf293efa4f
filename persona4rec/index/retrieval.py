"""Full-catalogue retrieval (beyond the paper, which only reranks): search every persona, keep each
item's best persona, drop items the user has seen. Plus an optional HNSW graph and its recall vs flat.

The search asks FAISS for enough personas to leave k unseen items after collapsing to items, doubling
the request until it does (or the index is exhausted), so results equal an exhaustive item ranking.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np


@dataclass
class Hit:
    item_id: str
    score: float
    entry_row: int  # row of the winning persona in the index mapping


def collapse_to_items(
    scores: np.ndarray, rows: np.ndarray, entry_items: list[str], exclude: set[str], k: int
) -> list[Hit]:
    """Persona hits (best first) -> the best hit per item, seen items dropped, at most k."""
    hits: list[Hit] = []
    taken: set[str] = set()
    for score, row in zip(scores, rows):
        if row < 0:
            break
        item = entry_items[row]
        if item in taken or item in exclude:
            continue
        taken.add(item)
        hits.append(Hit(item, float(score), int(row)))
        if len(hits) == k:
            break
    return hits


def retrieve(
    search_index,
    entry_items: list[str],
    max_personas: int,
    user_vector: np.ndarray,
    k: int = 20,
    exclude: Iterable[str] = (),
) -> list[Hit]:
    """Top-k unseen items for one user from a FAISS index whose row r belongs to entry_items[r]."""
    exclude = set(exclude)
    total = search_index.ntotal
    want = min(total, (k + len(exclude)) * max(1, max_personas))
    query = np.ascontiguousarray(user_vector.reshape(1, -1), dtype=np.float32)
    while True:
        scores, rows = search_index.search(query, max(1, want))
        hits = collapse_to_items(scores[0], rows[0], entry_items, exclude, k)
        if len(hits) == k or want >= total:
            return hits
        want = min(total, want * 2)


def build_hnsw(vectors: np.ndarray, m: int = 32, ef_construction: int = 80, ef_search: int = 64):
    """An HNSW graph over the vectors with inner-product metric (approximate, much faster at 10^6)."""
    import faiss

    graph = faiss.IndexHNSWFlat(vectors.shape[1], m, faiss.METRIC_INNER_PRODUCT)
    graph.hnsw.efConstruction = ef_construction
    graph.hnsw.efSearch = ef_search
    graph.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return graph


def hnsw_recall(
    vectors: np.ndarray,
    queries: np.ndarray,
    k: int = 10,
    m: int = 32,
    ef_construction: int = 80,
    ef_search: int = 64,
    graph=None,
) -> dict[str, float]:
    """Recall@k of HNSW against exact flat search on the same vectors, and both latencies per query."""
    import faiss

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    flat = faiss.IndexFlatIP(vectors.shape[1])
    flat.add(vectors)
    t0 = time.perf_counter()
    graph = graph if graph is not None else build_hnsw(vectors, m, ef_construction, ef_search)
    build_s = time.perf_counter() - t0
    graph.hnsw.efSearch = ef_search
    flat_ms, exact = _timed_search(flat, queries, k)
    hnsw_ms, approx = _timed_search(graph, queries, k)
    found = sum(len(set(a) & set(e)) for a, e in zip(approx.tolist(), exact.tolist()))
    return {
        "recall_at_k": found / (len(queries) * k),
        "k": k,
        "flat_ms_per_query": flat_ms,
        "hnsw_ms_per_query": hnsw_ms,
        "hnsw_build_s": build_s,
        "n_vectors": int(len(vectors)),
        "m": m,
        "ef_search": ef_search,
    }


def _timed_search(index, queries: np.ndarray, k: int) -> tuple[float, np.ndarray]:
    """Mean milliseconds per single-query search (one query at a time, as an online request is)."""
    rows = np.empty((len(queries), k), dtype=np.int64)
    t0 = time.perf_counter()
    for n in range(len(queries)):
        rows[n] = index.search(queries[n : n + 1], k)[1][0]
    return (time.perf_counter() - t0) * 1000 / len(queries), rows
