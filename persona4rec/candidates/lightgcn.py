"""LightGCN (He et al., 2020) through torch_geometric's implementation, trained with the BPR loss.

Users are graph nodes 0..U-1 and items U..U+I-1; the train interactions are undirected edges. The
final embedding is the mean of the layer-0..L propagations (torch_geometric's default alpha=1/(L+1)).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .interactions import Interactions
from .ranking import Factors
from .training import FitResult, fit_bpr, seed_everything


@dataclass
class LightGCNConfig:
    dim: int = 64
    layers: int = 3
    lr: float = 0.005
    reg: float = 1e-4  # torch_geometric's lambda_reg on the layer-0 embeddings of each batch
    epochs: int = 300
    batch_size: int = 1024
    patience: int = 50  # validation NDCG is noisy on small data (268 users): stop late, keep the best
    eval_k: int = 20
    seed: int = 0


def bipartite_edges(data: Interactions) -> torch.Tensor:
    users = torch.from_numpy(np.array(data.train_users))
    items = torch.from_numpy(np.array(data.train_items)) + data.n_users
    return torch.stack([torch.cat([users, items]), torch.cat([items, users])])


def train_lightgcn(data: Interactions, config: LightGCNConfig, progress: bool = False) -> tuple[Factors, FitResult]:
    """Train LightGCN; return the factors of the best validation epoch and the fit record."""
    from torch_geometric.nn import LightGCN

    rng = seed_everything(config.seed)
    n_users = data.n_users
    model = LightGCN(num_nodes=n_users + data.n_items, embedding_dim=config.dim, num_layers=config.layers)
    edges = bipartite_edges(data)

    def batch_loss(users: torch.Tensor, pos: torch.Tensor, neg: torch.Tensor) -> torch.Tensor:
        emb = model.get_embedding(edges)
        u, p, n = emb[users], emb[pos + n_users], emb[neg + n_users]
        node_id = torch.cat([users, pos + n_users, neg + n_users])
        return model.recommendation_loss((u * p).sum(-1), (u * n).sum(-1), node_id=node_id, lambda_reg=config.reg)

    def factors() -> Factors:
        with torch.no_grad():
            emb = model.get_embedding(edges)
        return Factors(users=emb[:n_users], items=emb[n_users:])

    fit = fit_bpr(
        model,
        batch_loss,
        factors,
        data,
        config,
        rng=rng,
        progress=progress,
        desc="LightGCN",
    )
    return factors(), fit
