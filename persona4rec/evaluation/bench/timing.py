"""The bench's latency record: evaluation/latency.py's measurements on the primary reranker, single-threaded
as configured, the machine recorded before and after."""

from __future__ import annotations

from dataclasses import asdict

from .config import BenchConfig


def measure_latency(reranker, users, lists, config: BenchConfig, say) -> dict:
    from ...index.bench import synthetic_table
    from .. import latency as lat

    cfg = config.latency
    say(f"latency: real reranker ({cfg.threads} thread) ...")
    out: dict = {"machine": lat.machine(), "config": asdict(cfg)}
    with lat.single_threaded(cfg.threads):
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
    out["retrieval"] = lat.retrieval_scale(cfg, reranker.index.dim, say=say) if cfg.retrieval_sizes else {}
    out["machine_after"] = lat.machine()
    out["peak_rss_bytes"] = lat.peak_rss_bytes()
    return out
