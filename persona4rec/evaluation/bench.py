"""`persona4rec bench WS`: the paper's tables on one workspace, measured.

    result = run_bench(ws, BenchConfig(generators=("bpr", "lightgcn")))

Accuracy (TEST split, leave-one-out, every user with a test target; a user without candidates misses):
    Table 4   generators x rerankers (multi- and single-persona index; vanilla and fine-tuned encoder) x K,
              each reranker as the pure paper method (fusion weight 0) and as the fusion with the CF score
              whose weight was tuned on VALID; per-user paired tests (NDCG@10) against the generator.
    Table 5   warm/cold users, head/tail items @10 (segments.py; counts from the train split).
    Table 6   the summary-only index (e_i = E(summary)) against CF.
    Table 10  the number of personas: first-1/3/5/7 against all.
    Encoders  vanilla vs fine-tuned, multi-persona, pure method.
gamma is tuned on VALID per encoder and generator (multi-persona index); nothing is tuned on TEST.
Latency and scale: latency.py. The LLM listwise baseline: llm_listwise.py.

Outputs: reports/metrics.json["bench"], reports/latency.json, report.md sections with plotly figures.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from ..errors import ConfigError, WorkspaceError
from ..io import write_json
from ..metrics import DEFAULT_KS, metric_columns
from ..workspace import Workspace
from .latency import LatencyConfig
from .tuning import FUSION_WEIGHTS, GAMMAS

log = logging.getLogger(__name__)

FIRST_K = (1, 3, 5, 7)
SIGNIFICANCE_METRIC = "NDCG@10"


@dataclass
class BenchConfig:
    generators: tuple[str, ...] = ("bpr", "lightgcn")
    ks: tuple[int, ...] = DEFAULT_KS
    skip_train: bool = False  # never fine-tune the encoder here (vanilla only unless one exists)
    quick: bool = False  # tiny grids for tests: fewer gammas/weights, small latency grid
    gammas: tuple[float, ...] = GAMMAS
    fusion_weights: tuple[float, ...] = FUSION_WEIGHTS
    first_k: tuple[int, ...] = FIRST_K
    bootstrap_samples: int = 10_000
    latency: LatencyConfig = field(default_factory=LatencyConfig)
    llm_base_url: str | None = None  # None: start llama.cpp's server with SmolLM2 when installed
    llm_model: str = "smollm2-135m"
    llm_users: int = 5
    llm: bool = True  # False: report the listwise baseline as not run
    learned: bool = True  # the learned ranker rows (and the CF-only learned baseline)
    ltr_folds: int = 5  # cross-validation folds on VALID for the learned ranker
    negatives_ablation: bool = True  # adapter retrained without each kind of negative

    @classmethod
    def quick_config(cls, **changes) -> BenchConfig:
        latency = LatencyConfig(
            batch_sizes=(1, 10),
            candidate_sizes=(20, 50),
            single_requests=200,
            synthetic_items=300,
            retrieval_sizes=(2_000,),
            retrieval_queries=10,
            hnsw_m=8,
            hnsw_ef_construction=20,
            hnsw_ef_search=16,
        )
        base = dict(
            quick=True,
            gammas=(0.5, 0.9),
            fusion_weights=(0.0, 0.5, 1.0),
            first_k=(1, 3),
            ltr_folds=2,
            bootstrap_samples=500,
            latency=latency,
        )
        base.update(changes)
        return cls(**base)

    def validate(self) -> None:
        if not self.generators:
            raise ConfigError("bench needs at least one generator (--generators bpr,lightgcn)")
        if not self.ks or any(k < 1 for k in self.ks):
            raise ConfigError(f"--ks must be positive integers, got {self.ks}")
        if 10 not in self.ks:
            raise ConfigError("--ks must include 10 (segments, tuning and significance are reported @10)")


@dataclass
class BenchResult:
    accuracy: Any  # DataFrame, one row per generator x reranker (Table 4 + ablations)
    segments: Any  # DataFrame, Table 5
    tuning: dict
    latency: dict
    llm: dict
    encoders: list[str]
    report_path: str
    tables: dict[str, Any] = field(default_factory=dict)  # caption -> DataFrame, as printed


# -- inputs -----------------------------------------------------------------------------------------


def ensure_inputs(ws: Workspace, config: BenchConfig, say: Callable[[str], None]) -> list[str]:
    """Candidates for every generator (trained here when missing) and the encoders to compare."""
    from ..candidates.generate import generate_candidates
    from ..encoder.selection import has_trained_encoder
    from ..offline.records import stage_path

    hints = {
        "personas": f"persona4rec offline all {ws.root}",
        "personas_single": f"persona4rec offline personas {ws.root} --single",
    }
    for stage, hint in hints.items():
        if not stage_path(ws, stage).exists():
            raise WorkspaceError(f"{stage_path(ws, stage)} is missing; run `{hint}` first")
    for generator in config.generators:
        if not (ws.candidates_dir / f"{generator}.parquet").exists():
            say(f"candidates/{generator}.parquet is missing: training {generator} ...")
            generate_candidates(ws, generator, progress=False)
    if not has_trained_encoder(ws) and not config.skip_train:
        from ..encoder.adapter import train_adapter

        say("no trained encoder: training the adapter (InfoNCE on offline/alignment.jsonl) ...")
        result = train_adapter(ws, progress=False)
        say(
            f"  {result.pairs} pairs, {result.epochs_run} epochs, {result.seconds:.1f} s, "
            f"VALID NDCG@10 {result.valid_before:.4f} -> {result.valid_best:.4f}"
        )
    return ["vanilla", "trained"] if has_trained_encoder(ws) else ["vanilla"]


def encoder_label(ws: Workspace, encoder: str) -> str:
    """ "vanilla", or the trained encoder's mode ("adapter", "full", "lora") as the manifest records it."""
    if encoder != "trained":
        return encoder
    config = (ws.stage_info("encoder") or {}).get("config", {})
    return config.get("mode") or ("lora" if config.get("lora") else "full")


