"""End to end on the synthetic demo: extractive offline stages -> trained encoder -> persona index ->
rerank. The demo plants which reason each review voices and which reasons each user prefers, so the
persona chosen for a held-out test interaction can be checked: its planted reason (the majority reason
of the reviews it was built from) should be one the user prefers far more often than a random persona
of the same item.

Slow (demo generation, offline extraction and training: several minutes on 2 busy cores), so marked
`slow`. PERSONA4REC_TEST_DEMO_WS may name an already built demo workspace (offline stages done) to
reuse; the test trains into a copy of it.
"""

from __future__ import annotations

import os
import shutil
from collections import Counter

import pandas as pd
import pytest

from persona4rec.encoder.train import TrainConfig, train_encoder
from persona4rec.offline.records import load_personas
from persona4rec.rerank import Reranker, ServingConfig
from persona4rec.workspace import Workspace

pytestmark = pytest.mark.slow


def persona_reasons(ws: Workspace) -> dict[str, str]:
    """persona key -> the majority planted reason of the reviews it was built from."""
    planted = pd.read_parquet(ws.data_dir / "planted_reviews.parquet").dropna(subset=["reason_id"])
    reason_of = {f"{u}|{i}": r for u, i, r in zip(planted["user_id"], planted["item_id"], planted["reason_id"])}
    out = {}
    for item_id, record in load_personas(ws).items():
        for pid, keys in record.evidence.items():
            votes = Counter(reason_of[k] for k in keys if k in reason_of)
            if votes:
                out[f"{item_id}_{pid}"] = votes.most_common(1)[0][0]
    return out


def planted_recovery(ws: Workspace, reranker: Reranker, split: str = "test") -> dict[str, float]:
    """Share of held-out interactions whose winning persona carries a reason the user prefers, against
    the same share for a uniformly random persona of the item, over informative items (personas with
    known reasons, some preferred and some not)."""
    prefs = pd.read_parquet(ws.data_dir / "planted_users.parquet").groupby("user_id")["reason_id"].apply(set).to_dict()
    reasons = persona_reasons(ws)
    split_frame = pd.read_parquet(ws.data_dir / "split.parquet")
    held = split_frame[split_frame["split"] == split]
    hits, chance, n = 0.0, 0.0, 0
    for user, item in zip(held["user_id"].astype(str), held["item_id"].astype(str)):
        ranked = reranker.rerank(user, [item], split)[0]
        known = {k: reasons[k] for k in ranked.persona_scores if k in reasons}
        liked = [k for k, r in known.items() if r in prefs.get(user, set())]
        if len(known) < 2 or not liked or len(liked) == len(known):
            continue
        n += 1
        hits += ranked.persona_key in liked
        chance += len(liked) / len(known)
    return {"n": n, "hit_rate": hits / max(n, 1), "random_rate": chance / max(n, 1)}


def alignment_agreement(ws: Workspace, reranker: Reranker) -> dict[str, float]:
    """How often the max-similarity persona of a training interaction (user embedded from the history
    before it) is the persona the alignment stage chose, against 1/#personas for a random pick."""
    from persona4rec.offline.records import load_alignment

    table, keys = reranker.table, reranker.index.entries["persona_key"].tolist()
    agree, chance, n = 0, 0.0, 0
    for record in load_alignment(ws).values():
        vector = reranker.users.embed_before(record.user_id, record.item_id)
        row = table.item_row.get(record.item_id)
        width = int(table.mask[row].sum()) if row is not None else 0
        if not vector.any() or width < 2:
            continue
        _, slot = table.score_one(vector, table.rows_for([[record.item_id]])[0])
        n += 1
        agree += keys[table.entry_rows[row, slot[0]]] == f"{record.item_id}_{record.persona_id}"
        chance += 1 / width
    return {"n": n, "agreement": agree / max(n, 1), "random": chance / max(n, 1)}


