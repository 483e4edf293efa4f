"""Ranking metrics, segments and significance against hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from persona4rec.evaluation.segments import Segments, segment_metrics, segments_from_train, split_by_percentile
from persona4rec.evaluation.significance import bootstrap_mean_ci, compare_per_user, paired_comparison
from persona4rec.metrics import first_hit_rank, per_user_metrics, rank_metrics, summarize

# Four users whose targets sit at ranks 1, 3, 12 and nowhere.
RANKED = [["t", "a", "b"], ["a", "b", "t"], [f"x{i}" for i in range(11)] + ["t"], ["a", "b", "c"]]
TARGETS = ["t", "t", "t", "t"]


def test_rank_metrics_match_hand_computation():
    m = rank_metrics(RANKED, TARGETS, ks=(1, 5, 20))
    assert m["users"] == 4
    assert m["HR@1"] == pytest.approx(1 / 4)
    assert m["HR@5"] == pytest.approx(2 / 4)
    assert m["MRR@5"] == pytest.approx((1 + 1 / 3) / 4)
    assert m["NDCG@5"] == pytest.approx((1 + 0.5) / 4)  # 1/log2(2) + 1/log2(4)
    assert m["HR@20"] == pytest.approx(3 / 4)
    assert m["MRR@20"] == pytest.approx((1 + 1 / 3 + 1 / 12) / 4)
    assert m["NDCG@20"] == pytest.approx((1 + 0.5 + 1 / math.log2(13)) / 4)


def test_pad_occupies_a_position_and_never_matches():
    assert first_hit_rank(["[PAD]", "[PAD]", "t"], "t") == 3
    assert first_hit_rank(["[PAD]", "a"], "[PAD]") == 0
    m = rank_metrics([["[PAD]", "t"]], ["t"], ks=(1, 2))
    assert m["HR@1"] == 0.0 and m["NDCG@2"] == pytest.approx(1 / math.log2(3))


def test_target_sets_count_the_first_hit():
    assert first_hit_rank(["a", "b", "c"], {"c", "b"}) == 2
    assert first_hit_rank(["a"], set()) == 0


def test_per_user_frame_agrees_with_rank_metrics():
    frame = per_user_metrics(["u1", "u2", "u3", "u4"], RANKED, TARGETS, ks=(5, 10, 20))
    assert list(frame["rank"]) == [1, 3, 12, 0]
    assert list(frame["HR@10"]) == [1.0, 1.0, 0.0, 0.0]
    overall = rank_metrics(RANKED, TARGETS, ks=(5, 10, 20))
    assert summarize(frame) == pytest.approx(overall)


def test_mismatched_lengths_are_refused():
    with pytest.raises(ValueError):
        rank_metrics([["a"]], ["a", "b"])


# -- segments -----------------------------------------------------------------------------------
def test_percentile_rule_thresholds_and_ties():
    counts = {f"e{i}": i for i in range(1, 11)}  # 1..10
    top, bottom = split_by_percentile(counts)
    # top threshold = sorted[int(0.8*10)-1] = 8 -> >= 8; bottom = sorted[int(0.2*10)] = 3 -> <= 3
    assert top == {"e8", "e9", "e10"}
    assert bottom == {"e1", "e2", "e3"}
    tied = {"a": 5, "b": 5, "c": 5, "d": 5, "e": 9}
    top, bottom = split_by_percentile(tied)  # thresholds sorted[3]=5 and sorted[1]=5
    assert top == set(tied) and bottom == {"a", "b", "c", "d"}
    assert split_by_percentile({}) == (set(), set())


def test_segments_count_the_train_split_only():
    rows = [("u1", f"i{n}", "train") for n in range(6)] + [("u1", "hot", "valid"), ("u1", "x", "test")]
    rows += [(f"v{n}", "hot", "test") for n in range(9)]  # "hot" is popular only outside train
    rows += [(f"v{n}", "i0", "train") for n in range(9)] + [("u2", "i1", "train"), ("u2", "cold", "test")]
    split = pd.DataFrame(rows, columns=["user_id", "item_id", "split"])
    users = ["u1", "u2"] + [f"v{n}" for n in range(9)]
    targets = ["x", "cold"] + ["hot"] * 9
    seg = segments_from_train(split, users, targets)
    assert "u1" in seg.warm_users and "u1" not in seg.cold_users  # 6 train rows vs 1
    # every target item has 0 train interactions: all tie, so all are both head and tail
    assert seg.head_items == seg.tail_items == {"x", "cold", "hot"}


def test_segment_metrics_average_within_each_segment():
    seg = Segments(warm_users={"u1"}, cold_users={"u2", "u3"}, head_items={"t1"}, tail_items={"t3"})
    out = segment_metrics(["u1", "u2", "u3"], [["t1"], ["a", "t2"], ["a"]], ["t1", "t2", "t3"], seg, k=10)
    assert out["warm"] == {"HR@10": 1.0, "MRR@10": 1.0, "NDCG@10": 1.0, "users": 1}
    assert out["cold"]["users"] == 2 and out["cold"]["HR@10"] == pytest.approx(0.5)
    assert out["cold"]["NDCG@10"] == pytest.approx(1 / math.log2(3) / 2)
    assert out["head"]["users"] == 1 and out["tail"] == {"HR@10": 0.0, "MRR@10": 0.0, "NDCG@10": 0.0, "users": 1}


# -- significance -------------------------------------------------------------------------------
def test_a_consistent_gain_is_significant_and_its_ci_covers_it():
    rng = np.random.default_rng(1)
    base = rng.uniform(0, 0.5, size=200)
    treat = base + 0.1 + rng.normal(0, 0.05, size=200)
    result = paired_comparison(base, treat, samples=2000)
    assert result.users == 200 and result.mean_difference == pytest.approx(0.1, abs=0.02)
    assert result.t_pvalue < 1e-10 and result.wilcoxon_pvalue < 1e-10
    assert 0 < result.ci_low < result.mean_difference < result.ci_high
    assert result.wins > result.losses


def test_noise_alone_is_not_significant_and_identical_systems_give_p_one():
    rng = np.random.default_rng(2)
    base = rng.uniform(0, 1, size=100)
    noisy = paired_comparison(base, base + rng.normal(0, 0.1, size=100), samples=2000)
    assert noisy.t_pvalue > 0.01 and noisy.ci_low < 0 < noisy.ci_high
    same = paired_comparison(base, base, samples=500)
    assert same.t_pvalue == 1.0 and same.wilcoxon_pvalue == 1.0 and same.ties == 100
    assert (same.ci_low, same.ci_high) == (0.0, 0.0)


def test_paired_values_match_scipy_and_align_on_users():
    from scipy import stats

    base = pd.DataFrame({"user_id": ["a", "b", "c", "d", "e"], "NDCG@10": [0.0, 0.5, 0.2, 0.1, 0.3]})
    treat = pd.DataFrame({"user_id": ["e", "d", "c", "b", "a"], "NDCG@10": [0.6, 0.4, 0.2, 0.9, 1.0]})
    result = compare_per_user(base, treat, samples=500)
    aligned = [0.6 + 0.0, 0.4, 0.2, 0.9, 1.0][::-1]
    assert result.t_pvalue == pytest.approx(
        stats.ttest_rel([1.0, 0.9, 0.2, 0.4, 0.6], [0.0, 0.5, 0.2, 0.1, 0.3]).pvalue
    )
    assert result.treatment_mean == pytest.approx(np.mean(aligned))
    low, high = bootstrap_mean_ci(np.array([1.0, 1.0, 1.0]), samples=100)
    assert low == high == 1.0