# -- accuracy ---------------------------------------------------------------------------------------


@dataclass
class _Context:
    ws: Workspace
    config: BenchConfig
    split_frame: Any
    baselines: dict  # generator -> GeneratorEvaluation on test
    lists: dict  # generator -> (users, lists, scores) on test
    rows: list = field(default_factory=list)
    segment_rows: list = field(default_factory=list)
    per_user: dict = field(default_factory=dict)  # "reranker @ generator" -> per-user metrics frame
    serving: list = field(default_factory=list)  # the configs written to serving.json


def _row(ctx: _Context, generator: str, evaluation, comparison, **labels) -> None:
    overall = evaluation.overall
    row = {
        "generator": generator,
        **labels,
        "users": overall["users"],
        **{c: overall[c] for c in metric_columns(ctx.config.ks)},
    }
    if comparison is not None:
        row.update(
            {
                "dNDCG@10": comparison.mean_difference,
                "rel_NDCG@10": comparison.relative_change,
                "p_t": comparison.t_pvalue,
                "p_wilcoxon": comparison.wilcoxon_pvalue,
                "ci_low": comparison.ci_low,
                "ci_high": comparison.ci_high,
                "wins": comparison.wins,
                "losses": comparison.losses,
                "ties": comparison.ties,
            }
        )
    ctx.rows.append(row)
    seg = {"generator": generator, "reranker": labels["reranker"]}
    for name, values in evaluation.segments.items():
        seg[f"{name} users"] = values["users"]
        seg[f"{name} HR@10"] = values["HR@10"]
        seg[f"{name} NDCG@10"] = values["NDCG@10"]
    ctx.segment_rows.append(seg)


def _evaluate(ctx: _Context, model, generator: str, fusion_weight: float, **labels) -> None:
    from .significance import compare_per_user
    from .workspace_eval import evaluate_lists

    users, lists, scores = ctx.lists[generator]
    if labels.get("scoring") != "learned" and not str(labels.get("scoring", "")).startswith("CF"):
        model = model.with_options(fusion_weight=fusion_weight, ranker=None)
    ranked = model.rank_ids_many(users, lists, "test", scores)
    evaluation = evaluate_lists(
        ctx.split_frame, dict(zip(users, ranked)), name=labels["reranker"], split="test", ks=ctx.config.ks
    )
    comparison = compare_per_user(
        ctx.baselines[generator].per_user,
        evaluation.per_user,
        metric=SIGNIFICANCE_METRIC,
        samples=ctx.config.bootstrap_samples,
    )
    ctx.per_user[labels["reranker"] + " @ " + generator] = evaluation.per_user
    _row(ctx, generator, evaluation, comparison, fusion_weight=fusion_weight, **labels)


