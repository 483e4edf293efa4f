"""Adapter training: a linear map per side over the frozen base encoder's cached embeddings.

    E_user(x)    = normalise(W_u · base(x) + b_u)      for interaction texts (the user side)
    E_persona(p) = normalise(W_p · base(p) + b_p)      for persona texts (the item side)

The base model never runs during training: interaction and persona vectors come from the vanilla
slot's caches (index/interactions.npy and the vanilla multi index), so every usable alignment pair and
many epochs cost seconds on a CPU, and the hyperparameters can be searched on VALID.

The loss is InfoNCE over, per pair, the aligned persona (the positive) against
    in-batch negatives      the other pairs' aligned personas (same item masked out),
    rank-aware negatives    `cf_negatives` items of the user's own first-stage list, each scored by its
                            best persona (max over personas, as the reranker scores it): the items the
                            reranker must actually separate,
    item negatives          the target item's non-aligned personas (they sharpen the explanation).
The user bias b_u gives every persona a learned offset <b_u, E_persona(p)>, so the encoder can learn
how often a kind of persona is chosen; W_u^T W_p is a full bilinear form between history and personas.

Objectives (`objective`):
    "infonce"        the loss above, on the alignment pairs (the default)
    "fused"          a listwise softmax over the user's own first-stage list at TRAINING positions, each
                     candidate's logit the fused serving score  (s_i + c * cf_i) / temperature, s_i its best
                     persona similarity, cf_i the list's min-max CF score, c >= 0 (learned unless
                     learn_fused_cf is off; serving's fusion weight w corresponds to c / (1 + c)); the
                     target is the item the user chose. The gradient moves the persona side only where the
                     CF term alone does not already rank the target first. The lists come from generators
                     retrained without those positions (encoder/train_lists.py: no VALID or TEST item and
                     no later train item of the user is ever seen).
    "infonce+fused"  both, the listwise term weighted by `fused_weight`.

Early stopping and the epoch kept are chosen by NDCG@10 of reranking the VALID candidate lists (the
test split is never read): by the persona score alone (`stop_on="paper"`) or by the fused score at the
best fusion weight of the tuning grid (`stop_on="fused"`). The saved model is the base model plus a
sentence-transformers Router with one Dense + Normalize per side, so `load_encoder(ws.encoder_dir)`
loads it and `encode(..., role=...)` picks the side.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from ..data.schema import review_key
from ..data.split import HISTORY_LENGTH
from ..embedding import decay_weights, decayed_sum
from ..errors import ConfigError, WorkspaceError
from ..metrics import mean_ndcg
from ..offline.records import load_alignment
from ..offline.schema import persona_key
from ..workspace import Workspace

if TYPE_CHECKING:
    from .train_lists import TrainingLists


OBJECTIVES = ("infonce", "fused", "infonce+fused")
STOP_ON = ("paper", "fused")
# The fusion weights early stopping tries with stop_on="fused": the serving tuner's grid
# (evaluation.tuning.FUSION_WEIGHTS, a higher layer), 0.0 to 1.0 by 0.1.
STOP_FUSION_WEIGHTS = tuple(round(0.1 * n, 1) for n in range(11))


@dataclass
class AdapterConfig:
    epochs: int = 60
    batch_size: int = 256
    lr: float = 1e-3
    temperature: float = 0.1
    weight_decay: float = 1e-2  # pulls W towards the identity it starts from (not towards 0)
    cf_negatives: int = 40  # items of the user's own first-stage lists per pair (0 = off)
    item_negatives: bool = True  # the target item's non-aligned personas
    symmetric: bool = False  # one map for both sides (a learned metric) instead of two
    positive: str = "aligned"  # "aligned": the judge's persona; "item": the target's best persona
    patience: int = 10  # epochs without a better VALID NDCG@10 before stopping
    gamma: float = 0.9
    history_length: int = HISTORY_LENGTH
    generators: tuple[str, ...] = ()  # candidate files for the rank-aware negatives; () = all present
    objective: str = "infonce"  # "infonce" | "fused" | "infonce+fused" (module notes)
    fused_weight: float = 1.0  # weight of the fused listwise term beside InfoNCE ("infonce+fused")
    fused_cf: float = 1.0  # the CF term's (starting) weight c in the fused logit s + c * cf
    learn_fused_cf: bool = True
    list_levels: int = 3  # training-list levels 1..k (encoder/train_lists.py)
    stop_on: str = "paper"  # VALID NDCG@10 that early-stops: "paper" or "fused" (module notes)
    seed: int = 13

    def check(self) -> AdapterConfig:
        if self.epochs < 1 or self.batch_size < 2:
            raise ConfigError("adapter training needs epochs >= 1 and batch size >= 2")
        if self.temperature <= 0 or self.lr <= 0:
            raise ConfigError("adapter training needs a positive temperature and learning rate")
        if self.positive not in ("aligned", "item"):
            raise ConfigError(f"positive must be 'aligned' or 'item', got {self.positive!r}")
        if self.cf_negatives < 0 or self.patience < 1:
            raise ConfigError("cf_negatives must be >= 0 and patience >= 1")
        if self.objective not in OBJECTIVES:
            raise ConfigError(f"objective must be one of {', '.join(OBJECTIVES)}, got {self.objective!r}")
        if self.stop_on not in STOP_ON:
            raise ConfigError(f"stop_on must be one of {', '.join(STOP_ON)}, got {self.stop_on!r}")
        if self.fused_weight <= 0 or self.fused_cf < 0 or self.list_levels < 1:
            raise ConfigError("fused_weight must be > 0, fused_cf >= 0 and list_levels >= 1")
        decay_weights(1, self.gamma)
        return self

    @property
    def uses_lists(self) -> bool:
        """Whether the fused listwise term is trained (it needs lists at training positions)."""
        return self.objective != "infonce"


@dataclass
class AdapterWeights:
    user_weight: np.ndarray  # (d, d): y = W x + b
    user_bias: np.ndarray  # (d,)
    persona_weight: np.ndarray
    persona_bias: np.ndarray

    def users(self, vectors: np.ndarray) -> np.ndarray:
        return _normalise(vectors @ self.user_weight.T + self.user_bias)

    def personas(self, vectors: np.ndarray) -> np.ndarray:
        return _normalise(vectors @ self.persona_weight.T + self.persona_bias)


@dataclass
class AdapterResult:
    weights: AdapterWeights
    pairs: int
    epochs_run: int
    best_epoch: int
    seconds: float
    loss_curve: list[float]  # mean training loss per epoch
    valid_curve: list[float]  # VALID NDCG@10 per epoch (epoch 0 = the untrained identity)
    config: AdapterConfig
    negatives: dict[str, int] = field(default_factory=dict)
    fused_cf: float | None = None  # the CF weight c the fused listwise term ended with (None: not trained)

    @property
    def valid_before(self) -> float:
        return self.valid_curve[0]

    @property
    def valid_best(self) -> float:
        return max(self.valid_curve)


def _normalise(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=-1, keepdims=True)
    return (x / np.where(norms > 0, norms, 1.0)).astype(np.float32)


# -- the data: cached base vectors, pairs, negatives, VALID lists ---------------------------------


@dataclass
class AdapterData:
    """Everything training reads, as arrays over the vanilla slot's cached vectors."""

    interactions: np.ndarray  # (N + 1, d) base interaction vectors; the last row is a zero pad
    personas: np.ndarray  # (M, d) base persona vectors (the vanilla multi index)
    item_slots: np.ndarray  # (I + 1, P) persona row per item slot, -1 = none (last item = unknown)
    item_of_row: np.ndarray  # (M,) item index of each persona row
    histories: np.ndarray  # (pairs, L) interaction rows, oldest first, padded with N
    positives: np.ndarray  # (pairs,) persona row of the aligned persona
    targets: np.ndarray  # (pairs,) item index of the target item
    pools: np.ndarray  # (pairs, H) item indexes of the user's first-stage list, -1 = none
    valid: dict  # generator -> (histories (V, L), candidate items (V, C), target position (V,))
    item_ids: list[str]
    skipped: dict[str, int]
    valid_cf: dict = field(default_factory=dict)  # generator -> (V, C) VALID CF scores, min-max per list
    lists: TrainingLists | None = None  # lists at training positions (the fused objective)

    @property
    def dim(self) -> int:
        return int(self.personas.shape[1])

    @classmethod
    def from_workspace(cls, ws: Workspace, config: AdapterConfig) -> AdapterData:
        from ..index.persona_index import open_index
        from .selection import choose_encoder
        from .user import UserEncoder

        vanilla = choose_encoder(ws, "vanilla")
        users = UserEncoder.from_workspace(ws, vanilla, gamma=config.gamma, history_length=config.history_length)
        index = open_index(ws, "multi", vanilla)
        table = index.table
        item_ids = list(table.item_ids)
        item_of_row = np.full(len(index.entries), len(item_ids), dtype=np.int64)
        for n, rows in enumerate(table.entry_rows[:-1]):
            item_of_row[rows[rows >= 0]] = n
        pad = len(users.vectors)
        interactions = np.vstack([users.vectors, np.zeros((1, users.dim), dtype=np.float32)])
        row_of_key = dict(zip(index.entries["persona_key"], range(len(index.entries))))
        lists_by_generator = _valid_candidates(ws, config.generators)
        pools_by_user = _first_stage_pools(lists_by_generator, table.item_row)

        def history_rows(user: str, items) -> list[int]:
            return [users.key_rows[k] for k in (review_key(user, i) for i in items) if k in users.key_rows]

        histories, positives, targets, pools = [], [], [], []
        skipped = {"no_history": 0, "unknown_persona": 0}
        for record in load_alignment(ws).values():
            row = row_of_key.get(persona_key(record.item_id, record.persona_id))
            if row is None:
                skipped["unknown_persona"] += 1
                continue
            rows = history_rows(
                record.user_id, users.timelines.history_before(record.user_id, record.item_id, config.history_length)
            )
            if not rows:
                skipped["no_history"] += 1
                continue
            histories.append(_padded(rows, config.history_length, pad))
            positives.append(row)
            targets.append(item_of_row[row])
            pools.append(pools_by_user.get(record.user_id, ()))
        if len(positives) < 2:
            raise WorkspaceError(
                f"{ws.root}: only {len(positives)} usable alignment pair(s); training needs at least 2"
            )
        width = max((len(p) for p in pools), default=0) or 1
        pool_array = np.full((len(pools), width), -1, dtype=np.int64)
        for n, pool in enumerate(pools):
            pool_array[n, : len(pool)] = pool
        valid, valid_cf = _valid_lists(lists_by_generator, users, table.item_row, config, pad)
        lists = None
        if config.uses_lists:
            from .train_lists import build_training_lists

            lists = build_training_lists(
                ws,
                list(lists_by_generator),
                config.list_levels,
                history_rows,
                table.item_row,
                config.history_length,
                pad,
                users.timelines,
            )
            if not len(lists):
                raise WorkspaceError(f"{ws.root}: no training list holds its target; the fused objective needs some")
        return cls(
            interactions=interactions,
            personas=np.asarray(index.vectors, dtype=np.float32),
            item_slots=table.entry_rows,
            item_of_row=item_of_row,
            histories=np.stack(histories),
            positives=np.asarray(positives),
            targets=np.asarray(targets),
            pools=pool_array,
            valid=valid,
            item_ids=item_ids,
            skipped=skipped,
            valid_cf=valid_cf,
            lists=lists,
        )


