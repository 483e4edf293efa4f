"""The adapter mode: shapes, rank-aware negatives, the loss on a planted toy problem, and the saved model
(base + Router) that `load_encoder` loads and that gives exactly the caches training wrote."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from encoder_tiny import CATALOGUE_ORDER, build_tiny_workspace, write_full_candidates

from persona4rec.embedding import QUERY, encode, load_encoder
from persona4rec.encoder.adapter import (
    AdapterConfig,
    AdapterData,
    AdapterWeights,
    adapter_model,
    fit_adapter,
    train_adapter,
    valid_ndcg,
)
from persona4rec.encoder.selection import choose_encoder
from persona4rec.errors import ConfigError

ITEMS = CATALOGUE_ORDER


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    ws = build_tiny_workspace(tmp_path_factory.mktemp("adapter") / "ws")
    write_full_candidates(ws)
    return ws


@pytest.fixture(scope="module")
def data(ws):
    return AdapterData.from_workspace(ws, AdapterConfig())


def test_data_shapes_and_history_before_the_interaction(data):
    n = len(data.positives)
    assert n == 6 and data.skipped == {"no_history": 2, "unknown_persona": 1}  # as the full mode counts
    assert data.histories.shape == (n, 10) and data.targets.shape == (n,) and data.pools.shape[0] == n
    assert data.interactions.shape[1] == data.personas.shape[1] == 384
    assert not data.interactions[-1].any()  # the padding row
    pad = len(data.interactions) - 1
    assert all((row != pad).any() for row in data.histories)  # every pair has some history
    # every positive persona row belongs to its target item
    assert all(data.item_of_row[p] == t for p, t in zip(data.positives, data.targets))
    assert "bpr" in data.valid and data.valid["bpr"][1].shape[1] == len(ITEMS)


def test_rank_aware_negatives_are_deduplicated_and_never_score_the_positive(ws, data):
    from persona4rec.encoder.adapter import _first_stage_pools, _valid_candidates
    from persona4rec.encoder.timeline import Timelines

    timelines = Timelines.from_workspace(ws)
    item_row = {item: n for n, item in enumerate(data.item_ids)}
    pools = _first_stage_pools(_valid_candidates(ws, ()), item_row)
    for user, pool in pools.items():
        train = {i for i, s in zip(timelines.by_user[user].items, timelines.by_user[user].splits) if s == "train"}
        # one entry per item even where generators' lists overlap (the hand-made lists hold train items
        # too, so "no train item" is the CF generator's job, tested in test_candidates.py)
        assert pool and len(pool) == len(set(pool))
        assert train  # every tiny user has train history
    # and the hard-negative logits the loss builds exclude the positive item
    import torch

    from persona4rec.encoder.adapter import _Adapter

    model = _Adapter(data, AdapterConfig())
    idx = np.arange(len(data.positives))
    users = model.user_vectors(torch.from_numpy(data.histories[idx]))
    sims = users @ model.persona_vectors().T
    pool = data.pools[idx].copy()
    pool[pool == data.targets[idx][:, None]] = -1
    scores = model.item_scores(sims, torch.from_numpy(pool))
    assert torch.isinf(scores[torch.from_numpy(pool < 0)]).all()


def test_config_checks():
    with pytest.raises(ConfigError):
        AdapterConfig(temperature=0).check()
    with pytest.raises(ConfigError):
        AdapterConfig(positive="best").check()


def _planted(n_items=30, n_pairs=400, dim=16, seed=0) -> AdapterData:
    """Users' histories point at their target through a hidden linear map the identity does not know."""
    rng = np.random.default_rng(seed)
    personas = rng.normal(size=(n_items, dim)).astype(np.float32)
    personas /= np.linalg.norm(personas, axis=1, keepdims=True)
    hidden = np.linalg.qr(rng.normal(size=(dim, dim)))[0].astype(np.float32)  # a rotation
    targets = rng.integers(0, n_items, size=n_pairs)
    interactions = personas[targets] @ hidden + 0.05 * rng.normal(size=(n_pairs, dim)).astype(np.float32)
    interactions = np.vstack([interactions, np.zeros((1, dim), dtype=np.float32)]).astype(np.float32)
    histories = np.full((n_pairs, 10), n_pairs, dtype=np.int64)
    histories[:, -1] = np.arange(n_pairs)
    slots = np.full((n_items + 1, 1), -1, dtype=np.int64)
    slots[:n_items, 0] = np.arange(n_items)
    pools = np.stack([rng.choice(n_items, size=5, replace=False) for _ in range(n_pairs)])
    valid_hist = histories[:100]
    valid_cands = np.stack(
        [np.concatenate([[t], rng.choice(np.delete(np.arange(n_items), t), 9, replace=False)]) for t in targets[:100]]
    )
    return AdapterData(
        interactions=interactions,
        personas=personas,
        item_slots=slots,
        item_of_row=np.arange(n_items),
        histories=histories,
        positives=targets,
        targets=targets,
        pools=pools,
        valid={"toy": (valid_hist, valid_cands, np.zeros(100, dtype=np.int64))},
        item_ids=[f"i{n}" for n in range(n_items)],
        skipped={},
    )