@pytest.fixture(scope="module")
def demo_ws(tmp_path_factory) -> Workspace:
    target = tmp_path_factory.mktemp("demo") / "ws"
    prebuilt = os.environ.get("PERSONA4REC_TEST_DEMO_WS")
    if prebuilt:
        shutil.copytree(prebuilt, target, ignore=shutil.ignore_patterns("encoder", "index"))
        (target / "encoder").mkdir()
        (target / "index").mkdir()
        return Workspace.open(target)
    from persona4rec.demo.catalogue import build_demo_workspace
    from persona4rec.offline.backends import make_backend
    from persona4rec.offline.stages import run_all

    ws = build_demo_workspace(target, n_items=40, n_users=100)
    run_all(ws, make_backend(ws, "extractive"), progress=False)
    return ws


def test_trained_encoder_learns_alignment_and_recovers_planted_reasons(demo_ws):
    vanilla = Reranker.from_workspace(demo_ws, ServingConfig(encoder="vanilla"))
    before = {"planted": planted_recovery(demo_ws, vanilla), "alignment": alignment_agreement(demo_ws, vanilla)}
    result = train_encoder(demo_ws, TrainConfig(epochs=2, batch_size=32, max_seq_length=96, progress=False))
    trained = Reranker.from_workspace(demo_ws)
    after = {"planted": planted_recovery(demo_ws, trained), "alignment": alignment_agreement(demo_ws, trained)}
    print(
        f"\nvanilla {before}\ntrained {after}\nInfoNCE {result.loss_before:.3f} -> {result.loss_after:.3f} "
        f"({result.pairs} pairs, {result.seconds:.0f}s)"
    )
    assert result.loss_after < result.loss_before
    # the encoder keeps/learns its supervision: the judge's persona wins far more often than a random one
    # (the extractive judge itself scores with the vanilla model, so vanilla already agrees ~95%)
    assert after["alignment"]["n"] >= 100
    assert after["alignment"]["agreement"] >= 1.5 * after["alignment"]["random"]
    # and the persona chosen for held-out interactions carries a reason the user prefers more often than
    # chance. (How far above chance is bounded by the alignment labels themselves: with the extractive
    # backend they match the user's planted reasons only slightly more often than a random persona.)
    assert after["planted"]["n"] >= 30
    assert after["planted"]["hit_rate"] > after["planted"]["random_rate"]


def _adapter_reranker(demo_ws):
    from persona4rec.encoder.adapter import AdapterConfig, train_adapter

    result = train_adapter(demo_ws, AdapterConfig(epochs=20), progress=False)
    return result, Reranker.from_workspace(demo_ws)


def test_adapter_keeps_the_alignment_supervision(demo_ws):
    """The default mode (the adapter, trained on cached embeddings): the judge's persona wins for its
    training interactions far more often than a random one."""
    result, trained = _adapter_reranker(demo_ws)
    assert (
        trained.index.meta["encoder_label"] == "trained"
        and demo_ws.stage_info("encoder")["config"]["mode"] == "adapter"
    )
    assert result.loss_curve[-1] < result.loss_curve[0]
    alignment = alignment_agreement(demo_ws, trained)
    assert alignment["n"] >= 100 and alignment["agreement"] >= 1.5 * alignment["random"]


@pytest.mark.xfail(
    strict=True,
    reason="known regression, docs/RESULTS.md: on this 40-item catalogue the adapter's winning persona "
    "carries a planted reason only at chance level (0.45 vs chance 0.43; the vanilla encoder 0.46, the "
    "full fine-tuning above 0.54); the bar is what the full fine-tuning clears, chance + 0.05",
)
def test_adapter_explanations_carry_planted_reasons(demo_ws):
    _, trained = _adapter_reranker(demo_ws)
    planted = planted_recovery(demo_ws, trained)
    assert planted["n"] >= 30 and planted["hit_rate"] >= planted["random_rate"] + 0.05
