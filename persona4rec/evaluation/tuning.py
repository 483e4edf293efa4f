"""Tuning the serving config on the VALID split (never on TEST), and writing it where serving reads it.

    configs = tune_serving(ws)          # gamma, fusion weight and a learned ranker per generator x variant
    # -> WS/serving.json, read by Reranker.from_workspace (the app, `recommend`, the study builders)

For each (generator, variant): gamma is chosen by the pure method's VALID NDCG@10, then the fusion
weight, then a learned ranker (LightGBM lambdarank over persona and CF features, its hyperparameters
chosen by user-level cross-validation on VALID and refitted on all VALID users). What is served is the
best of the three by VALID NDCG@10 (the learned ranker by its out-of-fold score, which is the honest
one; the fusion weight's in-sample score is slightly optimistic, so a tie goes to the simpler scorer).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import WorkspaceError
from ..ltr.features import padded_scores
from ..ltr.inputs import FeatureInputs
from ..metrics import ndcg_at
from ..rerank import RANKERS_DIR, Reranker, ServingConfig, save_serving_configs
from ..workspace import Workspace

log = logging.getLogger(__name__)

GAMMAS = (0.1, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 1.0)  # down to ~the last interaction alone
FUSION_WEIGHTS = tuple(round(0.1 * n, 1) for n in range(11))


def validation_lists(ws: Workspace, generator: str, split: str = "valid", timelines=None):
    """(user ids, candidate lists in CF order, cf scores, targets) of a generator's `split` candidates,
    users with a target in that split only. timelines: the workspace's, when the caller has them."""
    from ..candidates.generate import candidate_lists
    from ..encoder.timeline import Timelines

    timelines = timelines or Timelines.from_workspace(ws)
    kept = [(u, items, cf, timelines.target(u, split)) for u, items, cf in zip(*candidate_lists(ws, generator, split))]
    kept = [row for row in kept if row[3] is not None]
    return tuple(list(column) for column in zip(*kept)) if kept else ([], [], [], [])


def tune_fusion_weight(
    ws: Workspace,
    generator: str = "bpr",
    weights: Sequence[float] = FUSION_WEIGHTS,
    variant: str = "multi",
    k: int = 10,
    reranker: Reranker | None = None,
) -> dict:
    """NDCG@k on the valid split for each fusion weight; returns the best and the whole curve."""
    base = reranker or Reranker.from_workspace(ws, ServingConfig(variant=variant))
    users, lists, scores, targets = validation_lists(ws, generator, timelines=base.users.timelines)
    curve = {}
    for weight in weights:
        ranked = base.with_options(fusion_weight=float(weight), ranker=None).rank_ids_many(
            users, lists, "valid", scores
        )
        curve[round(float(weight), 4)] = ndcg_at(ranked, targets, k)
    best = max(curve, key=lambda w: (curve[w], -w))  # ties go to the purer (smaller) weight
    return {
        "best": best,
        f"ndcg@{k}": curve,
        "generator": generator,
        "variant": variant,
        "users": len(users),
        "cf_ndcg": ndcg_at(lists, targets, k),
        "split": "valid",
    }


def tune_gamma(
    ws: Workspace,
    gammas: Sequence[float] = GAMMAS,
    generator: str | None = "bpr",
    variant: str = "multi",
    k: int = 10,
    reranker: Reranker | None = None,
) -> dict:
    """NDCG@k on the valid split for each gamma, reranking `generator`'s candidates by the pure method;
    with generator=None (or no candidates file) by full-catalogue retrieval instead."""
    base = (reranker or Reranker.from_workspace(ws, ServingConfig(variant=variant))).with_options(
        fusion_weight=0.0, ranker=None
    )
    source = f"candidates:{generator}"
    if generator and (ws.candidates_dir / f"{generator}.parquet").exists():
        users, lists, scores, targets = validation_lists(ws, generator, timelines=base.users.timelines)
    else:
        source = "retrieval"
        users = [u for u in base.users.timelines.users() if base.users.timelines.target(u, "valid") is not None]
        targets = [base.users.timelines.target(u, "valid") for u in users]
    curve = {}
    for gamma in gammas:
        tuned = base.with_options(gamma=float(gamma))
        if source == "retrieval":
            ranked = [[r.item_id for r in tuned.retrieve(u, k, "valid")] for u in users]
        else:
            ranked = tuned.rank_ids_many(users, lists, "valid", scores)
        curve[round(float(gamma), 4)] = ndcg_at(ranked, targets, k)
    best = max(curve, key=lambda g: (curve[g], g))
    return {
        "best": best,
        f"ndcg@{k}": curve,
        "source": source,
        "variant": variant,
        "users": len(users),
        "split": "valid",
    }


# -- the learned ranker ---------------------------------------------------------------------------


@dataclass
class LearnedFit:
    ranker: object  # persona4rec.ltr.LearnedRanker
    name: str  # folder under WS/rankers/ ("" when not saved)
    cv_ndcg: float  # out-of-fold VALID NDCG@10 of the chosen hyperparameters
    report: dict


def ranker_name(generator: str, variant: str, encoder_label: str, persona_features: bool) -> str:
    kind = "learned" if persona_features else "cf-only"
    return f"{kind}-{generator}-{variant}-{encoder_label}"


def list_features(reranker: Reranker, users, lists, scores, split: str) -> tuple[np.ndarray, np.ndarray]:
    """(features (U, C, F), lengths) of candidate lists, as the reranker computes them online."""
    user_vectors = reranker.users.embed_many(users, split)
    rows = reranker.table.rows_for(lists)
    persona_scores = reranker.table.score(user_vectors, rows)
    features = reranker.features(users, lists, split, padded_scores(scores, rows.shape), persona_scores, user_vectors)
    return features, np.asarray([len(c) for c in lists])


