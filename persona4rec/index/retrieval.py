"""Full-catalogue retrieval (beyond the paper, which only reranks): search every persona, keep each
item's best persona, drop items the user has seen.

The FAISS index is chosen by size (`choose_factory`, d floats a persona, L = ivf_lists(n) cells):

    n <= FLAT_MAX_PERSONAS   "Flat"                 exact inner product (a query scans n x d floats)
    larger                   "IVF<L>,PQ<d/2>x4fs,RFlat"
                             the nprobe k-means cells nearest the query; in them, 4-bit product-quantised
                             codes of 2-float pieces (d/4 bytes a persona) scanned with SIMD lookup tables
                             ("fast scan"); the K_FACTOR x wanted best candidates re-scored exactly against
                             the float vectors ("RFlat")
    larger than the budget   "...,Refine(SQ8)"      re-scored against 8-bit scalar-quantised vectors
    still larger             "IVF<L>,PQ<d/2>x4fs"   the codes alone (approximate scores)

nprobe is the search parameter the bench tunes: the smallest reaching TARGET_RECALL of items against exact
search. Why this index, measured on the bench's realistic vectors (10^5 and 10^6 personas fitted to Digital
Music, its users as queries, k = 100 items): a persona's 100 nearest items are spread wide (the 100th item
scores 0.32 against the first's 0.43), so an HNSW graph over the personas needed efSearch 1,024 for recall
0.97 at 10^5 (10 ms) and builds an order of magnitude slower; IVF with float vectors reached 0.957 at
nprobe 128 of 1,024 in 2.9 ms, the fast-scan codes with re-scoring the same recall in a third of the time;
64-float PQ pieces (d/8 bytes) lost too much to re-scoring (0.90 at any nprobe), and an HNSW graph over the
centroids cost more than the exact scan of 4,096 of them once asked for hundreds of cells.

The search asks FAISS for OVERFETCH x (k + |seen|) personas, doubling while collapsing them to items leaves
fewer than k unseen items, so on an exact index the result equals the exhaustive item ranking. An IVF search
at a small nprobe may find fewer (its cells run dry): then nprobe doubles, up to every cell.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

# Exact search below this many personas: one single-threaded query then scans at most ~30 MB (384-d),
# about a millisecond or two; above it the inverted file answers faster (the bench's curve).
FLAT_MAX_PERSONAS = 20_000
TARGET_RECALL = 0.95  # recall@k of items against exact search that the tuned nprobe must reach
K_FACTOR = 4  # candidates re-scored exactly per wanted persona (a refine index)
# Personas first asked per wanted item, doubled while too few distinct unseen items come back: on the bench's
# vectors an item's personas are far apart (the 100th item is about the 100th persona), so little is wasted.
OVERFETCH = 1.25


@dataclass
class Hit:
    item_id: str
    score: float
    entry_row: int  # row of the winning persona in the index mapping


def ivf_lists(n: int) -> int:
    """Inverted lists for n vectors: the power of two nearest 4 sqrt(n) (FAISS's rule of thumb), >= 16."""
    return max(16, 2 ** round(math.log2(4 * math.sqrt(max(n, 1)))))


def choose_factory(n: int, dim: int, memory_bytes: int | None = None) -> str:
    """The FAISS factory string for n personas of dim floats within memory_bytes (None: no limit)."""
    if n <= FLAT_MAX_PERSONAS:
        return "Flat"
    codes = f"IVF{ivf_lists(n)},PQ{dim // 2}x4fs"
    per_persona = dim // 4 + 8  # 4-bit codes of 2-float pieces, and an id
    if memory_bytes is None or n * (per_persona + 4 * dim) <= memory_bytes:
        return codes + ",RFlat"
    if n * (per_persona + dim) <= memory_bytes:
        return codes + ",Refine(SQ8)"
    return codes


def new_index(factory: str, dim: int):
    """An empty inner-product index for the factory string."""
    import faiss

    index = faiss.index_factory(dim, factory, faiss.METRIC_INNER_PRODUCT)
    if hasattr(index, "k_factor"):
        index.k_factor = K_FACTOR
    return index


def training_size(factory: str) -> int:
    """How many vectors training needs (0 for Flat): 64 per inverted list, FAISS's comfortable amount."""
    if factory == "Flat":
        return 0
    return 64 * int(factory.split(",")[0].removeprefix("IVF").split("_")[0])  # "IVF4096" or "IVF4096_HNSW32"


def build_search_index(vectors: np.ndarray, factory: str | None = None, seed: int = 0):
    """The index for these vectors (chosen by size when no factory is given), trained and filled."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    factory = factory or choose_factory(len(vectors), vectors.shape[1])
    index = new_index(factory, vectors.shape[1])
    if not index.is_trained:
        index.train(training_sample(vectors, training_size(factory), seed))
    index.add(vectors)
    return index


def training_sample(vectors: np.ndarray, size: int, seed: int = 0) -> np.ndarray:
    if len(vectors) <= size:
        return vectors
    rows = np.sort(np.random.default_rng(seed).choice(len(vectors), size=size, replace=False))
    return np.ascontiguousarray(vectors[rows])


def inverted_file(index):
    """The IVF part of an index (None for an exact one)."""
    import faiss

    return faiss.try_extract_index_ivf(index)


def is_exact(index) -> bool:
    return inverted_file(index) is None


def search_parameters(index, nprobe: int | None):
    """FAISS SearchParameters for nprobe cells (None for an exact index)."""
    import faiss

    inverted = inverted_file(index)
    if inverted is None:
        return None
    ivf = faiss.SearchParametersIVF(nprobe=nprobe or inverted.nprobe)
    quantizer = faiss.downcast_index(inverted.quantizer)
    if isinstance(quantizer, faiss.IndexHNSW):
        # The graph over the centroids must look at least at the nprobe cells it returns (its default
        # efSearch of 16 silently caps them, and recall with it).
        graph = faiss.SearchParametersHNSW(efSearch=2 * ivf.nprobe)
        ivf.quantizer_params, ivf.referenced_objects = graph, [graph]  # FAISS keeps a bare pointer
    if hasattr(index, "k_factor"):
        refine = faiss.IndexRefineSearchParameters(k_factor=index.k_factor, base_index_params=ivf)
        refine.referenced_objects = [ivf]
        return refine
    return ivf


def index_bytes(index) -> int:
    """Bytes the index holds in memory: codes and ids of every vector, the coarse quantizer's centroids,
    and the re-scoring vectors of a refine index."""
    import faiss

    if is_exact(index):
        return int(index.ntotal * index.d * 4)
    ivf = inverted_file(index)
    total = ivf.ntotal * (ivf.code_size + 8) + ivf.nlist * ivf.d * 4
    if hasattr(index, "refine_index"):
        total += index.ntotal * faiss.downcast_index(index.refine_index).code_size
    return int(total)


def collapse_to_items(scores: np.ndarray, rows: np.ndarray, entry_items: Sequence, exclude: set, k: int) -> list[Hit]:
    """Persona hits (best first) -> the best hit per item, seen items dropped, at most k."""
    rows = rows.tolist()
    found = rows.index(-1) if -1 in rows else len(rows)  # FAISS pads a short answer with -1
    rows = rows[:found]
    # an array of item ids (the bench's millions of personas) is read in one call
    items = entry_items[rows].tolist() if isinstance(entry_items, np.ndarray) else [entry_items[r] for r in rows]
    hits: list[Hit] = []
    taken: set = set()
    for score, row, item in zip(scores.tolist(), rows, items):
        if item in taken or item in exclude:
            continue
        taken.add(item)
        hits.append(Hit(item, score, row))
        if len(hits) == k:
            break
    return hits


def retrieve(
    search_index,
    entry_items: Sequence,
    max_personas: int,
    user_vector: np.ndarray,
    k: int = 20,
    exclude: Iterable = (),
    nprobe: int | None = None,
) -> list[Hit]:
    """Top-k unseen items for one user from a FAISS index whose row r belongs to entry_items[r].
    nprobe: cells an IVF index searches (None: the index's own setting); ignored by exact indexes.
    max_personas bounds how many personas the search may need: (k + |seen|) x max_personas."""
    exclude = set(exclude)
    total = search_index.ntotal
    enough = min(total, (k + len(exclude)) * max(1, max_personas))
    want = min(enough, math.ceil(OVERFETCH * (k + len(exclude))))
    query = np.ascontiguousarray(user_vector.reshape(1, -1), dtype=np.float32)
    ivf = inverted_file(search_index)
    probes = None if ivf is None else (nprobe or ivf.nprobe)
    while True:
        scores, rows = search_index.search(query, want, params=search_parameters(search_index, probes))
        hits = collapse_to_items(scores[0], rows[0], entry_items, exclude, k)
        if len(hits) == k or want >= enough and (probes is None or probes >= ivf.nlist):
            return hits
        if probes is not None and rows[0, -1] < 0 and probes < ivf.nlist:  # the probed cells ran dry
            probes = min(ivf.nlist, probes * 2)
        else:
            want = min(enough, want * 2)


def item_recalls(found: Sequence[Sequence], exact: Sequence[Sequence]) -> np.ndarray:
    """Per query: |found items ∩ exact items| / |exact items| (queries with no exact items left out)."""
    return np.asarray([len(set(f) & set(e)) / len(e) for f, e in zip(found, exact) if len(e)], dtype=float)


def item_recall(found: Sequence[Sequence], exact: Sequence[Sequence]) -> float:
    """Mean over queries of |found items ∩ exact items| / |exact items|."""
    shares = item_recalls(found, exact)
    return float(shares.mean()) if len(shares) else 1.0


def lower_bound(shares: np.ndarray) -> float:
    """The mean less two standard errors: what a tuned nprobe must lift over the target, so that other
    queries (the bench's evaluation users, a workspace's real users) reach it too."""
    if len(shares) < 2:
        return float(shares.mean()) if len(shares) else 1.0
    return float(shares.mean() - 2 * shares.std(ddof=1) / np.sqrt(len(shares)))


def recalls_at(index, entry_items, max_personas, queries, exact, seen, k: int, nprobe: int | None) -> np.ndarray:
    """Per-query item recall@k of `retrieve` at one nprobe against the exact answers (one list per query)."""
    found = [
        [h.item_id for h in retrieve(index, entry_items, max_personas, q, k, exclude=s, nprobe=nprobe)]
        for q, s in zip(queries, seen)
    ]
    return item_recalls(found, exact)


def tune_nprobe(
    index, entry_items, max_personas, queries, exact, seen, k: int, target: float = TARGET_RECALL
) -> int | None:
    """The smallest power-of-two nprobe whose recall@k, less two standard errors, reaches target (every
    cell at worst); None for an exact index."""
    ivf = inverted_file(index)
    if ivf is None:
        return None
    nprobe = 1
    while nprobe < ivf.nlist:
        if lower_bound(recalls_at(index, entry_items, max_personas, queries, exact, seen, k, nprobe)) >= target:
            break
        nprobe *= 2
    return min(nprobe, ivf.nlist)


def exact_items(vectors: np.ndarray, entry_items, max_personas: int, queries: np.ndarray, k: int) -> list[list]:
    """The exact top-k items of each query by exhaustive search (FAISS's knn, no index built)."""
    import faiss

    want = min(len(vectors), k * max(1, max_personas))
    scores, rows = faiss.knn(np.ascontiguousarray(queries, dtype=np.float32), vectors, want, faiss.METRIC_INNER_PRODUCT)
    return [[h.item_id for h in collapse_to_items(s, r, entry_items, set(), k)] for s, r in zip(scores, rows)]


def pseudo_users(vectors: np.ndarray, n: int = 200, history: int = 10, seed: int = 0) -> np.ndarray:
    """Stand-ins for user vectors when tuning at build time (no users at hand): the normalised mean of
    `history` random persona vectors, as a user vector is a decayed mean of the items it interacted with."""
    rng = np.random.default_rng(seed)
    users = vectors[rng.integers(0, len(vectors), size=(n, history))].mean(axis=1)
    return (users / np.linalg.norm(users, axis=1, keepdims=True)).astype(np.float32)


def build_hnsw(vectors: np.ndarray, m: int = 32, ef_construction: int = 80, ef_search: int = 64):
    """An HNSW graph over the vectors with inner-product metric (the alternative to IVF; see hnsw_recall)."""
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