def _label(variant: str, encoder: str, scoring: str) -> str:
    return f"Persona4Rec {variant} / {encoder} / {scoring}"


def accuracy(
    ws: Workspace, config: BenchConfig, encoders: Sequence[str], say: Callable[[str], None]
) -> tuple[_Context, dict, Any]:
    """Every accuracy row; returns (context with rows, tuning record, the primary multi reranker per generator)."""
    from ..candidates.generate import candidate_lists, read_split
    from ..encoder.selection import choose_encoder
    from ..encoder.user import UserEncoder
    from ..index.persona_index import open_index
    from ..rerank import FeatureInputs, Reranker, ServingConfig
    from .tuning import fit_learned_ranker, ranker_name, tune_fusion_weight, tune_gamma
    from .workspace_eval import evaluate_generator

    ctx = _Context(ws, config, read_split(ws), {}, {})
    for generator in config.generators:
        ctx.baselines[generator] = evaluate_generator(ws, generator, split="test", ks=config.ks)
        ctx.lists[generator] = candidate_lists(ws, generator)
        ctx.per_user[f"{generator} (CF only) @ {generator}"] = ctx.baselines[generator].per_user
        _row(
            ctx,
            generator,
            ctx.baselines[generator],
            None,
            reranker=f"{generator} (CF only)",
            encoder="",
            variant="",
            scoring="CF",
            gamma=None,
            fusion_weight=None,
        )
    tuning: dict = {}
    primary_encoder = encoders[-1]
    primary: dict = {}
    serving: list = []
    for encoder in encoders:
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
                fusion = tune_fusion_weight(ws, generator, config.fusion_weights, variant=variant, reranker=reranker)
                record["fusion"][variant] = fusion
                for scoring, weight in (("paper", 0.0), ("fused", fusion["best"])):
                    _evaluate(
                        ctx,
                        reranker,
                        generator,
                        weight,
                        reranker=_label(variant, label, scoring),
                        encoder=label,
                        variant=variant,
                        scoring=scoring,
                        gamma=gamma["best"],
                    )
                best = reranker.config.replace(fusion_weight=fusion["best"], source="tuned on valid (bench)")
                best_valid = fusion["ndcg@10"][fusion["best"]]
                if variant == "multi" and config.learned:
                    name = ranker_name(generator, variant, label, True) if encoder == primary_encoder else None
                    fit = fit_learned_ranker(
                        ws, reranker, generator, folds=config.ltr_folds, grid=_grid(config), save_as=name
                    )
                    record["learned"] = {"cv_ndcg@10": fit.cv_ndcg, "chosen": fit.report.get("chosen")}
                    learned = reranker.with_options(ranker=fit.ranker)
                    _evaluate(
                        ctx,
                        learned,
                        generator,
                        0.0,
                        reranker=_label(variant, label, "learned"),
                        encoder=label,
                        variant=variant,
                        scoring="learned",
                        gamma=gamma["best"],
                    )
                    if fit.cv_ndcg > best_valid and name:
                        best, best_valid = best.replace(ranker=name, fusion_weight=0.0), fit.cv_ndcg
                if encoder == primary_encoder:
                    serving.append(best)
                    if variant == "multi":
                        primary[generator] = reranker
            say(
                f"  {generator}: gamma {gamma['best']} (valid NDCG@10 {gamma['ndcg@10'][gamma['best']]:.4f}), "
                f"fusion weight multi {record['fusion']['multi']['best']} / single {record['fusion']['single']['best']}"
                + (f", learned CV {record['learned']['cv_ndcg@10']:.4f}" if "learned" in record else "")
            )
    if config.learned:
        _cf_only_learned(ctx, ws, config, primary, say)
    if encoder_label(ws, primary_encoder) == "adapter" and config.negatives_ablation:
        _negatives_ablation(ctx, ws, config, primary, say)
    _ablations(ctx, ws, config, primary_encoder, primary, say)
    _against_best_cf(ctx)
    ctx.serving = [dict(c.__dict__) for c in serving]
    if serving:
        from ..rerank import save_serving_configs

        save_serving_configs(ws, serving, tuning={"by": "persona4rec bench"})
    return ctx, tuning, primary


def _grid(config: BenchConfig):
    if not config.quick:
        return None
    from ..ltr import LearnedRankerConfig

    return [LearnedRankerConfig(num_leaves=7, n_estimators=50, min_child_samples=5)]