def _padded(rows: Sequence[int], length: int, pad: int) -> np.ndarray:
    out = np.full(length, pad, dtype=np.int64)
    rows = list(rows)[-length:]
    out[length - len(rows) :] = rows  # right-aligned: the newest interaction is always the last column
    return out


def _generators_present(ws: Workspace, wanted: Sequence[str]) -> list[str]:
    present = sorted(p.stem for p in ws.candidates_dir.glob("*.parquet")) if ws.candidates_dir.exists() else []
    return [g for g in (wanted or present) if g in present]


def _valid_candidates(ws: Workspace, generators: Sequence[str]) -> dict[str, tuple[list, list, list]]:
    """generator -> (users, VALID candidate lists in CF order, CF scores), read once for pools and validation."""
    from ..candidates.generate import candidate_lists

    return {g: candidate_lists(ws, g, "valid") for g in _generators_present(ws, generators)}


def _first_stage_pools(lists_by_generator: dict, item_row: dict[str, int]) -> dict[str, list[int]]:
    """user -> item indexes of the user's VALID first-stage lists (all generators, best rank first).

    These lists rank items the user had not interacted with in train, so for a training pair they are
    exactly the plausible items the reranker will have to separate from the real next choice. They may
    hold a later positive (the valid or test target) as a false negative: no label is used to remove it."""
    pools: dict[str, list[int]] = {}
    for users, lists, _ in lists_by_generator.values():
        for user, items in zip(users, lists):
            pool = pools.setdefault(user, [])
            for row in (item_row.get(i) for i in items):
                if row is not None and row not in pool:
                    pool.append(row)
    return pools


