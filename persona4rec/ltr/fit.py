"""Fitting the learned ranker on the VALID split: one query per user, the held-out target is the only
positive, NDCG@10 by user-level k-fold picks the configuration, then a refit on every valid user.

Inputs: X (U, C, len(FEATURES)) holding every FEATURES column in FEATURES order (each config selects
its own columns), lengths (U,) real list lengths, target_positions (U,) the target's position in the
list or -1 when the first stage missed it. Users without the target carry no ranking signal and are
left out of training, but they count as 0 in NDCG, as in the leave-one-out evaluation, so scores match
the benchmark's.

Configs that differ only in n_estimators share one fit per fold: the booster is grown to the largest
value and each config scores with its own first n trees, exactly what a shorter fit would give.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from ..errors import ConfigError
from ..metrics import mean_ndcg
from .features import FEATURES, feature_index, valid_mask
from .model import LearnedRanker, LearnedRankerConfig

NDCG_K = 10


def ndcg_at_10(scores: np.ndarray, lengths: np.ndarray, target_positions: np.ndarray) -> float:
    """Mean NDCG@10 of the targets' ranks when each list is ordered by `scores` (0 for a target not in the
    list); ties go to the earlier list position, as a stable sort would order them."""
    scores = np.asarray(scores, dtype=np.float64)
    targets = np.asarray(target_positions, dtype=np.int64)
    if len(targets) == 0:
        return 0.0
    valid = valid_mask(lengths, scores.shape[1])
    has = (targets >= 0) & (targets < np.asarray(lengths))
    at = np.where(has, targets, 0)
    target_score = np.take_along_axis(scores, at[:, None], axis=1)
    before = np.arange(scores.shape[1])[None, :] < at[:, None]
    ahead = valid & ((scores > target_score) | ((scores == target_score) & before))
    rank = ahead.sum(axis=1) + 1
    return mean_ndcg(np.where(has, rank, 0), NDCG_K)


def fit_ranker(
    X: np.ndarray, lengths: np.ndarray, target_positions: np.ndarray, config: LearnedRankerConfig | None = None
) -> LearnedRanker:
    """Fit one ranker on every user whose target is in their list (label 1 there, 0 elsewhere)."""
    import lightgbm as lgb

    config = (config or LearnedRankerConfig()).validate()
    X, lengths, targets = _checked(X, lengths, target_positions)
    rows, labels, groups = training_rows(X, lengths, targets)
    started = time.perf_counter()
    data = lgb.Dataset(
        rows[:, feature_index(config.features)],
        label=labels,
        group=groups,
        feature_name=list(config.features),
        params={"verbosity": -1},
        free_raw_data=True,
    )
    booster = lgb.train(config.lightgbm_params(), data, num_boost_round=config.n_estimators)
    summary = {
        "users": int(len(lengths)),
        "training_users": int(len(groups)),
        "rows": int(len(labels)),
        "candidates": int(X.shape[1]),
        "fit_seconds": round(time.perf_counter() - started, 3),
        "lightgbm": lgb.__version__,
    }
    return LearnedRanker(booster, config, summary)


def training_rows(X: np.ndarray, lengths: np.ndarray, targets: np.ndarray):
    """(rows (N, F), labels (N,), group sizes) over the real positions of users whose target is listed."""
    keep = targets >= 0
    if not keep.any():
        raise ConfigError("no user has the target in their candidate list: nothing to learn a ranking from")
    valid = valid_mask(lengths[keep], X.shape[1])
    is_target = np.arange(X.shape[1])[None, :] == targets[keep][:, None]
    return X[keep][valid], is_target[valid].astype(np.float32), lengths[keep]


def _checked(X, lengths, target_positions):
    X = np.asarray(X, dtype=np.float32)
    lengths = np.asarray(lengths, dtype=np.int64)
    targets = np.asarray(target_positions, dtype=np.int64)
    if X.ndim != 3 or X.shape[2] != len(FEATURES):
        raise ValueError(f"X must be (users, candidates, {len(FEATURES)}) with every FEATURES column, got {X.shape}")
    if lengths.shape != (X.shape[0],) or targets.shape != (X.shape[0],):
        raise ValueError(f"lengths {lengths.shape} and target_positions {targets.shape} must be ({X.shape[0]},)")
    if len(lengths) and (lengths.min() < 0 or lengths.max() > X.shape[1]):
        raise ValueError(f"lengths must lie in [0, {X.shape[1]}]")
    if ((targets >= lengths) | (targets < -1)).any():
        raise ValueError("target_positions must be -1 (not in the list) or a real position < lengths")
    return X, lengths, targets


# -- model selection ---------------------------------------------------------------------------------


def default_grid(features: Sequence[str] = FEATURES, threads: int = 1) -> list[LearnedRankerConfig]:
    """16 configs; the two n_estimators values share fits, so 8 fits per fold."""
    grid = itertools.product((7, 15), (100, 300), (0.03, 0.1), (10, 40))
    return [
        LearnedRankerConfig(
            num_leaves=leaves,
            n_estimators=trees,
            learning_rate=rate,
            min_child_samples=child,
            features=tuple(features),
            threads=threads,
        )
        for leaves, trees, rate, child in grid
    ]


def user_folds(n_users: int, folds: int, seed: int) -> np.ndarray:
    """(U,) fold of each user: a seeded shuffle dealt round-robin, so folds differ in size by at most 1."""
    if not 2 <= folds <= n_users:
        raise ConfigError(f"folds must be between 2 and the number of users ({n_users}), got {folds}")
    out = np.empty(n_users, dtype=np.int64)
    out[np.random.default_rng(seed).permutation(n_users)] = np.arange(n_users) % folds
    return out


def cross_validate(
    X: np.ndarray,
    lengths: np.ndarray,
    target_positions: np.ndarray,
    configs: Sequence[LearnedRankerConfig],
    folds: int = 5,
    seed: int = 0,
) -> dict[str, Any]:
    """User-level k-fold NDCG@10 of each config (same folds for all, so comparisons are paired).
    Returns {"best": index, "results": [{"config", "ndcg@10", "folds"}], "cf_order_ndcg@10", ...};
    ties go to the earlier config."""
    if not configs:
        raise ConfigError("cross_validate needs at least one config")
    configs = [c.validate() for c in configs]
    X, lengths, targets = _checked(X, lengths, target_positions)
    fold_of = user_folds(len(lengths), folds, seed)
    per_fold = np.zeros((len(configs), folds))
    started = time.perf_counter()
    for fold in range(folds):
        train, test = fold_of != fold, fold_of == fold
        for members in _shared_fits(configs):
            grown = max((configs[i] for i in members), key=lambda c: c.n_estimators)
            booster = fit_ranker(X[train], lengths[train], targets[train], grown).booster
            for i in members:
                scores = LearnedRanker(booster, configs[i]).predict(X[test], lengths[test])
                per_fold[i, fold] = ndcg_at_10(scores, lengths[test], targets[test])
    means = per_fold.mean(axis=1)
    cf_order = -np.broadcast_to(np.arange(X.shape[1], dtype=np.float64), lengths.shape + (X.shape[1],))
    return {
        "best": int(np.argmax(means)),
        "results": [
            {"config": c.to_dict(), "ndcg@10": float(m), "folds": [float(v) for v in row]}
            for c, m, row in zip(configs, means, per_fold)
        ],
        "cf_order_ndcg@10": ndcg_at_10(cf_order, lengths, targets),
        "folds": folds,
        "seed": seed,
        "users": int(len(lengths)),
        "users_with_target": int((targets >= 0).sum()),
        "seconds": round(time.perf_counter() - started, 3),
    }


def _shared_fits(configs: Sequence[LearnedRankerConfig]) -> list[list[int]]:
    """Indices of configs grouped by everything but n_estimators (one booster serves each group)."""
    groups: dict[str, list[int]] = {}
    for i, config in enumerate(configs):
        groups.setdefault(repr(replace(config, n_estimators=1)), []).append(i)
    return list(groups.values())


def tune_and_fit(
    X: np.ndarray,
    lengths: np.ndarray,
    target_positions: np.ndarray,
    grid: Sequence[LearnedRankerConfig] | None = None,
    folds: int = 5,
    seed: int = 0,
) -> tuple[LearnedRanker, dict[str, Any]]:
    """Pick the config with the best cross-validated NDCG@10, refit it on every given user; the CV
    report is returned and kept in the ranker's summary (so it is saved in ranker.json)."""
    grid = list(grid) if grid is not None else default_grid()
    report = cross_validate(X, lengths, target_positions, grid, folds=folds, seed=seed)
    ranker = fit_ranker(X, lengths, target_positions, grid[report["best"]])
    report["chosen"] = grid[report["best"]].to_dict()
    ranker.summary["tuning"] = report
    return ranker, report