def _cf_only_learned(ctx: _Context, ws: Workspace, config: BenchConfig, primary: dict, say) -> None:
    """The same learner without any persona feature: what a learner adds, so the persona rows can be
    judged against it (its `scoring` starts with CF: it is a baseline)."""
    from .tuning import fit_learned_ranker

    for generator in config.generators:
        fit = fit_learned_ranker(
            ws, primary[generator], generator, persona_features=False, folds=config.ltr_folds, grid=_grid(config)
        )
        say(f"  {generator}: CF-only learned ranker, CV {fit.cv_ndcg:.4f}")
        _evaluate(
            ctx,
            primary[generator].with_options(ranker=fit.ranker),
            generator,
            0.0,
            reranker=f"{generator} (CF-only learned ranker)",
            encoder="",
            variant="",
            scoring="CF learned",
            gamma=None,
        )


NEGATIVE_ABLATIONS = {
    "in-batch only": {"cf_negatives": 0, "item_negatives": False},
    "+ list negatives": {"item_negatives": False},
    "+ item negatives": {"cf_negatives": 0},
}


def _negatives_ablation(ctx: _Context, ws: Workspace, config: BenchConfig, primary: dict, say) -> None:
    """The adapter retrained in memory without each kind of negative (pure method, multi index): the
    effect of the rank-aware negatives. The full adapter is the primary encoder's row."""
    import dataclasses

    from ..encoder.adapter import AdapterConfig, AdapterData, adapted, fit_adapter
    from ..encoder.selection import choose_encoder
    from ..encoder.user import UserEncoder
    from ..index.persona_index import open_index
    from ..rerank import Reranker

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
        for generator in config.generators:
            gamma = primary[generator].users.gamma
            _evaluate(
                ctx,
                Reranker(new_index, new_users.with_gamma(gamma)),
                generator,
                0.0,
                reranker=_label("multi", f"adapter ({name})", "paper"),
                encoder=f"adapter ({name})",
                variant="multi",
                scoring="paper",
                gamma=gamma,
            )


def _against_best_cf(ctx: _Context) -> None:
    """Each row against the strongest CF baseline on TEST (either generator or the CF-only learned
    ranker), and Holm / Benjamini-Hochberg corrections over the whole table's comparisons."""
    from .significance import compare_per_user, correct_pvalues

    baselines = [r for r in ctx.rows if str(r.get("scoring", "")).startswith("CF")]
    best = max(baselines, key=lambda r: r["NDCG@10"])
    best_key = f"{best['reranker']} @ {best['generator']}"
    for row in ctx.rows:
        row["best_cf"] = best_key
        key = f"{row['reranker']} @ {row['generator']}"
        if key == best_key:
            continue
        comparison = compare_per_user(
            ctx.per_user[best_key], ctx.per_user[key], metric=SIGNIFICANCE_METRIC, samples=ctx.config.bootstrap_samples
        )
        row.update({"rel_best_cf": comparison.relative_change, "p_best_cf": comparison.t_pvalue})
    for column in ("p_t", "p_best_cf"):
        values = [r.get(column) for r in ctx.rows]
        for method in ("holm", "bh"):
            adjusted = correct_pvalues(values, method)
            suffix = "" if column == "p_t" else "_best_cf"
            for row, value in zip(ctx.rows, adjusted):
                row[f"p_{method}{suffix}"] = None if value != value else float(value)


def _ablations(ctx: _Context, ws: Workspace, config: BenchConfig, encoder: str, primary: dict, say) -> None:
    """Summary-only index and first-k personas with the primary encoder, pure method, tuned gamma."""
    from ..encoder.selection import choose_encoder
    from ..index.persona_index import open_index
    from ..rerank import Reranker

    choice = choose_encoder(ws, encoder)
    label = encoder_label(ws, encoder)
    variants = ["summary", *(f"first-{k}" for k in config.first_k)]
    say(f"ablations ({label} encoder): {', '.join(variants)} ...")
    for variant in variants:
        index = open_index(ws, variant, choice)
        for generator in config.generators:
            users = primary[generator].users
            _evaluate(
                ctx,
                Reranker(index, users),
                generator,
                0.0,
                reranker=_label(variant, label, "paper"),
                encoder=label,
                variant=variant,
                scoring="paper",
                gamma=users.gamma,
            )


# -- tables -----------------------------------------------------------------------------------------


