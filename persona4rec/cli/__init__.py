"""Persona4Rec: persona-profiled item indexing that reranks a recommender's candidates and explains each
item with the persona that wins for the user, at sub-millisecond cost per request.

Usual order: `data import` (or `data demo`) -> `build` (offline personas, candidates, encoder, tuning,
indexes, metrics; resumable) -> `app` (browse, compare, run studies). `demo` does all three on the demo
catalogue. Each stage also has its own verb (`offline`, `candidates`, `train`, `tune`, `index`).

Every module in this package registers one verb group with `register(subparsers)`; a parser's
`func(args)` returns the exit code. Heavy imports happen inside the handlers. Errors derived from
Persona4RecError print as one line (no traceback) and exit 2.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from .. import __version__
from ..errors import Persona4RecError

# The verb groups, in the order `persona4rec --help` lists them. Keep each module cheap to import: no
# torch/faiss/pandas at module level.
COMMAND_MODULES = [
    "persona4rec.cli.data",
    "persona4rec.cli.build",
    "persona4rec.cli.authors",
    "persona4rec.cli.offline",
    "persona4rec.cli.study",
    "persona4rec.cli.llm",
    "persona4rec.cli.candidates",
    "persona4rec.cli.train",
    "persona4rec.cli.index",
    "persona4rec.cli.recommend",
    "persona4rec.cli.evaluate",
    "persona4rec.cli.bench",
    "persona4rec.cli.app",
]
VERBOSE_HELP = "more log output (-vv for debug); accepted before or after the verb"


def verb_group(subparsers: argparse._SubParsersAction, name: str, help_text: str) -> argparse._SubParsersAction:
    """The sub-parsers of the group `persona4rec NAME ...`, created on first use (several modules add verbs
    to one group, e.g. `offline import-authors` beside the offline stages). The bare group prints its help."""
    parser = subparsers.choices.get(name)
    if parser is None:
        parser = subparsers.add_parser(name, help=help_text, description=help_text)
        parser.set_defaults(func=lambda args: (parser.print_help(), 1)[1])
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action
    return parser.add_subparsers(dest=f"{name}_command", metavar="VERB")


def _accept_verbose_everywhere(parser: argparse.ArgumentParser) -> None:
    """Add -v to every verb: `persona4rec build WS -v` means `persona4rec -v build WS`. SUPPRESS keeps the
    count given before the verb when none is given after it."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in set(action.choices.values()):
                if not any("-v" in a.option_strings for a in sub._actions):
                    sub.add_argument("-v", "--verbose", action="count", default=argparse.SUPPRESS, help=VERBOSE_HELP)
                _accept_verbose_everywhere(sub)


def build_parser() -> argparse.ArgumentParser:
    summary, _, details = __doc__.partition("\n\n")
    parser = argparse.ArgumentParser(
        prog="persona4rec",
        description=summary,
        epilog=details.partition("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"persona4rec {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help=VERBOSE_HELP)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    _accept_verbose_everywhere(parser)
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
