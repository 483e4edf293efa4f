"""The bench's ablation rows, each scored by the pure method unless said otherwise:

cf_only_learned     the learned ranker without any persona feature (what a learner alone adds)
negatives_ablation  the adapter retrained in memory without each kind of negative
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
    data = AdapterData.from_workspace(ws, base)
    vanilla = choose_encoder(ws, "vanilla")
    users = UserEncoder.from_workspace(ws, vanilla)
    index = open_index(ws, "multi", vanilla)
    for name, changes in NEGATIVE_ABLATIONS.items():
        result = fit_adapter(data, dataclasses.replace(base, **changes))
        new_index, new_users = adapted(index, users, result.weights)
        say(f"  adapter {name}: VALID NDCG@10 {result.valid_best:.4f} (epoch {result.best_epoch})")
        for generator in grid.config.generators:
            gamma = primary[generator].users.gamma
            grid.evaluate(
                Reranker(new_index, new_users.with_gamma(gamma)),
                generator,
                0.0,
                reranker=row_label("multi", f"adapter ({name})", "paper"),
                encoder=f"adapter ({name})",
                variant="multi",
                scoring="paper",
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
