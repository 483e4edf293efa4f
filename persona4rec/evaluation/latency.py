"""The latency and scale part of `persona4rec bench` (the paper's Table 7 / Figure 4), built on the timing
functions of persona4rec.index.bench and persona4rec.index.retrieval_bench:

    real reranker     `Reranker.rerank` per single request (with explanation objects) and `rank_ids_many`
                      amortised per user in batches, on the workspace's own test users and candidates, and
                      the memory-traffic floor of a request (the bytes of its candidates' persona vectors
                      at the scoring kernel's own streaming rate) with each figure's ratio to it
    scoring           max-over-personas scoring alone: on the workspace's index, and on a synthetic
                      5,000-item table (2-7 personas per item) for candidate sets up to 1,000
    memory            bytes of the index files and of the in-memory scoring structures
    retrieval         full-catalogue search over n personas sampled from a model fitted to the workspace's
                      own persona vectors (index/synthetic.py), queried by its real users: the index chosen
                      for n, its build time and bytes per persona, and the recall@100 / latency curve over
                      nprobe; `retrieval_projection` extends the largest measured size by formula

Every figure is measured in this process, warm, on this machine; the load average is recorded beside
them because the machine may be shared.
"""

from __future__ import annotations

import logging
import os
import platform
import resource
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

log = logging.getLogger(__name__)
GiB = 2**30


@dataclass
class LatencyConfig:
    batch_sizes: tuple[int, ...] = (1, 10, 100, 1000)
    candidate_sizes: tuple[int, ...] = (20, 50, 100, 200, 500, 1000)
    single_requests: int = 1000
    synthetic_items: int = 5000
    retrieval_sizes: tuple[int, ...] = (10_000, 100_000, 1_000_000)
    retrieval_queries: int = 200  # test users as queries (and as many other users' valid vectors to tune)
    retrieval_k: int = 100
    retrieval_target_recall: float = 0.95
    retrieval_excluded: int = 10  # seen items per query
    retrieval_memory_bytes: int = 8 * GiB  # the chosen index's budget (beyond it: SQ8 or PQ codes)
    retrieval_chunk: int = 100_000  # personas sampled at a time
    retrieval_projected_sizes: tuple[int, ...] = (10_000_000,)
    retrieval_build_threads: int = 1  # see RetrievalBenchConfig.build_threads
    threads: int = 1  # BLAS/OpenMP threads while timing


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
    """On-disk files of the index and the in-memory scoring structures, in bytes."""
    files = {p.name: p.stat().st_size for p in index.path.iterdir() if p.is_file()}
    table = index.table
    return {
        "vectors": int(index.vectors.shape[0]),
        "dim": int(index.vectors.shape[1]),
        "files_bytes": files,
        "vectors_bytes": int(np.asarray(index.vectors).nbytes),
        # scoring reads the vectors in place; a padded items x max_personas x d copy would take this much
        "padded_tensor_bytes": table.padded_bytes() + int(table.mask.nbytes + table.entry_rows.nbytes),
        "scoring_bytes": int(table.vectors.nbytes + table.mask.nbytes + table.entry_rows.nbytes),
        "items": len(table.item_ids),
        "max_personas": int(table.max_personas),
    }


def real_reranker_latency(
    reranker, user_ids: Sequence[str], candidate_lists: Sequence[Sequence[str]], config: LatencyConfig
) -> dict:
    from ..index.bench import benchmark_reranker, memory_floor

    n = max(max(config.batch_sizes), config.single_requests)
    users, lists = cycle_to(list(user_ids), n)[:n], cycle_to(list(candidate_lists), n)[:n]
    out = benchmark_reranker(reranker, users, lists, batch_sizes=config.batch_sizes)
    out["distinct_users"] = len(set(user_ids))
    out["mean_candidates"] = float(np.mean([len(c) for c in candidate_lists])) if candidate_lists else 0.0
    floor = memory_floor(reranker.table, reranker.table.rows_for(lists))
    out.update(bytes_touched=floor["bytes_touched"], floor_ms=floor["floor_ms"], floor=floor)
    for name in ("single_rerank", "single_rerank_top1", "single_rerank_all"):
        out[name]["ratio_to_floor"] = out[name]["p50_ms"] / floor["floor_ms"]
    for record in out["batched_rank_ids"].values():
        record["ratio_to_floor"] = record["ms_per_user"] / floor["floor_ms"]
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


