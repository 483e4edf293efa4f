"""`persona4rec train WS`: train the encoder (adapter, full or LoRA), optionally tune serving."""

from __future__ import annotations

import argparse
import json

from ..data.split import HISTORY_LENGTH


def register(subparsers) -> None:
    train = subparsers.add_parser(
        "train",
        help="train the encoder on the alignment set (adapter in seconds, or full / LoRA fine-tuning)",
        description="Train the encoder on offline/alignment.jsonl (user embedding at the time of each interaction vs "
        "the aligned persona) and save encoder/. --mode adapter (default): a linear map per side over the "
        "frozen base model's cached embeddings, InfoNCE with in-batch, first-stage-list and same-item "
        "negatives, early-stopped on VALID NDCG@10 (seconds on a CPU); --objective fused trains it instead "
        "(or with infonce+fused, as well) on the fused serving score over the user's own first-stage "
        "lists at training positions, from generators retrained without them. --mode full: fine-tune every "
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
        ("history-length", int, f"last L interactions (default {HISTORY_LENGTH})"),
        ("seed", int, "random seed"),
        (
            "cf-negatives",
            int,
            "adapter: items of the user's first-stage lists per pair as negatives (default 40; 0 = off)",
        ),
        ("weight-decay", float, "adapter: pull towards the identity map (default 1e-2)"),
        ("patience", int, "adapter: epochs without a better VALID NDCG@10 (default 10)"),
        ("fused-weight", float, "adapter, infonce+fused: weight of the fused listwise term (default 1.0)"),
        ("list-levels", int, "adapter, fused objectives: training-list levels 1..k (default 3)"),
        ("user-grad-depth", int, "full/lora: newest interactions encoded with gradient (default 1)"),
        ("max-pairs", int, "full/lora: train on a random subset of this many pairs"),
        ("max-seq-length", int, "full/lora: token limit per text (default 128)"),
    ):
        train.add_argument(f"--{flag}", type=kind, default=None, help=what)
    train.add_argument(
        "--objective",
        choices=("infonce", "fused", "infonce+fused"),
        default=None,
        help="adapter: InfoNCE on the alignment pairs (default), the fused listwise objective, or both",
    )
    train.add_argument(
        "--stop-on",
        choices=("paper", "fused"),
        default=None,
        help="adapter: early-stop on VALID NDCG@10 of the persona score (paper, default) or the fused score",
    )
    train.add_argument(
        "--interaction-text",
        choices=("aspects", "review"),
        default=None,
        help="the workspace's interaction text form, recorded before training: item summary + kept aspects "
        "(aspects, the default) or item summary + the user's own review (review); the interaction caches of "
        "every encoder follow it",
    )
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


def run_train(args: argparse.Namespace) -> int:
    from ..encoder.train import DEFAULT_MODE
    from ..workspace import Workspace

    ws = Workspace.open(args.workspace)
    if args.interaction_text:
        from ..encoder.timeline import set_interaction_text

        set_interaction_text(ws, args.interaction_text)
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


def _shared_overrides(args: argparse.Namespace) -> dict:
    """The flags every mode takes; None (not given) leaves the config's value."""
    return {
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "lr": args.lr,
        "temperature": args.temperature,
        "gamma": args.gamma,
        "history_length": args.history_length,
    }


def _train_adapter(ws, args) -> dict:
    from ..config import load_config
    from ..encoder.adapter import AdapterConfig, train_adapter

    overrides = {
        **_shared_overrides(args),
        "seed": args.seed,
        "cf_negatives": args.cf_negatives,
        "weight_decay": args.weight_decay,
        "patience": args.patience,
        "item_negatives": False if args.no_item_negatives else None,
        "symmetric": args.symmetric,
        "objective": args.objective,
        "stop_on": args.stop_on,
        "fused_weight": args.fused_weight,
        "list_levels": args.list_levels,
    }
    config = load_config(AdapterConfig, section="adapter", path=args.config, overrides=overrides)
    result = train_adapter(ws, config, progress=not args.no_progress)
    fused = f", CF weight {result.fused_cf:.3f}" if result.fused_cf is not None else ""
    return {
        "pairs": result.pairs,
        "epochs_run": result.epochs_run,
        "best_epoch": result.best_epoch,
        "train_seconds": round(result.seconds, 2),
        "valid_ndcg@10_before": round(result.valid_before, 4),
        "valid_ndcg@10_best": round(result.valid_best, 4),
        "objective": config.objective,
        "stop_on": config.stop_on,
        "training_lists": result.negatives.get("training_lists"),
        "fused_cf": result.fused_cf,
        "encoder_dir": str(ws.encoder_dir),
        "summary": f"adapter ({config.objective}) trained on {result.pairs} pairs in {result.seconds:.1f}s "
        f"({result.epochs_run} epochs, best {result.best_epoch}{fused}): VALID NDCG@10 ({config.stop_on}) "
        f"{result.valid_before:.4f} -> {result.valid_best:.4f}; saved {ws.encoder_dir}",
    }


def _train_full(ws, args, lora: bool) -> dict:
    from ..config import load_config
    from ..encoder.train import TrainConfig, train_encoder

    overrides = {
        **_shared_overrides(args),
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
