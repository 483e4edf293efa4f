"""Ranking the whole catalogue for many users, in chunks, with seen items excluded.

Every generator ends as two factor matrices, users (U x d) and items (I x d), with score = dot product
(popularity is d = 1: a column of ones against the train counts). Scores are computed for a block of
users at a time (about 16M floats per block), so memory stays flat however large U x I is.

Seen items get -inf before ranking, so they can never be returned. Ties are broken by item number:
torch.topk on CPU is not guaranteed stable, so we sort (score desc, item asc) explicitly and runs stay
byte-identical.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

BLOCK_FLOATS = 1 << 24


@dataclass
class Factors:
    users: torch.Tensor  # (U x d)
    items: torch.Tensor  # (I x d)

    def scores(self, rows: np.ndarray) -> torch.Tensor:
        return self.users[torch.from_numpy(np.asarray(rows, dtype=np.int64))] @ self.items.T


class SeenIndex:
    """The (user, item) pairs to exclude, grouped by user (CSR) so a block of users finds theirs fast."""

    def __init__(self, users: np.ndarray, items: np.ndarray, n_users: int):
        order = np.argsort(users, kind="stable")
        self.items = np.asarray(items)[order]
        self.indptr = np.concatenate([[0], np.cumsum(np.bincount(users, minlength=n_users))])

    def pairs(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(position of the user within `rows`, item) for every seen pair of those users."""
        starts, ends = self.indptr[rows], self.indptr[rows + 1]
        lengths = ends - starts
        local = np.repeat(np.arange(len(rows)), lengths)
        offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        return local, self.items[np.repeat(starts, lengths) + offsets]


def masked_blocks(factors: Factors, rows: np.ndarray, seen: SeenIndex) -> Iterator[tuple[np.ndarray, torch.Tensor]]:
    """(block of user numbers, their scores with seen items at -inf), block by block."""
    step = max(1, BLOCK_FLOATS // max(1, factors.items.shape[0]))
    for begin in range(0, len(rows), step):
        block = rows[begin : begin + step]
        scores = factors.scores(block)
        local, items = seen.pairs(block)
        scores[torch.from_numpy(local), torch.from_numpy(items)] = -math.inf
        yield block, scores


def top_k(scores: torch.Tensor, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(items, scores), each (rows x k'), k' = min(k, items); -inf entries are left for the caller to drop."""
    k = min(k, scores.shape[1])
    # A stable sort of -score keeps lower item numbers first among ties.
    order = torch.argsort(-scores, dim=1, stable=True)[:, :k]
    return order.numpy(), torch.gather(scores, 1, order).numpy()


def target_ranks(scores: torch.Tensor, targets: np.ndarray) -> np.ndarray:
    """1-based rank of each row's target among its (masked) scores, same tie rule as `top_k`."""
    cols = torch.from_numpy(np.asarray(targets, dtype=np.int64))
    target_scores = scores[torch.arange(len(cols)), cols].unsqueeze(1)
    item_numbers = torch.arange(scores.shape[1]).unsqueeze(0)
    ahead = (scores > target_scores) | ((scores == target_scores) & (item_numbers < cols.unsqueeze(1)))
    return ahead.sum(dim=1).numpy() + 1


def split_ranks(factors: Factors, rows: np.ndarray, targets: np.ndarray, seen: SeenIndex) -> np.ndarray:
    """Full-catalogue rank of each user's target (rows and targets aligned)."""
    out = np.zeros(len(rows), dtype=np.int64)
    done = 0
    for block, scores in masked_blocks(factors, rows, seen):
        out[done : done + len(block)] = target_ranks(scores, targets[done : done + len(block)])
        done += len(block)
    return out
