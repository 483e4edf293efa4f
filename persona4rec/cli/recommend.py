"""`persona4rec recommend WS --user U`: rerank a user's candidates (or retrieve) and explain each item."""

from __future__ import annotations

import argparse
import json


def register(subparsers) -> None:
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
