"""Train a generator on a workspace's split and write candidates/<generator>.parquet.

    generate_candidates(ws, "bpr", k=20, overrides={"epochs": 50}) -> CandidateRun

The stage is recorded in the manifest as "candidates:<generator>" with its config, training seconds,
best epoch, best validation NDCG@20 and the candidate recall@K for valid and test.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..config import load_config, to_dict
from ..errors import ConfigError, WorkspaceError
from ..io import write_parquet
from ..workspace import Workspace
from . import GENERATORS
from .interactions import Interactions, interactions_from_split
from .ranking import Factors, masked_blocks, top_k
from .training import FitResult

CANDIDATE_COLUMNS = ("user_id", "split", "rank", "item_id", "score")
EVAL_SPLITS = ("valid", "test")


@dataclass
class CandidateRun:
    generator: str
    path: Path
    frame: Any  # the candidate DataFrame that was written
    fit: FitResult
    recall: dict[str, float]  # split -> hit rate of the target within the top K
    config: dict[str, Any]


def config_class(generator: str):
    from .bpr import BPRConfig
    from .lightgcn import LightGCNConfig
    from .popularity import PopularityConfig

    classes = {"bpr": BPRConfig, "lightgcn": LightGCNConfig, "pop": PopularityConfig}
    if generator not in classes:
        raise ConfigError(f"unknown generator {generator!r} (choose from {', '.join(GENERATORS)})")
    return classes[generator]


def load_generator_config(generator: str, *, path: str | Path | None = None, overrides: dict[str, Any] | None = None):
    """The generator's typed config.

    Precedence: defaults < [<generator>] in a TOML file < PERSONA4REC_CANDIDATES_<GENERATOR>_* < overrides.
    """
    cls = config_class(generator)
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    unknown = sorted(set(given) - set(cls.__dataclass_fields__))
    if unknown:
        raise ConfigError(
            f"option '{unknown[0]}' does not apply to generator '{generator}' "
            f"(its options: {', '.join(cls.__dataclass_fields__)})"
        )
    return load_config(
        cls, section=generator, path=path, overrides=given, env_prefix=f"PERSONA4REC_CANDIDATES_{generator.upper()}_"
    )


@contextlib.contextmanager
def single_thread():
    """Run torch on one intra-op thread, then restore the previous setting.

    These models are tiny (a few thousand users and items): extra threads buy nothing, and on shared
    cores OpenMP's spin-waiting made a 15 s training take 330 s (Musical Instruments, 2 busy cores).
    One thread also makes results independent of the machine's core count.
    """
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def train_factors(generator: str, data: Interactions, config, progress: bool = False):
    with single_thread():
        return _train_factors(generator, data, config, progress)


def _train_factors(generator: str, data: Interactions, config, progress: bool = False):
    if generator == "bpr":
        from .bpr import train_bpr

        return train_bpr(data, config, progress)
    if generator == "lightgcn":
        from .lightgcn import train_lightgcn

        return train_lightgcn(data, config, progress)
    from .popularity import train_popularity

    return train_popularity(data, config, progress)


def candidate_frame(data: Interactions, factors: Factors, k: int):
    """Top-K unseen items per user for the valid and test splits (users with a target in that split)."""
    import pandas as pd

    parts = []
    for split in EVAL_SPLITS:
        users = np.flatnonzero(data.targets(split) >= 0)
        for block, masked in masked_blocks(factors, users, data.seen_index(split)):
            items, values = top_k(masked, k)
            width = items.shape[1]
            frame = pd.DataFrame(
                {
                    "user_id": np.repeat(data.user_ids[block], width),
                    "split": split,
                    "rank": np.tile(np.arange(1, width + 1), len(block)),
                    "item_id": data.item_ids[items.ravel()],
                    "score": values.ravel().astype(np.float32),
                }
            )
            parts.append(frame[np.isfinite(frame["score"])])  # a seen item never fills a short list
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=list(CANDIDATE_COLUMNS))
    return out.astype(
        {"user_id": "string", "split": "string", "rank": "int64", "item_id": "string", "score": "float32"}
    )


def candidate_recall(frame, data: Interactions) -> dict[str, float]:
    """Per split: share of users whose target item is among their candidates."""
    out = {}
    for split in EVAL_SPLITS:
        targets = data.targets(split)
        has = targets >= 0
        if not has.any():
            continue
        truth = set(zip(data.user_ids[has], data.item_ids[targets[has]]))
        rows = frame[frame["split"] == split]
        hits = sum((u, i) in truth for u, i in zip(rows["user_id"], rows["item_id"]))
        out[split] = hits / int(has.sum())
    return out


def read_split(ws: Workspace):
    import pandas as pd

    path = ws.data_dir / "split.parquet"
    if not path.exists():
        raise WorkspaceError(f"{ws.root}: no data/split.parquet; run `persona4rec data import ... --out {ws.root}`")
    return pd.read_parquet(path)


def generate_candidates(
    ws: Workspace,
    generator: str,
    *,
    k: int = 20,
    config_path: str | Path | None = None,
    overrides: dict[str, Any] | None = None,
    progress: bool = False,
) -> CandidateRun:
    if k < 1:
        raise ConfigError(f"option 'k': must be at least 1, got {k}")
    config = load_generator_config(generator, path=config_path, overrides=overrides)
    split_path = ws.data_dir / "split.parquet"
    data = interactions_from_split(read_split(ws), source=str(split_path))
    path = ws.candidates_dir / f"{generator}.parquet"
    with ws.stage(f"candidates:{generator}", k=k, **to_dict(config)) as info:
        factors, fit = train_factors(generator, data, config, progress)
        with single_thread():
            frame = candidate_frame(data, factors, k)
        write_parquet(path, frame)
        recall = candidate_recall(frame, data)
        info.update(
            train_seconds=round(fit.train_seconds, 3),
            best_epoch=fit.best_epoch,
            epochs_run=fit.epochs_run,
            best_valid_ndcg_at_eval_k=round(fit.best_valid_ndcg, 6),
            recall={f"{split}@{k}": round(v, 6) for split, v in recall.items()},
            counts={"users": data.n_users, "items": data.n_items, "rows": len(frame)},
            output=str(path.relative_to(ws.root)),
        )
    return CandidateRun(generator=generator, path=path, frame=frame, fit=fit, recall=recall, config=to_dict(config))


def load_candidates(ws: Workspace, generator: str, split: str | None = None):
    """candidates/<generator>.parquet (optionally one split), sorted by user and rank."""
    import pandas as pd

    path = ws.candidates_dir / f"{generator}.parquet"
    if not path.exists():
        raise WorkspaceError(
            f"{ws.root}: no {path.relative_to(ws.root)}; "
            f"run `persona4rec candidates {ws.root} --generator {generator}` first"
        )
    frame = pd.read_parquet(path)
    if split is not None:
        frame = frame[frame["split"] == split]
    return frame.sort_values(["user_id", "rank"], kind="stable").reset_index(drop=True)


def candidate_lists(
    ws: Workspace, generator: str, split: str = "test"
) -> tuple[list[str], list[list[str]], list[list[float]]]:
    """(users, candidate lists in CF order, CF scores) of a generator's `split` candidates, users sorted."""
    return lists_by_user(load_candidates(ws, generator, split))


def lists_by_user(frame, split: str | None = None) -> tuple[list[str], list[list[str]], list[list[float]]]:
    """(users sorted, their candidate lists in rank order, CF scores) of a candidates frame (CANDIDATE_COLUMNS),
    of one split when `split` is given (a frame that mixes splits must be given one)."""
    if split is not None:
        frame = frame[frame["split"] == split]
    frame = frame.sort_values(["user_id", "rank"], kind="stable")
    users, lists, scores = [], [], []
    for user, group in frame.groupby("user_id", sort=True):
        users.append(str(user))
        lists.append(group["item_id"].astype(str).tolist())
        scores.append(group["score"].astype(float).tolist())
    return users, lists, scores
