"""The bench's latency record: evaluation/latency.py's measurements on the primary reranker, single-threaded
as configured, the machine recorded before and after. `measure_parts` runs some of them alone (`bench
--only retrieval`, `--only latency`) and merges them into the workspace's latency.json."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict

from ...io import read_json
from ...workspace import Workspace
from .config import BenchConfig

PARTS = ("latency", "retrieval")  # what --only may name: the online path, full-catalogue retrieval


def measure_latency(reranker, users, lists, config: BenchConfig, say) -> dict:
    from .. import latency as lat

    cfg = config.latency
    out: dict = {"machine": lat.machine(), "config": asdict(cfg)}
    out.update(online_path(reranker, users, lists, config, say))
    out.update(retrieval(reranker, config, say))
    out["machine_after"] = lat.machine()
    out["peak_rss_bytes"] = lat.peak_rss_bytes()
    return out


def online_path(reranker, users, lists, config: BenchConfig, say) -> dict:
    """The reranker's own latency and floor, its index's memory, and scoring alone (real and synthetic)."""
    from ...index.bench import single_threaded, synthetic_table
    from .. import latency as lat

    cfg = config.latency
    say(f"latency: real reranker ({cfg.threads} thread) ...")
    out: dict = {}
    with single_threaded(cfg.threads):
        out["reranker"] = lat.real_reranker_latency(reranker, users, lists, cfg)
        out["memory"] = lat.index_memory(reranker.index)
        say("latency: scoring on the real index and on a synthetic table ...")
        out["scoring_real"] = lat.scoring_latency(
            reranker.table, cfg, f"real index, {len(reranker.table.item_ids)} items"
        )
        out["scoring_synthetic"] = lat.scoring_latency(
            synthetic_table(n_items=cfg.synthetic_items, dim=reranker.index.dim),
            cfg,
            f"synthetic, {cfg.synthetic_items} items x 2-7 personas",
        )
    real, floor = out["reranker"], out["reranker"]["floor_ms"]
    say(
        f"  rerank p50 {real['single_rerank']['p50_ms']:.4f} ms, with the top explanation read "
        f"{real['single_rerank_top1']['p50_ms']:.4f} ms, with every explanation "
        f"{real['single_rerank_all']['p50_ms']:.4f} ms; floor {floor:.4f} ms "
        f"({real['single_rerank']['ratio_to_floor']:.1f}x)"
    )
    return out


def retrieval(reranker, config: BenchConfig, say, kept: dict | None = None) -> dict:
    """Full-catalogue retrieval at each configured size, and the projection beyond the largest one. kept:
    records of earlier runs (other sizes), merged under the new ones before projecting."""
    from .. import latency as lat

    cfg = config.latency
    if not cfg.retrieval_sizes and not kept:
        return {"retrieval": {}}
    measured = lat.retrieval_scale(cfg, reranker, say=say) if cfg.retrieval_sizes else {}
    records = {**(kept or {}), **measured}
    projection = lat.retrieval_projection(
        records, cfg.retrieval_projected_sizes, reranker.index.dim, cfg.retrieval_memory_bytes
    )
    return {"retrieval": records, "retrieval_projection": projection}


def measure_parts(ws: Workspace, config: BenchConfig, say: Callable[[str], None]) -> dict:
    """`bench --only PARTS`: the named parts on the workspace's serving reranker (the paper's scoring, its
    tuned gamma), merged into reports/latency.json (sizes measured before and other keys kept)."""
    from ...candidates.generate import candidate_lists
    from ...rerank import Reranker, load_serving_config
    from .. import latency as lat

    serving = load_serving_config(ws).replace(fusion_weight=0.0, ranker=None)
    reranker = Reranker.from_workspace(ws, serving)
    path = ws.reports_dir / "latency.json"
    latency = read_json(path) if path.exists() else {}
    latency["config"] = asdict(config.latency)
    if "latency" in config.only:
        users, lists, _ = candidate_lists(ws, config.generators[0])
        latency["machine"] = lat.machine()
        latency.update(online_path(reranker, users, lists, config, say))
    if "retrieval" in config.only:
        kept = {n: r for n, r in latency.get("retrieval", {}).items() if "index" in r}  # older runs' format: dropped
        latency.update(retrieval(reranker, config, say, kept))
    latency["machine_after"] = lat.machine()
    return latency
