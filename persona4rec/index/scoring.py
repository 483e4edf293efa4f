"""Max-over-personas scoring of candidate sets, vectorised with numpy.

The index rows are laid out once as a padded tensor items x max_personas x d with a mask, so scoring a
batch of users against their candidates is one gather and one batched matrix product:

    sims[u, c, p] = <e_u, e_{persona p of candidate c}>     (masked to -inf where p is padding)
    score[u, c]   = max_p sims[u, c, p],   winner[u, c] = argmax_p

An extra all-masked row at the end stands for unknown items (and for padding of short candidate lists),
so they score -inf without a branch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# Users per gather: keeps the gathered block (chunk x C x P x d floats) within L2 cache (measured best at 4-8).
USER_CHUNK = 8


@dataclass
class Scores:
    score: np.ndarray  # (U, C) float32, best persona similarity (-inf for unknown/padding)
    winner: np.ndarray  # (U, C) int64, index-row of the winning persona (-1 when none)
    sims: np.ndarray  # (U, C, P) float32, all persona similarities (-inf on padding)
    entry_rows: np.ndarray  # (U, C, P) int64, index-row of each persona slot (-1 on padding)


class PaddedPersonaTable:
    def __init__(self, item_ids: list[str], tensor: np.ndarray, mask: np.ndarray, entry_rows: np.ndarray):
        self.item_ids = item_ids
        self.item_row = {item: n for n, item in enumerate(item_ids)}
        self.tensor, self.mask, self.entry_rows = tensor, mask, entry_rows
        self.unknown_row = len(item_ids)  # the all-masked sentinel row

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
        dim = vectors.shape[1]
        tensor = np.zeros((len(item_ids) + 1, width, dim), dtype=np.float32)
        mask = np.zeros((len(item_ids) + 1, width), dtype=bool)
        entry_rows = np.full((len(item_ids) + 1, width), -1, dtype=np.int64)
        for n, item in enumerate(item_ids):
            rows = slots[item]
            tensor[n, : len(rows)] = vectors[rows]
            mask[n, : len(rows)] = True
            entry_rows[n, : len(rows)] = rows
        return cls(item_ids, tensor, mask, entry_rows)

    @property
    def max_personas(self) -> int:
        return self.tensor.shape[1]

    def rows_for(self, candidate_lists: Sequence[Sequence[str]]) -> np.ndarray:
        """(U, C) table rows for candidate lists (C = the longest list; short lists padded as unknown)."""
        width = max((len(c) for c in candidate_lists), default=0)
        out = np.full((len(candidate_lists), width), self.unknown_row, dtype=np.int64)
        get, unknown = self.item_row.get, self.unknown_row
        for u, cands in enumerate(candidate_lists):
            out[u, : len(cands)] = [get(item, unknown) for item in cands]
        return out

    def score(self, user_vectors: np.ndarray, rows: np.ndarray) -> Scores:
        """Scores of users (U, d) against candidate table rows (U, C)."""
        n_users, n_cands = rows.shape
        width = self.max_personas
        sims = np.empty((n_users, n_cands, width), dtype=np.float32)
        for start in range(0, n_users, USER_CHUNK):
            stop = min(start + USER_CHUNK, n_users)
            block = self.tensor[rows[start:stop]].reshape(stop - start, n_cands * width, -1)
            sims[start:stop] = np.matmul(block, user_vectors[start:stop, :, None]).reshape(stop - start, n_cands, width)
        np.copyto(sims, -np.inf, where=~self.mask[rows])
        best_slot = sims.argmax(axis=2)
        score = np.take_along_axis(sims, best_slot[..., None], axis=2)[..., 0]
        entry_rows = self.entry_rows[rows]
        winner = np.take_along_axis(entry_rows, best_slot[..., None], axis=2)[..., 0]
        return Scores(score=score, winner=winner, sims=sims, entry_rows=entry_rows)

    def score_one(self, user_vector: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Single request fast path: (best score, winning slot) per candidate for one user (rows: (C,))."""
        sims = self.tensor[rows] @ user_vector  # (C, P)
        sims[~self.mask[rows]] = -np.inf
        slot = sims.argmax(axis=1)
        return sims[np.arange(len(rows)), slot], slot
