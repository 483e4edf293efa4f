"""What a learned ranker reads beside the persona scores, and the feature tensor of candidate lists.

    inputs = FeatureInputs.from_workspace(ws, choice)       # the item-summary index and train popularity
    X = inputs.features(candidate_lists, cf, sims, user_vectors, history_lengths)   # (U, C, len(FEATURES))

The reranker computes features with it online (Reranker.features) and tuning for the VALID lists it fits
on, so a ranker is trained on exactly the features it is served. Workspace reads are imported lazily: the
ltr package itself stays numpy + lightgbm.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..offline.persona_text import DEFAULT_PERSONA_TEXT
from .features import candidate_features


@dataclass
class FeatureInputs:
    """The item-summary vectors (same encoder as the persona index) and each item's train-split
    interaction count."""

    summary: Any  # PaddedPersonaTable of the summary index, or None
    popularity: dict[str, int]

    @classmethod
    def from_workspace(cls, ws, choice, persona_text: str = DEFAULT_PERSONA_TEXT, build: bool = True) -> FeatureInputs:
        from ..candidates.generate import read_split
        from ..index.persona_index import open_index

        split = read_split(ws)
        train = split[split["split"] == "train"]
        popularity = train["item_id"].astype(str).value_counts().to_dict()
        summary = open_index(ws, "summary", choice, persona_text=persona_text, build=build).table
        return cls(summary=summary, popularity={str(k): int(v) for k, v in popularity.items()})

    def features(
        self,
        candidate_lists: Sequence[Sequence[str]],
        cf: np.ndarray,
        sims: np.ndarray,
        user_vectors: np.ndarray,
        history_lengths: np.ndarray,
    ) -> np.ndarray:
        """(U, C, F) features in FEATURES order: cf (U, C) padded CF scores, sims (U, C, P) the persona
        similarities of the lists, user_vectors (U, d), history_lengths (U,) interactions each user has."""
        popularity = np.zeros(cf.shape, dtype=np.float32)
        for n, cands in enumerate(candidate_lists):
            popularity[n, : len(cands)] = [self.popularity.get(i, 0) for i in cands]
        return candidate_features(
            sims=sims,
            cf_scores=cf,
            lengths=np.asarray([len(c) for c in candidate_lists]),
            item_popularity=popularity,
            history_lengths=history_lengths,
            summary_sims=self.summary_similarities(candidate_lists, user_vectors),
        )

    def summary_similarities(self, candidate_lists: Sequence[Sequence[str]], user_vectors: np.ndarray):
        """(U, C) <e_u, E(summary of the candidate)>, NaN where an item has no summary; None without an index."""
        if self.summary is None:
            return None
        summary = self.summary
        rows = summary.rows_for(candidate_lists)
        vectors = summary.tensor[rows][:, :, 0, :]  # one summary per item
        sims = np.einsum("ucd,ud->uc", vectors, user_vectors).astype(np.float32)
        sims[~summary.mask[rows][:, :, 0]] = np.nan
        return sims
