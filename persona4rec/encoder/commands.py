"""`persona4rec train WS`, `persona4rec index WS`, `persona4rec recommend WS --user U`."""

from __future__ import annotations

import argparse
import json


def register(subparsers) -> None:
    train = subparsers.add_parser("train", help="fine-tune the encoder with InfoNCE on the alignment set",
                                  description="Train the encoder on offline/alignment.jsonl (user embedding at the "
                                              "time of each interaction vs the aligned persona); saves encoder/, "
                                              "reports/loss_curve.json and .html.")
    train.add_argument("workspace")
    for flag, kind, what in (("epochs", int, "passes over the alignment pairs (default 2)"),
                             ("batch-size", int, "pairs per batch = in-batch negatives + 1 (default 32)"),
                             ("lr", float, "learning rate (default 3e-5, 3e-4 with --lora)"),
                             ("temperature", float, "InfoNCE temperature (default 0.05)"),
                             ("gamma", float, "history decay (default 0.9)"),
                             ("history-length", int, "last L interactions (default 10)"),
                             ("user-grad-depth", int, "newest interactions encoded with gradient (default 1)"),
                             ("max-pairs", int, "train on a random subset of this many pairs"),
                             ("max-seq-length", int, "token limit per text (default 128)"),
                             ("seed", int, "random seed")):
        train.add_argument(f"--{flag}", type=kind, default=None, help=what)
    train.add_argument("--lora", action="store_true", default=None, help="train LoRA adapters (r=16, alpha=32), merged on save")
    train.add_argument("--encoder", default=None, help="base model path or name (default: bundled all-MiniLM-L6-v2)")
    train.add_argument("--config", help="TOML file with an [encoder] section")
    train.add_argument("--tune-gamma", action="store_true", help="afterwards, tune gamma on the valid split")
    train.add_argument("--no-progress", action="store_true")
    train.add_argument("--json", action="store_true", help="print the result as JSON")
    train.set_defaults(func=run_train)

    index = subparsers.add_parser("index", help="embed personas into a FAISS index (a variant)",
                                  description="Build index/<variant>/: persona vectors, FAISS flat IP index, mapping.")
    index.add_argument("workspace")
    index.add_argument("--variant", action="append", default=None,
                       help="multi (default), single, summary, first-K; repeat for several")
    index.add_argument("--encoder", default=None,
                       help="vanilla | trained | a model path (default: trained if present, else vanilla)")
    index.add_argument("--persona-text", default="full", choices=("full", "name-description", "description"))
    index.add_argument("--no-progress", action="store_true")
    index.set_defaults(func=run_index)

    rec = subparsers.add_parser("recommend", help="rerank a user's candidates and explain each with a persona")
    rec.add_argument("workspace")
    rec.add_argument("--user", required=True)
    rec.add_argument("--generator", default="bpr", help="candidates/<generator>.parquet (default bpr)")
    rec.add_argument("--split", default="test", choices=("valid", "test"))
    rec.add_argument("--variant", default="multi")
    rec.add_argument("--encoder", default=None, help="vanilla | trained | a model path")
    rec.add_argument("--gamma", type=float, default=None)
    rec.add_argument("--fusion-weight", type=float, default=0.0, help="weight of the normalised CF score (0 = paper)")
    rec.add_argument("--retrieve", action="store_true", help="full-catalogue retrieval instead of reranking candidates")
    rec.add_argument("--top", type=int, default=None, help="show only the first N")
    rec.add_argument("--json", action="store_true")
    rec.set_defaults(func=run_recommend)


