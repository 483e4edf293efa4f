"""`persona4rec candidates WS --generator bpr|lightgcn|pop [--k 20] [--epochs N] ...`"""

from __future__ import annotations

import argparse
import json

from ..candidates import GENERATORS


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "candidates",
        help="train a first-stage generator and write its top-K candidates",
        description="Train BPR-MF, LightGCN or popularity on the train split and write "
        "candidates/<generator>.parquet (top-K unseen items per user for "
        "valid and test), with recall@K in the manifest.",
    )
    p.add_argument("workspace", help="workspace folder (from `persona4rec data import`)")
    p.add_argument("--generator", required=True, choices=GENERATORS)
    p.add_argument("--k", type=int, default=20, help="candidates per user (default 20)")
    p.add_argument("--config", help="TOML file with a [bpr] / [lightgcn] / [pop] section")
    for flag, kind, what in (
        ("dim", int, "embedding size"),
        ("lr", float, "Adam learning rate"),
        ("reg", float, "L2 regularisation"),
        ("epochs", int, "maximum epochs"),
        ("layers", int, "LightGCN propagation layers"),
        ("batch-size", int, "triples per batch"),
        ("patience", int, "epochs without validation gain before stopping"),
        ("seed", int, "random seed"),
    ):
        p.add_argument(f"--{flag}", type=kind, default=None, help=what)
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..candidates.generate import config_class, generate_candidates
    from ..errors import ConfigError
    from ..workspace import Workspace

    overrides = {
        "dim": args.dim,
        "lr": args.lr,
        "reg": args.reg,
        "epochs": args.epochs,
        "layers": args.layers,
        "batch_size": args.batch_size,
        "patience": args.patience,
        "seed": args.seed,
    }
    fields = config_class(args.generator).__dataclass_fields__
    unsupported = [k for k, v in overrides.items() if v is not None and k not in fields]
    if unsupported:
        raise ConfigError(f"--{unsupported[0].replace('_', '-')} does not apply to generator '{args.generator}'")
    ws = Workspace.open(args.workspace)
    result = generate_candidates(
        ws, args.generator, k=args.k, config_path=args.config, overrides=overrides, progress=not args.no_progress
    )
    summary = {
        "generator": result.generator,
        "output": str(result.path),
        "best_epoch": result.fit.best_epoch,
        "epochs_run": result.fit.epochs_run,
        "train_seconds": round(result.fit.train_seconds, 3),
        "best_valid_ndcg@20": round(result.fit.best_valid_ndcg, 4),
        "recall": {f"{s}@{args.k}": round(v, 4) for s, v in result.recall.items()},
    }
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        recall = ", ".join(f"{k} {v:.4f}" for k, v in summary["recall"].items())
        print(f"{result.generator}: {len(result.frame)} rows -> {result.path}")
        print(
            f"  best epoch {result.fit.best_epoch} of {result.fit.epochs_run}, "
            f"{result.fit.train_seconds:.1f} s training, valid NDCG@20 {result.fit.best_valid_ndcg:.4f}"
        )
        print(f"  candidate recall (ceiling of any reranker): {recall}")
    return 0
