"""`persona4rec data import`, `persona4rec data stats` and `persona4rec data demo`.

New import formats register with `persona4rec.data.formats.register_format`, so `--format` is checked
against the registry at run time.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from . import verb_group

GROUP_HELP = "import review datasets into a workspace; show their statistics"


def register(subparsers: argparse._SubParsersAction) -> None:
    verbs = verb_group(subparsers, "data", GROUP_HELP)

    imp = verbs.add_parser(
        "import",
        help="read a review dataset (+ metadata) into a new workspace",
        description="Load, clean, k-core and split a review dataset into a workspace. "
        "Formats: amazon2014, amazon2018, amazon2023, yelp (detected from the records), table (any CSV, TSV, "
        "JSON-lines or Parquet table, gzip or plain, through --map; .csv/.tsv/.parquet files are read as tables) "
        "and recbole (RecBole atomic files: .inter, with the .item beside it).",
    )
    imp.add_argument(
        "reviews",
        type=Path,
        help="reviews file (JSON lines, gzip or plain; a table; a RecBole .inter); Yelp: review.json",
    )
    imp.add_argument("--meta", type=Path, help="item metadata file (JSON or Python-literal lines; a table; a .item)")
    imp.add_argument(
        "--format", default=None, help="auto (default), amazon2014, amazon2018, amazon2023, yelp, table, recbole, ..."
    )
    imp.add_argument(
        "--map",
        dest="column_map",
        metavar="KEY=COL,...",
        help="table/recbole: which column holds what, e.g. user_id=uid,item_id=sku,rating=stars,timestamp=ts"
        "[,title=COL,text=COL]; an unmapped key reads the column of its own name",
    )
    imp.add_argument(
        "--meta-map",
        dest="meta_column_map",
        metavar="KEY=COL,...",
        help="table/recbole: the --meta file's columns, item_id=COL,title=COL,description=COL,categories=COL,"
        "brand=COL; other columns become item attributes",
    )
    imp.add_argument(
        "--time-unit",
        choices=("auto", "s", "ms", "iso"),
        default=None,
        help="table/recbole: timestamps in Unix seconds, milliseconds or ISO 8601 (default auto: detected from "
        "the column's first values)",
    )
    imp.add_argument(
        "--rating-scale",
        metavar="LOW,HIGH",
        help="table/recbole: ratings outside LOW..HIGH are bad values (default: any number; the Amazon and "
        "Yelp formats always check 1,5)",
    )
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

    demo = verbs.add_parser(
        "demo",
        help="generate the SYNTHETIC demo catalogue (planted reasons to like) into a workspace",
        description="Generate the synthetic demo catalogue, deterministic from --seed: 4 product categories, "
        "80 items, 220 users, ~2,800 reviews whose text voices planted reasons; the planted truth "
        "goes to data/planted_*.parquet. 5-core and leave-one-out split as for real data.",
    )
    demo.add_argument("--out", type=Path, required=True, help="workspace folder to create")
    demo.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    demo.add_argument("--items", type=int, default=80, help="number of items (default 80)")
    demo.add_argument("--users", type=int, default=220, help="number of users (default 220)")
    demo.add_argument("--overwrite", action="store_true", help="replace an existing workspace at --out")
    demo.set_defaults(func=run_demo)


def run_import(args: argparse.Namespace) -> int:
    from ..config import load_config
    from ..data.formats import ImportConfig, ImportRequest
    from ..data.importer import import_dataset

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
            "column_map": args.column_map,
            "meta_column_map": args.meta_column_map,
            "time_unit": args.time_unit,
            "rating_scale": args.rating_scale,
        },
    )
    request = ImportRequest(reviews=args.reviews, meta=args.meta, business=args.business, config=config)
    ws, source = import_dataset(request, args.out, overwrite=args.overwrite)
    counts = ws.stage_info("data")["counts"]
    print(
        f"imported {source} into {ws.root}: {counts['interactions']:,} interactions, "
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


def run_demo(args: argparse.Namespace) -> int:
    from ..demo.catalogue import build_demo_workspace

    ws = build_demo_workspace(
        args.out, seed=args.seed, overwrite=args.overwrite, n_items=args.items, n_users=args.users
    )
    counts = ws.stage_info("data")["counts"]
    print(
        f"built the SYNTHETIC demo catalogue (seed {args.seed}) in {ws.root}: {counts['interactions']:,} "
        f"interactions, {counts['users']:,} users, {counts['items']:,} items; planted truth in "
        f"{ws.data_dir}/planted_*.parquet; see `persona4rec data stats {ws.root}`"
    )
    return 0
