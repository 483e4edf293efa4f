"""Online reranking with explanations: score(u, i) = max over i's personas of <e_u, e_persona>.

    reranker = Reranker.from_workspace(ws)                            # the workspace's tuned serving config
    ranked = reranker.rerank(user_id, candidate_item_ids, split="test", cf_scores=scores)
    ranked[0].persona.description, ranked[0].persona.preference_rationale   # the explanation

The user vector is a decay-weighted sum of cached interaction vectors and the candidates are scored
against the index's padded persona tensor, so a request makes no model call. A `ServingConfig` says how
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
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .data.split import HISTORY_LENGTH
from .encoder.selection import choose_encoder
from .encoder.user import DEFAULT_GAMMA, UserEncoder
from .errors import ConfigError, WorkspaceError
from .index.persona_index import PersonaIndex, open_index
from .index.retrieval import retrieve
from .index.scoring import Scores
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
class RankedItem:
    item_id: str
    score: float  # what the list is sorted by (persona similarity, fused or learned score)
    cf_rank: int | None  # 1-based position in the first-stage list (None for retrieval)
    new_rank: int  # 1-based position after reranking
    persona: Persona | None  # the winning persona; None when the item is scored by its summary
    persona_key: str | None  # f"{item_id}_{persona_id}" of the winning row
    persona_scores: dict[str, float] = field(default_factory=dict)  # every persona of the item -> similarity
    persona_sim: float = 0.0  # max-over-personas similarity (equals score when there is no fusion)
    fallback: str | None = None  # "summary", "summary-fallback", "summary-only", "unknown-item", "no-history"
    # With a learned ranker: the features that moved this item most, as (feature, value, contribution
    # to its score), largest |contribution| first (LightGBM's per-feature SHAP values).
    contributions: list[tuple[str, float, float]] = field(default_factory=list)


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
        final, scores, order, _ = self._score(user_ids, candidate_lists, split, cf_scores)
        return final, scores, order

    def _score(self, user_ids, candidate_lists, split, cf_scores):
        """score_many, plus the learned ranker's features when it ordered the list (else None)."""
        user_vectors = self.users.embed_many(user_ids, split)
        rows = self.table.rows_for(candidate_lists)
        scores = self.table.score(user_vectors, rows)
        lengths = np.asarray([len(c) for c in candidate_lists])
        valid = np.arange(rows.shape[1])[None, :] < lengths[:, None]
        cf = padded_scores(cf_scores, rows.shape) if cf_scores is not None else None
        features = None
        if self.ranker is not None and cf is not None:
            features = self.features(user_ids, candidate_lists, split, cf, scores, user_vectors)
            final = np.where(valid, self.ranker.predict(features, lengths), -np.inf)
        elif self.fusion_weight > 0:
            scaled = normalised_cf(cf, valid) if cf is not None else positional_cf(lengths, rows.shape[1])
            # Padding and unknown items score -inf; 0 * -inf is NaN at weight 1.0, so pin them to -inf.
            with np.errstate(invalid="ignore"):
                mixed = (1.0 - self.fusion_weight) * scores.score + self.fusion_weight * scaled
            final = np.where(valid & ~np.isnan(mixed), mixed, -np.inf)
        else:
            final = scores.score
        order = np.argsort(-final, axis=1, kind="stable")
        return final, scores, order, features

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
        _, _, order = self.score_many(user_ids, candidate_lists, split, cf_scores)
        return [[cands[p] for p in order[n] if p < len(cands)] for n, cands in enumerate(candidate_lists)]

    def rerank_many(
        self,
        user_ids: Sequence[str],
        candidate_lists: Sequence[Sequence[str]],
        split: str = "test",
        cf_scores: Sequence[Sequence[float]] | None = None,
    ) -> list[list[RankedItem]]:
        final, scores, order, features = self._score(user_ids, candidate_lists, split, cf_scores)
        no_history = [not self.users.history_rows(u, split) for u in user_ids]
        out = []
        for n, cands in enumerate(candidate_lists):
            ranked = self._explain(n, cands, final, scores, order[n], no_history[n])
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
    ) -> list[RankedItem]:
        return self.rerank_many(
            [user_id], [list(candidate_item_ids)], split, None if cf_scores is None else [list(cf_scores)]
        )[0]

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
        rows = self.table.entry_rows[row][self.table.mask[row]]
        sims = self.table.tensor[row][self.table.mask[row]] @ vector
        return {self._key_of[r]: float(s) for r, s in zip(rows, sims)}

    def _explain(
        self, n: int, cands: Sequence[str], final: np.ndarray, scores: Scores, order: np.ndarray, no_history: bool
    ) -> list[RankedItem]:
        out = []
        for pos in order:
            if pos >= len(cands):
                continue
            row = int(scores.winner[n, pos])
            slots = scores.entry_rows[n, pos]
            per_persona = {self._key_of[r]: float(s) for r, s in zip(slots, scores.sims[n, pos]) if r >= 0}
            sim = float(scores.score[n, pos])
            out.append(
                RankedItem(
                    item_id=cands[pos],
                    score=float(final[n, pos]),
                    cf_rank=int(pos) + 1,
                    new_rank=len(out) + 1,
                    persona=self._persona(row),
                    persona_key=self._key_of[row] if row >= 0 else None,
                    persona_scores=per_persona,
                    persona_sim=sim,
                    fallback=self._fallback(row, no_history),
                )
            )
        return out
