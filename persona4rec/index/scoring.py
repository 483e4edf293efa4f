"""Max-over-personas scoring of candidate sets.

Each item owns up to max_personas slots over the index rows (`entry_rows`, items x max_personas, -1 on
padding). Scoring a batch of users against their candidates is one call into FAISS's
`fvec_inner_products_by_idx`, which reads each candidate persona's vector in place (no gathered copy) and
writes -inf where a slot is padding:

    sims[u, c, p] = <e_u, vectors[entry_rows[candidate c, p]]>     (-inf where p is padding)
    score[u, c]   = max_p sims[u, c, p],   winner[u, c] = entry_rows[c, argmax_p]

So a request reads just the bytes of its candidates' personas (the memory-traffic floor that
evaluation/latency.py reports) and allocates nothing of the index's size. An extra all-padding row at the
end stands for unknown items (and for padding of short candidate lists), so they score -inf without a
branch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain, repeat

import numpy as np


@dataclass
class Scores:
    score: np.ndarray  # (U, C) float32, best persona similarity (-inf for unknown/padding)
    winner: np.ndarray  # (U, C) int64, index-row of the winning persona (-1 when none)
    sims: np.ndarray  # (U, C, P) float32, all persona similarities (-inf on padding)
    entry_rows: np.ndarray  # (U, C, P) int64, index-row of each persona slot (-1 on padding)


def inner_products_by_row(queries: np.ndarray, vectors: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """out[u, j] = <queries[u], vectors[rows[u, j]]> (-inf where rows[u, j] < 0), any trailing shape of
    rows; vectors are read in place (FAISS's SIMD kernel, one call for the whole batch)."""
    import faiss

    queries = np.ascontiguousarray(queries, dtype=np.float32)
    rows = np.ascontiguousarray(rows, dtype=np.int64)
    if rows.shape[0] != len(queries) or queries.shape[1] != vectors.shape[1]:
        raise ValueError(f"rows {rows.shape} / queries {queries.shape} do not match vectors {vectors.shape}")
    out = np.empty(rows.shape, dtype=np.float32)
    per_query = rows.size // max(1, len(queries))
    ptr = faiss.swig_ptr
    dim = vectors.shape[1]
    faiss.fvec_inner_products_by_idx(ptr(out), ptr(queries), ptr(vectors), ptr(rows), dim, len(queries), per_query)
    return out


class PaddedPersonaTable:
    def __init__(self, item_ids: list[str], vectors: np.ndarray, entry_rows: np.ndarray):
        self.item_ids = item_ids
        self.item_row = {item: n for n, item in enumerate(item_ids)}
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)  # (N, d) the index rows, not copied
        self.entry_rows = entry_rows  # (items + 1, P)
        self.mask = entry_rows >= 0
        self.unknown_row = len(item_ids)  # the all-padding sentinel row
        self._tensor: np.ndarray | None = None

    @classmethod
    def build(cls, entry_items: Sequence[str], vectors: np.ndarray) -> PaddedPersonaTable:
        """From one item id per index row (rows of one item may be anywhere) and the row vectors."""
        item_ids: list[str] = []
        slots: dict[str, list[int]] = {}
        for row, item in enumerate(entry_items):
            if item not in slots:
                slots[item] = []
                item_ids.append(item)
            slots[item].append(row)
        width = max((len(r) for r in slots.values()), default=1)
        entry_rows = np.full((len(item_ids) + 1, width), -1, dtype=np.int64)
        for n, item in enumerate(item_ids):
            entry_rows[n, : len(slots[item])] = slots[item]
        return cls(item_ids, vectors, entry_rows)

    @property
    def max_personas(self) -> int:
        return self.entry_rows.shape[1]

    @property
    def dim(self) -> int:
        return self.vectors.shape[1]

    @property
    def tensor(self) -> np.ndarray:
        """The padded (items + 1, P, d) copy of the vectors, zeros on padding: built on first use, for
        callers that gather whole items (scoring itself never needs it)."""
        if self._tensor is None:
            tensor = np.zeros((*self.entry_rows.shape, self.dim), dtype=np.float32)
            tensor[self.mask] = self.vectors[self.entry_rows[self.mask]]
            self._tensor = tensor
        return self._tensor

    def padded_bytes(self) -> int:
        """Bytes a padded float32 tensor of these items would take (what scoring in place avoids)."""
        return int(self.entry_rows.size * self.dim * 4)

    def rows_for(self, candidate_lists: Sequence[Sequence[str]]) -> np.ndarray:
        """(U, C) table rows for candidate lists (C = the longest list; short lists padded as unknown)."""
        get, unknown = self.item_row.get, self.unknown_row
        if len(candidate_lists) == 1:  # the single request: no padding to fill
            cands = candidate_lists[0]
            return np.fromiter((get(item, unknown) for item in cands), np.int64, len(cands))[None, :]
        lengths = [len(c) for c in candidate_lists]
        width = max(lengths, default=0)
        if lengths.count(width) == len(lengths):  # lists of one length (a first stage's top-k): one pass
            flat = map(get, chain.from_iterable(candidate_lists), repeat(unknown))
            return np.fromiter(flat, np.int64, width * len(lengths)).reshape(len(lengths), width)
        out = np.full((len(candidate_lists), width), unknown, dtype=np.int64)
        for u, cands in enumerate(candidate_lists):
            out[u, : len(cands)] = [get(item, unknown) for item in cands]
        return out

    def score(self, user_vectors: np.ndarray, rows: np.ndarray) -> Scores:
        """Scores of users (U, d) against candidate table rows (U, C)."""
        entry_rows = self.entry_rows.take(rows, axis=0)  # (U, C, P)
        sims = inner_products_by_row(user_vectors, self.vectors, entry_rows)
        # the max is the value at the arg-max: one gather, not a second reduction over the short slot axis
        per_slot = sims.reshape(-1, sims.shape[2])
        best = per_slot.argmax(axis=1)
        score = per_slot[np.arange(len(best)), best].reshape(rows.shape)
        best_slot = best.reshape(rows.shape)
        winner = self.entry_rows[rows, best_slot]
        return Scores(score=score, winner=winner, sims=sims, entry_rows=entry_rows)

    def score_one(self, user_vector: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One user (d,) against table rows (C,): (best score, winning slot) per candidate."""
        slots = self.entry_rows.take(rows, axis=0)[None]  # (1, C, P)
        sims = inner_products_by_row(user_vector[None, :], self.vectors, slots)[0]
        return sims.max(axis=1), sims.argmax(axis=1)
