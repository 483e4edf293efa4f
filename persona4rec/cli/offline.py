"""`persona4rec offline {summarize,aspects,personas,profiles,align,all} WS`: the offline stages.

Each verb runs one stage (`all` runs the five in order), resumes where an earlier run stopped, and prints
one summary line per stage. Exit codes: 0 done, 2 bad input or workspace, 3 stopped by --max-cost or an
unreachable LLM server (finished units are kept; the same command resumes). `--engine ray` runs the
stages' batches on a Ray cluster (offline/ray_engine.py); `offline bench-engine` times both engines.
`cli/authors.py` adds `offline import-authors` / `export-authors` to the same group.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..data.split import HISTORY_LENGTH
from . import verb_group

GROUP = "offline"
GROUP_HELP = "offline reasoning: summaries, aspects, personas, profiles, alignment"
EXIT_STOPPED = 3
VERBS = {
    "summarize": "stage 1: a 2-3 sentence summary per item (metadata, else reviews)",
    "aspects": "stage 2: four aspect slots per review; >75%-null tuples dropped and counted",
    "personas": "stage 3: 2-7 personas per item from its summary and train aspects (--single: one)",
    "profiles": "stage 4: each user's last L train interactions (no backend)",
    "align": "stage 5: the persona that explains each training interaction",
    "all": "the five stages in order",
}
ENGINE_VERBS = ("summarize", "aspects", "personas", "align", "all")


def _add_engine_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("engine")
    group.add_argument(
        "--engine",
        choices=("local", "ray"),
        default="local",
        help="local (this process, default) or ray (Ray Data batches on a Ray cluster's workers; "
        'pip install "persona4rec[ray]")',
    )
    group.add_argument(
        "--address",
        help="with --engine ray: the cluster to join, HOST:PORT of its head or 'auto' "
        "(default: $RAY_ADDRESS, else a new local Ray on this machine)",
    )
    group.add_argument("--workers", type=int, help="with --engine ray: workers (one CPU each; default all CPUs)")


def _add_llm_arguments(parser: argparse.ArgumentParser) -> None:
    try:
        from ..llm.config import add_llm_arguments
    except ImportError:  # the LLM package is optional for the no-LLM path
        return
    add_llm_arguments(parser)


def register(subparsers: argparse._SubParsersAction) -> None:
    verbs = verb_group(subparsers, GROUP, GROUP_HELP)
    for verb, help_text in VERBS.items():
        p = verbs.add_parser(verb, help=help_text, description=help_text)
        p.add_argument("workspace", type=Path, help="workspace folder (made by `persona4rec data import`)")
        p.add_argument(
            "--backend",
            choices=("extractive", "llm"),
            default="extractive",
            help="extractive (no LLM, default) or llm (any OpenAI-compatible server)",
        )
        p.add_argument(
            "--encoder",
            default=None,
            help="sentence-transformers model for the extractive backend (default: the bundled all-MiniLM-L6-v2)",
        )
        p.add_argument(
            "--domain",
            choices=("generic", "books", "restaurants"),
            default="generic",
            help="prompt / slot-phrasing domain",
        )
        if verb in ("summarize", "aspects", "personas", "align", "all"):
            p.add_argument("--items", type=int, help="only the first N items by sorted id (cheap trials)")
        if verb in ("aspects", "profiles", "align", "all"):
            p.add_argument("--users", type=int, help="only the first N users by sorted id (cheap trials)")
        if verb in ("personas", "all"):
            p.add_argument(
                "--single",
                action="store_true",
                help="one aggregated persona per item (offline/personas_single.jsonl; `all` builds both)",
            )
            p.add_argument("--max-personas", type=int, default=7, help="at most this many personas per item (1-7)")
        if verb in ("profiles", "align", "all"):
            p.add_argument(
                "--history-length",
                type=int,
                default=HISTORY_LENGTH,
                help=f"L, the interactions in a profile (default {HISTORY_LENGTH})",
            )
        p.add_argument(
            "--dry-run",
            action="store_true",
            help="count the units and estimate tokens and cost; call and write nothing",
        )
        p.add_argument("--retry-failed", action="store_true", help="also re-run units recorded as failed")
        p.add_argument("--batch-size", type=int, help="units per backend call (default: the backend's)")
        p.add_argument(
            "--overwrite", action="store_true", help="redo a stage whose records were made by another backend"
        )
        p.add_argument("--no-progress", action="store_true", help="no progress bar")
        p.add_argument("--json", action="store_true", help="print the stage reports as JSON")
        if verb in ENGINE_VERBS:
            _add_engine_arguments(p)
        _add_llm_arguments(p)
        p.set_defaults(func=run_offline, offline_verb=verb)

    _register_bench(verbs)

    st = verbs.add_parser(
        "status",
        help="what each stage made, with checks (personas per item, alignment coverage)",
        description="Per stage: status, records, open failures, seconds, cost, backend; then "
        "personas per item (1-7), summary-only items, and how much of the train "
        "split the alignment covers. Every record is validated on reading.",
    )
    st.add_argument("workspace", type=Path)
    st.add_argument("--json", action="store_true", help="print JSON")
    st.set_defaults(func=run_status)

    q = verbs.add_parser(
        "quality",
        help="persona purity against the demo catalogue's planted reasons",
        description="How well the personas group reviews by their planted reason (demo only), "
        "against a shuffled-assignment chance level.",
    )
    q.add_argument("workspace", type=Path)
    q.add_argument("--single", action="store_true", help="score the single-persona index instead")
    q.add_argument("--json", action="store_true", help="print JSON")
    q.set_defaults(func=run_quality)


def run_status(args: argparse.Namespace) -> int:
    from ..offline.status import offline_status, status_lines
    from ..workspace import Workspace

    status = offline_status(Workspace.open(args.workspace))
    print(json.dumps(status, indent=2) if args.json else "\n".join(status_lines(status)))
    return 0


def run_quality(args: argparse.Namespace) -> int:
    from ..demo.quality import persona_purity
    from ..workspace import Workspace

    result = persona_purity(Workspace.open(args.workspace), single=args.single)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(
            f"persona purity ({result['mode']}): {result['purity']:.3f} vs chance {result['chance_purity']:.3f} "
            f"(one persona per item: {result['one_persona_purity']:.3f}; mean ARI {result['mean_adjusted_rand']}) "
            f"over {result['reviews_scored']} reviews; personas per item {result['mean_personas_per_item']} vs "
            f"planted reasons {result['mean_planted_reasons_per_item']}"
        )
    return 0


def _backend(args, ws):
    from ..offline.backends import make_backend

    if args.backend != "llm":
        return make_backend(ws, "extractive", encoder=args.encoder, domain=args.domain)
    from ..llm.config import llm_config_from_args

    return make_backend(ws, "llm", llm_config=llm_config_from_args(args), domain=args.domain)


def _engine(args: argparse.Namespace):
    """The engine the stages run on, as a context: none (the local engine) or a started RayEngine."""
    import contextlib

    if getattr(args, "engine", "local") != "ray":
        if getattr(args, "address", None) or getattr(args, "workers", None):
            from ..errors import ConfigError

            raise ConfigError("--address and --workers go with --engine ray")
        return contextlib.nullcontext(None)
    from ..offline.ray_engine import RayEngine

    return RayEngine(address=args.address, workers=args.workers)


def run_offline(args: argparse.Namespace) -> int:
    from ..errors import BudgetExceeded, LLMUnavailable
    from ..workspace import Workspace

    ws = Workspace.open(args.workspace)
    reports = []

    def show(report):
        reports.append(report)
        if not args.json:
            print(report.line(), flush=True)

    try:
        backend = None if args.offline_verb == "profiles" else _backend(args, ws)
        opts = {"dry_run": args.dry_run, "progress": not args.no_progress and sys.stderr.isatty()}
        if backend is not None:
            opts.update(retry_failed=args.retry_failed, batch_size=args.batch_size, overwrite=args.overwrite)
        with _engine(args) as engine:
            if engine is not None:
                opts["engine"] = engine
            _run_verb(args, ws, backend, opts, show)
    except (BudgetExceeded, LLMUnavailable) as exc:
        print(f"stopped: {exc}; finished units are kept, re-run the same command to resume", file=sys.stderr)
        return EXIT_STOPPED
    if args.json:
        print(json.dumps([r.to_dict() for r in reports], indent=2))
    stopped = [r for r in reports if r.stopped_reason]
    if stopped:
        print(
            f"stopped during {stopped[-1].stage}: {stopped[-1].stopped_reason}; finished units are kept, "
            f"re-run the same command to resume",
            file=sys.stderr,
        )
        return EXIT_STOPPED
    return 0


def _run_verb(args: argparse.Namespace, ws, backend, opts: dict, show) -> None:
    from ..offline import stages

    verb = args.offline_verb
    if verb == "summarize":
        show(stages.run_summaries(ws, backend, items=args.items, **opts))
    elif verb == "aspects":
        show(stages.run_aspects(ws, backend, items=args.items, users=args.users, **opts))
    elif verb == "personas":
        show(
            stages.run_personas(
                ws, backend, single=args.single, items=args.items, max_personas=args.max_personas, **opts
            )
        )
    elif verb == "profiles":
        show(stages.build_profiles(ws, history_length=args.history_length, users=args.users, dry_run=args.dry_run))
    elif verb == "align":
        show(
            stages.run_alignment(
                ws, backend, users=args.users, items=args.items, history_length=args.history_length, **opts
            )
        )
    else:
        stages.run_all(
            ws,
            backend,
            items=args.items,
            users=args.users,
            single=args.single,
            max_personas=args.max_personas,
            history_length=args.history_length,
            on_report=show,
            **opts,
        )


# -- offline bench-engine ------------------------------------------------------------------------------


def _register_bench(verbs) -> None:
    help_text = "offline throughput: the local engine, then Ray with 1, 2, ... workers (reports/offline_engine.json)"
    b = verbs.add_parser(
        "bench-engine",
        help=help_text,
        description=help_text + ". Each run starts from the workspace's data in a scratch copy (its records "
        "are not touched), runs the five stages, is timed per stage, and its records are compared with the "
        "local run's.",
    )
    b.add_argument("workspace", type=Path)
    b.add_argument("--workers", default="1,2", help="Ray worker counts to run, comma-separated (default 1,2)")
    b.add_argument("--address", help="the Ray cluster to join (default: a new local Ray per run)")
    b.add_argument("--items", type=int, help="only the first N items by sorted id")
    b.add_argument("--users", type=int, help="only the first N users by sorted id")
    b.add_argument("--batch-size", type=int, help="units per batch (default: the backend's)")
    b.add_argument("--backend", choices=("extractive", "llm"), default="extractive")
    b.add_argument("--encoder", default=None, help="sentence-transformers model for the extractive backend")
    b.add_argument("--domain", choices=("generic", "books", "restaurants"), default="generic")
    b.add_argument("--json", action="store_true", help="print the report as JSON")
    _add_llm_arguments(b)
    b.set_defaults(func=run_bench_engine)


def run_bench_engine(args: argparse.Namespace) -> int:
    from ..errors import ConfigError
    from ..offline.engine_bench import REPORT_FILE, bench_engines
    from ..offline.ray_engine import require_ray
    from ..workspace import Workspace

    try:
        workers = [int(n) for n in args.workers.split(",") if n.strip()]
    except ValueError:
        raise ConfigError(f"--workers must be comma-separated counts such as 1,2; got '{args.workers}'") from None
    if not workers or min(workers) < 1:
        raise ConfigError(f"--workers must name counts of at least 1; got '{args.workers}'")
    require_ray()
    ws = Workspace.open(args.workspace)
    report = bench_engines(
        ws,
        lambda scratch: _backend(args, scratch),
        workers,
        address=args.address,
        items=args.items,
        users=args.users,
        batch_size=args.batch_size,
        say=(lambda line: None) if args.json else (lambda line: print(line, flush=True)),
    )
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"speedup over 1 Ray worker: {report.get('speedup')}; written to {ws.reports_dir / REPORT_FILE}")
    return 0
