"""Online reranking with explanations: score(u, i) = max over i's personas of <e_u, e_persona>.

    reranker = Reranker.from_workspace(ws)                            # the workspace's tuned serving config
    ranked = reranker.rerank(user_id, candidate_item_ids, split="test", cf_scores=scores)
    ranked[0].persona.description, ranked[0].persona.preference_rationale   # the explanation

The user vector is a decay-weighted sum of cached interaction vectors and the candidates are scored
against the index's persona vectors in place (index/scoring.py), so a request makes no model call.
`rerank` returns a RankedList, whose RankedItems are made on the first read of any of them. A `ServingConfig` says how
the list is ordered:
    fusion_weight 0, no ranker   the paper's method, by the best persona similarity alone
    fusion_weight w > 0          (1 - w) * persona_sim + w * cf_norm, cf_norm the list's CF scores min-max
                                 scaled to [0, 1] (or, without scores, 1 for the first candidate down to 0)
    ranker                       a learned ranker (persona4rec.ltr) over persona and CF features
Whatever orders the list, the explanation is the arg-max persona. Items with no personas are scored by
their summary vector and flagged. The values tuned on VALID (evaluation/tuning.py) are stored in the
workspace's serving.json, which `Reranker.from_workspace`, the app, `recommend` and the study builders read.
This module holds the reranker, its result type and the serving config; the CF scaling and the learned
ranker's features are persona4rec.ltr's (features.py, inputs.py), the tuning is evaluation/tuning.py's.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

import numpy as np

from .data.split import HISTORY_LENGTH
from .encoder.selection import choose_encoder
from .encoder.user import DEFAULT_GAMMA, UserEncoder
from .errors import ConfigError, WorkspaceError
from .index.persona_index import PersonaIndex, open_index
from .index.retrieval import retrieve
from .index.scoring import Scores, inner_products_by_row
from .io import read_json, write_json
from .ltr.features import normalised_cf, padded_scores, positional_cf
from .ltr.inputs import FeatureInputs
from .offline.persona_text import DEFAULT_PERSONA_TEXT
from .offline.schema import Persona
from .workspace import Workspace

PERSONA_SOURCES = ("persona", "summary-only")
SERVING_FILE = "serving.json"
RANKERS_DIR = "rankers"  # WS/rankers/<name>/: the learned rankers a ServingConfig.ranker names


@dataclass(frozen=True)
class ServingConfig:
    """How one workspace serves: which index and encoder, the history decay, and what orders the list."""

    variant: str = "multi"
    encoder: str | None = None  # None: the workspace default (trained if present), "vanilla", a path
    gamma: float = DEFAULT_GAMMA
    history_length: int = HISTORY_LENGTH
    fusion_weight: float = 0.0  # 0 = the paper's method
    ranker: str | None = None  # a learned ranker folder under WS/rankers/ (None: no learned ranker)
    persona_text: str = DEFAULT_PERSONA_TEXT
    generator: str | None = None  # the first-stage generator these values were tuned on
    source: str = "default"  # "default" or where the values came from (e.g. "tuned on valid")

    def check(self) -> ServingConfig:
        if not 0.0 <= self.fusion_weight <= 1.0:
            raise ConfigError(f"fusion weight must be in [0, 1], got {self.fusion_weight}")
        return self

    def replace(self, **changes: Any) -> ServingConfig:
        return dataclasses.replace(self, **changes)

    def scoring(self) -> str:
        return "learned" if self.ranker else ("fused" if self.fusion_weight > 0 else "paper")


def save_serving_configs(ws: Workspace, configs: Sequence[ServingConfig], tuning: dict | None = None) -> None:
    """Write serving.json: one config per (generator, variant); the first one given is the default."""
    if not configs:
        raise ConfigError("no serving config to save")
    entries = [dataclasses.asdict(c.check()) for c in configs]
    write_json(ws.root / SERVING_FILE, {"default": entries[0], "configs": entries, "tuning": tuning or {}})


def load_serving_config(ws: Workspace, variant: str | None = None, generator: str | None = None) -> ServingConfig:
    """The tuned config for (variant, generator) from serving.json, or the best match: the same variant
    tuned on another generator, then the default entry with this variant; built-in defaults when the
    workspace was never tuned."""
    path = ws.root / SERVING_FILE
    if not path.exists():
        return ServingConfig(variant=variant or "multi")
    data = read_json(path)
    try:
        configs = [ServingConfig(**entry) for entry in data.get("configs", [])]
        default = ServingConfig(**data["default"])
    except (KeyError, TypeError) as exc:
        raise WorkspaceError(f"{path}: not a serving config ({exc}); re-run `persona4rec tune {ws.root}`") from None
    variant = variant or default.variant
    for wanted in ((variant, generator), (variant, None)):
        for config in configs:
            if config.variant == wanted[0] and (wanted[1] is None or config.generator == wanted[1]):
                return config
    return default.replace(variant=variant, ranker=None) if default.variant != variant else default


@dataclass
class _Scored:
    """What Reranker._score gives the ranking and explanation paths."""

    final: np.ndarray  # (U, C) what orders each list
    scores: Scores  # the persona similarities
    order: np.ndarray  # (U, C) candidate positions, best first (padding last)
    features: np.ndarray | None  # the learned ranker's features when it ordered the lists
    rows: np.ndarray  # (U, C) the candidates' table rows
    user_vectors: np.ndarray  # (U, d)


class RankedItem:
    """One reranked (or retrieved) item and its explanation.

    A plain slotted class rather than a dataclass: a request makes one per candidate, and `persona_scores`
    is built on first read from the columns the explanation path already holds (the item's persona keys
    and the request's similarity row), so a caller that never reads it never pays for its dict."""

    FIELDS = (
        "item_id",
        "score",
        "cf_rank",
        "new_rank",
        "persona",
        "persona_key",
        "persona_scores",
        "persona_sim",
        "fallback",
        "contributions",
    )
    # persona_scores is a property over _persona_scores (or the two columns it is zipped from)
    __slots__ = tuple("_" + f if f == "persona_scores" else f for f in FIELDS) + ("_score_keys", "_score_sims")

    def __init__(
        self,
        item_id: str,
        score: float,  # what the list is sorted by (persona similarity, fused or learned score)
        cf_rank: int | None,  # 1-based position in the first-stage list (None for retrieval)
        new_rank: int,  # 1-based position after reranking
        persona: Persona | None,  # the winning persona; None when the item is scored by its summary
        persona_key: str | None,  # f"{item_id}_{persona_id}" of the winning row
        persona_scores: dict[str, float] | None = None,  # every persona of the item -> similarity
        persona_sim: float = 0.0,  # max-over-personas similarity (equals score when there is no fusion)
        fallback: str | None = None,  # "summary", "summary-fallback", "summary-only", "unknown-item", "no-history"
        # With a learned ranker: the features that moved this item most, as (feature, value, contribution
        # to its score), largest |contribution| first (LightGBM's per-feature SHAP values).
        contributions: list[tuple[str, float, float]] | None = None,
        score_keys: Sequence[str] = (),  # with score_sims: persona_scores, zipped on first read
        score_sims: Sequence[float] = (),
    ):
        self.item_id, self.score, self.cf_rank, self.new_rank = item_id, score, cf_rank, new_rank
        self.persona, self.persona_key, self.persona_sim, self.fallback = persona, persona_key, persona_sim, fallback
        self._persona_scores = persona_scores
        self.contributions = [] if contributions is None else contributions
        self._score_keys, self._score_sims = score_keys, score_sims

    @property
    def persona_scores(self) -> dict[str, float]:
        if self._persona_scores is None:
            # padding slots come last in an item's row, so zip stops at its last persona
            self._persona_scores = dict(zip(self._score_keys, self._score_sims))
        return self._persona_scores

    @persona_scores.setter
    def persona_scores(self, value: dict[str, float]) -> None:
        self._persona_scores = value

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.FIELDS}

    def __eq__(self, other) -> bool:
        if not isinstance(other, RankedItem):
            return NotImplemented
        return self.as_dict() == other.as_dict()

    __hash__ = None  # mutable, like the dataclass it replaces

    def __repr__(self) -> str:
        return "RankedItem(" + ", ".join(f"{k}={v!r}" for k, v in self.as_dict().items()) + ")"


