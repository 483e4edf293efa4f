"""Online reranking with explanations: score(u, i) = max over i's personas of <e_u, e_persona>.

    reranker = Reranker.from_workspace(ws, variant="multi")          # once per process
    ranked = reranker.rerank(user_id, candidate_item_ids, split="test")
    ranked[0].persona.description, ranked[0].persona.preference_rationale   # the explanation

The user vector is a decay-weighted sum of cached interaction vectors and the candidates are scored
against the index's padded persona tensor, so a request makes no model call. Optional fusion with the
first-stage score: score = (1 - w) * persona_sim + w * cf_norm, cf_norm the candidate list's CF scores
min-max scaled to [0, 1] (or, without scores, 1 for the first candidate down to 0 for the last);
w = 0 is the paper's method. Items with no personas are scored by their summary vector and flagged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from .encoder.selection import choose_encoder
from .encoder.texts import DEFAULT_PERSONA_TEXT
from .encoder.user import DEFAULT_GAMMA, DEFAULT_HISTORY_LENGTH, UserEncoder
from .errors import ConfigError
from .index.persona_index import PersonaIndex, open_index
from .index.retrieval import retrieve
from .index.scoring import Scores
from .offline.schema import Persona
from .workspace import Workspace

PERSONA_SOURCES = ("persona", "summary-only")


@dataclass
class RankedItem:
    item_id: str
    score: float                  # what the list is sorted by (persona similarity, or the fused score)
    cf_rank: int | None           # 1-based position in the first-stage list (None for retrieval)
    new_rank: int                 # 1-based position after reranking
    persona: Persona | None       # the winning persona; None when the item is scored by its summary
    persona_key: str | None       # f"{item_id}_{persona_id}" of the winning row
    persona_scores: dict[str, float] = field(default_factory=dict)  # every persona of the item -> similarity
    persona_sim: float = 0.0      # max-over-personas similarity (equals score when there is no fusion)
    fallback: str | None = None   # "summary", "summary-fallback", "summary-only", "unknown-item", "no-history"


def normalised_cf(cf_scores: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Row-wise min-max of CF scores over the real candidates (1.0 where a row's scores are all equal)."""
    masked_low = np.where(valid, cf_scores, np.inf).min(axis=1, keepdims=True)
    masked_high = np.where(valid, cf_scores, -np.inf).max(axis=1, keepdims=True)
    span = masked_high - masked_low
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(span > 0, (cf_scores - masked_low) / np.where(span > 0, span, 1), 1.0)
    return np.where(valid, out, 0.0).astype(np.float32)


def positional_cf(lengths: Sequence[int], width: int) -> np.ndarray:
    """CF scores from list order when none are given: 1 for the first candidate, 0 for the last."""
    out = np.zeros((len(lengths), width), dtype=np.float32)
    for n, length in enumerate(lengths):
        out[n, :length] = np.linspace(1.0, 0.0, length) if length > 1 else 1.0
    return out


