"""`persona4rec app`: open the Streamlit app (explore, compare, annotate, study results) on a workspace."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("app", help="run the Streamlit app on a workspace (prints its URL)",
                              description="Run the Streamlit app. Without --workspace it offers every built "
                                          "workspace under $PERSONA4REC_HOME (default ./workspaces), the demo one "
                                          "first. Study ratings go to PERSONA4REC_DB_URL (default "
                                          "sqlite:///db/persona4rec.sqlite).")
    p.add_argument("--workspace", help="workspace to open first")
    p.add_argument("--port", type=int, default=8501, help="port (default 8501)")
    p.add_argument("--address", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from .launch import run_app
    return run_app(args.workspace, args.port, args.address)
