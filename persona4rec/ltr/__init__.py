"""Learned fusion (learning-to-rank) of persona evidence with the first-stage CF signal.

    X = candidate_features(sims=scores.sims, cf_scores=cf, lengths=lengths, item_popularity=pop,
                           history_lengths=hist)                        # (U, C, len(FEATURES))
    ranker, report = tune_and_fit(X, lengths, target_positions)          # on the VALID split
    ranker.save(path); LearnedRanker.load(path).predict(X_test, lengths_test)

numpy + lightgbm only (lightgbm imported lazily), so the package imports without torch.
"""

from .features import CF_FEATURES, FEATURES, PERSONA_FEATURES, candidate_features, feature_index
from .fit import cross_validate, default_grid, fit_ranker, ndcg_at_10, tune_and_fit
from .model import LearnedRanker, LearnedRankerConfig

__all__ = [
    "CF_FEATURES",
    "FEATURES",
    "PERSONA_FEATURES",
    "LearnedRanker",
    "LearnedRankerConfig",
    "candidate_features",
    "cross_validate",
    "default_grid",
    "feature_index",
    "fit_ranker",
    "ndcg_at_10",
    "tune_and_fit",
]
