"""Multiple-testing corrections and the BCa bootstrap CI against hand-computed cases and direct scipy calls."""

from __future__ import annotations

import inspect
import math
import warnings

import numpy as np
import pytest

from persona4rec.evaluation.significance import (
    PairedComparison,
    benjamini_hochberg,
    bootstrap_mean_ci,
    correct_pvalues,
    holm,
    paired_comparison,
)

# p = [0.01, 0.04, 0.03, 0.005], m = 4; sorted: 0.005 (#3), 0.01 (#0), 0.03 (#2), 0.04 (#1).
# Holm, (m - i + 1) * p_(i): 4*0.005 = 0.02, 3*0.01 = 0.03, 2*0.03 = 0.06, 1*0.04 = 0.04;
#   running max -> 0.02, 0.03, 0.06, 0.06; back in input order -> [0.03, 0.06, 0.06, 0.02].
# BH, m / i * p_(i): 4/1*0.005 = 0.02, 4/2*0.01 = 0.02, 4/3*0.03 = 0.04, 4/4*0.04 = 0.04;
#   running min from the top -> 0.02, 0.02, 0.04, 0.04; in input order -> [0.02, 0.04, 0.04, 0.02].
P = [0.01, 0.04, 0.03, 0.005]
HOLM = [0.03, 0.06, 0.06, 0.02]
BH = [0.02, 0.04, 0.04, 0.02]


def _rng_kw() -> str:
    from scipy import stats

    return "rng" if "rng" in inspect.signature(stats.bootstrap).parameters else "random_state"


# -- corrections ----------------------------------------------------------------------------------
def test_holm_and_bh_match_the_hand_computed_values_in_input_order():
    assert holm(P) == pytest.approx(HOLM)
    assert benjamini_hochberg(P) == pytest.approx(BH)
    assert correct_pvalues(P, "holm") == pytest.approx(HOLM)
    assert correct_pvalues(P, "bh") == pytest.approx(BH)
    assert isinstance(holm(P), np.ndarray) and isinstance(benjamini_hochberg(tuple(P)), np.ndarray)


def test_bh_matches_scipy_false_discovery_control():
    from scipy import stats

    p = np.random.default_rng(0).uniform(0, 0.2, size=37)
    assert benjamini_hochberg(p) == pytest.approx(stats.false_discovery_control(p))


def test_missing_pvalues_stay_nan_and_are_not_counted():
    # m = 4 real tests, not 6: counting the gaps would make Holm's smallest 6 * 0.005 = 0.03, not 0.02
    p = [0.01, None, 0.04, float("nan"), 0.03, 0.005]
    for correct, expected in ((holm, HOLM), (benjamini_hochberg, BH)):
        out = correct(p)
        assert out.shape == (6,) and math.isnan(out[1]) and math.isnan(out[3])
        assert out[[0, 2, 4, 5]] == pytest.approx(expected)
    assert np.isnan(holm([None, np.nan])).all() and holm([]).shape == (0,)
    assert holm([0.2]) == pytest.approx([0.2]) and benjamini_hochberg([0.2]) == pytest.approx([0.2])


def test_adjusted_values_are_monotone_at_least_raw_and_clipped_at_one():
    rng = np.random.default_rng(7)
    for _ in range(20):
        p = rng.uniform(0, 1, size=rng.integers(1, 30)) ** 2
        order = np.argsort(p)
        h, b = holm(p), benjamini_hochberg(p)
        for adjusted in (h, b):
            assert np.all(np.diff(adjusted[order]) >= -1e-15)  # order of the raw p-values is kept
            assert np.all(adjusted >= p - 1e-15) and np.all(adjusted <= 1.0)
        assert np.all(h >= b - 1e-15)  # Holm (FWER) is the stricter one
    assert holm([0.6, 0.9]) == pytest.approx([1.0, 1.0])  # 2 * 0.6 = 1.2 -> 1
    assert benjamini_hochberg([0.6, 0.9]) == pytest.approx([0.9, 0.9])


def test_bad_input_is_refused_clearly():
    with pytest.raises(ValueError, match="unknown p-value correction 'bonferroni'"):
        correct_pvalues(P, "bonferroni")
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        holm([0.5, 1.5])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        benjamini_hochberg([-0.1])


# -- BCa bootstrap CI -----------------------------------------------------------------------------
SKEWED = np.random.default_rng(3).exponential(size=40) - 0.5


