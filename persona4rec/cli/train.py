"""`persona4rec train WS`, `persona4rec index WS`, `persona4rec recommend WS --user U`."""

from __future__ import annotations

import argparse
import json


def register(subparsers) -> None:
    train = subparsers.add_parser(
        "train",
        help="train the encoder on the alignment set (adapter in seconds, or full / LoRA fine-tuning)",
        description="Train the encoder on offline/alignment.jsonl (user embedding at the time of each interaction vs "
        "the aligned persona) and save encoder/. --mode adapter (default): a linear map per side over the "
        "frozen base model's cached embeddings, InfoNCE with in-batch, first-stage-list and same-item "
        "negatives, early-stopped on VALID NDCG@10 (seconds on a CPU). --mode full: fine-tune every "
        "weight; --mode lora: LoRA adapters (r=16, alpha=32), merged on save.",
    )
    train.add_argument("workspace")
    train.add_argument(
        "--mode", choices=("adapter", "full", "lora"), default=None, help="adapter (default), full or lora"
    )
    for flag, kind, what in (
        ("epochs", int, "passes over the pairs (default: adapter 60 with early stopping, full 2)"),
        ("batch-size", int, "pairs per batch (default: adapter 256, full 32)"),
        ("lr", float, "learning rate (default: adapter 1e-3, full 3e-5, lora 3e-4)"),
        ("temperature", float, "InfoNCE temperature (default: adapter 0.1, full 0.05)"),
        ("gamma", float, "history decay (default 0.9)"),
        ("history-length", int, "last L interactions (default 10)"),
        ("seed", int, "random seed"),
        (
            "cf-negatives",
            int,
            "adapter: items of the user's first-stage lists per pair as negatives (default 40; 0 = off)",
        ),
        ("weight-decay", float, "adapter: pull towards the identity map (default 1e-2)"),
        ("patience", int, "adapter: epochs without a better VALID NDCG@10 (default 10)"),
        ("user-grad-depth", int, "full/lora: newest interactions encoded with gradient (default 1)"),
        ("max-pairs", int, "full/lora: train on a random subset of this many pairs"),
        ("max-seq-length", int, "full/lora: token limit per text (default 128)"),
    ):
        train.add_argument(f"--{flag}", type=kind, default=None, help=what)
    train.add_argument(
        "--no-item-negatives",
        action="store_true",
        help="adapter: do not use the target item's other personas as negatives",
    )
    train.add_argument(
        "--symmetric", action="store_true", default=None, help="adapter: one map for both sides instead of two"
    )
    train.add_argument("--lora", action="store_true", default=None, help="the same as --mode lora")
    train.add_argument(
        "--encoder", default=None, help="full/lora: base model path or name (default: bundled all-MiniLM-L6-v2)"
    )
    train.add_argument("--config", help="TOML file with an [encoder] (full/lora) or [adapter] section")
    train.add_argument(
        "--tune",
        "--tune-gamma",
        dest="tune",
        action="store_true",
        help="afterwards, tune the serving config on VALID (gamma, fusion weight, learned ranker) "
        "and write serving.json",
    )
    train.add_argument("--no-progress", action="store_true")
    train.add_argument("--json", action="store_true", help="print the result as JSON")
    train.set_defaults(func=run_train)

    index = subparsers.add_parser(
        "index",
        help="embed personas into a FAISS index (a variant)",
        description="Build index/<variant>/: persona vectors, FAISS flat IP index, mapping.",
    )
    index.add_argument("workspace")
    index.add_argument(
        "--variant", action="append", default=None, help="multi (default), single, summary, first-K; repeat for several"
    )
    index.add_argument(
        "--encoder", default=None, help="vanilla | trained | a model path (default: trained if present, else vanilla)"
    )
    index.add_argument("--persona-text", default="full", choices=("full", "name-description", "description"))
    index.add_argument("--no-progress", action="store_true")
    index.set_defaults(func=run_index)

    rec = subparsers.add_parser("recommend", help="rerank a user's candidates and explain each with a persona")
    rec.add_argument("workspace")
    rec.add_argument("--user", required=True)
    rec.add_argument("--generator", default="bpr", help="candidates/<generator>.parquet (default bpr)")
    rec.add_argument("--split", default="test", choices=("valid", "test"))
    rec.add_argument("--variant", default=None, help="multi (default), single, summary, first-K")
    rec.add_argument("--encoder", default=None, help="vanilla | trained | a model path")
    rec.add_argument("--gamma", type=float, default=None, help="history decay (default: the tuned one in serving.json)")
    rec.add_argument(
        "--fusion-weight",
        type=float,
        default=None,
        help="weight of the normalised CF score, 0 = the paper's method (default: serving.json's)",
    )
    rec.add_argument("--retrieve", action="store_true", help="full-catalogue retrieval instead of reranking candidates")
    rec.add_argument("--top", type=int, default=None, help="show only the first N")
    rec.add_argument("--json", action="store_true")
    rec.set_defaults(func=run_recommend)


