"""The bench's report sections (report.md) and the JSON form of its rows and tuning record (metrics.json)."""

from __future__ import annotations

from ...workspace import Workspace


def write_bench_report(ws: Workspace, tables: dict, latency_tabs: dict, metrics: dict, figures: dict, tuning_note: str):
    """Replace the bench's report sections and metrics.json["bench"]; returns the report's path."""
    from ..report import ReportSection, merge_metrics, write_report

    merge_metrics(ws, "bench", None)  # a new bench replaces the previous one, whatever its shape
    captions = list(tables)
    sections = [
        ReportSection(
            key="bench",
            title="Bench: Table 4 (generators x rerankers x K)",
            text="TEST split, leave-one-out. 'paper' = max-over-personas score alone (fusion weight 0); "
            "'fused' = (1-w) persona score + w min-max CF score, w tuned on VALID. gamma tuned on "
            "VALID. p_t: paired t-test, p_wilcoxon: Wilcoxon signed-rank, per-user NDCG@10 vs the "
            "generator.\n\n" + tuning_note,
            tables=[(captions[0], tables[captions[0]])],
            figures=figures["accuracy"],
            metrics=metrics,
        ),
        ReportSection(
            key="bench-segments", title="Bench: Table 5 (segments @10)", tables=[(captions[1], tables[captions[1]])]
        ),
        ReportSection(
            key="bench-ablations",
            title="Bench: Tables 6 and 10, encoders",
            tables=[(c, tables[c]) for c in captions[2:]],
        ),
        ReportSection(
            key="bench-latency",
            title="Bench: latency and scale (Table 7, Figure 4)",
            text=latency_note(metrics["latency"]),
            tables=list(latency_tabs.items()),
            figures=figures["latency"],
        ),
    ]
    return write_report(ws, sections)


def latency_note(latency: dict) -> str:
    """The latency section's paragraph: where it was measured, and how the retrieval vectors were made."""
    text = f"Machine: {latency.get('machine')}. In process, warm; see reports/latency.json."
    retrieval = next((r for r in (latency.get("retrieval") or {}).values() if "fitted_to" in r), None)
    if retrieval:
        fitted = retrieval["fitted_to"]
        text += (
            f" Retrieval: personas sampled from a model fitted to {fitted['personas']:,} persona vectors of "
            f"{fitted['index']} (persona4rec/index/synthetic.py: each synthetic item a smoothed copy of a real "
            "one, same persona count, distance from the mean and within-item spread, new directions drawn from "
            "the real between- and within-item covariances); the workspace's test users as queries, each "
            f"excluding {retrieval['excluded_per_query']} of its 50 nearest items; nprobe tuned on other users' "
            f"valid-split vectors for recall@{retrieval['k']} >= {retrieval['target_recall']}."
        )
    return text


def tuning_text(tuning: dict) -> str:
    """The VALID curves behind each tuned gamma and fusion weight, one line per encoder and generator."""
    lines = []
    for encoder, by_gen in tuning.items():
        for generator, rec in by_gen.items():
            g = rec["gamma"]
            parts = [
                f"gamma {g['best']} (valid NDCG@10 " + ", ".join(f"{k}: {v:.4f}" for k, v in g["ndcg@10"].items()) + ")"
            ]
            for variant, f in rec["fusion"].items():
                parts.append(
                    f"{variant} fusion weight {f['best']} (valid NDCG@10 at w=0 {f['ndcg@10'][0.0]:.4f}, "
                    f"at best {f['ndcg@10'][f['best']]:.4f}, CF {f['cf_ndcg']:.4f})"
                )
            lines.append(f"- {encoder} / {generator}: " + "; ".join(parts))
    return "Tuned on VALID:\n" + "\n".join(lines)


def json_records(frame) -> list[dict]:
    """A frame's rows as dicts, NaN as None (JSON has no NaN)."""
    return [
        {k: (None if isinstance(v, float) and v != v else v) for k, v in row.items()}
        for row in frame.to_dict(orient="records")
    ]


def jsonable(value):
    """Dict keys as strings (the tuning curves are keyed by float), tuples as lists."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value