def test_bca_interval_contains_the_mean_and_equals_a_direct_scipy_call():
    from scipy import stats

    low, high = bootstrap_mean_ci(SKEWED, samples=4000, confidence=0.9, seed=11)
    assert low < SKEWED.mean() < high
    direct = stats.bootstrap(
        (SKEWED,),
        np.mean,
        method="BCa",
        n_resamples=4000,
        confidence_level=0.9,
        vectorized=True,
        **{_rng_kw(): np.random.default_rng(11)},
    )
    assert (low, high) == pytest.approx((direct.confidence_interval.low, direct.confidence_interval.high), rel=1e-12)
    assert bootstrap_mean_ci(SKEWED, samples=4000, confidence=0.9, seed=11) == (low, high)  # seeded


def test_bca_differs_from_the_percentile_interval_on_a_skewed_sample():
    from scipy import stats

    low, high = bootstrap_mean_ci(SKEWED, samples=4000, seed=5)
    pct = stats.bootstrap(
        (SKEWED,),
        np.mean,
        method="percentile",
        n_resamples=4000,
        vectorized=True,
        **{_rng_kw(): np.random.default_rng(5)},
    ).confidence_interval
    # same resamples, so the gap is BCa's bias/skew correction; right skew moves both bounds up
    assert low > pct.low + 1e-4 and high > pct.high + 1e-4


def test_degenerate_samples_give_points_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert all(math.isnan(v) for v in bootstrap_mean_ci(np.array([]), samples=100))
        assert bootstrap_mean_ci(np.array([0.25]), samples=100) == (0.25, 0.25)
        assert bootstrap_mean_ci(np.full(50, -0.1), samples=100) == (-0.1, -0.1)
        assert bootstrap_mean_ci(np.zeros(10), samples=100) == (0.0, 0.0)


def test_nan_bca_bounds_fall_back_to_the_percentile_interval_of_the_same_resamples():
    from scipy import stats

    x = np.array([0.0, 0.0, 0.1, 0.9])
    # with 3 resamples, some seed puts every bootstrap mean on one side of the sample mean: z0 = +-inf
    for seed in range(200):
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            direct = stats.bootstrap(
                (x,), np.mean, method="BCa", n_resamples=3, vectorized=True, **{_rng_kw(): np.random.default_rng(seed)}
            )
        if np.isnan(direct.confidence_interval.low):
            break
    else:
        pytest.skip("no seed made scipy's BCa degenerate")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        low, high = bootstrap_mean_ci(x, samples=3, seed=seed)
    means = direct.bootstrap_distribution
    assert (low, high) == pytest.approx((np.quantile(means, 0.025), np.quantile(means, 0.975)))
    result = paired_comparison(np.zeros(4), x, samples=3, seed=seed)
    assert result.ci_method == "percentile" and (result.ci_low, result.ci_high) == (low, high)


# -- paired comparison ----------------------------------------------------------------------------
def test_paired_comparison_reports_a_bca_interval():
    rng = np.random.default_rng(4)
    base = rng.uniform(0, 0.4, size=150)
    treat = np.clip(base + rng.exponential(0.05, size=150) - 0.02, 0, 1)
    result = paired_comparison(base, treat, samples=2000, seed=1)
    assert result.ci_method == "BCa" and result.to_dict()["ci_method"] == "BCa"
    assert result.ci_low < result.mean_difference < result.ci_high
    assert (result.ci_low, result.ci_high) == bootstrap_mean_ci(treat - base, samples=2000, seed=1)
    assert result.mean_difference == pytest.approx(np.mean(treat - base)) and result.users == 150
    same = paired_comparison(base, base, samples=200)
    assert same.ci_method == "degenerate" and (same.ci_low, same.ci_high) == (0.0, 0.0)
    one = paired_comparison([0.2], [0.5], samples=200)
    assert one.ci_low == one.ci_high == pytest.approx(0.3) and one.t_pvalue == 1.0


def test_old_constructor_calls_keep_working():
    old = PairedComparison("NDCG@10", 2, 0.1, 0.2, 0.1, 1.0, None, 1.0, None, 1.0, 0.0, 0.2, 0.95, 100, 1, 0, 1)
    assert old.ci_method == "BCa" and list(old.to_dict())[-1] == "ci_method"
