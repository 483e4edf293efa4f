"""Per-user paired significance of a reranker against its first-stage generator.

Both systems are scored on the same users (per-user NDCG@10 by default). We report the paired t-test
(scipy.stats.ttest_rel), the Wilcoxon signed-rank test (scipy.stats.wilcoxon, zero differences dropped:
its default "wilcox" zero method; with every difference zero it is undefined and reported as p = 1), and
a percentile bootstrap CI of the mean difference (treatment - baseline), resampling users with a seed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


@dataclass
class PairedComparison:
    metric: str
    users: int
    baseline_mean: float
    treatment_mean: float
    mean_difference: float        # treatment - baseline
    relative_change: float | None  # mean_difference / baseline_mean (None when the baseline mean is 0)
    t_statistic: float | None
    t_pvalue: float
    wilcoxon_statistic: float | None
    wilcoxon_pvalue: float
    ci_low: float
    ci_high: float
    confidence: float
    bootstrap_samples: int
    wins: int                     # users where treatment > baseline
    losses: int
    ties: int

    def to_dict(self) -> dict:
        return asdict(self)


def bootstrap_mean_ci(differences: np.ndarray, *, samples: int = 10_000, confidence: float = 0.95,
                      seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap CI of the mean of `differences` (users resampled with replacement)."""
    if len(differences) == 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    means = np.empty(samples)
    for start in range(0, samples, 1000):   # chunks keep memory flat for large user counts
        stop = min(samples, start + 1000)
        idx = rng.integers(0, len(differences), size=(stop - start, len(differences)))
        means[start:stop] = differences[idx].mean(axis=1)
    tail = (1.0 - confidence) / 2.0
    return float(np.quantile(means, tail)), float(np.quantile(means, 1.0 - tail))


def paired_comparison(baseline, treatment, *, metric: str = "NDCG@10", samples: int = 10_000,
                      confidence: float = 0.95, seed: int = 0) -> PairedComparison:
    """Compare two aligned arrays of per-user values (same users, same order)."""
    from scipy import stats

    base = np.asarray(baseline, dtype=float)
    treat = np.asarray(treatment, dtype=float)
    if base.shape != treat.shape or base.ndim != 1:
        raise ValueError(f"paired values must be two 1-d arrays of equal length, got {base.shape} and {treat.shape}")
    diff = treat - base
    n = len(diff)
    if n >= 2 and np.any(diff != 0):
        t = stats.ttest_rel(treat, base)
        t_stat, t_p = float(t.statistic), float(t.pvalue)
        w = stats.wilcoxon(treat, base)
        w_stat, w_p = float(w.statistic), float(w.pvalue)
    else:  # identical systems (or one user): no evidence of any difference
        t_stat, t_p, w_stat, w_p = None, 1.0, None, 1.0
    low, high = bootstrap_mean_ci(diff, samples=samples, confidence=confidence, seed=seed)
    base_mean = float(base.mean()) if n else float("nan")
    mean_diff = float(diff.mean()) if n else float("nan")
    return PairedComparison(
        metric=metric, users=n, baseline_mean=base_mean, treatment_mean=float(treat.mean()) if n else float("nan"),
        mean_difference=mean_diff, relative_change=(mean_diff / base_mean) if n and base_mean else None,
        t_statistic=t_stat, t_pvalue=t_p, wilcoxon_statistic=w_stat, wilcoxon_pvalue=w_p,
        ci_low=low, ci_high=high, confidence=confidence, bootstrap_samples=samples,
        wins=int((diff > 0).sum()), losses=int((diff < 0).sum()), ties=int((diff == 0).sum()))


def compare_per_user(baseline_frame, treatment_frame, *, metric: str = "NDCG@10", **kwargs) -> PairedComparison:
    """Paired comparison of two per_user_metrics frames, aligned on user_id (users in both only)."""
    merged = baseline_frame[["user_id", metric]].merge(treatment_frame[["user_id", metric]], on="user_id",
                                                       suffixes=("_baseline", "_treatment"))
    return paired_comparison(merged[f"{metric}_baseline"].to_numpy(), merged[f"{metric}_treatment"].to_numpy(),
                             metric=metric, **kwargs)