def _valid_lists(
    lists_by_generator: dict, users, item_row: dict[str, int], config: AdapterConfig, pad: int
) -> tuple[dict, dict]:
    """Per generator, the VALID lists as arrays: (history rows, candidate item indexes, target position),
    and beside them the lists' CF scores min-max scaled (0 on padding)."""
    from .train_lists import minmax

    unknown = len(item_row)
    out, out_cf = {}, {}
    for generator, (list_users, lists, scores) in lists_by_generator.items():
        hist, cands, cf, where = [], [], [], []
        for user, items, values in zip(list_users, lists, scores):
            target = users.timelines.target(user, "valid")
            rows = users.history_rows(user, "valid")
            if target is None or not len(rows):
                continue
            hist.append(_padded(rows, config.history_length, pad))
            cands.append([item_row.get(i, unknown) for i in items])
            cf.append(minmax(values))
            where.append(items.index(target) if target in items else -1)
        if hist:
            width = max(len(c) for c in cands)
            cand_array = np.full((len(cands), width), unknown, dtype=np.int64)
            cf_array = np.zeros((len(cands), width), dtype=np.float32)
            for n, (c, s) in enumerate(zip(cands, cf)):
                cand_array[n, : len(c)] = c
                cf_array[n, : len(s)] = s
            out[generator] = (np.stack(hist), cand_array, np.asarray(where))
            out_cf[generator] = cf_array
    return out, out_cf