class RankedList(Sequence[RankedItem]):
    """One request's reranked list, best first. Scoring and ordering are done when it is made; its
    RankedItems are made together on the first read of any of them, so a caller that only needs the order
    (or len) never pays for the explanations. It compares equal to a list of the same RankedItems."""

    __slots__ = ("_items", "_make_columns")

    def __init__(self, size: int, make_columns: Callable[[], list[list]]):
        self._items: list[RankedItem | None] = [None] * size
        self._make_columns = make_columns

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[n] for n in range(*index.indices(len(self._items)))]
        item = self._items[index]  # IndexError past the end, as a list
        if item is None:  # the first read makes every item: one map over the columns is cheaper than one each
            self._items = list(map(RankedItem, *self._make_columns()))
            item = self._items[index]
        return item

    def __iter__(self):
        return (self[n] for n in range(len(self._items)))

    def __eq__(self, other) -> bool:
        if isinstance(other, (RankedList, list, tuple)):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other))
        return NotImplemented

    __hash__ = None

    def __repr__(self) -> str:
        return f"RankedList({list(self)!r})"


class Reranker:
    def __init__(
        self,
        index: PersonaIndex,
        users: UserEncoder,
        fusion_weight: float = 0.0,
        ranker=None,
        inputs: FeatureInputs | None = None,
        config: ServingConfig | None = None,
    ):
        if not 0.0 <= fusion_weight <= 1.0:
            raise ConfigError(f"fusion weight must be in [0, 1], got {fusion_weight}")
        if ranker is not None and inputs is None:
            raise ConfigError("a learned ranker needs its feature inputs (FeatureInputs.from_workspace)")
        self.index, self.users, self.fusion_weight = index, users, fusion_weight
        self.ranker, self.inputs = ranker, inputs
        self.config = config or ServingConfig(
            variant=index.meta.get("variant", "multi"),
            gamma=users.gamma,
            history_length=users.history_length,
            fusion_weight=fusion_weight,
        )
        self.table = index.table
        entries = index.entries
        self._item_of = entries["item_id"].tolist()
        self._key_of = entries["persona_key"].tolist()
        self._source_of = entries["source"].tolist()
        self._columns = {c: entries[c].tolist() for c in ("persona_id", "name", "description", "preference_rationale")}
        self._personas: dict[int, Persona | None] = {}
        # Per table row, its personas' keys in slot order, and per index row the fallback its source gives:
        # an explanation is then a few list lookups, not a walk over the slots.
        self._item_keys = [[self._key_of[r] for r in slots if r >= 0] for slots in self.table.entry_rows.tolist()]
        self._source_fallback = [None if source == "persona" else source for source in self._source_of]

    @classmethod
    def from_workspace(
        cls,
        ws: Workspace,
        config: ServingConfig | str | None = None,
        *,
        generator: str | None = None,
        build: bool = True,
        progress: bool = False,
    ) -> Reranker:
        """The reranker a ServingConfig describes. config None or a variant name: the workspace's tuned
        config for that variant (and generator), see load_serving_config. A missing or stale index is
        built first unless build=False."""
        if not isinstance(config, ServingConfig):
            config = load_serving_config(ws, config, generator)
        config.check()
        choice = choose_encoder(ws, config.encoder)
        index = open_index(ws, config.variant, choice, persona_text=config.persona_text, build=build, progress=progress)
        users = UserEncoder.from_workspace(
            ws, choice, gamma=config.gamma, history_length=config.history_length, progress=progress
        )
        ranker = inputs = None
        if config.ranker:
            from .ltr import LearnedRanker

            ranker = LearnedRanker.load(ws.root / RANKERS_DIR / config.ranker)
            inputs = FeatureInputs.from_workspace(ws, choice, config.persona_text, build=build)
        return cls(index, users, config.fusion_weight, ranker, inputs, config)

    def with_options(
        self, gamma: float | None = None, fusion_weight: float | None = None, ranker: Any = False
    ) -> Reranker:
        """The same index and caches under another gamma, fusion weight or learned ranker (ranker=None
        drops it; False keeps the current one), for tuning without re-encoding."""
        users = self.users if gamma is None else self.users.with_gamma(gamma)
        weight = self.fusion_weight if fusion_weight is None else fusion_weight
        ranker = self.ranker if ranker is False else ranker
        config = self.config.replace(
            gamma=users.gamma, fusion_weight=weight, ranker=self.config.ranker if ranker is not None else None
        )
        return Reranker(self.index, users, weight, ranker, self.inputs, config)

    def with_inputs(self, inputs: FeatureInputs) -> Reranker:
        return Reranker(self.index, self.users, self.fusion_weight, self.ranker, inputs, self.config)

    # -- scoring ---------------------------------------------------------------------------------
    def score_many(
        self,
        user_ids: Sequence[str],
        candidate_lists: Sequence[Sequence[str]],
        split: str = "test",
        cf_scores: Sequence[Sequence[float]] | None = None,
    ) -> tuple[np.ndarray, Scores, np.ndarray]:
        """(final scores (U, C), persona Scores, order (U, C) of candidate positions best first).
        Padding of short lists sorts last. A learned ranker needs the CF scores; without them the list is
        ordered by the persona score (fused by list position when a fusion weight is set)."""
        scored = self._score(user_ids, candidate_lists, split, cf_scores)
        return scored.final, scored.scores, scored.order

    def _score(self, user_ids, candidate_lists, split, cf_scores) -> _Scored:
        """score_many, plus what the explanations need: the learned ranker's features when it ordered the
        list (else None), the candidates' table rows and the user vectors."""
        user_vectors = self.users.embed_many(user_ids, split)
        rows = self.table.rows_for(candidate_lists)
        scores = self.table.score(user_vectors, rows)
        features = None
        if self.fusion_weight == 0 and (self.ranker is None or cf_scores is None):
            final = scores.score  # the paper's method (padding and unknown items are already -inf)
        else:
            final, features = self._fused_or_learned(user_ids, candidate_lists, split, cf_scores, scores, user_vectors)
        order = np.argsort(-final, axis=1, kind="stable")
        return _Scored(final, scores, order, features, rows, user_vectors)

    def _fused_or_learned(self, user_ids, candidate_lists, split, cf_scores, scores: Scores, user_vectors):
        """(final scores, features or None) when a learned ranker (given CF scores) or a fusion weight orders
        the list."""
        shape = scores.score.shape
        lengths = np.asarray([len(c) for c in candidate_lists])
        valid = np.arange(shape[1])[None, :] < lengths[:, None]
        cf = padded_scores(cf_scores, shape) if cf_scores is not None else None
        if self.ranker is not None and cf is not None:
            features = self.features(user_ids, candidate_lists, split, cf, scores, user_vectors)
            return np.where(valid, self.ranker.predict(features, lengths), -np.inf), features
        scaled = normalised_cf(cf, valid) if cf is not None else positional_cf(lengths, shape[1])
        # Padding and unknown items score -inf; 0 * -inf is NaN at weight 1.0, so pin them to -inf.
        with np.errstate(invalid="ignore"):
            mixed = (1.0 - self.fusion_weight) * scores.score + self.fusion_weight * scaled
        return np.where(valid & ~np.isnan(mixed), mixed, -np.inf), None

    def features(
        self,
        user_ids: Sequence[str],
        candidate_lists: Sequence[Sequence[str]],
        split: str,
        cf: np.ndarray,
        scores: Scores,
        user_vectors: np.ndarray,
    ) -> np.ndarray:
        """The learned ranker's feature tensor (U, C, F) in persona4rec.ltr.FEATURES order."""
        if self.inputs is None:
            raise ConfigError("features need FeatureInputs (the summary index and item popularity)")
        history = np.asarray([len(self.users.history_rows(u, split)) for u in user_ids])
        return self.inputs.features(candidate_lists, cf, scores.sims, user_vectors, history)

    def rank_ids_many(
        self,
        user_ids: Sequence[str],
        candidate_lists: Sequence[Sequence[str]],
        split: str = "test",
        cf_scores: Sequence[Sequence[float]] | None = None,
    ) -> list[list[str]]:
        """Just the reranked item ids (the fast path evaluation uses)."""
        order = self._score(user_ids, candidate_lists, split, cf_scores).order
        width = order.shape[1]
        return [
            list(map(cands.__getitem__, positions if len(cands) == width else [p for p in positions if p < len(cands)]))
            for positions, cands in zip(order.tolist(), candidate_lists)
        ]

    def rerank_many(
        self,
        user_ids: Sequence[str],
        candidate_lists: Sequence[Sequence[str]],
        split: str = "test",
        cf_scores: Sequence[Sequence[float]] | None = None,
    ) -> list[list[RankedItem]]:
        scored = self._score(user_ids, candidate_lists, split, cf_scores)
        features = scored.features
        # no history <=> a zero user vector (every persona then scores 0 and the list keeps its CF order)
        no_history = (~scored.user_vectors.any(axis=1)).tolist()
        out = []
        for n, cands in enumerate(candidate_lists):
            ranked = self._explain(n, cands, scored, no_history[n])
            if features is not None:
                moved_by = self.ranker.top_contributions_of_list(features[n][: len(cands)], k=3)
                for item in ranked:
                    item.contributions = moved_by[item.cf_rank - 1]
            out.append(ranked)
        return out

    def rerank(
        self,
        user_id: str,
        candidate_item_ids: Sequence[str],
        split: str = "test",
        cf_scores: Sequence[float] | None = None,
    ) -> Sequence[RankedItem]:
        """One request: rerank_many for one list, without the batch's bookkeeping. The list is scored and
        ordered now; each RankedItem is made when it is first read (RankedList)."""
        cands, cf = list(candidate_item_ids), None if cf_scores is None else [list(cf_scores)]
        if self.ranker is not None and cf is not None:  # the learned ranker's contributions: the batch path
            return self.rerank_many([user_id], [cands], split, cf)[0]
        scored = self._score([user_id], [cands], split, cf)
        no_history = not scored.user_vectors[0].any()
        return RankedList(len(cands), lambda: self._explain_columns(0, cands, scored, no_history))

    def retrieve(self, user_id: str, k: int = 20, split: str = "test") -> list[RankedItem]:
        """Full-catalogue retrieval: the k best unseen items, each explained by its best persona."""
        vector = self.users.embed(user_id, split)
        hits = retrieve(
            self.index.faiss,
            self._item_of,
            self.table.max_personas,
            vector,
            k,
            exclude=self.users.timelines.seen(user_id, split),
        )
        return [
            RankedItem(
                item_id=h.item_id,
                score=h.score,
                cf_rank=None,
                new_rank=n + 1,
                persona=self._persona(h.entry_row),
                persona_key=self._key_of[h.entry_row],
                persona_scores=self._item_scores(vector, h.item_id),
                persona_sim=h.score,
                fallback=self._fallback(h.entry_row, not vector.any()),
            )
            for n, h in enumerate(hits)
        ]

    # -- explanation -----------------------------------------------------------------------------
    def _persona(self, row: int) -> Persona | None:
        if row < 0 or self._source_of[row] not in PERSONA_SOURCES:
            return None
        if row not in self._personas:
            c = self._columns
            self._personas[row] = Persona(
                id=c["persona_id"][row],
                name=c["name"][row],
                description=c["description"][row],
                preference_rationale=c["preference_rationale"][row],
            )
        return self._personas[row]

    def _fallback(self, row: int, no_history: bool) -> str | None:
        if row < 0:
            return "unknown-item"
        if no_history:
            return "no-history"
        source = self._source_of[row]
        return None if source == "persona" else source

    def _item_scores(self, vector: np.ndarray, item_id: str) -> dict[str, float]:
        row = self.table.item_row[item_id]
        sims = inner_products_by_row(vector[None, :], self.table.vectors, self.table.entry_rows[row][None, :])[0]
        return dict(zip(self._item_keys[row], sims.tolist()))

    def _explain(self, n: int, cands: Sequence[str], scored: _Scored, no_history: bool) -> list[RankedItem]:
        """The RankedItems of list n, best first, made by one map over the explanation's columns."""
        return list(map(RankedItem, *self._explain_columns(n, cands, scored, no_history)))

    def _explain_columns(self, n: int, cands: Sequence[str], scored: _Scored, no_history: bool) -> list[list]:
        """RankedItem's constructor arguments for list n, one list per argument in rank order. Built column
        by column: each array becomes a Python list in one call and each column is picked in rank order by
        one itemgetter, so the explanation costs little more than the scoring."""
        scores = scored.scores
        ranked = [pos for pos in scored.order[n].tolist() if pos < len(cands)]
        if not ranked:
            return []
        pick = _picker(ranked)
        winners = pick(scores.winner[n].tolist())
        if min(winners) < 0:  # an unknown item: no persona, no key
            personas = [self._persona(r) for r in winners]
            keys = [self._key_of[r] if r >= 0 else None for r in winners]
        else:
            cached = self._personas
            personas = [cached[r] if r in cached else self._persona(r) for r in winners]
            keys = _picker(winners)(self._key_of)
        if no_history:
            fallbacks = ["no-history" if r >= 0 else "unknown-item" for r in winners]
        else:
            fallbacks = [self._source_fallback[r] if r >= 0 else "unknown-item" for r in winners]
        none = [None] * len(ranked)
        return [
            pick(cands),
            pick(scored.final[n].tolist()),
            [pos + 1 for pos in ranked],
            list(range(1, len(ranked) + 1)),
            personas,
            keys,
            none,  # persona_scores: zipped on first read from the two columns at the end
            pick(scores.score[n].tolist()),
            fallbacks,
            none,
            _picker(pick(scored.rows[n].tolist()))(self._item_keys),
            pick(scores.sims[n].tolist()),
        ]


def _picker(positions: list[int]) -> Callable[[Sequence], list]:
    """seq -> [seq[p] for p in positions], done in C (operator.itemgetter returns a bare item for one)."""
    if len(positions) == 1:
        only = positions[0]
        return lambda seq: [seq[only]]
    getter = itemgetter(*positions)
    return lambda seq: list(getter(seq))
