"""`persona4rec authors import DIR --out WS` and `persona4rec authors export WS --out DIR` (also
`persona4rec offline import-authors` / `export-authors`): the paper authors' gpt-4o-mini artifact files
in and out of a workspace (persona4rec/authors/interop.py)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

GROUP = "authors"


IMPORT_HELP = "one workspace from one authors' folder (e.g. .../amazon)"
IMPORT_DESCRIPTION = (
    "Read 1_aspects, 2_summary, 2.5_grouped, 3_personas, 3.5_history(_loo), 3.5_gt, "
    "3.5_persona_with_summary and 4_selected_personas (.jsonl or .jsonl.gz, whichever are "
    "present) into a workspace: data tables without k-core, and offline summaries/aspects/"
    "personas/alignment labeled authors:gpt-4o-mini."
)
EXPORT_HELP = "write a workspace as the authors' files"
EXPORT_DESCRIPTION = (
    "Write the workspace's reviews, summaries, aspects, personas and alignment as the "
    "authors' nine files with exactly their keys."
)


def register(subparsers: argparse._SubParsersAction) -> None:
    """`authors import|export`, and the same verbs as `offline import-authors|export-authors`."""
    from . import verb_group
    from .offline import GROUP_HELP as OFFLINE_HELP

    group = subparsers.add_parser(GROUP, help="import/export the paper authors' artifact files (gpt-4o-mini outputs)")
    group.set_defaults(func=lambda args: (group.print_help(), 1)[1])
    verbs = group.add_subparsers(dest="authors_command", metavar="VERB")
    offline_verbs = verb_group(subparsers, "offline", OFFLINE_HELP)
    for parser in (
        verbs.add_parser("import", help=IMPORT_HELP, description=IMPORT_DESCRIPTION),
        offline_verbs.add_parser("import-authors", help=IMPORT_HELP, description=IMPORT_DESCRIPTION),
    ):
        _import_arguments(parser)
    for parser in (
        verbs.add_parser("export", help=EXPORT_HELP, description=EXPORT_DESCRIPTION),
        offline_verbs.add_parser("export-authors", help=EXPORT_HELP, description=EXPORT_DESCRIPTION),
    ):
        _export_arguments(parser)


def _import_arguments(imp: argparse.ArgumentParser) -> None:
    imp.add_argument("folder", type=Path, help="folder of one domain's artifact files")
    imp.add_argument("--out", type=Path, required=True, help="workspace folder to create")
    imp.add_argument("--overwrite", action="store_true", help="replace an existing workspace at --out")
    imp.add_argument(
        "--skip-bad-lines",
        action="store_true",
        help="skip malformed lines and count them in the import report instead of stopping",
    )
    imp.set_defaults(func=run_import)


def _export_arguments(exp: argparse.ArgumentParser) -> None:
    exp.add_argument("workspace", type=Path)
    exp.add_argument("--out", type=Path, required=True, help="folder to write the files into")
    exp.add_argument(
        "--dialect",
        choices=("amazon", "yelp"),
        default=None,
        help="aspect keys and timestamp style (default: the imported folder's, else amazon)",
    )
    exp.add_argument("--gzip", action="store_true", help="write .jsonl.gz instead of .jsonl")
    exp.add_argument("--overwrite", action="store_true", help="write into a folder that is not empty")
    exp.set_defaults(func=run_export)


def run_import(args: argparse.Namespace) -> int:
    from ..authors.interop import import_authors

    ws = import_authors(args.folder, args.out, overwrite=args.overwrite, skip_bad_lines=args.skip_bad_lines)
    manifest = ws.manifest()
    stages = manifest["stages"]
    print(
        f"imported the authors' {manifest['authors']['dialect']} artifacts into {ws.root}: "
        f"{stages['data']['counts']['interactions']:,} interactions, "
        f"{stages['summaries']['counts']['items']:,} summaries, {stages['aspects']['counts']['reviews']:,} aspect "
        f"tuples, {stages['personas']['counts']['items']:,} persona sets "
        f"({stages['personas']['counts']['personas']:,} personas), "
        f"{stages['alignment']['counts']['interactions']:,} selections"
    )
    print("coverage: " + json.dumps(manifest["authors"]["coverage"]))
    return 0


def run_export(args: argparse.Namespace) -> int:
    from ..authors.interop import export_authors

    result = export_authors(
        args.workspace, args.out, dialect=args.dialect, gzip_files=args.gzip, overwrite=args.overwrite
    )
    lines = ", ".join(f"{name} {n:,}" for name, n in result["lines"].items())
    print(f"wrote the authors' files ({result['dialect']} dialect) to {args.out}: {lines}")
    if any(result["left_out"].values()):
        print("left out: " + json.dumps(result["left_out"]))
    return 0
