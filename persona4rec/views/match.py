"""Why a persona matches a user: the user's own history entries nearest to the winning persona.

The match score is <e_u, e_π> with e_u = normalise(sum_l w_l x_l), x_l the cached vectors of the profile's
interactions (summary + aspects, as the user vector is built) and w_l = gamma^(l-1). It therefore splits
exactly into one share per profile item, w_l <x_l, e_π> / ||sum_l w_l x_l||: the shares add up to the
similarity the reranker shows. Inside those items, the review's sentences and the kept aspect values are
embedded with the same encoder, as user-side text (role "query"), and compared with the same persona
vector: the user's own words nearest the persona, beside the persona's description on the page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from ..data.schema import review_key
from ..embedding import QUERY, decay_weights, encode
from ..encoder.selection import choose_encoder
from ..offline.schema import ASPECT_SLOTS
from ..offline.text import as_text, sentences
from ..workspace import Workspace
from .catalogue import Catalogue

if TYPE_CHECKING:
    import pandas as pd

    from ..rerank import Reranker

ITEM, SENTENCE, ASPECT = "item", "review sentence", "aspect"
SENTENCE_MIN_WORDS = 3  # shorter pieces ("Five stars.") say nothing a persona could match


@dataclass(frozen=True)
class MatchEntry:
    kind: str  # ITEM, SENTENCE or ASPECT
    item_id: str
    title: str
    text: str  # the item's title, the sentence, or the aspect value
    similarity: float  # cosine to the persona's vector
    share: float | None = None  # items: the part of the match score this interaction contributes
    weight: float | None = None  # items: its decay weight in the user vector (1 for the newest)
    slot: str = ""  # aspects: which of the four slots


@dataclass
class PersonaMatch:
    """Both sides of one match: the persona and the user's profile entries ordered by closeness to it."""

    persona_key: str
    score: float  # <e_u, e_π>: what the reranker shows as the persona's similarity
    items: list[MatchEntry] = field(default_factory=list)  # largest share first
    sentences: list[MatchEntry] = field(default_factory=list)  # most similar first
    aspects: list[MatchEntry] = field(default_factory=list)


def persona_vector(reranker: Reranker, persona_key: str) -> np.ndarray:
    """The index vector of one persona (f"{item_id}_{persona_id}"), as the reranker scores it."""
    keys = reranker.index.entries["persona_key"].tolist()
    if persona_key not in keys:
        raise KeyError(f"persona {persona_key!r} is not in the {reranker.index.variant} index")
    return np.asarray(reranker.index.vectors[keys.index(persona_key)], dtype=np.float32)


def _unit(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else vector


def persona_match(
    reranker: Reranker,
    cat: Catalogue,
    user_id: str,
    persona_key: str,
    split: str = "test",
    top: int = 5,
) -> PersonaMatch:
    """The user's profile (the interactions their `split` vector is made of) against one persona: every
    profile item with its share of the score, and the `top` review sentences and aspect values nearest it."""
    target = persona_vector(reranker, persona_key)
    unit_target = _unit(target)
    users = reranker.users
    history = users.timelines.history(user_id, split, users.history_length)
    profile = [(i, users.key_rows[review_key(user_id, i)]) for i in history if review_key(user_id, i) in users.key_rows]
    if not profile:
        return PersonaMatch(persona_key, 0.0)
    vectors = users.vectors.take([row for _, row in profile], axis=0).astype(np.float64)
    weights = decay_weights(len(profile), users.gamma).astype(np.float64)
    norm = float(np.linalg.norm(weights @ vectors))
    shares = weights * (vectors @ target) / norm if norm > 0 else np.zeros(len(profile))
    cosines = (vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)) @ unit_target
    items = [
        MatchEntry(ITEM, item_id, cat.title(item_id), cat.title(item_id), float(cos), float(share), float(w))
        for (item_id, _), cos, share, w in zip(profile, cosines, shares, weights)
    ]
    items.sort(key=lambda e: -(e.share or 0.0))
    texts = _profile_texts(cat, user_id, [item_id for item_id, _ in profile])
    sims = _similarities([e.text for e in texts], unit_target, Workspace(cat.root), reranker.config.encoder)
    scored = [MatchEntry(e.kind, e.item_id, e.title, e.text, float(s), slot=e.slot) for e, s in zip(texts, sims)]
    scored.sort(key=lambda e: -e.similarity)
    return PersonaMatch(
        persona_key,
        float(shares.sum()),
        items,
        [e for e in scored if e.kind == SENTENCE][:top],
        [e for e in scored if e.kind == ASPECT][:top],
    )


def _profile_texts(cat: Catalogue, user_id: str, item_ids: list[str]) -> list[MatchEntry]:
    """The review sentences (title included) and kept aspect values of the user's profile items, each once
    per item (similarity not yet known)."""
    frame = cat.interactions
    rows = frame[(frame["user_id"] == user_id) & (frame["item_id"].isin(item_ids))]
    reviews = {str(r.item_id): (as_text(r.title), as_text(r.text)) for r in rows.itertuples(index=False)}
    out = []
    for item_id in item_ids:
        title = cat.title(item_id)
        review_title, text = reviews.get(item_id, ("", ""))
        found = sentences(review_title, SENTENCE_MIN_WORDS) + sentences(text, SENTENCE_MIN_WORDS)
        out += [MatchEntry(SENTENCE, item_id, title, s, 0.0) for s in dict.fromkeys(found)]
        record = cat.aspects_of(user_id, item_id)
        if record is not None and record.kept:
            for slot in ASPECT_SLOTS:
                value = getattr(record.aspects, slot)
                if value:
                    out.append(MatchEntry(ASPECT, item_id, title, value, 0.0, slot=slot))
    return out


def _similarities(texts: list[str], unit_target: np.ndarray, ws: Workspace, encoder: str | None) -> np.ndarray:
    """Cosine of each text, embedded as user-side text by the encoder the reranker serves with, to the
    persona (whose vector came from the same encoder's document side)."""
    if not texts:
        return np.zeros(0)
    vectors = encode(texts, choose_encoder(ws, encoder).model, role=QUERY)
    return vectors @ unit_target


def match_frame(entries: list[MatchEntry]) -> pd.DataFrame:
    """One row per entry for the page: what it is, its text, its similarity (and share, for items)."""
    import pandas as pd

    rows = [
        {
            "title": e.title,
            "text": e.text,
            "slot": e.slot.replace("_", " "),
            "similarity": round(e.similarity, 4),
            "share": None if e.share is None else round(e.share, 4),
            "weight": None if e.weight is None else round(e.weight, 4),
            "item_id": e.item_id,
        }
        for e in entries
    ]
    columns = ["title", "text", "slot", "similarity", "share", "weight", "item_id"]
    frame = pd.DataFrame(rows, columns=columns)
    kinds = {e.kind for e in entries}
    drop = [c for c, keep in (("text", kinds != {ITEM}), ("slot", ASPECT in kinds)) if not keep]
    if kinds and ITEM not in kinds:
        drop += ["share", "weight"]
    return frame.drop(columns=drop)
