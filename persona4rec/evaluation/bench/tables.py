"""The bench's printed tables (caption -> DataFrame): the accuracy tables cut from the rows (Tables 4, 5,
6, 10, encoders, negatives) and the latency tables from the latency record (Table 7 and the scale tables)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ...metrics import metric_columns

CURVE_COLUMNS = ("nprobe", "recall", "p50_ms", "p99_ms")


def build_tables(accuracy_frame, segments_frame, ks: Sequence[int], primary_encoder: str) -> dict[str, Any]:
    """The printed/report tables (caption -> DataFrame) cut from the accuracy rows."""
    frame = accuracy_frame
    keep = [
        "generator",
        "reranker",
        "users",
        *metric_columns(ks),
        "dNDCG@10",
        "rel_NDCG@10",
        "p_t",
        "p_holm",
        "p_wilcoxon",
        "rel_best_cf",
        "p_best_cf",
        "p_holm_best_cf",
    ]
    plain = ~frame["encoder"].astype(str).str.startswith("adapter (")
    main = frame[frame["variant"].isin(["", "multi", "single"]) & plain]
    negatives = frame[
        (frame["variant"] == "")
        | (
            (frame["variant"] == "multi")
            & (frame["scoring"] == "paper")
            & frame["encoder"].astype(str).str.startswith("adapter")
        )
    ]
    ablation_cols = ["generator", "reranker", "users", "HR@10", "NDCG@10", "dNDCG@10", "rel_NDCG@10", "p_t"]
    summary = frame[
        frame["variant"].isin(["", "summary"])
        | ((frame["variant"] == "multi") & (frame["scoring"] == "paper") & (frame["encoder"] == primary_encoder))
    ]
    first_k = frame[
        frame["variant"].str.startswith("first-")
        | ((frame["variant"] == "multi") & (frame["scoring"] == "paper") & (frame["encoder"] == primary_encoder))
    ]
    pure_multi = frame[(frame["variant"] == "multi") & (frame["scoring"] == "paper") & plain]
    encoders = pure_multi.pivot_table(index="generator", columns="encoder", values="NDCG@10", aggfunc="first")
    encoders.columns = [f"NDCG@10 {c}" for c in encoders.columns]
    tables = {
        "Table 4: generators x rerankers x K "
        "(test split; dNDCG@10 and p-values vs the generator, paired per user)": main[
            [c for c in keep if c in main.columns]
        ],
        "Table 5: segments @10 (warm/cold users, head/tail items)": segments_frame,
        "Table 6: summary-only index vs CF": summary[[c for c in ablation_cols if c in summary.columns]],
        "Table 10: number of personas per item (first-k)": first_k[[c for c in ablation_cols if c in first_k.columns]],
        "Vanilla vs fine-tuned encoder (multi-persona, pure method, NDCG@10)": encoders,
        "Negatives: the adapter without each kind of negative (multi-persona, pure method)": negatives[
            [c for c in ablation_cols + ["rel_best_cf", "p_best_cf"] if c in negatives.columns]
        ],
    }
    return {
        caption: (table if caption.startswith("Vanilla") else table.reset_index(drop=True))
        for caption, table in tables.items()
    }


def latency_tables(latency: dict, llm: dict) -> dict[str, Any]:
    import pandas as pd

    out = {}
    real = latency.get("reranker", {})
    rows = []
    if real:
        for key, what in (
            ("single_rerank", "Reranker.rerank, single request (real index; explanations made on access)"),
            ("single_rerank_top1", "  + the top item's explanation read"),
            ("single_rerank_all", "  + every item's explanation made and read"),
        ):
            if key in real:
                rows.append(
                    {
                        "what": what,
                        "p50_ms": real[key]["p50_ms"],
                        "p99_ms": real[key]["p99_ms"],
                        "x_floor": real[key].get("ratio_to_floor"),
                    }
                )
        if "floor_ms" in real:
            rows.append(
                {
                    "what": f"memory-traffic floor: {real['bytes_touched']:,.0f} bytes of candidate personas "
                    f"at {real['floor']['read_bytes_per_s'] / 1e9:.1f} GB/s",
                    "p50_ms": real["floor_ms"],
                    "p99_ms": None,
                    "x_floor": 1.0,
                }
            )
    for name in ("scoring_real", "scoring_synthetic"):
        s = latency.get(name)
        if s:
            rows.append(
                {
                    "what": f"max-over-personas scoring, 20 candidates ({s['table']})",
                    "p50_ms": s["single_request"]["p50_ms"],
                    "p99_ms": s["single_request"]["p99_ms"],
                }
            )
    if llm.get("status") == "run":
        rows.append(
            {
                "what": f"LLM listwise rerank ({llm['model']}, {llm['users']} users)",
                "p50_ms": llm["p50_ms"],
                "p99_ms": llm["p99_ms"],
            }
        )
    out["Table 7: per-request latency (in process, warm)"] = pd.DataFrame(rows)
    batch_rows = []
    for batch, v in (real.get("batched_rank_ids") or {}).items():
        batch_rows.append(
            {
                "what": "Reranker.rank_ids_many (real)",
                "batch": int(batch),
                "ms_per_user": v["ms_per_user"],
                "ms_per_batch": v["ms_per_batch"],
                "x_floor": v.get("ratio_to_floor"),
            }
        )
    for name in ("scoring_real", "scoring_synthetic"):
        for batch, v in (latency.get(name) or {}).get("batched", {}).items():
            batch_rows.append(
                {
                    "what": f"scoring ({latency[name]['table']})",
                    "batch": int(batch),
                    "ms_per_user": v["ms_per_user"],
                    "ms_per_batch": v["ms_per_batch"],
                }
            )
    out["Amortised latency per user by batch size (20 candidates)"] = pd.DataFrame(batch_rows)
    size_rows = []
    for name in ("scoring_real", "scoring_synthetic"):
        for size, v in (latency.get(name) or {}).get("by_candidates", {}).items():
            size_rows.append(
                {"table": latency[name]["table"], "candidates": int(size), "p50_ms": v["p50_ms"], "p99_ms": v["p99_ms"]}
            )
    out["Latency vs candidate-set size (single request)"] = pd.DataFrame(size_rows)
    out.update(retrieval_tables(latency))
    mem = latency.get("memory") or {}
    if mem:
        out["Index memory footprint (multi-persona, primary encoder)"] = pd.DataFrame(
            [
                {
                    "vectors": mem["vectors"],
                    "dim": mem["dim"],
                    "items": mem["items"],
                    "max_personas": mem["max_personas"],
                    "vectors_MB": mem["vectors_bytes"] / 2**20,
                    "padded_tensor_MB": mem["padded_tensor_bytes"] / 2**20,
                    "files_MB": sum(mem["files_bytes"].values()) / 2**20,
                }
            ]
        )
    return {caption: table for caption, table in out.items() if len(table)}


def retrieval_tables(latency: dict) -> dict[str, Any]:
    """The retrieval summary per size (measured, then projected), and the recall/latency curve."""
    import pandas as pd

    summary, curve = [], []
    for n, v in (latency.get("retrieval") or {}).items():
        if "index" not in v:  # a record of an older bench's format
            continue
        summary.append(
            {
                "personas": int(n),
                "index": v["index"],
                "nprobe": (v.get("search_parameter") or {}).get("nprobe"),
                f"recall@{v['k']}": v["recall_at_k"],
                "p50_ms": v["p50_ms"],
                "p99_ms": v["p99_ms"],
                "exhaustive_ms": v["flat_ms_per_query"],
                "build_s": v["build_s"],
                "bytes_per_persona": v["bytes_per_persona"],
                "measured": "yes",
            }
        )
        curve += [{"personas": int(n), **{k: p[k] for k in CURVE_COLUMNS}} for p in v.get("curve", [])]
    for n, v in (latency.get("retrieval_projection") or {}).items():
        summary.append(
            {
                "personas": int(n),
                "index": v["index"],
                "nprobe": v["nprobe"],
                "p50_ms": v["p50_ms"],
                "p99_ms": v["p99_ms"],
                "exhaustive_ms": v["flat_ms_per_query"],
                "build_s": v["build_s"],
                "bytes_per_persona": v["bytes_per_persona"],
                "measured": f"projected from {int(v['from']):,} (formula in latency.json)",
            }
        )
    out = {}
    if summary:
        caption = "Full-catalogue retrieval: the index chosen by size vs exhaustive search (personas sampled from "
        out[caption + "a model fitted to this workspace's, its users as queries, one thread)"] = pd.DataFrame(summary)
    if curve:
        out["Retrieval: recall of items against exact search vs latency, over nprobe"] = pd.DataFrame(curve)
    return out
