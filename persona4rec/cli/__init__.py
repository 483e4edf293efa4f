"""`persona4rec` command line. Each area registers its own verbs; heavy imports happen inside handlers.

Every command module exposes `register(subparsers)`, adding parsers whose `func(args)` returns an exit
code. Errors derived from Persona4RecError print as one line (no traceback) and exit 2.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from .. import __version__
from ..errors import Persona4RecError

# Modules that register verbs. Keep each cheap to import: no torch/faiss/pandas at module level.
COMMAND_MODULES = [
    "persona4rec.cli.data",
    "persona4rec.cli.build",
    "persona4rec.cli.demo_data",
    "persona4rec.cli.authors",
    "persona4rec.cli.study",
    "persona4rec.cli.offline",
    "persona4rec.cli.llm",
    "persona4rec.cli.candidates",
    "persona4rec.cli.train",
    "persona4rec.cli.evaluate",
    "persona4rec.cli.bench",
    "persona4rec.cli.app",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="persona4rec", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"persona4rec {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=[logging.WARNING, logging.INFO, logging.DEBUG][min(args.verbose, 2)],
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not getattr(args, "func", None):
        parser.print_help()
        return 1
    try:
        return int(args.func(args) or 0)
    except Persona4RecError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # `persona4rec data stats WS | head`: the reader left; nothing more to say.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("interrupted; finished work is kept and a re-run resumes from it", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
