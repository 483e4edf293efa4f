"""First-stage candidates: seen items excluded, exactly K per user, determinism, and that BPR-MF and
LightGCN beat popularity on real data (Musical Instruments, validation NDCG@10)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from persona4rec.candidates import ranking
from persona4rec.candidates.generate import candidate_frame, candidate_recall, generate_candidates, load_candidates
from persona4rec.candidates.interactions import interactions_from_split
from persona4rec.candidates.ranking import Factors, SeenIndex, split_ranks, top_k
from persona4rec.cli import main
from persona4rec.errors import ConfigError, InputError, WorkspaceError
from persona4rec.workspace import Workspace

MI = "amazon2014-musical-instruments-5core/reviews_Musical_Instruments_5.jsonl.gz"
DM = "amazon2014-digital-music-5core-prefix/reviews_Digital_Music_5.prefix.jsonl.gz"


def tiny_split() -> pd.DataFrame:
    rows = []
    for u in range(6):
        items = [(u + j) % 8 for j in range(5)]
        rows += [(f"u{u}", f"i{i}", "train") for i in items[:3]]
        rows += [(f"u{u}", f"i{items[3]}", "valid"), (f"u{u}", f"i{items[4]}", "test")]
    return pd.DataFrame(rows, columns=["user_id", "item_id", "split"])


def test_top_k_never_returns_seen_items_and_breaks_ties_by_item():
    data = interactions_from_split(tiny_split())
    frame = candidate_frame(data, flat_factors(data), k=3)
    assert (frame.groupby(["user_id", "split"]).size() == 3).all()
    seen_train = set(zip(*[tiny_split().query("split == 'train'")[c] for c in ("user_id", "item_id")]))
    valid = tiny_split().query("split == 'valid'")
    seen_test = seen_train | set(zip(valid["user_id"], valid["item_id"]))
    pairs = lambda s: set(zip(frame[frame["split"] == s]["user_id"], frame[frame["split"] == s]["item_id"]))
    assert not pairs("valid") & seen_train and not pairs("test") & seen_test
    # equal scores: lowest item numbers first, ranks 1..K
    u0 = frame[(frame["user_id"] == "u0") & (frame["split"] == "valid")]
    assert list(u0["rank"]) == [1, 2, 3] and list(u0["item_id"]) == ["i3", "i4", "i5"]
    assert frame.dtypes.astype(str).to_dict() == {
        "user_id": "string",
        "split": "string",
        "rank": "int64",
        "item_id": "string",
        "score": "float32",
    }


def test_short_catalogue_gives_every_unseen_item_and_no_seen_one():
    data = interactions_from_split(tiny_split())
    frame = candidate_frame(data, flat_factors(data), k=20)
    counts = frame.groupby("split").size() / data.n_users
    assert counts["valid"] == 8 - 3 and counts["test"] == 8 - 4


def test_target_ranks_follow_the_top_k_order():
    import torch

    # user 0 scores items [0.1, 0.9, 0.5, 0.5] and has seen item 1; user 1 scores [1.0, 0.0, 0.0, 0.2]
    factors = Factors(users=torch.eye(2), items=torch.tensor([[0.1, 1.0], [0.9, 0.0], [0.5, 0.0], [0.5, 0.2]]))
    seen = SeenIndex(np.array([0]), np.array([1]), n_users=2)
    ranks = split_ranks(factors, np.array([0, 1]), np.array([3, 1]), seen)
    assert list(ranks) == [2, 3]  # ties: lower item number first
    ((_, masked),) = ranking.masked_blocks(factors, np.array([0, 1]), seen)
    items, values = top_k(masked, 4)
    assert list(items[0]) == [2, 3, 0, 1] and values[0][-1] == -np.inf


def test_blocks_of_users_give_the_same_candidates(monkeypatch):
    import torch

    data = interactions_from_split(tiny_split())
    gen = torch.Generator().manual_seed(0)
    factors = Factors(
        users=torch.randn(data.n_users, 4, generator=gen), items=torch.randn(data.n_items, 4, generator=gen)
    )
    whole = candidate_frame(data, factors, k=4)
    monkeypatch.setattr(ranking, "BLOCK_FLOATS", data.n_items * 2)  # two users per block
    pd.testing.assert_frame_equal(whole, candidate_frame(data, factors, k=4))


def test_bad_split_is_refused_with_field():
    bad = tiny_split()
    bad.loc[4, "split"] = "holdout"
    with pytest.raises(InputError, match=r"line 5, field 'split'"):
        interactions_from_split(bad, source="split.parquet")
    with pytest.raises(InputError, match="field 'split'"):
        interactions_from_split(bad.drop(columns="split"))
    with pytest.raises(InputError, match="no 'train' rows"):
        interactions_from_split(tiny_split().query("split != 'train'"))


def flat_factors(data):
    """Every item scores the same for every user: only the tie rule orders them."""
    import torch

    return Factors(users=torch.ones(data.n_users, 1), items=torch.ones(data.n_items, 1))


# -- real data ------------------------------------------------------------------------------------
def imported(shared_data, tmp_path_factory, relative, name):
    out = tmp_path_factory.mktemp(name) / "ws"
    assert main(["data", "import", str(shared_data / relative), "--out", str(out)]) == 0
    return Workspace.open(out)


@pytest.fixture(scope="module")
def digital_music(shared_data, tmp_path_factory):
    return imported(shared_data, tmp_path_factory, DM, "dm")


@pytest.fixture(scope="module")
def musical_instruments(shared_data, tmp_path_factory):
    return imported(shared_data, tmp_path_factory, MI, "mi")


@pytest.mark.shared_data
def test_exactly_k_unseen_candidates_per_user_and_manifest(digital_music, capsys):
    ws = digital_music
    assert (
        main(
            ["candidates", str(ws.root), "--generator", "bpr", "--epochs", "15", "--no-progress", "--k", "12", "--json"]
        )
        == 0
    )
    summary = json.loads(capsys.readouterr().out)
    frame = load_candidates(ws, "bpr")
    split = pd.read_parquet(ws.data_dir / "split.parquet")
    n_users = split["user_id"].nunique()
    assert (frame.groupby(["user_id", "split"]).size() == 12).all()
    assert frame.groupby("split")["user_id"].nunique().to_dict() == {"test": n_users, "valid": n_users}
    train = set(zip(split.query("split == 'train'")["user_id"], split.query("split == 'train'")["item_id"]))
    valid = set(zip(split.query("split == 'valid'")["user_id"], split.query("split == 'valid'")["item_id"]))
    got = {s: set(zip(g["user_id"], g["item_id"])) for s, g in frame.groupby("split")}
    assert not got["valid"] & train and not got["test"] & (train | valid)
    assert (frame.groupby(["user_id", "split"])["score"].diff().dropna() <= 0).all()
    info = ws.stage_info("candidates:bpr")
    assert info["status"] == "done" and info["config"]["epochs"] == 15 and info["config"]["k"] == 12
    assert 1 <= info["best_epoch"] <= 15 and info["train_seconds"] > 0
    assert info["recall"]["test@12"] == pytest.approx(summary["recall"]["test@12"], abs=1e-4)
    data = interactions_from_split(split)
    assert candidate_recall(frame, data)["valid"] == pytest.approx(info["recall"]["valid@12"], abs=1e-6)


@pytest.mark.shared_data
def test_training_is_deterministic_on_cpu(digital_music):
    runs = [generate_candidates(digital_music, "lightgcn", overrides={"epochs": 4, "seed": 3}).frame for _ in range(2)]
    pd.testing.assert_frame_equal(runs[0], runs[1])
    other = generate_candidates(digital_music, "lightgcn", overrides={"epochs": 4, "seed": 4}).frame
    assert not runs[0]["item_id"].equals(other["item_id"])


@pytest.mark.shared_data
def test_bad_options_and_missing_stage(digital_music, tmp_path, capsys):
    assert main(["candidates", str(digital_music.root), "--generator", "pop", "--epochs", "3"]) == 2
    assert "--epochs does not apply to generator 'pop'" in capsys.readouterr().err
    with pytest.raises(ConfigError):
        generate_candidates(digital_music, "pop", k=0)
    with pytest.raises(WorkspaceError, match="persona4rec candidates"):
        load_candidates(digital_music, "nonexistent")


@pytest.mark.shared_data
@pytest.mark.slow
def test_bpr_and_lightgcn_beat_popularity_on_musical_instruments(musical_instruments):
    """Default configs; validation NDCG@10 from the written candidate lists."""
    from persona4rec.evaluation.workspace_eval import evaluate_generator

    ndcg = {}
    for generator in ("pop", "bpr", "lightgcn"):
        generate_candidates(musical_instruments, generator)
        ndcg[generator] = evaluate_generator(musical_instruments, generator, split="valid").overall["NDCG@10"]
    assert ndcg["bpr"] > ndcg["pop"] * 1.3, ndcg
    assert ndcg["lightgcn"] > ndcg["pop"] * 1.3, ndcg


def test_generator_config_from_file_environment_and_overrides(tmp_path, monkeypatch):
    from persona4rec.candidates.generate import load_generator_config

    toml = tmp_path / "p.toml"
    toml.write_text("[bpr]\ndim = 16\nlr = 0.01\n[lightgcn]\nlayers = 2\n")
    monkeypatch.setenv("PERSONA4REC_CANDIDATES_BPR_LR", "0.02")
    config = load_generator_config("bpr", path=toml, overrides={"epochs": 7, "layers": None})
    assert (config.dim, config.lr, config.epochs, config.reg) == (16, 0.02, 7, 0.03)
    assert load_generator_config("lightgcn", path=toml).layers == 2
    with pytest.raises(ConfigError, match="'layers' does not apply to generator 'bpr'"):
        load_generator_config("bpr", overrides={"layers": 2})
    with pytest.raises(ConfigError, match="unknown generator"):
        load_generator_config("svd")
