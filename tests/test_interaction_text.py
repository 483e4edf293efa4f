"""The workspace's interaction text form: "aspects" (summary + kept aspects, the default) or "review"
(summary + the user's own review), recorded in the manifest and followed by every interaction cache."""

from __future__ import annotations

import numpy as np
import pytest
from encoder_tiny import HISTORIES, ITEMS, build_tiny_workspace

from persona4rec.embedding import encode
from persona4rec.encoder.selection import choose_encoder
from persona4rec.encoder.texts import interaction_text, review_text
from persona4rec.encoder.timeline import (
    Timelines,
    interaction_texts,
    set_interaction_text,
    workspace_interaction_text,
)
from persona4rec.encoder.user import UserEncoder
from persona4rec.errors import ConfigError
from persona4rec.offline.schema import AspectTuple


def test_review_form_text():
    tup = AspectTuple(purchase_purpose="a gift", purchase_purpose_reason="says so")
    assert interaction_text("A guitar.", tup, review="Love it. Plays well") == "A guitar.\nLove it. Plays well"
    assert interaction_text("A guitar.", tup, review="") == "A guitar."  # a textless review: the summary alone
    assert interaction_text("A guitar.", tup) == "A guitar.\npurchase purpose: a gift"  # the aspects form
    assert review_text("Great", "Plays well.") == "Great. Plays well."
    assert review_text("", "Plays well.") == "Plays well." and review_text("Great", " ") == "Great"


def test_the_form_is_the_workspaces_and_every_cache_follows_it(tmp_path):
    ws = build_tiny_workspace(tmp_path / "ws")
    assert workspace_interaction_text(ws) == "aspects"
    pairs = Timelines.from_workspace(ws).history_pairs()
    aspects_texts = interaction_texts(ws, pairs)
    key = "u_guitar|tuner"
    summary = ITEMS["tuner"][1]
    phrase = next(p for i, _, _, p in HISTORIES["u_guitar"] if i == "tuner")
    assert interaction_texts(ws, pairs, form="review")[key] == f"{summary}\n{phrase}"
    assert aspects_texts[key] != f"{summary}\n{phrase}"
    with pytest.raises(ConfigError):
        set_interaction_text(ws, "title")

    set_interaction_text(ws, "review")
    assert workspace_interaction_text(ws) == "review" and ws.manifest()["interaction_text"] == "review"
    review_texts = interaction_texts(ws, pairs)
    assert review_texts[key] == f"{summary}\n{phrase}"
    users = UserEncoder.from_workspace(ws, choose_encoder(ws))  # the cache is made from the review form
    keys = [key, "u_drums|cable"]  # the second one is textless: its summary alone in both forms
    assert review_texts["u_drums|cable"] == aspects_texts["u_drums|cable"]
    expected = encode([review_texts[k] for k in keys])
    assert np.allclose(users.vectors[[users.key_rows[k] for k in keys]], expected, atol=1e-5)