def target_positions(lists, targets) -> np.ndarray:
    return np.asarray([items.index(t) if t in items else -1 for items, t in zip(lists, targets)])


def fit_learned_ranker(
    ws: Workspace,
    reranker: Reranker,
    generator: str,
    *,
    persona_features: bool = True,
    folds: int = 5,
    seed: int = 0,
    grid=None,
    save_as: str | None = None,
) -> LearnedFit:
    """Fit a learned ranker on `generator`'s VALID lists (CV on VALID picks its hyperparameters).
    persona_features=False: the same learner on CF features only (the baseline that shows what the
    personas add rather than what a learner adds)."""
    from ..ltr import CF_FEATURES, FEATURES, default_grid, tune_and_fit

    if reranker.inputs is None:
        reranker = reranker.with_inputs(FeatureInputs.from_workspace(ws, choice_of(ws, reranker)))
    users, lists, scores, targets = validation_lists(ws, generator, timelines=reranker.users.timelines)
    if not users:
        raise WorkspaceError(f"{ws.root}: no VALID candidates of {generator} to fit a learned ranker on")
    features, lengths = list_features(reranker, users, lists, scores, "valid")
    names = tuple(FEATURES if persona_features else CF_FEATURES)
    configs = [dataclasses.replace(c, features=names) for c in (grid or default_grid(names))]
    ranker, report = tune_and_fit(
        features, lengths, target_positions(lists, targets), grid=configs, folds=folds, seed=seed
    )
    cv = report["results"][report["best"]]["ndcg@10"]
    name = ""
    if save_as:
        ranker.save(ws.root / RANKERS_DIR / save_as)
        name = save_as
    return LearnedFit(ranker=ranker, name=name, cv_ndcg=float(cv), report=report)


def choice_of(ws: Workspace, reranker: Reranker):
    from ..encoder.selection import choose_encoder

    return choose_encoder(ws, reranker.config.encoder)


# -- the whole serving config ---------------------------------------------------------------------


def tune_serving(
    ws: Workspace,
    generators: Sequence[str] | None = None,
    variants: Sequence[str] = ("multi", "single"),
    gammas: Sequence[float] = GAMMAS,
    weights: Sequence[float] = FUSION_WEIGHTS,
    learned: bool = True,
    encoder: str | None = None,
    say: Callable[[str], None] = log.info,
) -> list[ServingConfig]:
    """Tune every (generator, variant) on VALID and write serving.json (the first generator's multi
    config is the default). Returns the configs in that order."""
    from ..encoder.selection import choose_encoder
    from ..encoder.user import UserEncoder
    from ..index.persona_index import open_index

    generators = [g for g in (generators or ("bpr", "lightgcn")) if (ws.candidates_dir / f"{g}.parquet").exists()]
    if not generators:
        raise WorkspaceError(f"{ws.root}: no candidates to tune on; run `persona4rec candidates {ws.root}` first")
    choice = choose_encoder(ws, encoder)
    users = UserEncoder.from_workspace(ws, choice)
    inputs = FeatureInputs.from_workspace(ws, choice) if learned else None
    configs, record = [], {}
    for generator in generators:
        for variant in variants:
            if variant == "single" and not (ws.offline_dir / "personas_single.jsonl").exists():
                continue
            index = open_index(ws, variant, choice)
            base = Reranker(
                index, users, inputs=inputs, config=ServingConfig(variant=variant, encoder=encoder, generator=generator)
            )
            config, detail = tune_one(ws, base, generator, variant, gammas, weights, learned, choice.label)
            configs.append(config)
            record[f"{generator}/{variant}"] = detail
            say(
                f"serving {generator}/{variant}: {config.scoring()} "
                f"(gamma {config.gamma}, fusion {config.fusion_weight}"
                f"{', ranker ' + config.ranker if config.ranker else ''}); VALID NDCG@10 {detail['chosen_ndcg']:.4f}, "
                f"CF {detail['cf_ndcg']:.4f}"
            )
    save_serving_configs(ws, configs, tuning=record)
    return configs


def tune_one(
    ws: Workspace, base: Reranker, generator: str, variant: str, gammas, weights, learned: bool, encoder_label: str
) -> tuple[ServingConfig, dict]:
    gamma = tune_gamma(ws, gammas, generator=generator, reranker=base)
    tuned = base.with_options(gamma=gamma["best"])
    fusion = tune_fusion_weight(ws, generator, weights, variant=variant, reranker=tuned)
    pure, fused = fusion["ndcg@10"][0.0], fusion["ndcg@10"][fusion["best"]]
    config = base.config.replace(
        gamma=gamma["best"], fusion_weight=fusion["best"], ranker=None, source="tuned on valid"
    )
    chosen = fused
    detail = {"gamma": gamma, "fusion": fusion, "cf_ndcg": fusion["cf_ndcg"], "pure_ndcg": pure}
    if learned:
        fit = fit_learned_ranker(ws, tuned, generator, save_as=ranker_name(generator, variant, encoder_label, True))
        detail["learned"] = {"name": fit.name, "cv_ndcg@10": fit.cv_ndcg, "cv": fit.report}
        if fit.cv_ndcg > chosen:
            config, chosen = config.replace(ranker=fit.name, fusion_weight=0.0), fit.cv_ndcg
    detail["chosen_ndcg"] = chosen
    detail["chosen"] = config.scoring()
    return config, detail
