"""The bench's ablation rows, each scored by the pure method unless said otherwise:

cf_only_learned     the learned ranker without any persona feature (what a learner alone adds)
negatives_ablation  the adapter retrained in memory without each kind of negative
objective_ablation  the adapter retrained in memory with the fused listwise objective (encoder/adapter.py),
                    and with early stopping on the fused VALID score; pure and fused rows (the fused
                    objective is trained for the fused score)
index_ablations     the summary-only index (Table 6) and the first-k personas (Table 10)
"""

from __future__ import annotations

from .inputs import encoder_label
from .rows import AccuracyGrid, row_label

NEGATIVE_ABLATIONS = {
    "in-batch only": {"cf_negatives": 0, "item_negatives": False},
    "+ list negatives": {"item_negatives": False},
    "+ item negatives": {"cf_negatives": 0},
}
OBJECTIVE_ABLATIONS = {
    "fused listwise": {"objective": "fused", "stop_on": "fused"},
    "+ fused listwise": {"objective": "infonce+fused", "stop_on": "fused"},
    "stop on fused": {"objective": "infonce", "stop_on": "fused"},
}


def cf_only_learned(grid: AccuracyGrid, primary: dict, say) -> None:
    """The same learner without any persona feature: what a learner adds, so the persona rows can be
    judged against it (its `scoring` starts with CF: it is a baseline)."""
    from ..tuning import fit_learned_ranker

    config = grid.config
    for generator in config.generators:
        fit = fit_learned_ranker(
            grid.ws,
            primary[generator],
            generator,
            persona_features=False,
            folds=config.ltr_folds,
            grid=config.learned_ranker_grid(),
        )
        say(f"  {generator}: CF-only learned ranker, CV {fit.cv_ndcg:.4f}")
        grid.evaluate(
            primary[generator].with_options(ranker=fit.ranker),
            generator,
            0.0,
            reranker=f"{generator} (CF-only learned ranker)",
            encoder="",
            variant="",
            scoring="CF learned",
            gamma=None,
        )


def negatives_ablation(grid: AccuracyGrid, primary: dict, say) -> None:
    """The adapter retrained in memory without each kind of negative (pure method, multi index): the
    effect of the rank-aware negatives. The full adapter is the primary encoder's row."""
    for name, reranker in _retrained(grid, NEGATIVE_ABLATIONS, say):
        for generator in grid.config.generators:
            _adapter_row(grid, reranker, generator, primary[generator].users.gamma, name, "paper", 0.0)


def objective_ablation(grid: AccuracyGrid, primary: dict, say) -> None:
    """The adapter retrained in memory with each training objective / stopping rule of OBJECTIVE_ABLATIONS
    (multi index, the primary encoder's gamma): its pure row and its fused row, the fusion weight tuned
    on VALID for it as for every fused row."""
    from ..tuning import tune_fusion_weight

    for name, reranker in _retrained(grid, OBJECTIVE_ABLATIONS, say):
        for generator in grid.config.generators:
            gamma = primary[generator].users.gamma
            tuned = reranker.with_options(gamma=gamma)
            fusion = tune_fusion_weight(grid.ws, generator, grid.config.fusion_weights, reranker=tuned)
            best = fusion["best"]
            say(f"    {generator}: fusion weight {best} (VALID NDCG@10 {fusion['ndcg@10'][best]:.4f})")
            _adapter_row(grid, reranker, generator, gamma, name, "paper", 0.0)
            _adapter_row(grid, reranker, generator, gamma, name, "fused", best)


def _retrained(grid: AccuracyGrid, variants: dict, say):
    """(name, in-memory Reranker) of the adapter retrained with each variant's config changes, on the data
    of the workspace's trained adapter config (training lists included, so every objective can run)."""
    import dataclasses

    from ...encoder.adapter import AdapterConfig, AdapterData, adapted, fit_adapter
    from ...encoder.selection import choose_encoder
    from ...encoder.user import UserEncoder
    from ...index.persona_index import open_index
    from ...rerank import Reranker

    ws = grid.ws
    trained = (ws.stage_info("encoder") or {}).get("config", {})
    known = {f.name for f in dataclasses.fields(AdapterConfig)}
    base = AdapterConfig(**{k: (tuple(v) if isinstance(v, list) else v) for k, v in trained.items() if k in known})
    needs_lists = any(dataclasses.replace(base, **changes).uses_lists for changes in variants.values())
    data = AdapterData.from_workspace(ws, dataclasses.replace(base, objective="infonce+fused") if needs_lists else base)
    vanilla = choose_encoder(ws, "vanilla")
    users = UserEncoder.from_workspace(ws, vanilla)
    index = open_index(ws, "multi", vanilla)
    for name, changes in variants.items():
        result = fit_adapter(data, dataclasses.replace(base, **changes))
        cf = f", CF weight {result.fused_cf:.3f}" if result.fused_cf is not None else ""
        say(f"  adapter {name}: VALID NDCG@10 {result.valid_best:.4f} (epoch {result.best_epoch}{cf})")
        new_index, new_users = adapted(index, users, result.weights)
        yield name, Reranker(new_index, new_users)


def _adapter_row(grid: AccuracyGrid, reranker, generator: str, gamma: float, name: str, scoring: str, weight) -> None:
    grid.evaluate(
        reranker.with_options(gamma=gamma),
        generator,
        weight,
        reranker=row_label("multi", f"adapter ({name})", scoring),
        encoder=f"adapter ({name})",
        variant="multi",
        scoring=scoring,
        gamma=gamma,
    )


def index_ablations(grid: AccuracyGrid, encoder: str, primary: dict, say) -> None:
    """Summary-only index and first-k personas with the primary encoder, pure method, tuned gamma."""
    from ...encoder.selection import choose_encoder
    from ...index.persona_index import open_index
    from ...rerank import Reranker

    ws = grid.ws
    choice = choose_encoder(ws, encoder)
    label = encoder_label(ws, encoder)
    variants = ["summary", *(f"first-{k}" for k in grid.config.first_k)]
    say(f"ablations ({label} encoder): {', '.join(variants)} ...")
    for variant in variants:
        index = open_index(ws, variant, choice)
        for generator in grid.config.generators:
            users = primary[generator].users
            grid.evaluate(
                Reranker(index, users),
                generator,
                0.0,
                reranker=row_label(variant, label, "paper"),
                encoder=label,
                variant=variant,
                scoring="paper",
                gamma=users.gamma,
            )