def test_loss_goes_down_and_valid_ndcg_goes_up_on_a_planted_problem():
    data = _planted()
    config = AdapterConfig(epochs=40, batch_size=64, lr=1e-2, weight_decay=0.0, patience=40, gamma=0.9)
    result = fit_adapter(data, config)
    assert result.loss_curve[-1] < 0.5 * result.loss_curve[0]
    assert result.valid_best > result.valid_before + 0.2 and result.valid_best > 0.8
    assert result.valid_curve[result.best_epoch] == result.valid_best
    assert valid_ndcg(data, result.weights, config) == pytest.approx(result.valid_best)


def test_each_negative_kind_changes_training(data):
    base = AdapterConfig(epochs=3, patience=3)
    curves = {
        name: fit_adapter(data, dataclasses.replace(base, **changes)).loss_curve
        for name, changes in {"all": {}, "no-cf": {"cf_negatives": 0}, "no-item": {"item_negatives": False}}.items()
    }
    assert curves["all"] != curves["no-cf"] and curves["all"] != curves["no-item"]


def test_saved_adapter_round_trips_through_load_encoder(ws, tmp_path):
    rng = np.random.default_rng(1)
    d = 384
    weights = AdapterWeights(
        np.eye(d, dtype=np.float32) + 0.1 * rng.normal(size=(d, d)).astype(np.float32),
        0.1 * rng.normal(size=d).astype(np.float32),
        np.eye(d, dtype=np.float32) + 0.1 * rng.normal(size=(d, d)).astype(np.float32),
        0.1 * rng.normal(size=d).astype(np.float32),
    )
    adapter_model(None, weights).save(str(tmp_path / "model"))
    texts = ["A beginner learning guitar chords.", "A loud rock drummer."]
    base = encode(texts)
    assert np.allclose(encode(texts, tmp_path / "model", role=QUERY), weights.users(base), atol=1e-5)
    assert np.allclose(encode(texts, tmp_path / "model"), weights.personas(base), atol=1e-5)
    model = load_encoder(tmp_path / "model")
    assert type(model[-1]).__name__ == "Router"


def test_train_adapter_saves_a_model_whose_caches_match_its_own_encoding(ws):
    from persona4rec.encoder.user import UserEncoder
    from persona4rec.index.persona_index import open_index

    result = train_adapter(ws, AdapterConfig(epochs=5, patience=5), progress=False, index_variants=("multi",))
    assert result.pairs == 6 and ws.stage_info("encoder")["config"]["mode"] == "adapter"
    trained = choose_encoder(ws)
    assert trained.label == "trained"
    index = open_index(ws, "multi", trained, build=False)  # written by training: not stale
    texts = index.entries["text"].tolist()[:4]
    assert np.allclose(np.asarray(index.vectors)[:4], encode(texts, ws.encoder_dir), atol=1e-5)
    users = UserEncoder.from_workspace(ws, trained)  # cache written by training: nothing encoded
    from persona4rec.encoder.timeline import Timelines, interaction_texts

    pairs = Timelines.from_workspace(ws).history_pairs()[:3]
    keys = [f"{u}|{i}" for u, i in pairs]
    expected = encode([interaction_texts(ws, pairs)[k] for k in keys], ws.encoder_dir, role=QUERY)
    assert np.allclose(users.vectors[[users.key_rows[k] for k in keys]], expected, atol=1e-5)