class Reranker:
    def __init__(self, index: PersonaIndex, users: UserEncoder, fusion_weight: float = 0.0):
        if not 0.0 <= fusion_weight <= 1.0:
            raise ConfigError(f"fusion weight must be in [0, 1], got {fusion_weight}")
        self.index, self.users, self.fusion_weight = index, users, fusion_weight
        self.table = index.table
        entries = index.entries
        self._item_of = entries["item_id"].tolist()
        self._key_of = entries["persona_key"].tolist()
        self._source_of = entries["source"].tolist()
        self._columns = {c: entries[c].tolist() for c in ("persona_id", "name", "description", "preference_rationale")}
        self._personas: dict[int, Persona | None] = {}

    @classmethod
    def from_workspace(cls, ws: Workspace, variant: str = "multi", encoder_dir: str | None = None,
                       gamma: float = DEFAULT_GAMMA, history_length: int = DEFAULT_HISTORY_LENGTH,
                       fusion_weight: float = 0.0, persona_text: str = DEFAULT_PERSONA_TEXT,
                       build: bool = True, progress: bool = False) -> "Reranker":
        """encoder_dir: None (the workspace default: trained if present), "trained", "vanilla" or a path.
        A missing or stale index is built first unless build=False."""
        choice = choose_encoder(ws, encoder_dir)
        index = open_index(ws, variant, choice, persona_text=persona_text, build=build, progress=progress)
        users = UserEncoder.from_workspace(ws, choice, gamma=gamma, history_length=history_length, progress=progress)
        return cls(index, users, fusion_weight)

    def with_options(self, gamma: float | None = None, fusion_weight: float | None = None) -> "Reranker":
        """The same index and caches under another gamma or fusion weight (for tuning, no re-encoding)."""
        users = self.users if gamma is None else self.users.with_gamma(gamma)
        return Reranker(self.index, users, self.fusion_weight if fusion_weight is None else fusion_weight)

    # -- scoring ---------------------------------------------------------------------------------
    def score_many(self, user_ids: Sequence[str], candidate_lists: Sequence[Sequence[str]], split: str = "test",
                   cf_scores: Sequence[Sequence[float]] | None = None) -> tuple[np.ndarray, Scores, np.ndarray]:
        """(final scores (U, C), persona Scores, order (U, C) of candidate positions best first).
        Padding of short lists sorts last."""
        rows = self.table.rows_for(candidate_lists)
        scores = self.table.score(self.users.embed_many(user_ids, split), rows)
        final = scores.score
        if self.fusion_weight > 0:
            lengths = [len(c) for c in candidate_lists]
            valid = np.arange(rows.shape[1])[None, :] < np.asarray(lengths)[:, None]
            if cf_scores is not None:
                cf = np.zeros(rows.shape, dtype=np.float32)
                for n, row in enumerate(cf_scores):
                    cf[n, :len(row)] = row
                cf = normalised_cf(cf, valid)
            else:
                cf = positional_cf(lengths, rows.shape[1])
            # Padding and unknown items score -inf; 0 * -inf is NaN at weight 1.0, so pin them to -inf.
            with np.errstate(invalid="ignore"):
                mixed = (1.0 - self.fusion_weight) * scores.score + self.fusion_weight * cf
            final = np.where(valid & ~np.isnan(mixed), mixed, -np.inf)
        order = np.argsort(-final, axis=1, kind="stable")
        return final, scores, order

    def rank_ids_many(self, user_ids: Sequence[str], candidate_lists: Sequence[Sequence[str]], split: str = "test",
                      cf_scores: Sequence[Sequence[float]] | None = None) -> list[list[str]]:
        """Just the reranked item ids (the fast path evaluation uses)."""
        _, _, order = self.score_many(user_ids, candidate_lists, split, cf_scores)
        return [[cands[p] for p in order[n] if p < len(cands)] for n, cands in enumerate(candidate_lists)]

    def rerank_many(self, user_ids: Sequence[str], candidate_lists: Sequence[Sequence[str]], split: str = "test",
                    cf_scores: Sequence[Sequence[float]] | None = None) -> list[list[RankedItem]]:
        final, scores, order = self.score_many(user_ids, candidate_lists, split, cf_scores)
        no_history = [not self.users.history_rows(u, split) for u in user_ids]
        return [self._explain(n, cands, final, scores, order[n], no_history[n])
                for n, cands in enumerate(candidate_lists)]

    def rerank(self, user_id: str, candidate_item_ids: Sequence[str], split: str = "test",
               cf_scores: Sequence[float] | None = None) -> list[RankedItem]:
        return self.rerank_many([user_id], [list(candidate_item_ids)], split,
                                None if cf_scores is None else [list(cf_scores)])[0]

    def retrieve(self, user_id: str, k: int = 20, split: str = "test") -> list[RankedItem]:
        """Full-catalogue retrieval: the k best unseen items, each explained by its best persona."""
        vector = self.users.embed(user_id, split)
        hits = retrieve(self.index.faiss, self._item_of, self.table.max_personas, vector, k,
                        exclude=self.users.timelines.seen(user_id, split))
        return [RankedItem(item_id=h.item_id, score=h.score, cf_rank=None, new_rank=n + 1,
                           persona=self._persona(h.entry_row), persona_key=self._key_of[h.entry_row],
                           persona_scores=self._item_scores(vector, h.item_id), persona_sim=h.score,
                           fallback=self._fallback(h.entry_row, not vector.any()))
                for n, h in enumerate(hits)]

    # -- explanation -----------------------------------------------------------------------------
    def _persona(self, row: int) -> Persona | None:
        if row < 0 or self._source_of[row] not in PERSONA_SOURCES:
            return None
        if row not in self._personas:
            c = self._columns
            self._personas[row] = Persona(id=c["persona_id"][row], name=c["name"][row],
                                          description=c["description"][row],
                                          preference_rationale=c["preference_rationale"][row])
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

    def _explain(self, n: int, cands: Sequence[str], final: np.ndarray, scores: Scores, order: np.ndarray,
                 no_history: bool) -> list[RankedItem]:
        out = []
        for pos in order:
            if pos >= len(cands):
                continue
            row = int(scores.winner[n, pos])
            slots = scores.entry_rows[n, pos]
            per_persona = {self._key_of[r]: float(s) for r, s in zip(slots, scores.sims[n, pos]) if r >= 0}
            sim = float(scores.score[n, pos])
            out.append(RankedItem(item_id=cands[pos], score=float(final[n, pos]), cf_rank=int(pos) + 1,
                                  new_rank=len(out) + 1, persona=self._persona(row),
                                  persona_key=self._key_of[row] if row >= 0 else None, persona_scores=per_persona,
                                  persona_sim=sim, fallback=self._fallback(row, no_history)))
        return out


