"""A tiny real InfoNCE training run lowers the loss, saves a loadable model and its report; LoRA merges."""

from __future__ import annotations

import json

import numpy as np
import pytest
from encoder_tiny import build_tiny_workspace

from persona4rec.embedding import encode, load_encoder
from persona4rec.encoder.selection import choose_encoder
from persona4rec.encoder.timeline import Timelines
from persona4rec.encoder.train import TrainConfig, train_encoder, training_pairs
from persona4rec.errors import ConfigError
from persona4rec.rerank import Reranker


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    return build_tiny_workspace(tmp_path_factory.mktemp("train") / "ws")


def test_training_pairs_use_history_before_the_interaction(ws):
    pairs, texts, skipped = training_pairs(ws, Timelines.from_workspace(ws), TrainConfig())
    # a user's first train interaction has no history (sticks, bench); cable has no persona record
    assert skipped == {"no_history": 2, "unknown_persona": 1} and len(pairs) == 6
    by_key = {p.persona_key: p for p in pairs}
    assert by_key["drums_P2"].history == ["u_mixed|guitar"]
    assert by_key["tuner_P1"].history == ["u_piano|bench", "u_piano|piano"]
    assert "bench_P1" not in by_key and "sticks_P1" not in by_key
    assert set(texts) == {k for p in pairs for k in p.history}
    with pytest.raises(ConfigError):
        TrainConfig(batch_size=1).check()


def test_tiny_training_run_lowers_infonce_and_is_used_by_the_index(ws):
    vanilla_vec = encode(["Rock drummer. A loud drummer"])[0]
    result = train_encoder(ws, TrainConfig(epochs=2, batch_size=4, lr=1e-4, max_seq_length=64, progress=False))
    assert result.loss_after < result.loss_before - 0.2
    info = ws.stage_info("encoder")
    assert info["status"] == "done" and info["pairs"] == result.pairs == 6 and info["config"]["epochs"] == 2
    curve = json.loads((ws.reports_dir / "loss_curve.json").read_text())
    assert len(curve["step_loss"]) == result.steps == 4 and (ws.reports_dir / "loss_curve.html").exists()
    trained = encode(["Rock drummer. A loud drummer"], ws.encoder_dir)[0]
    assert not np.allclose(trained, vanilla_vec, atol=1e-3) and trained @ trained == pytest.approx(1.0, abs=1e-5)
    # the workspace default is now the trained encoder: index and user cache are made with it
    assert choose_encoder(ws).label == "trained"
    reranker = Reranker.from_workspace(ws)
    assert reranker.index.meta["encoder_label"] == "trained"
    assert reranker.index.meta["encoder_identity"] == choose_encoder(ws).identity()


def test_cli_lora_run_merges_adapters_into_a_plain_model(ws, capsys):
    from persona4rec.cli import main

    assert (
        main(
            [
                "train",
                str(ws.root),
                "--lora",
                "--epochs",
                "1",
                "--batch-size",
                "4",
                "--max-seq-length",
                "64",
                "--no-progress",
                "--json",
            ]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert out["steps"] == 2 and out["pairs"] == 6 and out["loss_after"] < out["loss_before"]
    model = load_encoder(ws.encoder_dir)
    assert not [n for n, _ in model.named_parameters() if "lora" in n]
    assert ws.stage_info("encoder")["config"]["lora"] is True
