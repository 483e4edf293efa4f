"""`persona4rec app`: open the Streamlit app (explore, compare, annotate, study results) on a workspace."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "app",
        help="run the Streamlit app on a workspace (prints its URL)",
        description="Run the Streamlit app. Without --workspace it offers every built "
        "workspace under $PERSONA4REC_HOME (default ./workspaces), the demo one "
        "first. Study ratings go to PERSONA4REC_DB_URL (default "
        "sqlite:///db/persona4rec.sqlite).",
    )
    p.add_argument("--workspace", help="workspace to open first")
    p.add_argument("--port", type=int, default=8501, help="port (default 8501)")
    p.add_argument("--address", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument(
        "--check",
        action="store_true",
        help="start no server: render every page headless on --workspace, drive its widgets (a "
        "throwaway study database), print what each page showed; exit 1 if a page fails",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.check:
        return run_check(args.workspace)
    return launch(args.workspace, args.port, args.address)


def launch(workspace, port: int, address: str = "127.0.0.1") -> int:
    """Print the app's URL, then run it in the foreground until interrupted."""
    from ..webapp.launch import app_url, run_app

    where = f"  (workspace {workspace})" if workspace else ""
    print(f"Persona4Rec app: {app_url(port, address)}{where}", flush=True)
    return run_app(workspace, port, address)


def run_check(workspace: str | None) -> int:
    from ..errors import WorkspaceError
    from ..views.workspaces import is_workspace
    from ..webapp.check import check_app

    if workspace is None or not is_workspace(workspace):
        raise WorkspaceError(f"{workspace}: not a workspace (no manifest.json); --check needs --workspace WS")
    results = check_app(workspace, progress=True)
    for r in results:
        print(f"{'ok  ' if r.ok else 'FAIL'} {r.page:<26} {r.shown if r.ok else r.error}")
    failed = sum(not r.ok for r in results)
    print(f"{len(results) - failed} of {len(results)} page steps passed on {workspace}")
    return 1 if failed else 0
