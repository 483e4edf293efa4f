"""`persona4rec build` (the whole chain on one workspace) and `persona4rec demo` (build, then open the app)."""

from __future__ import annotations

import argparse


def _add_build_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--data",
        help="a dataset file or folder to import (e.g. ../shared/data/"
        "amazon2014-digital-music-5core-prefix); default: the synthetic demo catalogue",
    )
    p.add_argument(
        "--backend",
        choices=["extractive", "llm"],
        default="extractive",
        help="offline backend (default extractive: no LLM)",
    )
    p.add_argument("--generators", default="bpr,lightgcn", help="first-stage generators (default bpr,lightgcn)")
    p.add_argument("--no-train", action="store_true", help="skip encoder training; the vanilla encoder serves")
    p.add_argument(
        "--train-mode",
        choices=["adapter", "full", "lora"],
        default="adapter",
        help="adapter (default: seconds on a CPU), full or lora fine-tuning",
    )
    p.add_argument("--epochs", type=int, default=1, help="full / lora fine-tuning epochs (default 1)")
    p.add_argument("--no-tune", action="store_true", help="do not tune the serving config on VALID")
    p.add_argument("--seed", type=int, default=0, help="demo catalogue seed (default 0)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "build",
        help="run the whole chain on a workspace (resumable)",
        description="Create the workspace if needed (demo catalogue, or --data), then "
        "offline personas, candidates, encoder, indexes and metrics. "
        "Finished steps are kept; a re-run resumes.",
    )
    p.add_argument("workspace", help="workspace folder")
    _add_build_options(p)
    p.set_defaults(func=run_build)

    d = subparsers.add_parser(
        "demo",
        help="build the demo workspace and open the app on it",
        description="The main job: build workspaces/demo (synthetic demo catalogue, "
        "extractive backend, bundled encoder) if needed, then start the app.",
    )
    d.add_argument("--out", default="workspaces/demo", help="workspace folder (default workspaces/demo)")
    d.add_argument("--port", type=int, default=8501, help="app port (default 8501)")
    d.add_argument("--no-app", action="store_true", help="build only; do not start the app")
    _add_build_options(d)
    d.set_defaults(func=run_demo)


def _build(args: argparse.Namespace, workspace: str):
    from ..pipeline import BuildConfig, build_all

    config = BuildConfig(
        backend=args.backend,
        train=not args.no_train,
        train_mode=args.train_mode,
        epochs=args.epochs,
        seed=args.seed,
        tune=not args.no_tune,
        generators=tuple(g.strip() for g in args.generators.split(",") if g.strip()),
    )
    report = build_all(workspace, data=args.data, config=config, progress=not args.no_progress, echo=_flushed_print)
    print("built", report.workspace)
    print("\n".join(report.lines()))
    return report


def run_build(args: argparse.Namespace) -> int:
    _build(args, args.workspace)
    return 0


def run_demo(args: argparse.Namespace) -> int:
    from ..annotation.owners import ADMIN_TOKEN_ENV, admin_token
    from ..demo.study import ensure_demo_study
    from ..workspace import Workspace

    report = _build(args, args.out)
    study = ensure_demo_study(Workspace.open(report.workspace))
    guard = f"owner secret: the value of {ADMIN_TOKEN_ENV}" if admin_token() else "open mode (no owner secret set)"
    print(f"study {study.name!r} is open for annotation ({study.examples_per_study} examples); {guard}")
    if args.no_app:
        return 0
    from .app import launch

    return launch(report.workspace, port=args.port)


def _flushed_print(line: str) -> None:
    print(line, flush=True)  # flushed: a build's log is often a file
