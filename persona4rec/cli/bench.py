"""`persona4rec bench WS [--generators bpr,lightgcn] [--ks 5,10,20] [--skip-train] [--llm-base-url URL
--llm-model NAME --llm-users 5] [--retrieval-sizes 10000,100000,1000000] [--only retrieval,latency] [--quick]`"""

from __future__ import annotations

import argparse


def _ints(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got '{text}'") from None
    if not values or any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"expected positive integers, got '{text}'")
    return values


def _sizes(text: str) -> tuple[int, ...]:
    """Like _ints, but "0" or "none" means no retrieval scale test (it does not depend on the workspace)."""
    return () if text.strip().lower() in ("0", "none") else _ints(text)


def _names(text: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in text.split(",") if x.strip())


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "bench",
        help="the paper's tables (accuracy, segments, ablations), latency and scale, LLM baseline",
        description="Evaluate Persona4Rec against its CF generators on the TEST split (gamma and the fusion weight "
        "tuned on VALID), the summary-only and first-k ablations, vanilla vs fine-tuned encoder, "
        "rerank and retrieval latency, and an LLM listwise reranker baseline. Writes "
        "reports/metrics.json ['bench'], reports/latency.json, reports/report.md and figures.",
    )
    p.add_argument("workspace")
    p.add_argument("--generators", type=_names, default=None, help="comma-separated (default bpr,lightgcn)")
    p.add_argument("--ks", type=_ints, default=None, help="cut-offs (default 5,10,20; must include 10)")
    p.add_argument("--skip-train", action="store_true", help="do not fine-tune an encoder when none exists")
    p.add_argument(
        "--llm-base-url",
        default=None,
        help="OpenAI-compatible server for the listwise baseline (default: start llama.cpp's server "
        "with SmolLM2-135M when installed)",
    )
    p.add_argument("--llm-model", default=None, help="model name sent to the server (default smollm2-135m)")
    p.add_argument("--llm-users", type=int, default=None, help="users for the LLM baseline (default 5; 0 = skip)")
    p.add_argument(
        "--retrieval-sizes",
        type=_sizes,
        default=None,
        help="persona counts for the retrieval scale test, sampled from a model fitted to the workspace's "
        "persona vectors (default 10000,100000,1000000; 0 = skip)",
    )
    p.add_argument(
        "--only",
        type=_names,
        default=None,
        help="measure just these parts on the serving reranker and merge them into reports/latency.json: "
        "retrieval (full-catalogue search at --retrieval-sizes), latency (the online path)",
    )
    p.add_argument("--quick", action="store_true", help="small grids and no large retrieval (for tests)")
    p.add_argument("--no-learned", action="store_true", help="skip the learned-ranker rows (LightGBM)")
    p.set_defaults(func=run)

    t = subparsers.add_parser(
        "tune",
        help="tune the serving config on VALID and write serving.json",
        description="For each generator and variant: gamma, the CF fusion weight and a learned ranker "
        "(LightGBM lambdarank, cross-validated on VALID), all on the VALID split; the best by VALID "
        "NDCG@10 is written to WS/serving.json, which the app, `recommend` and the study builders read.",
    )
    t.add_argument("workspace")
    t.add_argument("--generators", type=_names, default=None, help="comma-separated (default bpr,lightgcn)")
    t.add_argument("--no-learned", action="store_true", help="gamma and fusion weight only")
    t.set_defaults(func=run_tune)


def run(args: argparse.Namespace) -> int:
    import dataclasses

    from ..evaluation.bench import BenchConfig, run_bench
    from ..evaluation.report import markdown_table
    from ..workspace import Workspace

    ws = Workspace.open(args.workspace)
    changes = {
        k: v
        for k, v in {
            "generators": args.generators,
            "ks": args.ks,
            "llm_base_url": args.llm_base_url,
            "llm_model": args.llm_model,
            "llm_users": args.llm_users,
        }.items()
        if v is not None
    }
    changes["skip_train"] = args.skip_train
    if args.no_learned:
        changes["learned"] = False
    if args.only:
        changes["only"] = args.only
    config = BenchConfig.quick_config(**changes) if args.quick else BenchConfig(**changes)
    if args.retrieval_sizes is not None:
        config.latency = dataclasses.replace(config.latency, retrieval_sizes=args.retrieval_sizes)
    result = run_bench(ws, config, say=lambda line: print(line, flush=True))
    for caption, table in result.tables.items():
        print(f"\n{caption}\n")
        print(markdown_table(table))
    if args.only:
        print(f"\nlatency: {ws.reports_dir / 'latency.json'}; report: {result.report_path}")
        return 0
    llm = result.llm
    if llm.get("status") == "run":
        print(
            f"\nLLM listwise ({llm['model']}, {llm['users']} users): p50 {llm['p50_ms']:.1f} ms; Persona4Rec "
            f"p50 {llm['persona4rec_single_p50_ms']:.3f} ms; measured ratio {llm['speed_ratio_p50']:.0f}x"
        )
    else:
        print(f"\nLLM listwise baseline not run: {llm.get('reason')}")
    print(f"\nreport: {result.report_path}")
    return 0


def run_tune(args: argparse.Namespace) -> int:
    from ..evaluation.tuning import tune_serving
    from ..workspace import Workspace

    ws = Workspace.open(args.workspace)
    tune_serving(ws, args.generators, learned=not args.no_learned, say=lambda line: print(line, flush=True))
    print(f"wrote {ws.root / 'serving.json'}")
    return 0
