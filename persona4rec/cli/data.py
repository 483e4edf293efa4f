"""`persona4rec data import` and `persona4rec data stats`.

Other modules add verbs to the same `data` group with `data_group(subparsers)` (it returns the group's
sub-parsers, creating the group if it does not exist yet), and new import formats with
`persona4rec.data.formats.register_format` (so `--format` is checked against the registry at run time).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

GROUP = "data"


def data_group(subparsers: argparse._SubParsersAction) -> argparse._SubParsersAction:
    """The `data` group's sub-parsers, shared by every module that adds `persona4rec data ...` verbs."""
    parser = subparsers.choices.get(GROUP)
    if parser is None:
        parser = subparsers.add_parser(GROUP, help="import review datasets into a workspace; show their statistics")
        parser.set_defaults(func=lambda args: (parser.print_help(), 1)[1])
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action
    return parser.add_subparsers(dest="data_command", metavar="VERB")


def register(subparsers: argparse._SubParsersAction) -> None:
    verbs = data_group(subparsers)

    imp = verbs.add_parser(
        "import",
        help="read a review dataset (+ metadata) into a new workspace",
        description="Load, clean, k-core and split a review dataset into a workspace. "
        "Formats: amazon2014, amazon2018, amazon2023, yelp (auto-detected).",
    )
    imp.add_argument("reviews", type=Path, help="reviews file (JSON lines, gzip or plain); Yelp: review.json")
    imp.add_argument("--meta", type=Path, help="item metadata file (JSON or Python-literal lines)")
    imp.add_argument("--format", default=None, help="auto (default), amazon2014, amazon2018, amazon2023, yelp, ...")
    imp.add_argument("--business", type=Path, help="Yelp business.json")
    imp.add_argument("--city", help="Yelp: keep businesses in this city (e.g. Philadelphia)")
    imp.add_argument("--category", help="Yelp: keep businesses with this category (e.g. Restaurants)")
    imp.add_argument(
        "--kcore", type=int, default=None, help="users and items keep >= K interactions (default 5; 0 = off)"
    )
    imp.add_argument(
        "--skip-bad-lines",
        action="store_true",
        default=None,
        help="skip malformed lines and count them in the import report instead of stopping",
    )
    imp.add_argument("--config", type=Path, help="TOML file with a [data] section")
    imp.add_argument("--out", type=Path, required=True, help="workspace folder to create")
    imp.add_argument("--overwrite", action="store_true", help="replace an existing workspace at --out")
    imp.set_defaults(func=run_import)

    stats = verbs.add_parser("stats", help="print a workspace's data statistics")
    stats.add_argument("workspace", type=Path)
    stats.add_argument("--json", action="store_true", help="print JSON instead of text")
    stats.set_defaults(func=run_stats)


def run_import(args: argparse.Namespace) -> int:
    from ..config import load_config
    from ..data.formats import ImportConfig, ImportRequest, load_dataset
    from ..data.importer import build_workspace

    config = load_config(
        ImportConfig,
        section="data",
        path=args.config,
        overrides={
            "format": args.format,
            "kcore": args.kcore,
            "skip_bad_lines": args.skip_bad_lines,
            "city": args.city,
            "category": args.category,
        },
    )
    request = ImportRequest(reviews=args.reviews, meta=args.meta, business=args.business, config=config)
    dataset = load_dataset(request)
    ws = build_workspace(
        args.out,
        dataset.reviews,
        dataset.items,
        kcore=config.kcore,
        report=dataset.report,
        inputs=dataset.inputs,
        source=dataset.source,
        extra_tables=dataset.extra_tables,
        overwrite=args.overwrite,
    )
    counts = ws.stage_info("data")["counts"]
    print(
        f"imported {dataset.source} into {ws.root}: {counts['interactions']:,} interactions, "
        f"{counts['users']:,} users, {counts['items']:,} items "
        f"({counts['bad_lines_skipped']} bad lines skipped); see `persona4rec data stats {ws.root}`"
    )
    return 0


def run_stats(args: argparse.Namespace) -> int:
    from ..data.stats import format_stats, workspace_stats
    from ..workspace import Workspace

    stats = workspace_stats(Workspace.open(args.workspace))
    print(json.dumps(stats, indent=2) if args.json else format_stats(stats))
    return 0