def retrieval_queries(reranker, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Real queries: the test-split vectors of `count` users with a history, and for tuning the
    valid-split vectors of `count` other users (users without a valid history dropped)."""
    users = reranker.users
    with_history = [u for u in users.timelines.users() if len(users.history_rows(u, "test"))]
    half = len(with_history) // 2
    queries = users.embed_many(with_history[:half][:count], "test")
    tuning = users.embed_many(with_history[half:][:count], "valid")
    return queries, tuning[tuning.any(axis=1)]


def retrieval_scale(config: LatencyConfig, reranker, say: Callable[[str], None] = log.info) -> dict:
    """The retrieval record per size: personas sampled from a model fitted to the reranker's index."""
    from ..index.retrieval_bench import RetrievalBenchConfig, benchmark_retrieval
    from ..index.synthetic import fit_persona_model, spread

    index = reranker.index
    vectors, items = np.asarray(index.vectors), index.entries["item_id"].to_numpy()
    model = fit_persona_model(vectors, items)
    fitted = spread(vectors, items)
    queries, tuning = retrieval_queries(reranker, config.retrieval_queries)
    bench_config = RetrievalBenchConfig(
        k=config.retrieval_k,
        target_recall=config.retrieval_target_recall,
        excluded=config.retrieval_excluded,
        memory_bytes=config.retrieval_memory_bytes,
        chunk=config.retrieval_chunk,
        threads=config.threads,
        build_threads=config.retrieval_build_threads,
    )
    out = {}
    for n in config.retrieval_sizes:
        record = benchmark_retrieval(model, n, queries, tuning, bench_config, say=say)
        record["fitted_to"] = {"index": str(index.path), "personas": len(vectors), "spread": fitted}
        record["machine"] = machine()
        out[str(n)] = record
    return out


def retrieval_projection(measured: dict, sizes: Sequence[int], dim: int, memory_bytes: int) -> dict:
    """Projected figures for sizes beyond the largest measured inverted-file record (n1; n0 the one below;
    L = ivf_lists(n) cells):

        share(n)      = nprobe/L at n1 x (n / n1)^beta,  beta = log(share1/share0) / log(n1/n0)  (0 from one size)
        scanned(n)    = share(n) x n                      codes read by one query
        p50_ms(n)     = coarse_ms(n1) L / L1 + a + b scanned(n)
                        coarse: the centroid scan, measured alone; a, b: least squares of p50 - coarse over
                        n1's curve (nprobe >= 8)
        bytes/persona = d/4 + 8 + refine (4d, d or 0) + L d 4 / n           exact for the chosen factory
        build_s(n)    = train_s(n1) n / n1 + add_s(n1) (n / n1)^1.5   training sees 64 L ~ n vectors for L
                        cells (L^2 ~ n); adding assigns n vectors to L cells
        exhaustive(n) = exhaustive_ms(n1) n / n1
    An estimate: it assumes the share of cells reaching the recall target keeps following its trend."""
    from ..index.retrieval import choose_factory, ivf_lists

    inverted = {int(n): r for n, r in measured.items() if r.get("search_parameter")}
    if not inverted:
        return {}
    sizes_measured = sorted(inverted)
    n1 = sizes_measured[-1]
    base = inverted[n1]
    lists1 = ivf_lists(n1)
    share1 = base["search_parameter"]["nprobe"] / lists1
    beta = 0.0
    if len(sizes_measured) > 1:
        n0 = sizes_measured[-2]
        share0 = inverted[n0]["search_parameter"]["nprobe"] / ivf_lists(n0)
        beta = float(np.log(share1 / share0) / np.log(n1 / n0))
    coarse = base.get("coarse_ms") or 0.0
    points = [p for p in base["curve"] if p["nprobe"] >= 8] or base["curve"]
    scanned = [p["nprobe"] / lists1 * n1 for p in points]
    slope, intercept = np.polyfit(scanned, [p["p50_ms"] - coarse for p in points], 1) if len(points) > 1 else (0, 0)
    out = {}
    for n in sizes:
        if n <= n1 or str(n) in measured:
            continue
        factory = choose_factory(n, dim, memory_bytes)
        lists = ivf_lists(n)
        share = min(1.0, share1 * (n / n1) ** beta)
        refine = 4 * dim if factory.endswith("RFlat") else dim if factory.endswith("Refine(SQ8)") else 0
        per_persona = dim // 4 + 8 + refine + lists * dim * 4 / n
        out[str(n)] = {
            "projected": True,
            "from": n1,
            "index": factory,
            "nprobe": share * lists,
            "share_of_cells": share,
            "beta": beta,
            "scanned_per_query": share * n,
            "p50_ms": float(coarse * lists / lists1 + intercept + slope * share * n),
            "p99_ms": None,
            "bytes_per_persona": per_persona,
            "index_bytes": per_persona * n,
            "fits_memory_budget": per_persona * n <= memory_bytes,
            "build_s": base["train_s"] * n / n1 + base["add_s"] * (n / n1) ** 1.5,
            "flat_ms_per_query": base["flat_ms_per_query"] * n / n1,
            "latency_fit": {"coarse_ms": coarse, "intercept_ms": float(intercept), "ms_per_code": float(slope)},
            "formula": "share(n) = share(n1) (n/n1)^beta; p50 = coarse L/L1 + a + b share(n) n; "
            "bytes = d/4 + 8 + refine + L d 4/n; build = train n/n1 + add (n/n1)^1.5",
        }
    return out


def peak_rss_bytes() -> int:
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024  # Linux reports KiB