def run_train(args: argparse.Namespace) -> int:
    from ..config import load_config
    from ..workspace import Workspace
    from .train import TrainConfig, train_encoder
    ws = Workspace.open(args.workspace)
    overrides = {"epochs": args.epochs, "batch_size": args.batch_size, "lr": args.lr,
                 "temperature": args.temperature, "gamma": args.gamma, "history_length": args.history_length,
                 "user_grad_depth": args.user_grad_depth, "max_pairs": args.max_pairs,
                 "max_seq_length": args.max_seq_length, "seed": args.seed, "lora": args.lora,
                 "base_encoder": args.encoder, "progress": False if args.no_progress else None}
    config = load_config(TrainConfig, section="encoder", path=args.config, overrides=overrides)
    result = train_encoder(ws, config)
    out = {"pairs": result.pairs, "skipped": result.skipped, "steps": result.steps,
           "train_seconds": round(result.seconds, 2), "loss_before": round(result.loss_before, 4),
           "loss_after": round(result.loss_after, 4), "encoder_dir": result.encoder_dir}
    if args.tune_gamma:
        from ..rerank import tune_gamma
        out["gamma_tuning"] = tune_gamma(ws)
        ws.update_manifest(encoder_gamma=out["gamma_tuning"]["best"])
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        print(f"trained on {result.pairs} pairs, {result.steps} steps in {result.seconds:.1f}s: "
              f"InfoNCE {result.loss_before:.4f} -> {result.loss_after:.4f}; saved {result.encoder_dir}")
        if args.tune_gamma:
            print(f"gamma on valid ({out['gamma_tuning']['source']}): best {out['gamma_tuning']['best']} "
                  f"ndcg@10 {out['gamma_tuning']['ndcg@10']}")
    return 0


def run_index(args: argparse.Namespace) -> int:
    from ..index.persona_index import build_index
    from ..workspace import Workspace
    ws = Workspace.open(args.workspace)
    for variant in args.variant or ["multi"]:
        index = build_index(ws, variant, args.encoder, persona_text=args.persona_text, progress=not args.no_progress)
        meta = index.meta
        print(f"{index.path}: {meta['count']} vectors for {meta['items']} items "
              f"({', '.join(f'{k} {v}' for k, v in meta['sources'].items())}), encoder {meta['encoder_label']}")
    return 0


def run_recommend(args: argparse.Namespace) -> int:
    from ..errors import InputError
    from ..rerank import Reranker
    from ..workspace import Workspace
    ws = Workspace.open(args.workspace)
    kwargs = {"gamma": args.gamma} if args.gamma is not None else {}
    candidates = cf_scores = None
    if not args.retrieve:
        from ..candidates.generate import load_candidates
        frame = load_candidates(ws, args.generator, args.split)
        mine = frame[frame["user_id"] == args.user]
        if mine.empty:
            raise InputError(f"user '{args.user}' has no {args.split} candidates in this file",
                             path=ws.candidates_dir / f"{args.generator}.parquet", field="user_id")
        candidates, cf_scores = mine["item_id"].astype(str).tolist(), mine["score"].astype(float).tolist()
    reranker = Reranker.from_workspace(ws, args.variant, args.encoder, fusion_weight=args.fusion_weight, **kwargs)
    if not reranker.users.timelines.has_user(args.user):
        raise InputError(f"unknown user '{args.user}'", path=ws.data_dir / "reviews.parquet", field="user_id")
    if args.retrieve:
        ranked = reranker.retrieve(args.user, args.top or 20, args.split)
    else:
        ranked = reranker.rerank(args.user, candidates, args.split, cf_scores)
    ranked = ranked[:args.top] if args.top else ranked
    if args.json:
        print(json.dumps([as_json(r) for r in ranked], indent=2, ensure_ascii=False))
    else:
        print_table(ranked)
    return 0


def _finite(value: float) -> float | None:
    return round(value, 6) if value not in (float("inf"), float("-inf")) and value == value else None


def as_json(item) -> dict:
    return {"new_rank": item.new_rank, "cf_rank": item.cf_rank, "item_id": item.item_id, "score": _finite(item.score),
            "persona_sim": _finite(item.persona_sim), "persona_key": item.persona_key,
            "persona": item.persona.model_dump() if item.persona else None, "fallback": item.fallback,
            "persona_scores": {k: _finite(v) for k, v in item.persona_scores.items()}}


def print_table(ranked) -> None:
    for r in ranked:
        cf = f"cf #{r.cf_rank}" if r.cf_rank else "retrieved"
        print(f"{r.new_rank:>3}. {r.item_id}  score {r.score:.4f}  ({cf})"
              + (f"  [{r.fallback}]" if r.fallback else ""))
        if r.persona:
            print(f"     persona {r.persona_key}: {r.persona.name} (sim {r.persona_sim:.4f})")
            print(f"       {r.persona.description}")
            print(f"       why: {r.persona.preference_rationale}")
        others = ", ".join(f"{k} {v:.3f}" for k, v in sorted(r.persona_scores.items(), key=lambda kv: -kv[1]))
        if others:
            print(f"     all personas: {others}")