def build_tables(accuracy_frame, segments_frame, ks: Sequence[int], primary_encoder: str) -> dict[str, Any]:
    """The printed/report tables (caption -> DataFrame) cut from the accuracy rows."""
    frame = accuracy_frame
    keep = [
        "generator",
        "reranker",
        "users",
        *metric_columns(ks),
        "dNDCG@10",
        "rel_NDCG@10",
        "p_t",
        "p_holm",
        "p_wilcoxon",
        "rel_best_cf",
        "p_best_cf",
        "p_holm_best_cf",
    ]
    plain = ~frame["encoder"].astype(str).str.startswith("adapter (")
    main = frame[frame["variant"].isin(["", "multi", "single"]) & plain]
    negatives = frame[
        (frame["variant"] == "")
        | (
            (frame["variant"] == "multi")
            & (frame["scoring"] == "paper")
            & frame["encoder"].astype(str).str.startswith("adapter")
        )
    ]
    ablation_cols = ["generator", "reranker", "users", "HR@10", "NDCG@10", "dNDCG@10", "rel_NDCG@10", "p_t"]
    summary = frame[
        frame["variant"].isin(["", "summary"])
        | ((frame["variant"] == "multi") & (frame["scoring"] == "paper") & (frame["encoder"] == primary_encoder))
    ]
    first_k = frame[
        frame["variant"].str.startswith("first-")
        | ((frame["variant"] == "multi") & (frame["scoring"] == "paper") & (frame["encoder"] == primary_encoder))
    ]
    pure_multi = frame[(frame["variant"] == "multi") & (frame["scoring"] == "paper") & plain]
    encoders = pure_multi.pivot_table(index="generator", columns="encoder", values="NDCG@10", aggfunc="first")
    encoders.columns = [f"NDCG@10 {c}" for c in encoders.columns]
    tables = {
        "Table 4: generators x rerankers x K "
        "(test split; dNDCG@10 and p-values vs the generator, paired per user)": main[
            [c for c in keep if c in main.columns]
        ],
        "Table 5: segments @10 (warm/cold users, head/tail items)": segments_frame,
        "Table 6: summary-only index vs CF": summary[[c for c in ablation_cols if c in summary.columns]],
        "Table 10: number of personas per item (first-k)": first_k[[c for c in ablation_cols if c in first_k.columns]],
        "Vanilla vs fine-tuned encoder (multi-persona, pure method, NDCG@10)": encoders,
        "Negatives: the adapter without each kind of negative (multi-persona, pure method)": negatives[
            [c for c in ablation_cols + ["rel_best_cf", "p_best_cf"] if c in negatives.columns]
        ],
    }
    return {
        caption: (table if caption.startswith("Vanilla") else table.reset_index(drop=True))
        for caption, table in tables.items()
    }


