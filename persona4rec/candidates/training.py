"""The training loop shared by BPR-MF and LightGCN: BPR triples, Adam, early stopping on validation NDCG.

Each epoch draws one negative per train interaction (uniform over the items that user has not seen in
train), walks the triples in shuffled mini-batches, then ranks the whole catalogue for the validation
users and computes NDCG@`eval_k`. The best epoch's weights are kept; training stops after `patience`
epochs without improvement. Everything random comes from one seed, so CPU runs are repeatable.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from ..metrics import mean_ndcg
from .interactions import Interactions
from .ranking import Factors, split_ranks


@dataclass
class FitResult:
    best_epoch: int
    epochs_run: int
    train_seconds: float
    best_valid_ndcg: float
    history: list[dict] = field(default_factory=list)  # per epoch: epoch, loss, valid_ndcg


def seed_everything(seed: int) -> np.random.Generator:
    torch.manual_seed(seed)
    return np.random.default_rng(seed)


def sample_negatives(data: Interactions, rng: np.random.Generator) -> np.ndarray:
    """One item per train interaction that the user did not interact with in train."""
    n_items = data.n_items
    seen_codes = np.unique(data.train_users * n_items + data.train_items)
    negatives = rng.integers(0, n_items, size=len(data.train_users))
    clash = np.isin(data.train_users * n_items + negatives, seen_codes)
    for _ in range(100):  # re-draw only the clashes; with sparse data a few rounds suffice
        if not clash.any():
            break
        negatives[clash] = rng.integers(0, n_items, size=int(clash.sum()))
        clash = np.isin(data.train_users * n_items + negatives, seen_codes)
    return negatives


def validation_ndcg(factors: Factors, data: Interactions, k: int) -> float:
    """NDCG@k of the valid targets ranked over the whole catalogue minus each user's train items."""
    rows = np.flatnonzero(data.valid_target >= 0)
    ranks = split_ranks(factors, rows, data.valid_target[rows], data.seen_index("valid"))
    return mean_ndcg(ranks, k)


def fit_bpr(
    model: torch.nn.Module,
    batch_loss: Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor],
    factors: Callable[[], Factors],
    data: Interactions,
    config,
    *,
    rng: np.random.Generator,
    progress: bool = False,
    desc: str = "train",
) -> FitResult:
    """Train `model` with `batch_loss(users, pos, neg)`; keep the weights of the best validation epoch.

    `factors()` returns the current (user, item) factor matrices for the validation ranking; `config` is the
    generator's (its lr, epochs, batch_size, patience and eval_k are read here)."""
    from tqdm.auto import tqdm

    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    best = FitResult(best_epoch=0, epochs_run=0, train_seconds=0.0, best_valid_ndcg=-1.0)
    best_state = copy.deepcopy(model.state_dict())
    users_all = torch.from_numpy(np.array(data.train_users))
    items_all = torch.from_numpy(np.array(data.train_items))
    start = time.perf_counter()
    bar = tqdm(range(1, config.epochs + 1), desc=desc, disable=not progress, unit="epoch")
    for epoch in bar:
        model.train()
        negatives = torch.as_tensor(sample_negatives(data, rng))
        order = torch.as_tensor(rng.permutation(len(users_all)))
        total = 0.0
        for begin in range(0, len(order), config.batch_size):
            idx = order[begin : begin + config.batch_size]
            loss = batch_loss(users_all[idx], items_all[idx], negatives[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * len(idx)
        model.eval()
        with torch.no_grad():
            ndcg = validation_ndcg(factors(), data, config.eval_k)
        best.history.append({"epoch": epoch, "loss": total / len(order), "valid_ndcg": ndcg})
        best.epochs_run = epoch
        bar.set_postfix(loss=f"{total / len(order):.4f}", ndcg=f"{ndcg:.4f}", best=best.best_epoch)
        if ndcg > best.best_valid_ndcg:
            best.best_valid_ndcg, best.best_epoch = ndcg, epoch
            best_state = copy.deepcopy(model.state_dict())
        elif epoch - best.best_epoch >= config.patience:
            break
    bar.close()
    model.load_state_dict(best_state)
    best.train_seconds = time.perf_counter() - start
    return best
