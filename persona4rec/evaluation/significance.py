"""Per-user paired significance of a reranker against its first-stage generator.

Both systems are scored on the same users (per-user NDCG@10 by default). We report the paired t-test
(scipy.stats.ttest_rel), the Wilcoxon signed-rank test (scipy.stats.wilcoxon, zero differences dropped:
its default "wilcox" zero method; with every difference zero it is undefined and reported as p = 1), and
a BCa (bias-corrected and accelerated) bootstrap CI of the mean difference (treatment - baseline),
resampling users with a seed (scipy.stats.bootstrap). BCa rather than the plain percentile interval
because per-user NDCG differences are skewed and zero-heavy: BCa corrects the interval for the bias and
skew of the bootstrap distribution, which the percentile interval takes at face value.

A benchmark makes many such comparisons (rerankers x datasets x segments), so a raw p < 0.05 is not a
finding: `holm` (family-wise error) and `benjamini_hochberg` (false discovery rate) adjust a family of
p-values; `correct_pvalues` picks one by name.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np


@dataclass
class PairedComparison:
    metric: str
    users: int
    baseline_mean: float
    treatment_mean: float
    mean_difference: float  # treatment - baseline
    relative_change: float | None  # mean_difference / baseline_mean (None when the baseline mean is 0)
    t_statistic: float | None
    t_pvalue: float
    wilcoxon_statistic: float | None
    wilcoxon_pvalue: float
    ci_low: float
    ci_high: float
    confidence: float
    bootstrap_samples: int
    wins: int  # users where treatment > baseline
    losses: int
    ties: int
    ci_method: str = "BCa"  # "percentile" when BCa came out NaN, "degenerate" for a point/empty CI

    def to_dict(self) -> dict:
        return asdict(self)


# -- multiple-testing corrections ----------------------------------------------------------------
def _valid_pvalues(pvalues) -> tuple[np.ndarray, np.ndarray]:
    """p-values as floats (None -> NaN) and the mask of real ones: missing tests are not part of m."""
    p = np.array([np.nan if v is None else v for v in pvalues], dtype=float).reshape(-1)
    mask = ~np.isnan(p)
    if np.any((p[mask] < 0) | (p[mask] > 1)):
        raise ValueError(f"p-values must lie in [0, 1], got {p[mask][(p[mask] < 0) | (p[mask] > 1)].tolist()}")
    return p, mask


def holm(pvalues: Sequence[float | None]) -> np.ndarray:
    """Holm-Bonferroni step-down adjusted p-values, in input order (NaN/None stay NaN, not counted in m).

    Sorted ascending, p_(i) is scaled by (m - i + 1) and a running maximum keeps the adjusted values
    monotone, so rejecting "adjusted <= alpha" controls the family-wise error rate at alpha.
    """
    p, mask = _valid_pvalues(pvalues)
    out = np.full(p.shape, np.nan)
    m = int(mask.sum())
    if m:
        order = np.argsort(p[mask], kind="stable")
        scaled = (m - np.arange(m)) * p[mask][order]
        adjusted = np.empty(m)
        adjusted[order] = np.minimum(np.maximum.accumulate(scaled), 1.0)
        out[mask] = adjusted
    return out


def benjamini_hochberg(pvalues: Sequence[float | None]) -> np.ndarray:
    """Benjamini-Hochberg step-up adjusted p-values (q-values), in input order (NaN/None stay NaN, not in m).

    Sorted ascending, p_(i) is scaled by m / i and a running minimum from the largest down keeps them
    monotone, so rejecting "adjusted <= q" controls the false discovery rate at q (for independent or
    positively dependent tests; Holm needs no such assumption).
    """
    p, mask = _valid_pvalues(pvalues)
    out = np.full(p.shape, np.nan)
    m = int(mask.sum())
    if m:
        order = np.argsort(p[mask], kind="stable")
        scaled = m / np.arange(1, m + 1) * p[mask][order]
        adjusted = np.empty(m)
        adjusted[order] = np.minimum(np.minimum.accumulate(scaled[::-1])[::-1], 1.0)
        out[mask] = adjusted
    return out


CORRECTIONS = {"holm": holm, "bh": benjamini_hochberg}


def correct_pvalues(pvalues: Sequence[float | None], method: str) -> np.ndarray:
    """Adjust a family of p-values by name: "holm" (family-wise error) or "bh" (false discovery rate)."""
    if method not in CORRECTIONS:
        raise ValueError(f"unknown p-value correction {method!r}: expected one of {sorted(CORRECTIONS)}")
    return CORRECTIONS[method](pvalues)


# -- bootstrap CI ---------------------------------------------------------------------------------
def _rng_keyword() -> str:
    """scipy >= 1.15 names the bootstrap generator `rng` (`random_state` is the legacy alias)."""
    from scipy import stats

    return "rng" if "rng" in inspect.signature(stats.bootstrap).parameters else "random_state"


def _bootstrap_ci(differences, *, samples: int, confidence: float, seed: int) -> tuple[float, float, str]:
    """(low, high, method actually used) of the BCa CI of the mean; see bootstrap_mean_ci."""
    from scipy import stats

    diff = np.asarray(differences, dtype=float).reshape(-1)
    if len(diff) == 0:
        return float("nan"), float("nan"), "degenerate"
    if len(diff) == 1 or np.all(diff == diff[0]):  # no spread: BCa's acceleration is 0/0, the CI is a point
        value = float(diff[0])  # not diff.mean(): summing n copies of 0.1 need not give back 0.1
        return value, value, "degenerate"
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", getattr(stats, "DegenerateDataWarning", RuntimeWarning))
        res = stats.bootstrap(
            (diff,),
            np.mean,
            method="BCa",
            n_resamples=samples,
            confidence_level=confidence,
            vectorized=True,
            batch=1000,  # batches keep memory flat for large user counts
            **{_rng_keyword(): np.random.default_rng(seed)},
        )
    low, high = float(res.confidence_interval.low), float(res.confidence_interval.high)
    if np.isnan(low) or np.isnan(high):  # BCa broke down (z0 infinite): same resamples, percentile interval
        tail = (1.0 - confidence) / 2.0
        means = np.asarray(res.bootstrap_distribution, dtype=float)
        return float(np.quantile(means, tail)), float(np.quantile(means, 1.0 - tail)), "percentile"
    return low, high, "BCa"


def bootstrap_mean_ci(
    differences: np.ndarray, *, samples: int = 10_000, confidence: float = 0.95, seed: int = 0
) -> tuple[float, float]:
    """BCa bootstrap CI of the mean of `differences` (users resampled with replacement, seeded).

    Degenerate input gets no resampling: empty -> (NaN, NaN); one user or all differences equal ->
    (value, value). If scipy's BCa bounds come out NaN, the percentile interval of the same resamples.
    """
    low, high, _ = _bootstrap_ci(differences, samples=samples, confidence=confidence, seed=seed)
    return low, high


def paired_comparison(
    baseline, treatment, *, metric: str = "NDCG@10", samples: int = 10_000, confidence: float = 0.95, seed: int = 0
) -> PairedComparison:
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
    low, high, ci_method = _bootstrap_ci(diff, samples=samples, confidence=confidence, seed=seed)
    base_mean = float(base.mean()) if n else float("nan")
    mean_diff = float(diff.mean()) if n else float("nan")
    return PairedComparison(
        metric=metric,
        users=n,
        baseline_mean=base_mean,
        treatment_mean=float(treat.mean()) if n else float("nan"),
        mean_difference=mean_diff,
        relative_change=(mean_diff / base_mean) if n and base_mean else None,
        t_statistic=t_stat,
        t_pvalue=t_p,
        wilcoxon_statistic=w_stat,
        wilcoxon_pvalue=w_p,
        ci_low=low,
        ci_high=high,
        confidence=confidence,
        bootstrap_samples=samples,
        wins=int((diff > 0).sum()),
        losses=int((diff < 0).sum()),
        ties=int((diff == 0).sum()),
        ci_method=ci_method,
    )


def compare_per_user(baseline_frame, treatment_frame, *, metric: str = "NDCG@10", **kwargs) -> PairedComparison:
    """Paired comparison of two per_user_metrics frames, aligned on user_id (users in both only)."""
    merged = baseline_frame[["user_id", metric]].merge(
        treatment_frame[["user_id", metric]], on="user_id", suffixes=("_baseline", "_treatment")
    )
    return paired_comparison(
        merged[f"{metric}_baseline"].to_numpy(), merged[f"{metric}_treatment"].to_numpy(), metric=metric, **kwargs
    )