def latency_tables(latency: dict, llm: dict) -> dict[str, Any]:
    import pandas as pd

    out = {}
    real = latency.get("reranker", {})
    rows = []
    if real:
        rows.append(
            {
                "what": "Reranker.rerank, single request (real index, with explanations)",
                "p50_ms": real["single_rerank"]["p50_ms"],
                "p99_ms": real["single_rerank"]["p99_ms"],
            }
        )
    for name in ("scoring_real", "scoring_synthetic"):
        s = latency.get(name)
        if s:
            rows.append(
                {
                    "what": f"max-over-personas scoring, 20 candidates ({s['table']})",
                    "p50_ms": s["single_request"]["p50_ms"],
                    "p99_ms": s["single_request"]["p99_ms"],
                }
            )
    if llm.get("status") == "run":
        rows.append(
            {
                "what": f"LLM listwise rerank ({llm['model']}, {llm['users']} users)",
                "p50_ms": llm["p50_ms"],
                "p99_ms": llm["p99_ms"],
            }
        )
    out["Table 7: per-request latency (in process, warm)"] = pd.DataFrame(rows)
    batch_rows = []
    for batch, v in (real.get("batched_rank_ids") or {}).items():
        batch_rows.append(
            {
                "what": "Reranker.rank_ids_many (real)",
                "batch": int(batch),
                "ms_per_user": v["ms_per_user"],
                "ms_per_batch": v["ms_per_batch"],
            }
        )
    for name in ("scoring_real", "scoring_synthetic"):
        for batch, v in (latency.get(name) or {}).get("batched", {}).items():
            batch_rows.append(
                {
                    "what": f"scoring ({latency[name]['table']})",
                    "batch": int(batch),
                    "ms_per_user": v["ms_per_user"],
                    "ms_per_batch": v["ms_per_batch"],
                }
            )
    out["Amortised latency per user by batch size (20 candidates)"] = pd.DataFrame(batch_rows)
    size_rows = []
    for name in ("scoring_real", "scoring_synthetic"):
        for size, v in (latency.get(name) or {}).get("by_candidates", {}).items():
            size_rows.append(
                {"table": latency[name]["table"], "candidates": int(size), "p50_ms": v["p50_ms"], "p99_ms": v["p99_ms"]}
            )
    out["Latency vs candidate-set size (single request)"] = pd.DataFrame(size_rows)
    ret_rows = [
        {
            "personas": int(n),
            "flat_ms_per_query": v["flat_ms_per_query"],
            "hnsw_ms_per_query": v["hnsw_ms_per_query"],
            f"hnsw_recall@{v['k']}": v["recall_at_k"],
            "hnsw_build_s": v["hnsw_build_s"],
            "M": v["m"],
            "efConstruction": v["ef_construction"],
            "efSearch": v["ef_search"],
        }
        for n, v in (latency.get("retrieval") or {}).items()
    ]
    out["Full-catalogue retrieval: flat vs HNSW (random unit vectors, 384-d)"] = pd.DataFrame(ret_rows)
    mem = latency.get("memory") or {}
    if mem:
        out["Index memory footprint (multi-persona, primary encoder)"] = pd.DataFrame(
            [
                {
                    "vectors": mem["vectors"],
                    "dim": mem["dim"],
                    "items": mem["items"],
                    "max_personas": mem["max_personas"],
                    "vectors_MB": mem["vectors_bytes"] / 2**20,
                    "padded_tensor_MB": mem["padded_tensor_bytes"] / 2**20,
                    "files_MB": sum(mem["files_bytes"].values()) / 2**20,
                }
            ]
        )
    return {caption: table for caption, table in out.items() if len(table)}


# -- latency and the LLM baseline -------------------------------------------------------------------


def measure_latency(reranker, users, lists, config: BenchConfig, say) -> dict:
    from ..index.bench import synthetic_table
    from . import latency as lat

    cfg = config.latency
    say(f"latency: real reranker ({cfg.threads} thread) ...")
    out: dict = {"machine": lat.machine(), "config": asdict(cfg)}
    with lat.single_threaded(cfg.threads):
        out["reranker"] = lat.real_reranker_latency(reranker, users, lists, cfg)
        out["memory"] = lat.index_memory(reranker.index)
        say("latency: scoring on the real index and on a synthetic table ...")
        out["scoring_real"] = lat.scoring_latency(
            reranker.table, cfg, f"real index, {len(reranker.table.item_ids)} items"
        )
        out["scoring_synthetic"] = lat.scoring_latency(
            synthetic_table(n_items=cfg.synthetic_items, dim=reranker.index.dim),
            cfg,
            f"synthetic, {cfg.synthetic_items} items x 2-7 personas",
        )
    out["retrieval"] = lat.retrieval_scale(cfg, reranker.index.dim, log=say) if cfg.retrieval_sizes else {}
    out["machine_after"] = lat.machine()
    out["peak_rss_bytes"] = lat.peak_rss_bytes()
    return out


def llm_baseline(
    ws: Workspace, config: BenchConfig, reranker, users, lists, scores, persona_p50_ms: float, split_frame, say
) -> dict:
    """Run the listwise baseline on the first llm_users test users; accuracy on those users beside CF and
    Persona4Rec for context (a handful of users: not a quality estimate)."""
    from ..metrics import rank_metrics
    from .llm_listwise import local_llama_server, local_server_unavailable, run_listwise
    from .workspace_eval import split_targets

    if not config.llm or config.llm_users < 1:
        return {"status": "not run", "reason": "disabled (--llm-users 0)"}
    if config.quick and not config.llm_base_url:
        return {"status": "not run", "reason": "quick mode without --llm-base-url"}
    targets = split_targets(split_frame, "test")
    chosen = [n for n, u in enumerate(users) if u in targets][: config.llm_users]
    sample_users, sample_lists = [users[n] for n in chosen], [lists[n] for n in chosen]

    def run(base_url: str) -> dict:
        say(f"LLM listwise baseline: {len(sample_users)} users via {base_url} ({config.llm_model}) ...")
        result = run_listwise(ws, sample_users, sample_lists, base_url=base_url, model=config.llm_model)
        out = result.summary()
        truth = [targets[u] for u in sample_users]
        ours = reranker.rank_ids_many(sample_users, sample_lists, "test", [scores[n] for n in chosen])
        out["same_users_NDCG@10"] = {
            "cf": rank_metrics(sample_lists, truth, (10,))["NDCG@10"],
            "persona4rec": rank_metrics(ours, truth, (10,))["NDCG@10"],
            "llm_listwise": rank_metrics([result.rankings[u] for u in sample_users], truth, (10,))["NDCG@10"],
        }
        out["persona4rec_single_p50_ms"] = persona_p50_ms
        out["speed_ratio_p50"] = out["p50_ms"] / persona_p50_ms if persona_p50_ms > 0 else None
        return out

    if config.llm_base_url:
        return run(config.llm_base_url)
    reason = local_server_unavailable()
    if reason:
        return {"status": "not run", "reason": reason}
    try:
        with local_llama_server() as base_url:
            return run(base_url)
    except RuntimeError as exc:
        return {"status": "not run", "reason": str(exc)}


