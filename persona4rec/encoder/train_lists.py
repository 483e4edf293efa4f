"""First-stage lists at TRAINING positions, for the adapter's fused listwise objective.

The candidate files hold lists for the VALID and TEST targets only. Training the encoder on the score it is
served with (CF fused with persona similarity, over the user's own first-stage list) needs the list the
generator would have given at a training position, from a model that never saw that interaction or any
later one of that user. Level k (1, 2, ...) replays the split protocol k steps back in each user's time:

    train items t_1 .. t_n:   train' = t_1 .. t_{n-2k}    valid' = t_{n-2k+1}    test' = t_{n-2k+2}

The real VALID and TEST items and every train item after test' are left out of that split entirely, so
neither the retrained generator nor the lists ever see them. The generator is retrained on train' with
the workspace's own config (early-stopped on valid', as the real one is on VALID), and its top-K lists for
valid' and test' are the training lists; their histories are the train interactions before each target.
A user needs at least 2k + 1 train items to take part in level k.

Each (generator, level) is written to candidates/training/<generator>-<level>.parquet with a manifest stage
`training-lists:<generator>:<level>` that records the generator config and a fingerprint of the split, and
is reused while both match (a retrained generator or a new split recomputes it).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError, WorkspaceError
from ..workspace import Workspace
from .timeline import Timelines

log = logging.getLogger(__name__)

TRAINING_LISTS_DIR = "training"  # under ws.candidates_dir
LIST_SPLITS = ("valid", "test")  # valid' and test' of a shifted split


def shifted_split(timelines: Timelines, level: int):
    """(user_id, item_id, split) of the level-`level` replay: train', valid', test' per user (module notes).
    Users with fewer than 2*level + 1 train items are left out."""
    import pandas as pd

    if level < 1:
        raise ConfigError(f"training-list level must be >= 1, got {level}")
    rows = []
    for user, line in timelines.by_user.items():
        train = [i for i, s in zip(line.items, line.splits) if s == "train"]
        cut = len(train) - 2 * level
        if cut < 1:
            continue
        rows.extend((user, item, "train") for item in train[:cut])
        rows.append((user, train[cut], "valid"))
        rows.append((user, train[cut + 1], "test"))
    return pd.DataFrame(rows, columns=["user_id", "item_id", "split"])


def _fingerprint(ws: Workspace) -> str:
    path = ws.data_dir / "split.parquet"
    if not path.exists():
        raise WorkspaceError(f"{ws.root}: no data/split.parquet to build training lists from")
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def _generator_config(ws: Workspace, generator: str) -> dict:
    info = ws.stage_info(f"candidates:{generator}")
    if not info or info.get("status") != "done":
        raise WorkspaceError(
            f"{ws.root}: no candidates for {generator}; run `persona4rec candidates {ws.root} --generator {generator}`"
        )
    return dict(info.get("config", {}))


def training_list_frame(ws: Workspace, generator: str, level: int, timelines: Timelines | None = None):
    """The level's training lists of `generator` (CANDIDATE_COLUMNS, splits valid'/test'), cached on disk."""
    import pandas as pd

    from ..candidates.generate import (
        candidate_frame,
        load_generator_config,
        single_thread,
        train_factors,
    )
    from ..candidates.interactions import interactions_from_split
    from ..io import write_parquet

    config = _generator_config(ws, generator)
    k = int(config.get("k", 20))
    stage = f"training-lists:{generator}:{level}"
    record = {"generator": config, "level": level, "split": _fingerprint(ws)}
    path = ws.candidates_dir / TRAINING_LISTS_DIR / f"{generator}-{level}.parquet"
    info = ws.stage_info(stage)
    if path.exists() and info and info.get("status") == "done" and info.get("config") == record:
        return pd.read_parquet(path)
    split = shifted_split(timelines or Timelines.from_workspace(ws), level)
    if split.empty:
        return pd.DataFrame(columns=["user_id", "split", "rank", "item_id", "score"])
    data = interactions_from_split(split, source=f"{stage} (shifted split)")
    overrides = {key: value for key, value in config.items() if key != "k"}
    with ws.stage(stage, **record) as out:
        factors, fit = train_factors(generator, data, load_generator_config(generator, overrides=overrides))
        with single_thread():
            frame = candidate_frame(data, factors, k)
        write_parquet(path, frame)
        out.update(
            train_seconds=round(fit.train_seconds, 3),
            best_epoch=fit.best_epoch,
            counts={"users": int(data.n_users), "rows": len(frame)},
        )
    log.info("training lists %s level %d: %d users, %.1f s", generator, level, data.n_users, fit.train_seconds)
    return frame


