"""Top-K over the whole catalogue with seen items excluded, and the full-ranking validation metric.

Scores come as a (users x items) float tensor. Seen items are set to -inf before the top-K, so they can
never be returned; ties are broken by item number (torch.topk on CPU is not guaranteed stable, so we
sort by (score desc, item asc) explicitly to keep runs byte-identical).
"""

from __future__ import annotations

import math

import numpy as np
import torch


def mask_seen(scores: torch.Tensor, seen_users: np.ndarray, seen_items: np.ndarray) -> torch.Tensor:
    masked = scores.clone()
    masked[torch.from_numpy(np.array(seen_users)), torch.from_numpy(np.array(seen_items))] = -math.inf
    return masked


def top_k(scores: torch.Tensor, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(items, scores), each (users x k'), k' = min(k, items); -inf entries are left for the caller to drop."""
    k = min(k, scores.shape[1])
    # Stable order: argsort of -score with a stable sort keeps lower item numbers first among ties.
    order = torch.argsort(-scores, dim=1, stable=True)[:, :k]
    return order.numpy(), torch.gather(scores, 1, order).numpy()


def target_ranks(scores: torch.Tensor, targets: np.ndarray) -> np.ndarray:
    """1-based rank of each user's target among the (already masked) scores; 0 where there is no target.

    A target ranks below every item with a strictly higher score and below equal-scored items with a
    lower item number (the same tie rule as `top_k`).
    """
    ranks = np.zeros(len(targets), dtype=np.int64)
    has = targets >= 0
    if not has.any():
        return ranks
    rows = torch.as_tensor(np.flatnonzero(has))
    cols = torch.as_tensor(targets[has])
    sub = scores[rows]
    target_scores = sub[torch.arange(len(rows)), cols].unsqueeze(1)
    item_numbers = torch.arange(scores.shape[1]).unsqueeze(0)
    ahead = (sub > target_scores) | ((sub == target_scores) & (item_numbers < cols.unsqueeze(1)))
    ranks[has] = ahead.sum(dim=1).numpy() + 1
    return ranks


def ndcg_and_recall(ranks: np.ndarray, k: int) -> tuple[float, float]:
    """Mean NDCG@k (1/log2(rank+1)) and recall@k (hit rate) over users with a target (rank > 0)."""
    ranks = ranks[ranks > 0]
    if len(ranks) == 0:
        return 0.0, 0.0
    hit = ranks <= k
    ndcg = np.where(hit, 1.0 / np.log2(ranks + 1.0), 0.0)
    return float(ndcg.mean()), float(hit.mean())