# -- report -----------------------------------------------------------------------------------------


def _figures(accuracy_frame, latency: dict) -> dict[str, list]:
    import plotly.express as px
    import plotly.graph_objects as go

    figs: dict[str, list] = {"accuracy": [], "latency": []}
    bars = accuracy_frame[accuracy_frame["variant"].isin(["", "multi", "single"])]
    figs["accuracy"].append(
        (
            "ndcg10",
            px.bar(
                bars,
                x="reranker",
                y="NDCG@10",
                color="generator",
                barmode="group",
                title="NDCG@10 on test: generators and rerankers",
            ),
        )
    )
    batch = go.Figure()
    real = latency.get("reranker", {}).get("batched_rank_ids", {})
    if real:
        batch.add_trace(
            go.Scatter(
                x=[int(b) for b in real],
                y=[v["ms_per_user"] for v in real.values()],
                mode="lines+markers",
                name="Reranker.rank_ids_many (real)",
            )
        )
    for name in ("scoring_real", "scoring_synthetic"):
        data = (latency.get(name) or {}).get("batched", {})
        if data:
            batch.add_trace(
                go.Scatter(
                    x=[int(b) for b in data],
                    y=[v["ms_per_user"] for v in data.values()],
                    mode="lines+markers",
                    name=f"scoring ({latency[name]['table']})",
                )
            )
    batch.update_layout(
        title="Amortised latency per user vs batch size (20 candidates)",
        xaxis_type="log",
        yaxis_type="log",
        xaxis_title="users per batch",
        yaxis_title="ms per user",
    )
    figs["latency"].append(("latency-vs-batch", batch))
    sizes = go.Figure()
    for name in ("scoring_real", "scoring_synthetic"):
        data = (latency.get(name) or {}).get("by_candidates", {})
        for stat in ("p50_ms", "p99_ms"):
            if data:
                sizes.add_trace(
                    go.Scatter(
                        x=[int(s) for s in data],
                        y=[v[stat] for v in data.values()],
                        mode="lines+markers",
                        name=f"{stat[:3]} {latency[name]['table']}",
                    )
                )
    sizes.update_layout(
        title="Single-request latency vs candidate-set size",
        xaxis_title="candidates",
        yaxis_title="ms",
        xaxis_type="log",
    )
    figs["latency"].append(("latency-vs-candidates", sizes))
    retrieval = latency.get("retrieval") or {}
    if retrieval:
        ret = go.Figure()
        for key, name in (("flat_ms_per_query", "flat"), ("hnsw_ms_per_query", "HNSW")):
            ret.add_trace(
                go.Scatter(
                    x=[int(n) for n in retrieval],
                    y=[v[key] for v in retrieval.values()],
                    mode="lines+markers",
                    name=name,
                )
            )
        ret.update_layout(
            title="Full-catalogue retrieval latency per query",
            xaxis_type="log",
            yaxis_type="log",
            xaxis_title="persona vectors",
            yaxis_title="ms per query",
        )
        figs["latency"].append(("retrieval", ret))
    return figs


