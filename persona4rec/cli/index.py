"""`persona4rec index WS`: embed personas into a FAISS index, one folder per variant."""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
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