# -- training -------------------------------------------------------------------------------------


class _Adapter:
    """The torch parameters and the forward pass (users, personas, logits)."""

    def __init__(self, data: AdapterData, config: AdapterConfig):
        import torch

        self.torch, self.config, self.data = torch, config, data
        d = data.dim
        eye = torch.eye(d)
        self.user_w = torch.nn.Parameter(eye.clone())
        self.user_b = torch.nn.Parameter(torch.zeros(d))
        if config.symmetric:
            self.persona_w, self.persona_b = self.user_w, self.user_b
            params = [self.user_w, self.user_b]
        else:
            self.persona_w = torch.nn.Parameter(eye.clone())
            self.persona_b = torch.nn.Parameter(torch.zeros(d))
            params = [self.user_w, self.user_b, self.persona_w, self.persona_b]
        # c of the fused logit s + c * cf, kept positive as exp(log c); c = 0 stays 0
        self.log_cf = torch.nn.Parameter(torch.tensor(math.log(max(config.fused_cf, 1e-12))))
        if config.uses_lists and config.learn_fused_cf and config.fused_cf > 0:
            params = [*params, self.log_cf]
        self.params, self.eye = params, eye
        self.optimizer = torch.optim.Adam(params, lr=config.lr)
        self.X = torch.from_numpy(data.interactions)
        self.Y = torch.tensor(np.asarray(data.personas))  # a copy: the index vectors are memory-mapped
        self.slots = torch.from_numpy(data.item_slots)

    def user_vectors(self, histories):
        torch = self.torch
        pad = self.X.shape[0] - 1
        x = self.X[histories] @ self.user_w.T + self.user_b  # (B, L, d)
        x = torch.nn.functional.normalize(x, dim=-1) * (histories != pad)[..., None]
        return torch.nn.functional.normalize(decayed_sum(x, self.config.gamma), dim=-1)

    def persona_vectors(self):
        return self.torch.nn.functional.normalize(self.Y @ self.persona_w.T + self.persona_b, dim=-1)

    def item_scores(self, all_sims, items):
        """Max over each item's personas: all_sims (B, M) user-persona similarities, items (B, H) -> (B, H).
        Gathering from the (B, M) product is far cheaper than gathering persona vectors per slot."""
        slots = self.slots[items.clamp(min=0)]  # (B, H, P)
        sims = all_sims.gather(1, slots.clamp(min=0).reshape(len(items), -1)).reshape(slots.shape)
        sims = sims.masked_fill((slots < 0) | (items < 0)[..., None], float("-inf"))
        return sims.max(dim=2).values

    def loss(self, idx: np.ndarray):
        """InfoNCE on the alignment pairs `idx`, plus the pull towards the identity."""
        return self.infonce(idx) + self.decay()

    def decay(self):
        if not self.config.weight_decay:
            return 0
        return self.config.weight_decay * sum(((p - self.eye) ** 2).sum() for p in (self.user_w, self.persona_w))

    def cf_weight(self):
        return self.log_cf.exp() if self.config.fused_cf > 0 else self.log_cf.new_zeros(())

    def list_loss(self, idx: np.ndarray):
        """The fused listwise term on training lists `idx`: softmax over each list of (s + c * cf) / T."""
        torch, lists = self.torch, self.data.lists
        users = self.user_vectors(torch.from_numpy(lists.histories[idx]))
        persona = self.item_scores(users @ self.persona_vectors().T, torch.from_numpy(lists.candidates[idx]))
        # -inf (padding, an item without personas) stays -inf: such a candidate ranks last, as served
        logits = (persona + self.cf_weight() * torch.from_numpy(lists.cf[idx])) / self.config.temperature
        return torch.nn.functional.cross_entropy(logits, torch.from_numpy(lists.target[idx]))

    def infonce(self, idx: np.ndarray):
        torch, data, config = self.torch, self.data, self.config
        users = self.user_vectors(torch.from_numpy(data.histories[idx]))
        personas = self.persona_vectors()
        positives = torch.from_numpy(data.positives[idx])
        targets = data.targets[idx]
        # Column 0 is the positive; every other column a negative.
        all_sims = users @ personas.T  # (B, M)
        target_items = torch.from_numpy(targets)
        if config.positive == "item":
            positive = self.item_scores(all_sims, target_items[:, None])
        else:
            positive = all_sims.gather(1, positives[:, None])
        in_batch = all_sims[:, positives]  # (B, B)
        same_item = targets[:, None] == targets[None, :]  # the diagonal included
        logits = [positive, in_batch.masked_fill(torch.from_numpy(same_item), float("-inf"))]
        if config.cf_negatives and data.pools.shape[1]:
            pool = data.pools[idx][:, : config.cf_negatives].copy()
            pool[pool == targets[:, None]] = -1  # never the positive item
            logits.append(self.item_scores(all_sims, torch.from_numpy(pool)))
        if config.item_negatives and config.positive == "aligned":
            slots = self.slots[target_items]  # (B, P)
            sims = all_sims.gather(1, slots.clamp(min=0))
            logits.append(sims.masked_fill((slots < 0) | (slots == positives[:, None]), float("-inf")))
        logits = torch.cat(logits, dim=1) / config.temperature
        return torch.nn.functional.cross_entropy(logits, torch.zeros(len(idx), dtype=torch.long))

    def step(self, pairs: np.ndarray | None, lists: np.ndarray | None = None) -> float:
        """One optimiser step on a batch of alignment pairs and/or training lists (either may be None)."""
        loss = self.decay()
        if pairs is not None:
            loss = loss + self.infonce(pairs)
        if lists is not None and len(lists):
            weight = self.config.fused_weight if pairs is not None else 1.0
            loss = loss + weight * self.list_loss(lists)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return float(loss.detach())

    def weights_now(self) -> AdapterWeights:
        get = lambda t: t.detach().numpy().astype(np.float32).copy()  # noqa: E731
        return AdapterWeights(get(self.user_w), get(self.user_b), get(self.persona_w), get(self.persona_b))


