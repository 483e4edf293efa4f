"""Popularity: every user gets the most-interacted items of the train split (a sanity floor)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch

from .interactions import Interactions
from .ranking import Factors
from .training import FitResult, validation_ndcg


@dataclass
class PopularityConfig:
    eval_k: int = 20


def train_popularity(data: Interactions, config: PopularityConfig, progress: bool = False) -> tuple[Factors, FitResult]:
    """Factors of dimension 1: every user a 1, every item its train count (exact in float32 below 2^24)."""
    start = time.perf_counter()
    counts = torch.as_tensor(data.train_item_counts(), dtype=torch.float32).unsqueeze(1)
    factors = Factors(users=torch.ones(data.n_users, 1), items=counts)
    ndcg = validation_ndcg(factors, data, config.eval_k)
    return factors, FitResult(
        best_epoch=0, epochs_run=0, train_seconds=time.perf_counter() - start, best_valid_ndcg=ndcg
    )
