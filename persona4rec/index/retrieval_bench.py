"""The full-catalogue retrieval benchmark at 10^5-10^7 personas, measured (never asserted).

    record = benchmark_retrieval(model, n, queries, tuning_queries, RetrievalBenchConfig())

- personas: n vectors sampled from a PersonaModel fitted to a workspace's own index (synthetic.py), in
  chunks, so the float32 matrix is never held whole when the chosen index quantises it;
- queries: real user vectors (the caller passes the workspace's test users, and other users' valid-split
  vectors for tuning); each query excludes `excluded` items drawn from its 50 nearest, as a user's history
  lies near its vector;
- exact answers: every chunk searched exhaustively for every query (FAISS's knn), merged, collapsed to the
  k best unseen items; the single-query exhaustive scan is timed on `flat_queries` queries, chunk by chunk;
- the index: choose_factory(n); trained on the first chunks, filled chunk by chunk (build_s = train + add);
  bytes_per_persona from its codes, ids and quantizer;
- nprobe swept over powers of two and the points half-way between them: recall@k of items against the
  exact answers and the p50/p99 of a whole `retrieve` call (search, collapse to items, seen items
  dropped), one thread; the chosen nprobe is the smallest reaching target_recall on the tuning queries,
  and its figures on the evaluation queries are the record's `recall_at_100`, `p50_ms`, `p99_ms`.
  "Reaching" means the tuning queries' mean recall less two standard errors (retrieval.lower_bound): the
  tuning users' mean alone fell short on the evaluation users (10^5: tuning 0.957, evaluation 0.937 at the
  same nprobe).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .bench import single_threaded
from .retrieval import (
    TARGET_RECALL,
    choose_factory,
    collapse_to_items,
    index_bytes,
    inverted_file,
    is_exact,
    item_recall,
    lower_bound,
    new_index,
    recalls_at,
    retrieve,
    training_size,
)
from .synthetic import PersonaModel, spread

log = logging.getLogger(__name__)
GiB = 2**30


@dataclass
class RetrievalBenchConfig:
    k: int = 100
    target_recall: float = TARGET_RECALL
    excluded: int = 10  # seen items per query, drawn from its 50 nearest
    flat_queries: int = 10  # queries timed against the exhaustive scan
    repeats: int = 3  # timed calls per query and nprobe
    memory_bytes: int | None = 8 * GiB  # what the index may take; larger catalogues get SQ8 or PQ codes
    chunk: int = 100_000
    seed: int = 0
    threads: int = 1  # search threads
    # Building threads: on a shared machine FAISS's OpenMP barriers spin on descheduled threads (training
    # at 30,000 personas took 6 s on one thread and 39-72 s on two under a load of 10), so one by default.
    build_threads: int = 1
    factory: str | None = None  # None: choose_factory(n); else this FAISS factory string


@dataclass
class _Exact:
    """The exhaustive answers: per query the best `want` personas (scores, rows), merged over chunks."""

    scores: np.ndarray
    rows: np.ndarray

    @classmethod
    def empty(cls, n_queries: int) -> _Exact:
        return cls(np.full((n_queries, 0), -np.inf, dtype=np.float32), np.zeros((n_queries, 0), dtype=np.int64))

    def merge(self, scores: np.ndarray, rows: np.ndarray, want: int) -> None:
        scores, rows = np.hstack([self.scores, scores]), np.hstack([self.rows, rows])
        best = np.argsort(-scores, axis=1, kind="stable")[:, :want]
        self.scores, self.rows = np.take_along_axis(scores, best, 1), np.take_along_axis(rows, best, 1)


def benchmark_retrieval(
    model: PersonaModel,
    n: int,
    queries: np.ndarray,
    tuning_queries: np.ndarray,
    config: RetrievalBenchConfig | None = None,
    say: Callable[[str], None] = log.info,
) -> dict:
    """The retrieval record for n personas (see the module doc)."""
    config = config or RetrievalBenchConfig()
    started = time.perf_counter()
    dim = model.dim
    factory = config.factory or choose_factory(n, dim, config.memory_bytes)
    say(f"retrieval: {n:,} personas x {dim} sampled from the fitted model; index {factory}")
    all_queries = np.ascontiguousarray(np.vstack([queries, tuning_queries]), dtype=np.float32)
    max_personas = int(model.counts.max())
    want = (config.k + config.excluded) * max_personas
    with single_threaded(config.build_threads):
        built = _build(model, n, factory, all_queries, want, config, say)
    index, items, exact = built["index"], built["items"], built["exact"]
    answers, seen = _exact_answers(exact, items, config)
    evaluation = {"queries": queries, "answers": answers[: len(queries)], "seen": seen[: len(queries)]}
    tuning = {"queries": tuning_queries, "answers": answers[len(queries) :], "seen": seen[len(queries) :]}
    curve, chosen = _sweep(index, items, max_personas, evaluation, tuning, config, say)
    point = next((p for p in curve if p["nprobe"] == chosen), curve[-1])
    record = {
        "index": factory,
        "n_vectors": n,
        "items": int(items[-1]) + 1,
        "dim": dim,
        "k": config.k,
        "recall_at_100" if config.k == 100 else f"recall_at_{config.k}": point["recall"],
        "recall_at_k": point["recall"],
        "p50_ms": point["p50_ms"],
        "p99_ms": point["p99_ms"],
        "mean_ms": point["mean_ms"],
        "search_parameter": None if chosen is None else {"nprobe": chosen},
        "target_recall": config.target_recall,
        "tuning_recall": point.get("tuning_recall"),
        "tuning_lower_bound": point.get("tuning_lower_bound"),
        "curve": curve,
        "flat_ms_per_query": built["flat_ms"],
        "coarse_ms": _coarse_ms(index, queries, chosen, config),
        "build_s": built["train_s"] + built["add_s"],
        "train_s": built["train_s"],
        "add_s": built["add_s"],
        "sample_s": built["sample_s"],
        "bytes_per_persona": index_bytes(index) / n,
        "index_bytes": index_bytes(index),
        "vectors_bytes": n * dim * 4,
        "queries": len(queries),
        "tuning_queries": len(tuning_queries),
        "excluded_per_query": config.excluded,
        "search_threads": config.threads,
        "spread": built["spread"],
        "total_s": time.perf_counter() - started,
    }
    say(
        f"  {factory}: recall@{config.k} {point['recall']:.3f} at nprobe {chosen}, p50 {point['p50_ms']:.3f} ms, "
        f"p99 {point['p99_ms']:.3f} ms; exhaustive {built['flat_ms']:.2f} ms; build {record['build_s']:.1f} s, "
        f"{record['bytes_per_persona']:.0f} bytes/persona"
    )
    return record


def _build(model, n, factory, queries, want, config: RetrievalBenchConfig, say) -> dict:
    """Sample the personas chunk by chunk: exact answers merged, exhaustive scans timed, index trained on the
    first chunks and filled."""
    import faiss

    index = new_index(factory, model.dim)
    exact = _Exact.empty(len(queries))
    items = np.empty(n, dtype=np.int64)
    pending: list[np.ndarray] = []  # chunks waiting for the index to be trained
    flat_s = np.zeros(min(config.flat_queries, len(queries)))
    timings = {"train_s": 0.0, "add_s": 0.0, "sample_s": 0.0}
    at, spread_record = 0, None
    chunks = model.sample(n, seed=config.seed, chunk=config.chunk)
    while True:
        t0 = time.perf_counter()
        chunk = next(chunks, None)
        timings["sample_s"] += time.perf_counter() - t0
        if chunk is None:
            break
        vectors, ids = chunk
        items[at : at + len(ids)] = ids
        if spread_record is None:
            spread_record = spread(vectors, ids)
        scores, rows = faiss.knn(queries, vectors, min(want, len(vectors)), metric=faiss.METRIC_INNER_PRODUCT)
        exact.merge(scores, rows + at, want)
        with single_threaded(config.threads):
            for q in range(len(flat_s)):
                t0 = time.perf_counter()
                faiss.knn(queries[q : q + 1], vectors, min(want, len(vectors)), metric=faiss.METRIC_INNER_PRODUCT)
                flat_s[q] += time.perf_counter() - t0
        at += len(ids)
        pending.append(vectors)
        buffered = sum(len(p) for p in pending)
        if not index.is_trained and (buffered >= training_size(factory) or at >= n):
            t0 = time.perf_counter()
            index.train(np.vstack(pending)[: training_size(factory)])
            timings["train_s"] = time.perf_counter() - t0
        if index.is_trained:
            t0 = time.perf_counter()
            for block in pending:
                index.add(block)
            timings["add_s"] += time.perf_counter() - t0
            pending = []
        if at % (10 * config.chunk) == 0:
            say(f"  {at:,} / {n:,} personas")
    return {
        "index": index,
        "items": items,
        "exact": exact,
        "flat_ms": float(np.median(flat_s) * 1000),
        "spread": spread_record,
        **timings,
    }


def _exact_answers(exact: _Exact, items: np.ndarray, config: RetrievalBenchConfig) -> tuple[list, list]:
    """Per query: the exact top-k unseen items, and its seen items (`excluded` of its 50 nearest)."""
    rng = np.random.default_rng(config.seed + 1)
    answers, seen = [], []
    for scores, rows in zip(exact.scores, exact.rows):
        nearest = [h.item_id for h in collapse_to_items(scores, rows, items, set(), 50)]
        excluded = set(rng.choice(nearest, size=min(config.excluded, len(nearest)), replace=False).tolist())
        answers.append([h.item_id for h in collapse_to_items(scores, rows, items, excluded, config.k)])
        seen.append(excluded)
    return answers, seen


def _sweep(index, items, max_personas, evaluation: dict, tuning: dict, config: RetrievalBenchConfig, say):
    """The recall/latency curve over nprobe (one point for an exact index) and the chosen nprobe."""
    if is_exact(index):
        with single_threaded(config.threads):
            return [_point(index, items, max_personas, evaluation, None, config)], None
    curve, chosen = [], None
    with single_threaded(config.threads):
        for nprobe in nprobe_grid(inverted_file(index).nlist):
            tuned = recalls_at(
                index, items, max_personas, tuning["queries"], tuning["answers"], tuning["seen"], config.k, nprobe
            )
            point = _point(index, items, max_personas, evaluation, nprobe, config)
            point.update(tuning_recall=float(tuned.mean()), tuning_lower_bound=lower_bound(tuned))
            curve.append(point)
            say(
                f"    nprobe {nprobe:4d}: recall@{config.k} {point['recall']:.3f} (tuning {tuned.mean():.3f}, "
                f"bound {point['tuning_lower_bound']:.3f}), p50 {point['p50_ms']:.3f} ms, p99 {point['p99_ms']:.3f} ms"
            )
            if chosen is None and point["tuning_lower_bound"] >= config.target_recall:
                chosen = nprobe
            if chosen is not None and (point["recall"] >= 0.995 or nprobe >= 4 * chosen):
                break
    return curve, chosen if chosen is not None else curve[-1]["nprobe"]


def _coarse_ms(index, queries: np.ndarray, nprobe: int | None, config: RetrievalBenchConfig) -> float | None:
    """p50 ms of the coarse step alone (the nprobe nearest of the L centroids), which grows with L, not with
    the cells scanned: the projection needs the two apart."""
    ivf = inverted_file(index)
    if ivf is None or nprobe is None:
        return None
    samples = []
    with single_threaded(config.threads):
        for q in queries:
            t0 = time.perf_counter()
            ivf.quantizer.search(q[None, :], nprobe)
            samples.append((time.perf_counter() - t0) * 1000)
    return float(np.median(samples))


def nprobe_grid(nlist: int) -> list[int]:
    """1, 2, 3, 4, 6, 8, 12, ...: powers of two and the points half-way (x 1.5) between them, up to nlist."""
    grid, power = [], 1
    while power <= nlist:
        grid += [power] + ([power * 3 // 2] if power >= 2 and power * 3 // 2 <= nlist else [])
        power *= 2
    return grid


def _point(index, items, max_personas, part: dict, nprobe, config: RetrievalBenchConfig) -> dict:
    """Recall and per-call latency of `retrieve` at one nprobe on the evaluation queries."""
    found, samples = [], []
    for q, seen in zip(part["queries"], part["seen"]):
        for _ in range(config.repeats):
            t0 = time.perf_counter()
            hits = retrieve(index, items, max_personas, q, config.k, exclude=seen, nprobe=nprobe)
            samples.append((time.perf_counter() - t0) * 1000)
        found.append([h.item_id for h in hits])
    arr = np.asarray(samples)
    return {
        "nprobe": nprobe,
        "recall": item_recall(found, part["answers"]),
        "p50_ms": float(np.percentile(arr, 50)),
        "p99_ms": float(np.percentile(arr, 99)),
        "mean_ms": float(arr.mean()),
    }
