"""The serving config: tuned on VALID, written to serving.json, and read by Reranker.from_workspace, the
`recommend` verb and the app's session cache alike; the learned ranker keeps the arg-max persona."""

from __future__ import annotations

import numpy as np
import pytest
from encoder_tiny import CATALOGUE_ORDER, build_tiny_workspace, write_full_candidates

from persona4rec.cli import main
from persona4rec.encoder.user import DEFAULT_GAMMA
from persona4rec.ltr.inputs import FeatureInputs
from persona4rec.rerank import (
    SERVING_FILE,
    Reranker,
    ServingConfig,
    load_serving_config,
    save_serving_configs,
)

ITEMS = CATALOGUE_ORDER
TUNED_GAMMA = 0.3  # far from the default 0.9, so a reader that ignores serving.json is caught


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    ws = build_tiny_workspace(tmp_path_factory.mktemp("serving") / "ws")
    write_full_candidates(ws)
    return ws


def test_without_serving_json_the_defaults_serve(ws):
    assert not (ws.root / SERVING_FILE).exists()
    config = load_serving_config(ws, "single")
    assert config.variant == "single" and config.gamma == DEFAULT_GAMMA and config.source == "default"


def test_save_and_load_pick_the_variant_and_generator(ws, tmp_path):
    configs = [
        ServingConfig(variant="multi", gamma=TUNED_GAMMA, fusion_weight=0.4, generator="bpr", source="t"),
        ServingConfig(variant="single", gamma=0.5, generator="bpr", source="t"),
        ServingConfig(variant="multi", gamma=0.7, generator="lightgcn", source="t"),
    ]
    save_serving_configs(ws, configs)
    assert load_serving_config(ws) == configs[0]
    assert load_serving_config(ws, "single") == configs[1]
    assert load_serving_config(ws, "multi", "lightgcn") == configs[2]
    assert load_serving_config(ws, "single", "lightgcn") == configs[1]  # same variant, other generator
    first3 = load_serving_config(ws, "first-3")
    assert first3.variant == "first-3" and first3.gamma == TUNED_GAMMA and first3.ranker is None


def test_reranker_recommend_and_app_read_the_tuned_gamma(ws, capsys):
    save_serving_configs(ws, [ServingConfig(gamma=TUNED_GAMMA, generator="bpr", source="tuned on valid")])
    reranker = Reranker.from_workspace(ws)
    assert reranker.users.gamma == TUNED_GAMMA and reranker.config.source == "tuned on valid"
    assert Reranker.from_workspace(ws, "single").users.gamma == TUNED_GAMMA
    assert main(["recommend", str(ws.root), "--user", "u_piano", "--top", "2"]) == 0
    assert f"gamma {TUNED_GAMMA}" in capsys.readouterr().out
    from persona4rec.views import session

    assert session.reranker(ws, "multi").users.gamma == TUNED_GAMMA
    # the study builders' explainer reads the same config
    from persona4rec.annotation import examples

    explain = examples.built_in_explainer(ws, "multi_persona")
    assert explain("u_piano", "piano")


def test_tune_serving_writes_what_is_then_served(ws):
    from persona4rec.evaluation.tuning import tune_serving

    configs = tune_serving(ws, ["bpr"], variants=("multi",), gammas=(0.5, 1.0), weights=(0.0, 1.0), learned=False)
    assert len(configs) == 1 and configs[0].gamma in (0.5, 1.0) and configs[0].source == "tuned on valid"
    served = Reranker.from_workspace(ws)
    assert served.users.gamma == configs[0].gamma and served.fusion_weight == configs[0].fusion_weight


def test_learned_ranker_orders_the_list_and_the_explanation_stays_the_argmax_persona(ws, tmp_path):
    from persona4rec.encoder.selection import choose_encoder
    from persona4rec.evaluation.tuning import list_features, target_positions, validation_lists
    from persona4rec.ltr import LearnedRankerConfig, fit_ranker

    base = Reranker.from_workspace(ws, ServingConfig())
    base = base.with_inputs(FeatureInputs.from_workspace(ws, choose_encoder(ws)))
    users, lists, scores, _ = validation_lists(ws, "bpr")
    features, lengths = list_features(base, users, lists, scores, "valid")
    # planted: the "target" is the last CF candidate, so a ranker that learned it reverses CF's head
    users, lists, scores = users * 20, lists * 20, scores * 20
    features, lengths = np.concatenate([features] * 20), np.concatenate([lengths] * 20)
    targets = [items[-1] for items in lists]
    ranker = fit_ranker(
        features,
        lengths,
        target_positions(lists, targets),
        LearnedRankerConfig(n_estimators=30, num_leaves=3, min_child_samples=1),
    )
    learned = base.with_options(ranker=ranker)
    ranked = learned.rerank("u_piano", ITEMS, "test", [10.0 - r for r in range(1, 8)])
    assert ranked[0].item_id == ITEMS[-1]
    pure = base.rerank("u_piano", ITEMS, "test")
    by_item = {r.item_id: r for r in pure}
    for item in ranked:
        assert item.persona_key == by_item[item.item_id].persona_key  # the same arg-max persona
        assert item.contributions and item.contributions[0][0] in ranker.feature_names
    # the fast path agrees with the explained path
    assert learned.rank_ids_many(["u_piano"], [ITEMS], "test", [[10.0 - r for r in range(1, 8)]])[0] == [
        r.item_id for r in ranked
    ]


def test_tune_verb_writes_serving_json(ws, capsys):
    (ws.root / SERVING_FILE).unlink(missing_ok=True)
    assert main(["tune", str(ws.root), "--generators", "bpr", "--no-learned"]) == 0
    assert "serving bpr/multi" in capsys.readouterr().out
    assert load_serving_config(ws).source == "tuned on valid"
