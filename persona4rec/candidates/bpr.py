"""BPR-MF (Rendle et al., 2009): user and item vectors, score = dot product, pairwise BPR loss."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .interactions import Interactions
from .ranking import Factors
from .training import FitResult, fit_bpr, seed_everything


@dataclass
class BPRConfig:
    dim: int = 64
    lr: float = 0.005
    # L2 on the vectors in each batch, per triple. 0.03 won a small grid on Musical Instruments
    # validation (lr 0.002-0.005 x reg 1e-4..0.1 x init 0.01/0.1): below 0.01 BPR-MF loses to popularity.
    reg: float = 0.03
    epochs: int = 400
    batch_size: int = 1024
    patience: int = 50  # epochs without a better validation NDCG before stopping (the curve is noisy)
    eval_k: int = 20  # validation NDCG@eval_k drives early stopping
    init_std: float = 0.1
    seed: int = 0


class BPRMF(torch.nn.Module):
    def __init__(self, n_users: int, n_items: int, dim: int, init_std: float):
        super().__init__()
        self.users = torch.nn.Embedding(n_users, dim)
        self.items = torch.nn.Embedding(n_items, dim)
        torch.nn.init.normal_(self.users.weight, std=init_std)
        torch.nn.init.normal_(self.items.weight, std=init_std)

    def batch_loss(self, users: torch.Tensor, pos: torch.Tensor, neg: torch.Tensor, reg: float) -> torch.Tensor:
        u, p, n = self.users(users), self.items(pos), self.items(neg)
        margin = (u * p).sum(-1) - (u * n).sum(-1)
        l2 = (u.pow(2).sum() + p.pow(2).sum() + n.pow(2).sum()) / len(users)
        return -torch.nn.functional.logsigmoid(margin).mean() + reg * l2

    def factors(self) -> Factors:
        return Factors(users=self.users.weight.detach(), items=self.items.weight.detach())


def train_bpr(data: Interactions, config: BPRConfig, progress: bool = False) -> tuple[Factors, FitResult]:
    """Train BPR-MF; return the factors of the best validation epoch and the fit record."""
    rng = seed_everything(config.seed)
    model = BPRMF(data.n_users, data.n_items, config.dim, config.init_std)
    fit = fit_bpr(
        model,
        lambda u, p, n: model.batch_loss(u, p, n, config.reg),
        model.factors,
        data,
        config,
        rng=rng,
        progress=progress,
        desc="BPR-MF",
    )
    return model.factors(), fit
