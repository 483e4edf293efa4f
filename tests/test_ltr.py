"""Learned fusion ranker on small synthetic arrays with real LightGBM: features by hand, a planted signal
is learned and explained, the CF-only config is blind to persona columns, storage round-trips and
fails clearly, and cross-validation prefers the informative config."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from persona4rec.errors import ConfigError, InputError
from persona4rec.ltr import (
    CF_FEATURES,
    FEATURES,
    PERSONA_FEATURES,
    LearnedRanker,
    LearnedRankerConfig,
    candidate_features,
    cross_validate,
    feature_index,
    fit_ranker,
    ndcg_at_10,
    tune_and_fit,
)
from persona4rec.ltr.features import valid_mask

INF = -np.inf
PLANTED = "persona_second"


def col(X, name):
    return X[..., FEATURES.index(name)]


def random_inputs(n_users, width=20, personas=4, seed=0):
    """Random persona similarities with 1..P personas per item, short lists and a few unknown items."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(width // 2, width + 1, n_users)
    sims = rng.normal(0.3, 0.2, (n_users, width, personas)).astype(np.float32)
    counts = rng.integers(1, personas + 1, (n_users, width))
    counts[rng.random((n_users, width)) < 0.03] = 0  # unknown items
    sims[np.arange(personas)[None, None, :] >= counts[..., None]] = INF
    sims[~valid_mask(lengths, width)] = INF
    return dict(
        sims=sims,
        cf_scores=rng.normal(size=(n_users, width)),
        lengths=lengths,
        item_popularity=rng.integers(0, 100, (n_users, width)).astype(float),
        history_lengths=rng.integers(1, 50, n_users),
    )


def planted(n_users, seed=0, margin=0.05):
    """The target is the candidate with the highest persona_second (kept only where it wins by `margin`);
    its CF rank is whatever the random list gives it."""
    inputs = random_inputs(n_users * 3, seed=seed)
    X = candidate_features(**inputs)
    second = np.where(valid_mask(inputs["lengths"], X.shape[1]), col(X, PLANTED), -np.inf)
    top2 = -np.sort(-second, axis=1)[:, :2]
    keep = np.flatnonzero(top2[:, 0] - top2[:, 1] >= margin)[:n_users]
    assert len(keep) == n_users
    return X[keep], inputs["lengths"][keep], second[keep].argmax(axis=1)


@pytest.fixture(scope="module")
def data():
    return planted(600, seed=3)


@pytest.fixture(scope="module")
def ranker(data):
    X, lengths, targets = data
    return fit_ranker(X[:400], lengths[:400], targets[:400], LearnedRankerConfig(n_estimators=100, learning_rate=0.1))


# -- features --------------------------------------------------------------------------------------------


def test_feature_lists_are_consistent():
    assert set(PERSONA_FEATURES) <= set(FEATURES) and len(set(FEATURES)) == len(FEATURES)
    assert CF_FEATURES == tuple(f for f in FEATURES if f not in PERSONA_FEATURES)
    assert feature_index(["cf_rank", "cf_score"]) == [2, 0]
    with pytest.raises(ConfigError, match="unknown ranking feature 'nope'"):
        feature_index(["cf_rank", "nope"])


def test_shapes_and_finite_padding():
    inputs = random_inputs(50, seed=1)
    inputs["cf_scores"][~valid_mask(inputs["lengths"], 20)] = np.nan  # anything on padding
    X = candidate_features(**inputs)
    assert X.shape == (50, 20, len(FEATURES)) and X.dtype == np.float32
    padding = ~valid_mask(inputs["lengths"], 20)
    assert padding.any() and (X[padding] == 0).all()
    non_summary = [n for n, f in enumerate(FEATURES) if not f.startswith("summary")]
    assert np.isfinite(X[..., non_summary]).all()


def hand_case(summary_sims=None):
    sims = np.array(
        [
            [[0.5, 0.2, INF], [0.9, INF, INF], [INF, INF, INF], [INF, INF, INF]],
            [[0.4, 0.4, INF], [0.4, INF, INF], [0.4, 0.4, 0.4], [INF, INF, INF]],
        ],
        dtype=np.float32,
    )
    return candidate_features(
        sims=sims,
        cf_scores=np.array([[3.0, 1.0, 2.0, 99.0], [5.0, 5.0, 5.0, 5.0]]),
        lengths=np.array([3, 3]),
        history_lengths=np.array([7, 2]),
        item_popularity=np.array([[0.0, math.e - 1, 3.0, 0.0], [1.0, 1.0, 1.0, 1.0]]),
        summary_sims=summary_sims,
    )


