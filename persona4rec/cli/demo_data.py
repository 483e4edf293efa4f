"""`persona4rec data demo`: write the synthetic demo catalogue as a workspace."""

from __future__ import annotations

import argparse
from pathlib import Path

from .data import data_group


def register(subparsers: argparse._SubParsersAction) -> None:
    demo = data_group(subparsers).add_parser(
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
