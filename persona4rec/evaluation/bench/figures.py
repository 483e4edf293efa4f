"""The bench report's plotly figures: NDCG@10 by reranker, latency against batch size, candidate-set size
and catalogue size."""

from __future__ import annotations

SCORING_RECORDS = ("scoring_real", "scoring_synthetic")


def bench_figures(accuracy_frame, latency: dict) -> dict[str, list]:
    """{"accuracy": [(name, figure)], "latency": [(name, figure)]}, as the report sections take them."""
    import plotly.express as px

    bars = accuracy_frame[accuracy_frame["variant"].isin(["", "multi", "single"])]
    ndcg = px.bar(
        bars,
        x="reranker",
        y="NDCG@10",
        color="generator",
        barmode="group",
        title="NDCG@10 on test: generators and rerankers",
    )
    return {"accuracy": [("ndcg10", ndcg)], "latency": latency_figures(latency)}


def latency_figures(latency: dict) -> list:
    """(name, figure) of the latency section: against batch size, candidate-set size, catalogue size, and
    the recall/latency curve of full-catalogue retrieval."""
    figures = [
        ("latency-vs-batch", _latency_by_batch(latency)),
        ("latency-vs-candidates", _latency_by_candidates(latency)),
    ]
    if latency.get("retrieval"):
        figures.append(("retrieval", _retrieval(latency["retrieval"])))
        figures.append(("retrieval-curve", _retrieval_curve(latency["retrieval"])))
    return figures


def _line(points: dict, value, name: str):
    """One lines+markers trace: x the (stringified int) keys of `points`, y value(record) of each."""
    import plotly.graph_objects as go

    xs, ys = [int(x) for x in points], [value(v) for v in points.values()]
    return go.Scatter(x=xs, y=ys, mode="lines+markers", name=name)


def _latency_by_batch(latency: dict):
    import plotly.graph_objects as go

    figure = go.Figure()
    real = latency.get("reranker", {}).get("batched_rank_ids", {})
    if real:
        figure.add_trace(_line(real, lambda v: v["ms_per_user"], "Reranker.rank_ids_many (real)"))
    for name in SCORING_RECORDS:
        data = (latency.get(name) or {}).get("batched", {})
        if data:
            figure.add_trace(_line(data, lambda v: v["ms_per_user"], f"scoring ({latency[name]['table']})"))
    figure.update_layout(
        title="Amortised latency per user vs batch size (20 candidates)",
        xaxis_type="log",
        yaxis_type="log",
        xaxis_title="users per batch",
        yaxis_title="ms per user",
    )
    return figure


def _latency_by_candidates(latency: dict):
    import plotly.graph_objects as go

    figure = go.Figure()
    for name in SCORING_RECORDS:
        data = (latency.get(name) or {}).get("by_candidates", {})
        for stat in ("p50_ms", "p99_ms"):
            if data:
                figure.add_trace(_line(data, lambda v, stat=stat: v[stat], f"{stat[:3]} {latency[name]['table']}"))
    figure.update_layout(
        title="Single-request latency vs candidate-set size",
        xaxis_title="candidates",
        yaxis_title="ms",
        xaxis_type="log",
    )
    return figure


def _retrieval(retrieval: dict):
    import plotly.graph_objects as go

    figure = go.Figure()
    for key, name in (("flat_ms_per_query", "exhaustive (flat) scan"), ("p50_ms", "chosen index, p50")):
        figure.add_trace(_line(retrieval, lambda v, key=key: v[key], name))
    figure.update_layout(
        title="Full-catalogue retrieval latency per query (one thread)",
        xaxis_type="log",
        yaxis_type="log",
        xaxis_title="persona vectors",
        yaxis_title="ms per query",
    )
    return figure


def _retrieval_curve(retrieval: dict):
    """Recall@k of items against exact search vs p50 latency, one line per catalogue size (over nprobe)."""
    import plotly.graph_objects as go

    figure = go.Figure()
    for n, record in retrieval.items():
        curve = record.get("curve") or []
        figure.add_trace(
            go.Scatter(
                x=[p["p50_ms"] for p in curve],
                y=[p["recall"] for p in curve],
                text=[f"nprobe {p['nprobe']}" for p in curve],
                mode="lines+markers",
                name=f"{int(n):,} personas ({record.get('index')})",
            )
        )
    figure.update_layout(
        title="Retrieval: recall of items against exact search vs latency, over nprobe",
        xaxis_type="log",
        xaxis_title="p50 ms per query",
        yaxis_title="recall@k",
    )
    return figure