def valid_ndcg(data: AdapterData, weights: AdapterWeights, config: AdapterConfig) -> float:
    """Mean NDCG@10 over the VALID lists of every generator, reranked by max-over-personas (stop_on
    "paper") or by the fused score (1 - w) * persona + w * cf at the best w of STOP_FUSION_WEIGHTS
    for each generator (stop_on "fused")."""
    if not data.valid:
        return float("nan")
    # The last row stays the zero padding row, so padded history slots add nothing to the decayed sum.
    X = np.vstack([weights.users(data.interactions[:-1]), np.zeros((1, data.dim), dtype=np.float32)])
    Y = weights.personas(data.personas)
    values = []
    for generator, (histories, cands, where) in data.valid.items():
        users = _normalise(decayed_sum(X[histories], config.gamma))
        slots = data.item_slots[cands]  # (V, C, P)
        all_sims = users @ Y.T  # (V, M)
        sims = np.take_along_axis(all_sims, np.maximum(slots, 0).reshape(len(users), -1), axis=1).reshape(slots.shape)
        sims[slots < 0] = -np.inf
        persona = sims.max(axis=2)
        if config.stop_on == "fused" and generator in data.valid_cf:
            values.append(
                max(_ndcg_at_10(fused_score(persona, data.valid_cf[generator], w), where) for w in STOP_FUSION_WEIGHTS)
            )
        else:
            values.append(_ndcg_at_10(persona, where))
    return float(np.mean(values))