def test_persona_statistics_by_hand():
    X = hand_case()
    close = lambda name, expected: np.testing.assert_allclose(col(X, name)[0, :3], expected, rtol=1e-6, atol=1e-6)
    close("persona_max", [0.5, 0.9, 0.5 - 1])  # unknown item: the list minimum minus 1
    close("persona_mean", [0.35, 0.9, 0.35 - 1])
    close("persona_second", [0.2, 0.9, 0.2 - 1])  # one persona: second equals max
    close("persona_gap", [0.3, 0.0, 0.0])
    close("persona_count", [2, 1, 0])
    values = np.array([0.5, 0.9, -0.5])
    close("persona_max_z", (values - values.mean()) / values.std())
    close("persona_max_rank", [2, 1, 3])
    close("cf_norm", [1.0, 0.0, 0.5])
    close("cf_rank", [1, 2, 3])
    close("cf_inv_rank", [1, 0.5, 1 / 3])
    close("item_pop_log", [0.0, 1.0, math.log1p(3)])
    close("history_len", [7, 7, 7])
    close("list_len", [3, 3, 3])
    assert (X[0, 3] == 0).all() and (X[1, 3] == 0).all()


def test_ties_all_equal_lists():
    X = hand_case()
    assert (col(X, "cf_norm")[1, :3] == 1.0).all()  # all CF scores equal
    assert (col(X, "persona_max_z")[1, :3] == 0.0).all()  # std 0
    assert (col(X, "persona_max_rank")[1, :3] == 1.0).all()  # equal values share the best rank
    np.testing.assert_allclose(col(X, "persona_count")[1, :3], [2, 1, 3])


def test_summary_features():
    X = hand_case()
    assert np.isnan(col(X, "summary_sim")[:, :3]).all() and np.isnan(col(X, "summary_z")[:, :3]).all()
    assert (col(X, "summary_sim")[:, 3] == 0).all()  # padding stays finite
    summary = np.array([[0.1, 0.3, np.nan, 7.0], [0.2, 0.2, 0.2, 0.0]])
    X = hand_case(summary)
    np.testing.assert_allclose(col(X, "summary_sim")[0, :2], [0.1, 0.3], rtol=1e-6)
    np.testing.assert_allclose(col(X, "summary_z")[0, :2], [-1.0, 1.0], rtol=1e-5)
    assert np.isnan(col(X, "summary_sim")[0, 2]) and np.isnan(col(X, "summary_z")[0, 2])
    assert (col(X, "summary_z")[1, :3] == 0).all()


def test_bad_shapes_are_named():
    inputs = random_inputs(4)
    inputs["item_popularity"] = inputs["item_popularity"][:, :5]
    with pytest.raises(ValueError, match="item_popularity"):
        candidate_features(**inputs)


# -- config ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change, message",
    [
        ({"features": ("cf_rank", "bogus")}, "bogus"),
        ({"features": ()}, "at least one"),
        ({"features": ("cf_rank", "cf_rank")}, "twice: cf_rank"),
        ({"learning_rate": 0.0}, "learning_rate"),
        ({"learning_rate": float("nan")}, "learning_rate"),
        ({"n_estimators": 0}, "n_estimators"),
        ({"num_leaves": 1.5}, "num_leaves"),
        ({"subsample": 1.5}, "subsample"),
        ({"objective": "regression"}, "objective"),
    ],
)
def test_config_validation(change, message):
    with pytest.raises(ConfigError, match=message):
        LearnedRankerConfig(**change).validate()


# -- learning --------------------------------------------------------------------------------------------


def test_planted_feature_is_learned_and_explained(data, ranker):
    X, lengths, targets = data
    scores = ranker.predict(X[400:], lengths[400:])
    assert (scores.argmax(axis=1) == targets[400:]).mean() >= 0.9
    first = [ranker.top_contributions(X[u], targets[u])[0][0] for u in range(400, 600)]
    assert first.count(PLANTED) / len(first) >= 0.9
    name, value, contribution = ranker.top_contributions(X[400], targets[400], k=2)[0]
    assert value == pytest.approx(float(col(X, PLANTED)[400, targets[400]])) and contribution > 0


def test_contributions_sum_to_the_score(data, ranker):
    X, lengths, _ = data
    contrib = ranker.contributions(X[450, : lengths[450]])
    assert contrib.shape == (lengths[450], len(FEATURES) + 1)
    np.testing.assert_allclose(
        contrib.sum(axis=1), ranker.predict(X[450:451], lengths[450:451])[0, : lengths[450]], rtol=1e-4, atol=1e-4
    )


def test_predict_puts_padding_last(data, ranker):
    X, lengths, _ = data
    scores = ranker.predict(X[:50], lengths[:50])
    valid = valid_mask(lengths[:50], X.shape[1])
    assert scores.dtype == np.float32 and (~valid).any()
    assert np.isneginf(scores[~valid]).all() and np.isfinite(scores[valid]).all()


def test_cf_only_ranker_ignores_persona_columns(data):
    X, lengths, targets = data
    cf_only = fit_ranker(
        X[:300], lengths[:300], targets[:300], LearnedRankerConfig(n_estimators=30, features=CF_FEATURES)
    )
    shuffled = X.copy()
    rng = np.random.default_rng(0)
    for n in feature_index(PERSONA_FEATURES):
        shuffled[..., n] = rng.permutation(shuffled[..., n].ravel()).reshape(shuffled.shape[:2])
    np.testing.assert_array_equal(cf_only.predict(X, lengths), cf_only.predict(shuffled, lengths))
    assert cf_only.contributions(X[0]).shape == (X.shape[1], len(CF_FEATURES) + 1)


