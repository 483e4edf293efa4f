"""The latency and scale part of `persona4rec bench` (the paper's Table 7 / Figure 4), built on the timing
functions of persona4rec.index.bench:

    real reranker     `Reranker.rerank` per single request (with explanation objects) and `rank_ids_many`
                      amortised per user in batches, on the workspace's own test users and candidates
    scoring           max-over-personas scoring alone: on the workspace's index, and on a synthetic
                      5,000-item table (2-7 personas per item) for candidate sets up to 1,000
    memory            bytes of the index files and of the in-memory padded persona tensor
    retrieval         full-catalogue search over n random persona vectors: flat vs HNSW, HNSW recall@10

Every figure is measured in this process, warm, on this machine; the load average is recorded beside
them because the machine may be shared.
"""

from __future__ import annotations

import contextlib
import logging
import os
import platform
import resource
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

log = logging.getLogger(__name__)


@dataclass
class LatencyConfig:
    batch_sizes: tuple[int, ...] = (1, 10, 100, 1000)
    candidate_sizes: tuple[int, ...] = (20, 50, 100, 200, 500, 1000)
    single_requests: int = 1000
    synthetic_items: int = 5000
    retrieval_sizes: tuple[int, ...] = (10_000, 100_000, 1_000_000)
    retrieval_queries: int = 100
    retrieval_k: int = 10
    hnsw_m: int = 32
    hnsw_ef_construction: int = 80
    hnsw_ef_search: int = 64
    threads: int = 1  # BLAS/OpenMP threads while timing (index building may use more)
    # Above this many vectors the graph is built with the lighter settings below (2 shared cores).
    hnsw_large_threshold: int = 500_000
    hnsw_large_m: int = 16
    hnsw_large_ef_construction: int = 40


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


def machine() -> dict:
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "load_average_1_5_15": [round(x, 2) for x in load],
        "python": platform.python_version(),
    }


def cycle_to(values: Sequence, n: int) -> list:
    """`values` repeated until there are n (batches larger than the test population reuse users)."""
    return [values[i % len(values)] for i in range(max(n, len(values)))] if values else []


def index_memory(index) -> dict:
    """On-disk files of the index and the in-memory scoring tensor, in bytes."""
    files = {p.name: p.stat().st_size for p in index.path.iterdir() if p.is_file()}
    table = index.table
    return {
        "vectors": int(index.vectors.shape[0]),
        "dim": int(index.vectors.shape[1]),
        "files_bytes": files,
        "vectors_bytes": int(np.asarray(index.vectors).nbytes),
        "padded_tensor_bytes": int(table.tensor.nbytes + table.mask.nbytes + table.entry_rows.nbytes),
        "items": len(table.item_ids),
        "max_personas": int(table.max_personas),
    }


def real_reranker_latency(
    reranker, user_ids: Sequence[str], candidate_lists: Sequence[Sequence[str]], config: LatencyConfig
) -> dict:
    from ..index.bench import benchmark_reranker

    n = max(max(config.batch_sizes), config.single_requests)
    out = benchmark_reranker(
        reranker,
        cycle_to(list(user_ids), n)[:n],
        cycle_to(list(candidate_lists), n)[:n],
        batch_sizes=config.batch_sizes,
    )
    out["distinct_users"] = len(set(user_ids))
    out["mean_candidates"] = float(np.mean([len(c) for c in candidate_lists])) if candidate_lists else 0.0
    return out


def scoring_latency(table, config: LatencyConfig, label: str) -> dict:
    from ..index.bench import benchmark_scoring

    sizes = tuple(s for s in config.candidate_sizes if s <= len(table.item_ids))
    out = benchmark_scoring(
        table,
        n_candidates=min(20, len(table.item_ids)),
        batch_sizes=config.batch_sizes,
        candidate_sizes=sizes,
        single_requests=config.single_requests,
    )
    out["table"] = label
    return out


def retrieval_scale(config: LatencyConfig, dim: int, say: Callable[[str], None] = log.info) -> dict:
    """Flat vs HNSW search latency per query and HNSW recall@k at each size (random unit vectors)."""
    from ..index.bench import unit_vectors
    from ..index.retrieval import build_hnsw, hnsw_recall

    out = {}
    for n in config.retrieval_sizes:
        large = n > config.hnsw_large_threshold
        m = config.hnsw_large_m if large else config.hnsw_m
        efc = config.hnsw_large_ef_construction if large else config.hnsw_ef_construction
        say(f"retrieval: {n:,} random persona vectors x {dim}, HNSW M={m} efConstruction={efc} ...")
        vectors = unit_vectors(n, dim, np.random.default_rng(n))
        queries = unit_vectors(config.retrieval_queries, dim, np.random.default_rng(n + 1))
        t0 = time.perf_counter()
        graph = build_hnsw(vectors, m, efc, config.hnsw_ef_search)  # built with every thread
        build_s = time.perf_counter() - t0
        with single_threaded(config.threads):  # searched as one request is
            result = hnsw_recall(
                vectors,
                queries,
                k=config.retrieval_k,
                m=m,
                ef_construction=efc,
                ef_search=config.hnsw_ef_search,
                graph=graph,
            )
        result.update(
            hnsw_build_s=build_s,
            ef_construction=efc,
            vectors_bytes=int(vectors.nbytes),
            total_s=time.perf_counter() - t0,
            queries=config.retrieval_queries,
            search_threads=config.threads,
        )
        out[str(n)] = result
        say(
            f"  flat {result['flat_ms_per_query']:.3f} ms/query, HNSW {result['hnsw_ms_per_query']:.3f} ms/query, "
            f"recall@{config.retrieval_k} {result['recall_at_k']:.3f}, build {result['hnsw_build_s']:.1f} s"
        )
        del vectors
    return out


def peak_rss_bytes() -> int:
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024  # Linux reports KiB