def fused_score(persona: np.ndarray, cf: np.ndarray, weight: float) -> np.ndarray:
    """(1 - w) * persona + w * cf as the reranker fuses them; an item without personas (-inf) stays last."""
    known = np.isfinite(persona)
    return np.where(known, (1.0 - weight) * np.where(known, persona, 0.0) + weight * cf, -np.inf)


def _ndcg_at_10(scores: np.ndarray, where: np.ndarray) -> float:
    """NDCG@10 of one target per row at position `where` (-1: not in the list, a miss)."""
    hit = where >= 0
    target = scores[hit, where[hit]]
    rank = (scores[hit] > target[:, None]).sum(axis=1) + 1  # ties resolved in the target's favour
    return mean_ndcg(rank, 10, users=len(where))


def fit_adapter(data: AdapterData, config: AdapterConfig, progress: bool = False) -> AdapterResult:
    """Train with early stopping on VALID NDCG@10; returns the best epoch's weights. One torch thread:
    the matrices are small, and on shared cores OpenMP's spin-waiting costs more than it gives."""
    from ..candidates.generate import single_thread

    with single_thread():
        return _fit_adapter(data, config, progress)


def _fit_adapter(data: AdapterData, config: AdapterConfig, progress: bool) -> AdapterResult:
    import torch
    from tqdm.auto import tqdm

    config.check()
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    model = _Adapter(data, config)
    best = model.weights_now()
    valid_curve = [valid_ndcg(data, best, config)]
    best_score, best_epoch, stale = valid_curve[0], 0, 0
    loss_curve = []
    t0 = time.perf_counter()
    bar = tqdm(range(1, config.epochs + 1), desc="train adapter", disable=not progress)
    n = len(data.positives)
    for epoch in bar:
        loss_curve.append(float(np.mean([model.step(pairs, lists) for pairs, lists in _batches(data, config, rng)])))
        score = valid_ndcg(data, model.weights_now(), config)
        valid_curve.append(score)
        bar.set_postfix(loss=f"{loss_curve[-1]:.3f}", valid=f"{score:.4f}")
        if score > best_score or np.isnan(best_score):
            best, best_score, best_epoch, stale = model.weights_now(), score, epoch, 0
        else:
            stale += 1
            if stale >= config.patience:
                break
    negatives = {"cf_pool_mean": float((data.pools >= 0).sum(axis=1).mean()) if config.cf_negatives else 0.0}
    if config.uses_lists:
        negatives["training_lists"] = len(data.lists)
    return AdapterResult(
        weights=best,
        pairs=n,
        epochs_run=len(loss_curve),
        best_epoch=best_epoch,
        seconds=time.perf_counter() - t0,
        loss_curve=loss_curve,
        valid_curve=valid_curve,
        config=config,
        negatives=negatives,
        fused_cf=float(model.cf_weight().detach()) if config.uses_lists else None,
    )