def test_users_without_target_are_dropped_and_fits_are_deterministic(data):
    X, lengths, targets = data
    targets = targets[:200].copy()
    targets[::4] = -1
    config = LearnedRankerConfig(n_estimators=20)
    a = fit_ranker(X[:200], lengths[:200], targets, config)
    assert a.summary["training_users"] == 150 and a.summary["users"] == 200
    b = fit_ranker(X[:200], lengths[:200], targets, config)
    np.testing.assert_array_equal(a.predict(X, lengths), b.predict(X, lengths))
    with pytest.raises(ConfigError, match="no user has the target"):
        fit_ranker(X[:10], lengths[:10], np.full(10, -1), config)
    with pytest.raises(ValueError, match="every FEATURES column"):
        fit_ranker(X[:10, :, :5], lengths[:10], targets[:10], config)


# -- storage ---------------------------------------------------------------------------------------------


def test_save_load_round_trip(tmp_path, data, ranker):
    X, lengths, _ = data
    folder = tmp_path / "ltr"
    ranker.save(folder)
    ranker.save(folder)  # replaces the folder whole
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ltr"]
    assert sorted(p.name for p in folder.iterdir()) == ["model.txt", "ranker.json"]
    loaded = LearnedRanker.load(folder)
    np.testing.assert_array_equal(loaded.predict(X, lengths), ranker.predict(X, lengths))
    assert loaded.config == ranker.config and loaded.feature_names == ranker.feature_names
    assert json.loads((folder / "ranker.json").read_text())["summary"]["training_users"] == 400


def test_load_errors_name_the_file(tmp_path, ranker):
    with pytest.raises(InputError, match="ranker.json"):
        LearnedRanker.load(tmp_path / "absent")
    folder = tmp_path / "ltr"
    ranker.save(folder)
    (folder / "model.txt").write_text("this is not a lightgbm model\n")
    with pytest.raises(InputError, match="model.txt"):
        LearnedRanker.load(folder)
    (folder / "model.txt").unlink()
    with pytest.raises(InputError, match="model.txt.*missing"):
        LearnedRanker.load(folder)
    ranker.save(folder)
    (folder / "ranker.json").write_text("{not json")
    with pytest.raises(InputError, match="ranker.json.*JSON"):
        LearnedRanker.load(folder)
    (folder / "ranker.json").write_text(json.dumps({"format": 1, "config": {"features": ["nope"]}}))
    with pytest.raises(InputError, match="ranker.json.*config.*nope"):
        LearnedRanker.load(folder)


# -- evaluation and model selection ----------------------------------------------------------------------


def test_ndcg_at_10_by_hand():
    scores = np.zeros((4, 12))
    scores[0, 3] = 1.0  # target best: 1.0
    scores[1, :] = 5.0  # all tied: position 2 ranks 3rd
    scores[2, :] = -np.arange(12)  # target at position 11 ranks 12th: 0
    lengths = np.array([12, 12, 12, 12])
    targets = np.array([3, 2, 11, -1])  # last user: target not in the list, 0
    expected = (1.0 + 1.0 / math.log2(4) + 0 + 0) / 4
    assert ndcg_at_10(scores, lengths, targets) == pytest.approx(expected)


USELESS = LearnedRankerConfig(n_estimators=30, learning_rate=0.1, features=("cf_rank",))
INFORMED = LearnedRankerConfig(n_estimators=30, learning_rate=0.1, features=(PLANTED, "cf_rank"))


def test_cross_validate_prefers_the_planted_feature(data):
    X, lengths, targets = data
    report = cross_validate(X[:300], lengths[:300], targets[:300], [USELESS, INFORMED], folds=3)
    assert report["best"] == 1
    useless, informed = report["results"]
    assert informed["ndcg@10"] > 0.9 > useless["ndcg@10"] + 0.3
    assert len(informed["folds"]) == 3 and informed["config"]["features"] == [PLANTED, "cf_rank"]
    assert report["cf_order_ndcg@10"] < 0.6


def test_shared_fits_match_separate_fits(data):
    X, lengths, targets = data
    short, long = (LearnedRankerConfig(n_estimators=n, features=(PLANTED, "persona_max")) for n in (10, 25))
    together = cross_validate(X[:150], lengths[:150], targets[:150], [short, long], folds=2)
    for n, config in enumerate((short, long)):
        alone = cross_validate(X[:150], lengths[:150], targets[:150], [config], folds=2)
        assert together["results"][n]["folds"] == alone["results"][0]["folds"]


def test_tune_and_fit_refits_the_best(data):
    X, lengths, targets = data
    ranker, report = tune_and_fit(X[:300], lengths[:300], targets[:300], grid=[USELESS, INFORMED], folds=3)
    assert report["best"] == 1 and ranker.config == INFORMED and report["chosen"]["features"] == [PLANTED, "cf_rank"]
    assert ranker.summary["tuning"]["best"] == 1 and ranker.summary["training_users"] == 300
    scores = ranker.predict(X[400:], lengths[400:])
    assert ndcg_at_10(scores, lengths[400:], targets[400:]) > 0.9
