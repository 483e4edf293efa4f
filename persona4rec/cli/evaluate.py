"""`persona4rec evaluate`: score ranked lists.

persona4rec evaluate --candidates FILE --gt FILE [--reviews FILE --scenarios] [--ks 5,10,20] [--json]
    the paper authors' JSONL files, scored exactly as their eval.py scores them
persona4rec evaluate WS --generator bpr [--split test] [--json]
    CF-only metrics of candidates/<generator>.parquet, merged into reports/metrics.json
"""

from __future__ import annotations

import argparse
import json
import sys


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "evaluate",
        help="HR/MRR/NDCG@K of candidate lists (workspace or authors' files)",
        description=__doc__.split("\n\n", 1)[1] if "\n\n" in __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("workspace", nargs="?", help="workspace folder (workspace mode)")
    p.add_argument("--generator", help="bpr | lightgcn | pop (workspace mode)")
    p.add_argument("--split", default="test", choices=("valid", "test"), help="workspace mode (default test)")
    p.add_argument("--candidates", help="authors' candidate JSONL (file mode; .gz is fine)")
    p.add_argument("--gt", help="authors' ground-truth JSONL (file mode)")
    p.add_argument("--reviews", help="review JSONL (user_id + parent_asin/business_id/item_id) or parquet")
    p.add_argument("--scenarios", action="store_true", help="warm/cold users and head/tail items @10")
    p.add_argument("--ks", default="5,10,20", help="comma-separated cut-offs (default 5,10,20)")
    p.add_argument(
        "--export-authors",
        metavar="DIR",
        help="workspace mode: also write the split's candidates and targets as the authors' "
        "candidate.jsonl and gt.jsonl in DIR",
    )
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=run)


def parse_ks(text: str) -> tuple[int, ...]:
    from ..errors import ConfigError

    try:
        ks = tuple(int(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise ConfigError(f"option '--ks': expected comma-separated integers, got {text!r}") from None
    if not ks or min(ks) < 1:
        raise ConfigError(f"option '--ks': expected positive integers, got {text!r}")
    return ks


def format_overall(overall: dict, ks) -> str:
    cols = [f"{m}@{k}" for k in ks for m in ("HR", "MRR", "NDCG")]
    return "\n".join(
        [
            "  ".join(f"{c:>10}" for c in cols),
            "  ".join(f"{overall[c]:>10.4f}" for c in cols),
            f"users: {overall['users']}",
        ]
    )


def format_segments(segments: dict) -> str:
    lines = [f"{'segment':>8} {'users':>6} {'HR@10':>8} {'NDCG@10':>8}"]
    for name, values in segments.items():
        lines.append(f"{name:>8} {values['users']:>6} {values['HR@10']:>8.4f} {values['NDCG@10']:>8.4f}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from ..errors import ConfigError

    ks = parse_ks(args.ks)
    if args.workspace and (args.candidates or args.gt):
        raise ConfigError("give either a workspace (with --generator) or --candidates and --gt, not both")
    if args.workspace:
        return run_workspace(args, ks)
    if not (args.candidates and args.gt):
        raise ConfigError("file mode needs both --candidates and --gt (or give a workspace and --generator)")
    from ..authors.evaluation import evaluate_files

    result = evaluate_files(
        args.candidates, args.gt, ks=ks, reviews_path=args.reviews, scenarios=args.scenarios, progress=True
    )
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
        return 0
    print(format_overall(result.overall, ks))
    if result.scenarios is not None:
        print("\nScenarios @10 (sizes: " + ", ".join(f"{k} {v}" for k, v in result.segment_sizes.items()) + ")")
        print(format_segments(result.scenarios))
    return 0


def run_workspace(args: argparse.Namespace, ks) -> int:
    from ..errors import ConfigError
    from ..evaluation.workspace_eval import evaluate_generator, record_generator_evaluation
    from ..workspace import Workspace

    if not args.generator:
        raise ConfigError("workspace mode needs --generator (bpr, lightgcn or pop)")
    ws = Workspace.open(args.workspace)
    result = evaluate_generator(ws, args.generator, split=args.split, ks=ks)
    report = record_generator_evaluation(ws, result)
    if args.export_authors:
        from ..authors.evaluation import workspace_to_authors
        from ..candidates.generate import load_candidates, read_split

        paths = workspace_to_authors(
            load_candidates(ws, args.generator), read_split(ws), args.export_authors, which=args.split
        )
        print("authors' files: " + ", ".join(map(str, paths)), file=sys.stderr)
    if args.json:
        print(json.dumps({"generator": args.generator, "split": args.split, **result.to_dict()}, indent=2))
        return 0
    print(f"{args.generator} on {args.split} (CF only):")
    print(format_overall(result.overall, ks))
    print("\nSegments @10 (sizes: " + ", ".join(f"{k} {v}" for k, v in result.segment_sizes.items()) + ")")
    print(format_segments(result.segments))
    print(f"\nwritten: {ws.reports_dir / 'metrics.json'} (generators/{args.generator}/{args.split}), {report}")
    return 0