def _batches(data: AdapterData, config: AdapterConfig, rng) -> Iterator[tuple[np.ndarray | None, np.ndarray | None]]:
    """One epoch's (pairs, lists) batches: pairs only (infonce), lists only (fused), or each pair batch with
    an equal share of the training lists (infonce+fused), all in a fresh random order."""
    size = config.batch_size
    if config.objective == "fused":
        order = rng.permutation(len(data.lists))
        yield from ((None, order[s : s + size]) for s in range(0, len(order), size))
        return
    order = rng.permutation(len(data.positives))
    pair_batches = [b for b in (order[s : s + size] for s in range(0, len(order), size)) if len(b) >= 2]
    if not config.uses_lists:
        yield from ((b, None) for b in pair_batches)
        return
    list_order = rng.permutation(len(data.lists))
    yield from zip(pair_batches, np.array_split(list_order, len(pair_batches)))


# -- saving: base model + Router(query: Dense, Normalize; document: Dense, Normalize) --------------


def adapter_model(base: str | None, weights: AdapterWeights):
    """The sentence-transformers model of the base encoder followed by the two adapter sides."""
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Dense, Normalize, Router

    from ..embedding import resolve_model

    def side(weight, bias):
        d_out, d_in = weight.shape
        return [
            Dense(
                d_in,
                d_out,
                bias=True,
                activation_function=torch.nn.Identity(),
                init_weight=torch.from_numpy(weight),
                init_bias=torch.from_numpy(bias),
            ),
            Normalize(),
        ]

    model = SentenceTransformer(resolve_model(base), device="cpu")
    router = Router.for_query_document(
        query_modules=side(weights.user_weight, weights.user_bias),
        document_modules=side(weights.persona_weight, weights.persona_bias),
    )
    return SentenceTransformer(modules=[*model, router], device="cpu")


class AdapterShortcut:
    """Encodes texts exactly as the saved adapter model does (base model, then one side's Dense and
    Normalize), reusing base vectors already computed: the vanilla caches hold them for every
    interaction and persona, so writing the trained slot's caches costs no transformer pass."""

    def __init__(self, weights: AdapterWeights, known: dict[str, np.ndarray], base: str | None = None):
        self.weights, self.known, self.base = weights, dict(known), base

    def _base_vectors(self, texts: Sequence[str]) -> np.ndarray:
        from ..embedding import encode

        missing = sorted({t for t in texts if t not in self.known})
        if missing:
            self.known.update(zip(missing, encode(missing, self.base)))
        return np.stack([self.known[t] for t in texts]) if texts else np.zeros((0, self.weights.user_bias.shape[0]))

    def query(self, texts: Sequence[str]) -> np.ndarray:
        return self.weights.users(self._base_vectors(texts))

    def document(self, texts: Sequence[str]) -> np.ndarray:
        return self.weights.personas(self._base_vectors(texts))