def write_bench_report(ws: Workspace, tables: dict, latency_tabs: dict, metrics: dict, figures: dict, tuning_text: str):
    from .report import ReportSection, merge_metrics, write_report

    merge_metrics(ws, "bench", None)  # a new bench replaces the previous one, whatever its shape
    captions = list(tables)
    sections = [
        ReportSection(
            key="bench",
            title="Bench: Table 4 (generators x rerankers x K)",
            text="TEST split, leave-one-out. 'paper' = max-over-personas score alone (fusion weight 0); "
            "'fused' = (1-w) persona score + w min-max CF score, w tuned on VALID. gamma tuned on "
            "VALID. p_t: paired t-test, p_wilcoxon: Wilcoxon signed-rank, per-user NDCG@10 vs the "
            "generator.\n\n" + tuning_text,
            tables=[(captions[0], tables[captions[0]])],
            figures=figures["accuracy"],
            metrics=metrics,
        ),
        ReportSection(
            key="bench-segments", title="Bench: Table 5 (segments @10)", tables=[(captions[1], tables[captions[1]])]
        ),
        ReportSection(
            key="bench-ablations",
            title="Bench: Tables 6 and 10, encoders",
            tables=[(c, tables[c]) for c in captions[2:]],
        ),
        ReportSection(
            key="bench-latency",
            title="Bench: latency and scale (Table 7, Figure 4)",
            text=f"Machine: {metrics['latency'].get('machine')}. In process, warm; see reports/latency.json.",
            tables=list(latency_tabs.items()),
            figures=figures["latency"],
        ),
    ]
    return write_report(ws, sections)


def _tuning_text(tuning: dict) -> str:
    lines = []
    for encoder, by_gen in tuning.items():
        for generator, rec in by_gen.items():
            g = rec["gamma"]
            parts = [
                f"gamma {g['best']} (valid NDCG@10 " + ", ".join(f"{k}: {v:.4f}" for k, v in g["ndcg@10"].items()) + ")"
            ]
            for variant, f in rec["fusion"].items():
                parts.append(
                    f"{variant} fusion weight {f['best']} (valid NDCG@10 at w=0 {f['ndcg@10'][0.0]:.4f}, "
                    f"at best {f['ndcg@10'][f['best']]:.4f}, CF {f['cf_ndcg']:.4f})"
                )
            lines.append(f"- {encoder} / {generator}: " + "; ".join(parts))
    return "Tuned on VALID:\n" + "\n".join(lines)


# -- the whole bench --------------------------------------------------------------------------------


def run_bench(ws: Workspace, config: BenchConfig | None = None, say: Callable[[str], None] = print) -> BenchResult:
    import pandas as pd

    config = config or BenchConfig()
    config.validate()
    started = time.perf_counter()
    encoders = ensure_inputs(ws, config, say)
    ctx, tuning, primary = accuracy(ws, config, encoders, say)
    accuracy_frame = pd.DataFrame(ctx.rows)
    segments_frame = pd.DataFrame(ctx.segment_rows)
    tables = build_tables(accuracy_frame, segments_frame, config.ks, encoders[-1])

    first = config.generators[0]
    users, lists, scores = ctx.lists[first]
    latency = measure_latency(primary[first], users, lists, config, say)
    llm = llm_baseline(
        ws,
        config,
        primary[first],
        users,
        lists,
        scores,
        latency["reranker"]["single_rerank"]["p50_ms"],
        ctx.split_frame,
        say,
    )
    latency["llm_listwise"] = llm
    write_json(ws.reports_dir / "latency.json", latency)
    latency_tabs = latency_tables(latency, llm)

    metrics = {
        "config": {**asdict(config), "latency": asdict(config.latency)},
        "encoders": encoders,
        "accuracy": _records(accuracy_frame),
        "segments@10": _records(segments_frame),
        "segment_sizes": {g: ctx.baselines[g].segment_sizes for g in config.generators},
        "tuning": _jsonable(tuning),
        "serving": ctx.serving,
        "latency": latency,
        "llm_listwise": llm,
        "seconds": round(time.perf_counter() - started, 1),
    }
    figures = _figures(accuracy_frame, latency)
    report = write_bench_report(ws, tables, latency_tabs, metrics, figures, _tuning_text(tuning))
    return BenchResult(
        accuracy=accuracy_frame,
        segments=segments_frame,
        tuning=tuning,
        latency=latency,
        llm=llm,
        encoders=encoders,
        report_path=str(report),
        tables={**tables, **latency_tabs},
    )


def _records(frame) -> list[dict]:
    return [
        {k: (None if isinstance(v, float) and v != v else v) for k, v in row.items()}
        for row in frame.to_dict(orient="records")
    ]


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value
