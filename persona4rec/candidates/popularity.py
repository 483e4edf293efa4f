"""Popularity: every user gets the most-interacted items of the train split (a sanity floor)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch

from .interactions import Interactions
from .training import FitResult, validation_ndcg


@dataclass
class PopularityConfig:
    eval_k: int = 20


def train_popularity(data: Interactions, config: PopularityConfig,
                     progress: bool = False) -> tuple[torch.Tensor, FitResult]:
    start = time.perf_counter()
    counts = torch.as_tensor(data.train_item_counts(), dtype=torch.float32)
    scores = counts.unsqueeze(0).expand(data.n_users, -1).contiguous()
    ndcg = validation_ndcg(scores, data, config.eval_k)
    return scores, FitResult(best_epoch=0, epochs_run=0, train_seconds=time.perf_counter() - start,
                             best_valid_ndcg=ndcg)