def save_adapter(
    ws: Workspace, weights: AdapterWeights, base: str | None = None, index_variants: Sequence[str] = ()
) -> None:
    """Save base + adapter to ws.encoder_dir (atomically), then write the trained slot's interaction
    cache and the given index variants from the vanilla slot's base vectors."""
    from ..embedding import forget_encoder
    from ..index.persona_index import build_index, open_index
    from ..io import atomic_dir
    from .selection import choose_encoder
    from .timeline import Timelines, interaction_texts
    from .user import InteractionCache, text_hash

    vanilla = choose_encoder(ws, "vanilla")
    base_cache = InteractionCache(ws, vanilla)
    if not base_cache._load(vanilla.identity()):
        raise WorkspaceError(f"{ws.root}: the vanilla interaction cache is missing; it is built before training")
    base_index = open_index(ws, "multi", vanilla)
    texts = interaction_texts(ws, Timelines.from_workspace(ws).history_pairs())
    known = dict(zip(base_index.entries["text"], np.asarray(base_index.vectors)))
    row_of, made_from = base_cache.row_of(), dict(zip(base_cache.keys, base_cache.hashes))
    # only vectors of the very text the workspace now gives (its interaction text form may have changed)
    known.update(
        {texts[k]: base_cache.vectors[row_of[k]] for k in texts if k in row_of and made_from[k] == text_hash(texts[k])}
    )

    with atomic_dir(ws.encoder_dir) as staging:
        adapter_model(base, weights).save(str(staging))
    forget_encoder(ws.encoder_dir)
    trained = choose_encoder(ws, "trained")
    shortcut = AdapterShortcut(weights, known, base)
    InteractionCache(ws, trained).sync(texts, shortcut.query)
    for variant in index_variants:
        build_index(ws, variant, trained, encode_fn=shortcut.document)


def adapted(index, users, weights: AdapterWeights):
    """In-memory (PersonaIndex, UserEncoder) as the adapter would serve them, from the vanilla ones:
    for comparing adapter variants on VALID/TEST without saving a model for each."""
    from ..index.persona_index import PersonaIndex
    from .user import UserEncoder

    vectors = weights.personas(np.asarray(index.vectors, dtype=np.float32))
    new_index = PersonaIndex(index.path, vectors, index.entries, {**index.meta, "encoder_label": "adapter (in memory)"})
    new_users = UserEncoder(
        users.timelines, weights.users(users.vectors), users.key_rows, users.gamma, users.history_length
    )
    return new_index, new_users


def train_adapter(
    ws: Workspace,
    config: AdapterConfig | None = None,
    progress: bool = True,
    index_variants: Sequence[str] = ("multi",),
) -> AdapterResult:
    """Fit on the workspace's alignment set, save base + adapter as ws.encoder_dir, write the trained
    slot's caches (interactions and `index_variants`) and reports/loss_curve.json; stage "encoder"."""
    from ..config import to_dict
    from ..io import write_json
    from .timeline import workspace_interaction_text

    config = (config or AdapterConfig()).check()
    with ws.stage("encoder", mode="adapter", **to_dict(config)) as info:
        data = AdapterData.from_workspace(ws, config)
        result = fit_adapter(data, config, progress=progress)
        save_adapter(ws, result.weights, index_variants=index_variants)
        write_json(
            ws.reports_dir / "loss_curve.json",
            {
                "mode": "adapter",
                "epoch_mean_loss": result.loss_curve,
                "valid_ndcg@10": result.valid_curve,
                "best_epoch": result.best_epoch,
                "stop_on": config.stop_on,
                "fused_cf": result.fused_cf,
                "config": to_dict(config),
            },
        )
        info.update(
            pairs=result.pairs,
            skipped=data.skipped,
            epochs_run=result.epochs_run,
            best_epoch=result.best_epoch,
            train_seconds=round(result.seconds, 3),
            valid_ndcg_before=round(result.valid_before, 5),
            valid_ndcg_best=round(result.valid_best, 5),
            counts={"pairs": result.pairs, "epochs": result.epochs_run},
        )
        info.update(interaction_text=workspace_interaction_text(ws))
        if data.lists is not None:
            info.update(training_lists=data.lists.counts, fused_cf=result.fused_cf)
    return result
