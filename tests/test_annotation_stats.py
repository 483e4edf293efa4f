"""The study statistics against hand-computed and published worked examples."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from persona4rec.annotation.criteria import EXPLANATION_CRITERIA
from persona4rec.annotation.stats import (
    criteria_results,
    criterion_result,
    fleiss_kappa,
    krippendorff_alpha_nominal,
    sign_test,
    wilson_interval,
)


def test_wilson_interval_matches_hand_computation():
    # 8/10 at 95%: p=0.8, z=1.959964; centre=(0.8+z²/20)/(1+z²/10), half=z*sqrt(0.016+z²/400)/(1+z²/10)
    low, high = wilson_interval(8, 10)
    assert low == pytest.approx(0.4902, abs=5e-5)
    assert high == pytest.approx(0.9433, abs=5e-5)
    # the interval stays inside [0, 1] at the edges, where the Wald interval collapses to a point
    assert wilson_interval(0, 10)[0] == 0.0 and wilson_interval(0, 10)[1] == pytest.approx(0.2775, abs=5e-5)
    assert wilson_interval(10, 10)[1] == pytest.approx(1.0)
    assert all(math.isnan(x) for x in wilson_interval(0, 0))


def test_sign_test_is_the_exact_two_sided_binomial():
    # P(X >= 7 | n=10, p=1/2) = (120 + 45 + 10 + 1) / 1024 = 176/1024; two-sided doubles it
    assert sign_test(7, 3) == pytest.approx(float(Fraction(352, 1024)))
    assert sign_test(3, 7) == pytest.approx(float(Fraction(352, 1024)))
    # 10 of 10: 2 / 1024
    assert sign_test(10, 0) == pytest.approx(2 / 1024)
    assert sign_test(5, 5) == pytest.approx(1.0)
    assert sign_test(0, 0) == 1.0


# Wikipedia, "Fleiss' kappa", worked example: 10 subjects, 14 raters each, 5 categories -> kappa = 0.210.
WIKIPEDIA_FLEISS = [
    [0, 0, 0, 0, 14],
    [0, 2, 6, 4, 2],
    [0, 0, 3, 5, 6],
    [0, 3, 9, 2, 0],
    [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0],
    [3, 2, 6, 3, 0],
    [2, 5, 3, 2, 2],
    [6, 5, 2, 1, 0],
    [0, 2, 2, 3, 7],
]


def test_fleiss_kappa_reproduces_the_published_example():
    assert fleiss_kappa(WIKIPEDIA_FLEISS) == pytest.approx(0.20993, abs=5e-5)


def test_fleiss_kappa_edge_cases():
    assert fleiss_kappa([[3, 0, 0], [0, 3, 0], [0, 0, 3]]) == pytest.approx(1.0)
    # two raters who always disagree, split evenly: P_bar = 0, P_e = 1/2 -> kappa = -1
    assert fleiss_kappa([[1, 1, 0], [1, 1, 0]]) == pytest.approx(-1.0)
    assert math.isnan(fleiss_kappa([[3, 0, 0], [3, 0, 0]]))  # one category only: undefined
    assert math.isnan(fleiss_kappa([[1, 0, 0]]))  # nothing pairable
    assert fleiss_kappa([[1, 0, 0]] + WIKIPEDIA_FLEISS) == pytest.approx(0.20993, abs=5e-5)  # skipped


# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", the 4 coders x 12 units example with
# missing values; nominal alpha = 0.743. Units listed as the values they received.
KRIPPENDORFF_UNITS = [
    [1, 1, 1],
    [2, 2, 3, 2],
    [3, 3, 3, 3],
    [3, 3, 3, 3],
    [2, 2, 2, 2],
    [1, 2, 3, 4],
    [4, 4, 4, 4],
    [1, 1, 2, 1],
    [2, 2, 2, 2],
    [5, 5, 5],
    [1, 1],
    [3],
]


def test_krippendorff_alpha_reproduces_the_published_example():
    assert krippendorff_alpha_nominal(KRIPPENDORFF_UNITS) == pytest.approx(0.743, abs=5e-4)


def _alpha_by_pairs(units):
    """Nominal alpha from its definition over pairable values: 1 - D_o / D_e, where D_o averages the
    within-unit disagreement of ordered value pairs (each unit weighted 1/(m-1)) and D_e is the
    disagreement of all ordered pairs of the pooled values."""
    units = [u for u in units if len(u) >= 2]
    pooled = [v for u in units for v in u]
    n = len(pooled)
    d_o = sum(sum(a != b for a, b in itertools.permutations(u, 2)) / (len(u) - 1) for u in units) / n
    d_e = sum(a != b for a, b in itertools.permutations(pooled, 2)) / (n * (n - 1))
    return 1 - d_o / d_e


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.lists(st.sampled_from(["system_a", "system_b", "tie"]), min_size=0, max_size=5), min_size=1, max_size=8)
)
def test_krippendorff_alpha_agrees_with_its_pairwise_definition(units):
    pooled = {v for u in units if len(u) >= 2 for v in u}
    if len(pooled) < 2:
        assert math.isnan(krippendorff_alpha_nominal(units))
    else:
        assert krippendorff_alpha_nominal(units) == pytest.approx(_alpha_by_pairs(units))


def test_agreement_measures_are_perfect_for_identical_ratings():
    units = [["system_a"] * 3, ["system_b"] * 3, ["tie"] * 3]
    assert krippendorff_alpha_nominal(units) == pytest.approx(1.0)


def _ratings(criterion, per_example):
    return [
        {"criterion": criterion, "example_id": ex, "outcome": o}
        for ex, outcomes in enumerate(per_example)
        for o in outcomes
    ]


def test_criterion_result_hand_computed_case():
    # 4 examples x 3 annotators = 12 ratings: 7 for system A, 3 for system B, 2 ties
    per_example = [["system_a"] * 3, ["system_a", "system_a", "tie"], ["system_b"] * 3, ["system_a", "system_a", "tie"]]
    r = criterion_result("specificity", "Specificity", _ratings("specificity", per_example))
    assert (r.n, r.wins, r.ties, r.losses) == (12, 7, 2, 3)
    assert (r.win_rate, r.tie_rate, r.loss_rate) == pytest.approx((7 / 12, 2 / 12, 3 / 12))
    assert r.win_ci == pytest.approx(wilson_interval(7, 12))
    assert r.sign_test_p == pytest.approx(float(Fraction(2 * (120 + 45 + 10 + 1), 1024)))  # 7 vs 3
    assert r.agreement_examples == 4
    # Fleiss by hand: P_i = 1, 1/3, 1, 1/3 -> P_bar = 2/3; p = (7, 3, 2)/12 -> P_e = 62/144
    expected_kappa = (2 / 3 - 62 / 144) / (1 - 62 / 144)
    assert r.fleiss_kappa == pytest.approx(expected_kappa)
    assert r.krippendorff_alpha == pytest.approx(_alpha_by_pairs(per_example))


def test_criteria_results_keep_the_criteria_order_and_cover_unrated_ones():
    ratings = _ratings("consistency", [["system_a", "system_b"]])
    results = criteria_results(ratings, EXPLANATION_CRITERIA)
    assert [r.criterion for r in results] == [c.key for c in EXPLANATION_CRITERIA]
    consistency = results[[c.key for c in EXPLANATION_CRITERIA].index("consistency")]
    assert (consistency.wins, consistency.losses) == (1, 1)
    unrated = results[0]
    assert unrated.n == 0 and math.isnan(unrated.win_rate) and unrated.sign_test_p == 1.0


def test_unknown_outcome_is_rejected():
    with pytest.raises(ValueError, match="unknown outcomes"):
        criterion_result("x", "X", [{"example_id": 1, "outcome": "A"}])


def test_example_unit_counts_each_examples_majority():
    per_example = [
        ["system_a"] * 3,
        ["system_a", "system_a", "tie"],
        ["system_b"] * 3,
        ["system_a", "system_b", "tie"],
        ["system_b", "system_a"],
    ]
    r = criterion_result("clarity", "Clarity", _ratings("clarity", per_example), unit="example")
    # majorities: A, A, B, tie (1-1-1), tie (1-1)
    assert (r.n, r.wins, r.losses, r.ties) == (5, 2, 1, 2)
    assert r.sign_test_p == pytest.approx(1.0)  # 2 vs 1: P = 2 * (3 + 1) / 8 = 1
    assert r.agreement_examples == 5  # agreement still from the ratings
    by_rating = criterion_result("clarity", "Clarity", _ratings("clarity", per_example))
    assert r.krippendorff_alpha == pytest.approx(by_rating.krippendorff_alpha)
    with pytest.raises(ValueError, match="unit"):
        criterion_result("clarity", "Clarity", [], unit="annotator")