def run_train(args: argparse.Namespace) -> int:
    from ..encoder.train import DEFAULT_MODE
    from ..workspace import Workspace

    ws = Workspace.open(args.workspace)
    mode = "lora" if args.lora else (args.mode or DEFAULT_MODE)
    out = _train_adapter(ws, args) if mode == "adapter" else _train_full(ws, args, lora=mode == "lora")
    out["mode"] = mode
    if args.tune:
        from ..evaluation.tuning import tune_serving

        configs = tune_serving(ws)
        out["serving"] = [c.__dict__ for c in configs]
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    print(out.pop("summary"))
    for config in out.get("serving", []):
        print(
            f"serving {config['generator']}/{config['variant']}: gamma {config['gamma']}, fusion weight "
            f"{config['fusion_weight']}, ranker {config['ranker'] or '-'} (tuned on valid, in serving.json)"
        )
    return 0


def _train_adapter(ws, args) -> dict:
    from ..config import load_config
    from ..encoder.adapter import AdapterConfig, train_adapter

    overrides = {
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "lr": args.lr,
        "temperature": args.temperature,
        "gamma": args.gamma,
        "history_length": args.history_length,
        "seed": args.seed,
        "cf_negatives": args.cf_negatives,
        "weight_decay": args.weight_decay,
        "patience": args.patience,
        "item_negatives": False if args.no_item_negatives else None,
        "symmetric": args.symmetric,
    }
    config = load_config(AdapterConfig, section="adapter", path=args.config, overrides=overrides)
    result = train_adapter(ws, config, progress=not args.no_progress)
    return {
        "pairs": result.pairs,
        "epochs_run": result.epochs_run,
        "best_epoch": result.best_epoch,
        "train_seconds": round(result.seconds, 2),
        "valid_ndcg@10_before": round(result.valid_before, 4),
        "valid_ndcg@10_best": round(result.valid_best, 4),
        "encoder_dir": str(ws.encoder_dir),
        "summary": f"adapter trained on {result.pairs} pairs in {result.seconds:.1f}s ({result.epochs_run} epochs, "
        f"best {result.best_epoch}): VALID NDCG@10 {result.valid_before:.4f} -> "
        f"{result.valid_best:.4f}; saved {ws.encoder_dir}",
    }


def _train_full(ws, args, lora: bool) -> dict:
    from ..config import load_config
    from ..encoder.train import TrainConfig, train_encoder

    overrides = {
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "lr": args.lr,
        "temperature": args.temperature,
        "gamma": args.gamma,
        "history_length": args.history_length,
        "user_grad_depth": args.user_grad_depth,
        "max_pairs": args.max_pairs,
        "max_seq_length": args.max_seq_length,
        "seed": args.seed,
        "lora": lora,
        "base_encoder": args.encoder,
        "progress": False if args.no_progress else None,
    }
    config = load_config(TrainConfig, section="encoder", path=args.config, overrides=overrides)
    result = train_encoder(ws, config)
    return {
        "pairs": result.pairs,
        "skipped": result.skipped,
        "steps": result.steps,
        "train_seconds": round(result.seconds, 2),
        "loss_before": round(result.loss_before, 4),
        "loss_after": round(result.loss_after, 4),
        "encoder_dir": result.encoder_dir,
        "summary": f"trained on {result.pairs} pairs, {result.steps} steps in {result.seconds:.1f}s: "
        f"InfoNCE {result.loss_before:.4f} -> {result.loss_after:.4f}; saved {result.encoder_dir}",
    }