# -- tuning on the validation split ---------------------------------------------------------------

def ndcg_at(ranked: Sequence[Sequence[str]], targets: Sequence[str | None], k: int = 10) -> float:
    """Mean NDCG@k of one held-out target per list (1/log2(rank+1), 0 when absent)."""
    total = 0.0
    for items, target in zip(ranked, targets):
        top = list(items[:k])
        if target in top:
            total += 1.0 / np.log2(top.index(target) + 2)
    return total / max(1, len(targets))


def validation_lists(ws: Workspace, generator: str, split: str = "valid"):
    """(user ids, candidate lists, cf scores, targets) of a generator's `split` candidates."""
    from .candidates.generate import load_candidates
    from .encoder.timeline import Timelines
    frame = load_candidates(ws, generator, split)
    timelines = Timelines.from_workspace(ws)
    users, lists, scores, targets = [], [], [], []
    for user, group in frame.groupby("user_id", sort=False):
        target = timelines.target(str(user), split)
        if target is None:
            continue
        users.append(str(user))
        lists.append(group["item_id"].astype(str).tolist())
        scores.append(group["score"].astype(float).tolist())
        targets.append(target)
    return users, lists, scores, targets


def tune_fusion_weight(ws: Workspace, generator: str = "bpr", weights: Sequence[float] = tuple(np.linspace(0, 1, 11)),
                       variant: str = "multi", encoder_dir: str | None = None, gamma: float = DEFAULT_GAMMA,
                       k: int = 10, reranker: Reranker | None = None) -> dict:
    """NDCG@k on the valid split for each fusion weight; returns the best and the whole curve."""
    base = reranker or Reranker.from_workspace(ws, variant, encoder_dir, gamma=gamma)
    users, lists, scores, targets = validation_lists(ws, generator)
    curve = {}
    for weight in weights:
        ranked = base.with_options(fusion_weight=float(weight)).rank_ids_many(users, lists, "valid", scores)
        curve[round(float(weight), 4)] = ndcg_at(ranked, targets, k)
    best = max(curve, key=lambda w: (curve[w], -w))  # ties go to the purer (smaller) weight
    return {"best": best, f"ndcg@{k}": curve, "generator": generator, "variant": variant, "users": len(users),
            "cf_ndcg": ndcg_at(lists, targets, k), "split": "valid"}


def tune_gamma(ws: Workspace, gammas: Sequence[float] = (0.5, 0.7, 0.8, 0.9, 0.95, 1.0), generator: str | None = "bpr",
               variant: str = "multi", encoder_dir: str | None = None, k: int = 10,
               reranker: Reranker | None = None) -> dict:
    """NDCG@k on the valid split for each gamma, reranking `generator`'s candidates; with generator=None
    (or no candidates file) by full-catalogue retrieval instead. Returns the best and the curve."""
    base = reranker or Reranker.from_workspace(ws, variant, encoder_dir)
    source = f"candidates:{generator}"
    if generator and (ws.candidates_dir / f"{generator}.parquet").exists():
        users, lists, scores, targets = validation_lists(ws, generator)
    else:
        source = "retrieval"
        users = [u for u in base.users.timelines.users() if base.users.timelines.target(u, "valid") is not None]
        targets = [base.users.timelines.target(u, "valid") for u in users]
    curve = {}
    for gamma in gammas:
        tuned = base.with_options(gamma=float(gamma))
        if source == "retrieval":
            ranked = [[r.item_id for r in tuned.retrieve(u, k, "valid")] for u in users]
        else:
            ranked = tuned.rank_ids_many(users, lists, "valid", scores)
        curve[round(float(gamma), 4)] = ndcg_at(ranked, targets, k)
    best = max(curve, key=lambda g: (curve[g], g))
    return {"best": best, f"ndcg@{k}": curve, "source": source, "variant": variant, "users": len(users),
            "split": "valid"}
