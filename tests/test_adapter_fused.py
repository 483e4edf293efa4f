"""The adapter's fused listwise objective: first-stage lists at training positions that never saw their
target or anything later (encoder/train_lists.py), the loss on a planted problem, where its gradient goes,
early stopping on the fused VALID score, and the saved model through `load_encoder`."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from encoder_tiny import build_tiny_workspace

from persona4rec.candidates.generate import generate_candidates
from persona4rec.embedding import QUERY, encode, load_encoder
from persona4rec.encoder.adapter import (
    AdapterConfig,
    AdapterData,
    AdapterWeights,
    _Adapter,
    fit_adapter,
    fused_score,
    train_adapter,
    valid_ndcg,
)
from persona4rec.encoder.timeline import Timelines
from persona4rec.encoder.train_lists import TrainingLists, minmax, shifted_split, training_list_frame
from persona4rec.errors import ConfigError

FUSED = AdapterConfig(objective="infonce+fused", stop_on="fused", epochs=3, patience=3)


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    ws = build_tiny_workspace(tmp_path_factory.mktemp("fused") / "ws")
    generate_candidates(ws, "bpr", overrides={"epochs": 5, "patience": 5})  # the real generator, its stage recorded
    return ws


def _train_items(line) -> list[str]:
    return [i for i, s in zip(line.items, line.splits) if s == "train"]


def test_shifted_split_replays_the_protocol_on_train_items_only(ws):
    timelines = Timelines.from_workspace(ws)
    split = shifted_split(timelines, 1)
    assert not split.empty
    for user, line in timelines.by_user.items():
        rows = split[split["user_id"] == user]
        train = _train_items(line)
        held_out = {i for i, s in zip(line.items, line.splits) if s != "train"}
        assert not held_out & set(rows["item_id"])  # no VALID or TEST item, ever
        if len(train) < 3:
            assert rows.empty
            continue
        assert rows["item_id"].tolist() == train  # in time order: the last two are valid', test'
        assert rows["split"].tolist() == ["train"] * (len(train) - 2) + ["valid", "test"]
    longest = max(len(_train_items(line)) for line in timelines.by_user.values())
    assert shifted_split(timelines, longest).empty  # a level no user has enough train items for
    with pytest.raises(ConfigError):
        shifted_split(timelines, 0)


def test_training_lists_never_saw_their_target_or_anything_later(ws):
    timelines = Timelines.from_workspace(ws)
    split = shifted_split(timelines, 1)
    frame = training_list_frame(ws, "bpr", 1, timelines)
    assert set(frame["split"]) == {"valid", "test"}
    for (user, name), group in frame.groupby(["user_id", "split"]):
        rows = split[split["user_id"] == user]
        seen_by_model = set(rows.loc[rows["split"] == "train", "item_id"])
        target = rows.loc[rows["split"] == name, "item_id"].item()
        line = timelines.by_user[user]
        later = line.items[line.items.index(target) + 1 :]
        assert target not in seen_by_model and not seen_by_model & set(later)  # the model never trained on them
        assert not set(group["item_id"]) & seen_by_model  # its seen items are excluded, as in the protocol
        if name == "test":
            assert rows.loc[rows["split"] == "valid", "item_id"].item() not in set(group["item_id"])


def test_training_lists_are_reused_until_the_split_changes(ws):
    first = ws.stage_info("training-lists:bpr:1") or {}
    training_list_frame(ws, "bpr", 1)
    assert ws.stage_info("training-lists:bpr:1")["runs"] == first.get("runs", 1)


def test_adapter_data_lists_hold_train_targets_with_their_history_before(ws):
    data = AdapterData.from_workspace(ws, FUSED)
    lists, timelines = data.lists, Timelines.from_workspace(ws)
    assert len(lists) > 0 and lists.histories.shape == (len(lists), FUSED.history_length)
    for n, (user, item) in enumerate(zip(lists.users, lists.target_items)):
        line = timelines.by_user[user]
        assert line.splits[line.items.index(item)] == "train"  # never a VALID or TEST target
        assert data.item_ids[lists.candidates[n, lists.target[n]]] == item
        assert lists.cf[n].max() == pytest.approx(1.0) and lists.cf[n].min() == pytest.approx(0.0)
    assert set(data.valid_cf) == set(data.valid)
    assert data.valid_cf["bpr"].shape == data.valid["bpr"][1].shape


def test_config_checks():
    for bad in ({"objective": "listwise"}, {"stop_on": "test"}, {"fused_weight": 0}, {"list_levels": 0}):
        with pytest.raises(ConfigError):
            AdapterConfig(**bad).check()


def _planted(n_items=30, n_lists=400, dim=16, seed=0, informative_cf=False) -> AdapterData:
    """Histories point at their target through a hidden rotation; each list holds the target among 9 others,
    its CF scores random (uninformative) unless informative_cf, where CF alone puts the target first."""
    rng = np.random.default_rng(seed)
    personas = rng.normal(size=(n_items, dim)).astype(np.float32)
    personas /= np.linalg.norm(personas, axis=1, keepdims=True)
    hidden = np.linalg.qr(rng.normal(size=(dim, dim)))[0].astype(np.float32)
    targets = rng.integers(0, n_items, size=n_lists)
    interactions = personas[targets] @ hidden + 0.05 * rng.normal(size=(n_lists, dim)).astype(np.float32)
    interactions = np.vstack([interactions, np.zeros((1, dim), dtype=np.float32)]).astype(np.float32)
    histories = np.full((n_lists, 10), n_lists, dtype=np.int64)
    histories[:, -1] = np.arange(n_lists)
    slots = np.full((n_items + 1, 1), -1, dtype=np.int64)
    slots[:n_items, 0] = np.arange(n_items)
    cands = np.stack(
        [rng.permutation([t, *rng.choice(np.delete(np.arange(n_items), t), 9, replace=False)]) for t in targets]
    )
    where = np.argmax(cands == targets[:, None], axis=1)
    cf = rng.random(cands.shape).astype(np.float32)
    if informative_cf:
        cf = np.zeros(cands.shape, dtype=np.float32)
        cf[np.arange(n_lists), where] = 1.0
    cf = np.stack([minmax(row) for row in cf])
    lists = TrainingLists(
        histories[100:], cands[100:], cf[100:], where[100:], {}, ["u"] * (n_lists - 100), ["i"] * (n_lists - 100)
    )
    return AdapterData(
        interactions=interactions,
        personas=personas,
        item_slots=slots,
        item_of_row=np.arange(n_items),
        histories=histories[100:],
        positives=targets[100:],
        targets=targets[100:],
        pools=np.full((n_lists - 100, 1), -1, dtype=np.int64),
        valid={"toy": (histories[:100], cands[:100], where[:100])},
        item_ids=[f"i{n}" for n in range(n_items)],
        skipped={},
        valid_cf={"toy": cf[:100]},
        lists=lists,
    )


def test_fused_objective_learns_a_planted_problem_where_cf_says_nothing():
    data = _planted()
    config = AdapterConfig(
        objective="fused", stop_on="fused", epochs=40, batch_size=64, lr=1e-2, weight_decay=0.0, patience=40
    )
    result = fit_adapter(data, config)
    assert result.loss_curve[-1] < 0.5 * result.loss_curve[0]
    assert result.valid_best > result.valid_before + 0.2 and result.valid_best > 0.8
    assert valid_ndcg(data, result.weights, config) == pytest.approx(result.valid_best)
    assert result.negatives["training_lists"] == len(data.lists) and result.fused_cf is not None


def test_the_fused_term_pushes_the_persona_side_only_where_cf_is_wrong():
    """Where CF already ranks the target first by a wide margin the listwise loss and its gradient on the
    persona maps vanish; where CF says nothing they do not."""
    import torch

    grads = {}
    for informative in (True, False):
        data = _planted(informative_cf=informative)
        model = _Adapter(data, AdapterConfig(objective="fused", fused_cf=30.0, learn_fused_cf=False))
        loss = model.list_loss(np.arange(len(data.lists)))
        loss.backward()
        grads[informative] = (float(loss.detach()), float(torch.linalg.norm(model.user_w.grad)))
    assert grads[True][0] < 1e-3 and grads[True][1] < 1e-3 * grads[False][1]
    assert grads[False][0] > 1.0


def test_stop_on_fused_scores_the_best_fusion_weight():
    data = _planted(informative_cf=True)
    eye, zero = np.eye(16, dtype=np.float32), np.zeros(16, dtype=np.float32)
    identity = AdapterWeights(eye, zero, eye, zero)
    assert valid_ndcg(data, identity, AdapterConfig(stop_on="fused")) == pytest.approx(1.0)  # w = 1: CF alone
    assert valid_ndcg(data, identity, AdapterConfig(stop_on="paper")) < 1.0
    persona = np.array([[0.5, -np.inf, 0.1]])
    assert np.isneginf(fused_score(persona, np.array([[0.0, 1.0, 1.0]]), 1.0)[0, 1])  # no personas: last


def test_fused_adapter_round_trips_through_load_encoder(ws):
    from persona4rec.encoder.selection import choose_encoder
    from persona4rec.encoder.timeline import interaction_texts
    from persona4rec.encoder.user import UserEncoder

    result = train_adapter(ws, dataclasses.replace(FUSED, epochs=2, patience=2), progress=False)
    info = ws.stage_info("encoder")
    assert info["config"]["objective"] == "infonce+fused" and info["training_lists"]
    assert result.fused_cf is not None
    model = load_encoder(ws.encoder_dir)
    assert type(model[-1]).__name__ == "Router"
    texts = ["A beginner learning guitar chords.", "A loud rock drummer."]
    base = encode(texts)
    assert np.allclose(encode(texts, ws.encoder_dir, role=QUERY), result.weights.users(base), atol=1e-5)
    assert np.allclose(encode(texts, ws.encoder_dir), result.weights.personas(base), atol=1e-5)
    users = UserEncoder.from_workspace(ws, choose_encoder(ws))  # the cache training wrote
    pairs = Timelines.from_workspace(ws).history_pairs()[:3]
    keys = [f"{u}|{i}" for u, i in pairs]
    expected = encode([interaction_texts(ws, pairs)[k] for k in keys], ws.encoder_dir, role=QUERY)
    assert np.allclose(users.vectors[[users.key_rows[k] for k in keys]], expected, atol=1e-5)