def run_index(args: argparse.Namespace) -> int:
    from ..index.persona_index import build_index
    from ..workspace import Workspace

    ws = Workspace.open(args.workspace)
    for variant in args.variant or ["multi"]:
        index = build_index(ws, variant, args.encoder, persona_text=args.persona_text, progress=not args.no_progress)
        meta = index.meta
        print(
            f"{index.path}: {meta['count']} vectors for {meta['items']} items "
            f"({', '.join(f'{k} {v}' for k, v in meta['sources'].items())}), encoder {meta['encoder_label']}"
        )
    return 0


def run_recommend(args: argparse.Namespace) -> int:
    from ..errors import InputError
    from ..rerank import Reranker, load_serving_config
    from ..workspace import Workspace

    ws = Workspace.open(args.workspace)
    config = load_serving_config(ws, args.variant, args.generator)
    changes = {"encoder": args.encoder, "gamma": args.gamma, "fusion_weight": args.fusion_weight}
    changes = {k: v for k, v in changes.items() if v is not None}
    if args.fusion_weight is not None:
        changes["ranker"] = None  # an explicit fusion weight asks for fusion, not the learned ranker
    config = config.replace(**changes)
    candidates = cf_scores = None
    if not args.retrieve:
        from ..candidates.generate import load_candidates

        frame = load_candidates(ws, args.generator, args.split)
        mine = frame[frame["user_id"] == args.user]
        if mine.empty:
            raise InputError(
                f"user '{args.user}' has no {args.split} candidates in this file",
                path=ws.candidates_dir / f"{args.generator}.parquet",
                field="user_id",
            )
        candidates, cf_scores = mine["item_id"].astype(str).tolist(), mine["score"].astype(float).tolist()
    reranker = Reranker.from_workspace(ws, config)
    if not reranker.users.timelines.has_user(args.user):
        raise InputError(f"unknown user '{args.user}'", path=ws.data_dir / "reviews.parquet", field="user_id")
    if args.retrieve:
        ranked = reranker.retrieve(args.user, args.top or 20, args.split)
    else:
        ranked = reranker.rerank(args.user, candidates, args.split, cf_scores)
    ranked = ranked[: args.top] if args.top else ranked
    if args.json:
        print(json.dumps([as_json(r) for r in ranked], indent=2, ensure_ascii=False))
    else:
        print(
            f"serving: {config.variant} index, {config.scoring()} (gamma {config.gamma}, fusion weight "
            f"{config.fusion_weight}{', ranker ' + config.ranker if config.ranker else ''}; {config.source})"
        )
        print_table(ranked)
    return 0


def _finite(value: float) -> float | None:
    return round(value, 6) if value not in (float("inf"), float("-inf")) and value == value else None


def as_json(item) -> dict:
    return {
        "new_rank": item.new_rank,
        "cf_rank": item.cf_rank,
        "item_id": item.item_id,
        "score": _finite(item.score),
        "persona_sim": _finite(item.persona_sim),
        "persona_key": item.persona_key,
        "persona": item.persona.model_dump() if item.persona else None,
        "fallback": item.fallback,
        "persona_scores": {k: _finite(v) for k, v in item.persona_scores.items()},
        "contributions": [
            {"feature": f, "value": _finite(v), "contribution": _finite(c)} for f, v, c in item.contributions
        ],
    }


def print_table(ranked) -> None:
    for r in ranked:
        cf = f"cf #{r.cf_rank}" if r.cf_rank else "retrieved"
        print(
            f"{r.new_rank:>3}. {r.item_id}  score {r.score:.4f}  ({cf})" + (f"  [{r.fallback}]" if r.fallback else "")
        )
        if r.persona:
            print(f"     persona {r.persona_key}: {r.persona.name} (sim {r.persona_sim:.4f})")
            print(f"       {r.persona.description}")
            print(f"       why: {r.persona.preference_rationale}")
        if r.contributions:
            print("     moved by: " + ", ".join(f"{f} {v:.3g} ({c:+.3f})" for f, v, c in r.contributions))
        others = ", ".join(f"{k} {v:.3f}" for k, v in sorted(r.persona_scores.items(), key=lambda kv: -kv[1]))
        if others:
            print(f"     all personas: {others}")