@dataclass
class TrainingLists:
    """Lists at training positions whose target is in the list, as arrays (padded to the widest list)."""

    histories: np.ndarray  # (T, L) interaction rows, right-aligned, padded with the pad row
    candidates: np.ndarray  # (T, C) item indexes, `unknown` on padding
    cf: np.ndarray  # (T, C) the list's CF scores min-max scaled to [0, 1], 0 on padding
    target: np.ndarray  # (T,) position of the target in the list
    counts: dict  # per generator and level: lists, and how many held their target
    users: list[str]  # (T,) whose list it is
    target_items: list[str]  # (T,) the item chosen there (always one of that user's TRAIN items)

    def __len__(self) -> int:
        return len(self.target)


def minmax(scores: Sequence[float]) -> np.ndarray:
    """One list's CF scores scaled to [0, 1] by the fused serving score's own scaling (ltr.features'
    normalised_cf: 1.0 when all are equal)."""
    from ..ltr.features import normalised_cf

    values = np.asarray(scores, dtype=np.float64)[None, :]
    if not values.size:  # min-max of nothing (numpy's min has no identity to return)
        return np.zeros(0, dtype=np.float32)
    return normalised_cf(values, np.ones(values.shape, dtype=bool))[0]


def build_training_lists(
    ws: Workspace,
    generators: Sequence[str],
    levels: int,
    history_rows,
    item_row: dict[str, int],
    history_length: int,
    pad: int,
    timelines: Timelines,
) -> TrainingLists:
    """Every generator's lists at levels 1..`levels` (those holding their target), as arrays.

    history_rows(user, items) -> interaction rows of those (user, item) interactions (the caller's cache);
    the history of a target is the user's train items strictly before it."""
    from ..candidates.generate import lists_by_user
    from .adapter import _padded

    unknown = len(item_row)
    hist, cands, cf, where, counts, users_of, items_of = [], [], [], [], {}, [], []
    for generator in generators:
        for level in range(1, levels + 1):
            frame = training_list_frame(ws, generator, level, timelines)
            split = shifted_split(timelines, level)
            for name in LIST_SPLITS:
                targets = dict(split.loc[split["split"] == name, ["user_id", "item_id"]].itertuples(index=False))
                users, lists, scores = lists_by_user(frame, name)
                kept = 0
                for user, items, values in zip(users, lists, scores):
                    target = targets.get(user)
                    if target not in items or target not in item_row:  # no label, or a target without personas
                        continue
                    rows = history_rows(user, timelines.history_before(user, target, history_length))
                    if not rows:
                        continue
                    hist.append(_padded(rows, history_length, pad))
                    cands.append([item_row.get(i, unknown) for i in items])
                    cf.append(minmax(values))
                    where.append(items.index(target))
                    users_of.append(user)
                    items_of.append(target)
                    kept += 1
                counts[f"{generator}:{level}:{name}"] = {"lists": len(users), "with_target": kept}
    width = max((len(c) for c in cands), default=1)
    cand_array = np.full((len(cands), width), unknown, dtype=np.int64)
    cf_array = np.zeros((len(cands), width), dtype=np.float32)
    for n, (c, s) in enumerate(zip(cands, cf)):
        cand_array[n, : len(c)] = c
        cf_array[n, : len(s)] = s
    return TrainingLists(
        histories=np.stack(hist) if hist else np.zeros((0, history_length), dtype=np.int64),
        candidates=cand_array,
        cf=cf_array,
        target=np.asarray(where, dtype=np.int64),
        counts=counts,
        users=users_of,
        target_items=items_of,
    )
