"""User embeddings: decay weights and their order, histories per split, the on-disk interaction cache."""

from __future__ import annotations

import json

import numpy as np
import pytest
from encoder_tiny import build_tiny_workspace

from persona4rec.embedding import decay_weights, encode
from persona4rec.encoder.selection import EncoderChoice, choose_encoder
from persona4rec.encoder.texts import interaction_text
from persona4rec.encoder.timeline import Timelines, interaction_texts
from persona4rec.encoder.user import InteractionCache, UserEncoder, weighted_user_vector
from persona4rec.errors import ConfigError
from persona4rec.offline.persona_text import persona_text
from persona4rec.offline.schema import AspectTuple, Persona


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    return build_tiny_workspace(tmp_path_factory.mktemp("enc") / "ws")


def test_decay_weights_newest_gets_one_and_oldest_gamma_power():
    w = decay_weights(4, 0.5)
    assert w.tolist() == [0.125, 0.25, 0.5, 1.0]  # oldest first
    assert decay_weights(3, 1.0).tolist() == [1.0, 1.0, 1.0]
    with pytest.raises(ConfigError):
        decay_weights(3, 0.0)
    with pytest.raises(ConfigError):
        decay_weights(3, 1.5)


def test_weighted_user_vector_is_normalised_decayed_mean():
    rng = np.random.default_rng(0)
    vecs = rng.normal(size=(3, 8)).astype(np.float32)
    out = weighted_user_vector(vecs, 0.8)
    manual = 0.64 * vecs[0] + 0.8 * vecs[1] + 1.0 * vecs[2]
    np.testing.assert_allclose(out, manual / np.linalg.norm(manual), rtol=1e-5)
    # the newest interaction pulls hardest: with small gamma the result is close to it
    close = weighted_user_vector(vecs, 0.05)
    assert close @ (vecs[2] / np.linalg.norm(vecs[2])) > 0.99
    assert not weighted_user_vector(np.zeros((0, 8), dtype=np.float32), 0.9).any()


def test_texts_summary_plus_kept_aspects_and_persona_modes():
    tup = AspectTuple(usage_context="at home", purchase_purpose="a gift")
    assert interaction_text("A guitar.", tup) == "A guitar.\npurchase purpose: a gift; usage context: at home"
    assert interaction_text("A guitar.", None) == "A guitar."
    dropped = AspectTuple(usage_context="at home")  # 75% null is still usable; all-null is not
    assert interaction_text("A guitar.", AspectTuple()) == "A guitar."
    assert "usage context" in interaction_text("A guitar.", dropped)
    p = Persona(id="P1", name="N", description="D", preference_rationale="R")
    assert persona_text(p) == "N. D\nWhy: R"
    assert persona_text(p, "name-description") == "N. D" and persona_text(p, "description") == "D"
    with pytest.raises(ConfigError):
        persona_text(p, "bogus")


def test_histories_respect_split_protocol_and_time_order(ws):
    t = Timelines.from_workspace(ws)
    assert t.history("u_guitar", "valid") == ["tuner", "cable", "guitar"]
    assert t.history("u_guitar", "test") == ["tuner", "cable", "guitar", "piano"]
    assert t.history("u_guitar", "test", length=2) == ["guitar", "piano"]
    assert t.history_before("u_drums", "drums") == ["sticks"]
    assert t.history_before("u_drums", "sticks") == []
    assert t.target("u_drums", "test") == "guitar" and t.seen("u_drums", "valid") == {"sticks", "drums", "cable"}
    assert t.history("nobody", "test") == []
    with pytest.raises(ConfigError):
        t.history("u_drums", "train")


def test_user_vector_equals_decayed_mean_of_encoded_interaction_texts(ws):
    users = UserEncoder.from_workspace(ws, gamma=0.7)
    t = users.timelines
    pairs = [("u_piano", i) for i in t.history("u_piano", "test")]
    texts = interaction_texts(ws, pairs)
    expected = weighted_user_vector(encode(list(texts.values())), 0.7)
    np.testing.assert_allclose(users.embed("u_piano", "test"), expected, atol=1e-5)
    assert "classical piano practice" in texts["u_piano|piano"]
    assert interaction_texts(ws, [("u_drums", "cable")]) == {"u_drums|cable": "A 10 ft shielded instrument cable."}
    assert not users.embed("nobody").any()
    np.testing.assert_allclose(users.embed_many(["u_piano", "nobody"])[0], expected, atol=1e-5)


def test_interaction_cache_reencodes_only_changed_texts_and_all_on_new_encoder(ws, tmp_path):
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    (model_dir / "config.json").write_text("{}")
    choice = EncoderChoice("custom", str(model_dir), "@cachetest")
    calls: list[list[str]] = []

    def fake_encoder(texts):  # a deterministic stand-in for the model: length features
        calls.append(list(texts))
        return np.array([[len(t), 1.0] for t in texts], dtype=np.float32)

    texts = {"a|1": "one", "b|2": "three"}
    assert InteractionCache(ws, choice).sync(texts, fake_encoder) == 2
    assert InteractionCache(ws, choice).sync(texts, fake_encoder) == 0  # reloaded from disk
    cache = InteractionCache(ws, choice)
    assert cache.sync({"a|1": "one", "b|2": "changed!", "c|3": "x"}, fake_encoder) == 2
    assert calls[-1] == ["changed!", "x"]
    np.testing.assert_array_equal(cache.vectors, [[3, 1], [8, 1], [1, 1]])
    assert json.loads(cache.meta_path.read_text())["count"] == 3
    (model_dir / "config.json").write_text('{"retrained": true}')  # new identity
    assert InteractionCache(ws, choice).sync({"a|1": "one", "b|2": "changed!", "c|3": "x"}, fake_encoder) == 3


def test_encoder_choice_slots(ws):
    assert choose_encoder(ws).slot == "" and choose_encoder(ws).label == "vanilla"
    assert choose_encoder(ws, "vanilla") == choose_encoder(ws)  # no trained model: one slot, encoded once
    (ws.encoder_dir / "modules.json").parent.mkdir(parents=True, exist_ok=True)
    (ws.encoder_dir / "modules.json").write_text("[]")
    assert choose_encoder(ws, "vanilla").slot == "@vanilla" and choose_encoder(ws).label == "trained"
    (ws.encoder_dir / "modules.json").unlink()
    with pytest.raises(Exception, match="no trained encoder"):
        choose_encoder(ws, "trained")
