"""The Table 4 grid: for each encoder, generator and index variant (multi, single), gamma and the fusion
weight tuned on VALID, then the pure method, the fusion and (multi) the learned ranker scored on TEST.

The primary encoder (the fine-tuned one when there is one) also gives the serving configs written to
serving.json, and its multi-persona reranker per generator is what the ablations, the latency and the
LLM baseline use.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ...workspace import Workspace
from .ablations import cf_only_learned, index_ablations, negatives_ablation, objective_ablation
from .config import BenchConfig
from .inputs import encoder_label
from .rows import AccuracyGrid, row_label


def accuracy(
    ws: Workspace, config: BenchConfig, encoders: Sequence[str], say: Callable[[str], None]
) -> tuple[AccuracyGrid, dict, dict]:
    """Every accuracy row; returns (the grid of rows, tuning record, the primary multi reranker per generator)."""
    from ...rerank import save_serving_configs

    grid = AccuracyGrid.start(ws, config)
    tuning: dict = {}
    primary_encoder = encoders[-1]
    primary: dict = {}
    serving: list = []
    for encoder in encoders:
        encoder_rows(grid, encoder, encoder == primary_encoder, tuning, primary, serving, say)
    if config.learned:
        cf_only_learned(grid, primary, say)
    if encoder_label(ws, primary_encoder) == "adapter" and config.negatives_ablation:
        negatives_ablation(grid, primary, say)
        objective_ablation(grid, primary, say)
    index_ablations(grid, primary_encoder, primary, say)
    grid.compare_with_best_cf()
    grid.serving = [dict(c.__dict__) for c in serving]
    if serving:
        save_serving_configs(ws, serving, tuning={"by": "persona4rec bench"})
    return grid, tuning, primary


def encoder_rows(
    grid: AccuracyGrid, encoder: str, is_primary: bool, tuning: dict, primary: dict, serving: list, say
) -> None:
    """One encoder's rows for every generator; fills `tuning` and, for the primary encoder, `primary` and
    `serving`."""
    from ...encoder.selection import choose_encoder
    from ...encoder.user import UserEncoder
    from ...index.persona_index import open_index
    from ...ltr.inputs import FeatureInputs
    from ...rerank import Reranker, ServingConfig
    from ..tuning import tune_gamma

    ws, config = grid.ws, grid.config
    choice = choose_encoder(ws, encoder)
    label = encoder_label(ws, encoder)
    say(f"encoder {label}: user vectors and indexes ...")
    users = UserEncoder.from_workspace(ws, choice)
    indexes = {"multi": open_index(ws, "multi", choice), "single": open_index(ws, "single", choice)}
    inputs = FeatureInputs.from_workspace(ws, choice) if config.learned else None
    for generator in config.generators:
        multi = Reranker(indexes["multi"], users)
        gamma = tune_gamma(ws, config.gammas, generator=generator, reranker=multi)
        record = tuning.setdefault(label, {}).setdefault(generator, {"gamma": gamma, "fusion": {}})
        tuned_users = users.with_gamma(gamma["best"])
        for variant, index in indexes.items():
            reranker = Reranker(
                index,
                tuned_users,
                inputs=inputs,
                config=ServingConfig(
                    variant=variant,
                    encoder=None if encoder == "trained" else encoder,
                    gamma=gamma["best"],
                    generator=generator,
                ),
            )
            best = variant_rows(grid, reranker, generator, variant, label, is_primary, record)
            if is_primary:
                serving.append(best)
                if variant == "multi":
                    primary[generator] = reranker
        say(
            f"  {generator}: gamma {gamma['best']} (valid NDCG@10 {gamma['ndcg@10'][gamma['best']]:.4f}), "
            f"fusion weight multi {record['fusion']['multi']['best']} / single {record['fusion']['single']['best']}"
            + (f", learned CV {record['learned']['cv_ndcg@10']:.4f}" if "learned" in record else "")
        )


def variant_rows(grid: AccuracyGrid, reranker, generator: str, variant: str, label: str, is_primary: bool, record):
    """The paper, fused and (multi) learned rows of one reranker; returns the serving config VALID prefers
    (the learned ranker's, saved under WS/rankers/, only for the primary encoder)."""
    from ..tuning import fit_learned_ranker, ranker_name, tune_fusion_weight

    ws, config = grid.ws, grid.config
    gamma = reranker.users.gamma
    fusion = tune_fusion_weight(ws, generator, config.fusion_weights, variant=variant, reranker=reranker)
    record["fusion"][variant] = fusion
    for scoring, weight in (("paper", 0.0), ("fused", fusion["best"])):
        grid.evaluate(
            reranker,
            generator,
            weight,
            reranker=row_label(variant, label, scoring),
            encoder=label,
            variant=variant,
            scoring=scoring,
            gamma=gamma,
        )
    best = reranker.config.replace(fusion_weight=fusion["best"], source="tuned on valid (bench)")
    best_valid = fusion["ndcg@10"][fusion["best"]]
    if variant == "multi" and config.learned:
        name = ranker_name(generator, variant, label, True) if is_primary else None
        fit = fit_learned_ranker(
            ws, reranker, generator, folds=config.ltr_folds, grid=config.learned_ranker_grid(), save_as=name
        )
        record["learned"] = {"cv_ndcg@10": fit.cv_ndcg, "chosen": fit.report.get("chosen")}
        grid.evaluate(
            reranker.with_options(ranker=fit.ranker),
            generator,
            0.0,
            reranker=row_label(variant, label, "learned"),
            encoder=label,
            variant=variant,
            scoring="learned",
            gamma=gamma,
        )
        if fit.cv_ndcg > best_valid and name:
            best = best.replace(ranker=name, fusion_weight=0.0)
    return best
