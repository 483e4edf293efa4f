"""The bench's printed tables (caption -> DataFrame): the accuracy tables cut from the rows (Tables 4, 5,
6, 10, encoders, negatives) and the latency tables from the latency record (Table 7 and the scale tables)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ...metrics import metric_columns


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
        rows.append(
            {
                "what": "Reranker.rerank, single request (real index, with explanations)",
                "p50_ms": real["single_rerank"]["p50_ms"],
                "p99_ms": real["single_rerank"]["p99_ms"],
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
    ret_rows = [
        {
            "personas": int(n),
            "flat_ms_per_query": v["flat_ms_per_query"],
            "hnsw_ms_per_query": v["hnsw_ms_per_query"],
            f"hnsw_recall@{v['k']}": v["recall_at_k"],
            "hnsw_build_s": v["hnsw_build_s"],
            "M": v["m"],
            "efConstruction": v["ef_construction"],
            "efSearch": v["ef_search"],
        }
        for n, v in (latency.get("retrieval") or {}).items()
    ]
    out["Full-catalogue retrieval: flat vs HNSW (random unit vectors, 384-d)"] = pd.DataFrame(ret_rows)
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
