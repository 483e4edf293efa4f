"""Plotly figures the pages show. Text from data goes into figures as plain strings (plotly escapes it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .text import chart_text

if TYPE_CHECKING:
    import pandas as pd


def persona_similarity_chart(scores: pd.DataFrame, title: str = ""):
    """Bars of a candidate's per-persona similarity to the user; the winner (arg-max) highlighted."""
    import plotly.graph_objects as go

    colours = ["#d62728" if w else "#1f77b4" for w in scores["winner"]]
    # Label each bar by id and name: two personas may share a name, and plotly merges equal categories.
    labels = [f"{chart_text(i)}: {chart_text(n)}" for i, n in zip(scores["persona_id"], scores["name"])]
    fig = go.Figure(
        go.Bar(
            x=scores["similarity"],
            y=labels,
            orientation="h",
            marker_color=colours,
            text=[f"{s:.3f}" for s in scores["similarity"]],
            textposition="auto",
        )
    )
    fig.update_layout(
        title=title or "Similarity of the user to each persona (red: the winner)",
        xaxis_title="cosine similarity",
        yaxis={"autorange": "reversed"},
        height=120 + 40 * len(scores),
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
    )
    return fig


def metric_chart(table: pd.DataFrame, metric: str):
    import plotly.express as px

    fig = px.bar(table.assign(where=table["where"].map(chart_text)), x="where", y=metric, title=metric)
    fig.update_layout(xaxis_title="", margin={"l": 10, "r": 10, "t": 50, "b": 10})
    return fig


def win_rate_chart(results: pd.DataFrame, system_a: str, system_b: str):
    """Stacked win / tie / loss rates per criterion, with the win rate's confidence interval."""
    import plotly.graph_objects as go

    names = results["name"]
    fig = go.Figure()
    fig.add_bar(
        x=names,
        y=results["win_rate"],
        name=f"{system_a} preferred",
        error_y={
            "type": "data",
            "symmetric": False,
            "array": results["win_ci_high"] - results["win_rate"],
            "arrayminus": results["win_rate"] - results["win_ci_low"],
        },
    )
    fig.add_bar(x=names, y=results["tie_rate"], name="tie")
    fig.add_bar(x=names, y=results["loss_rate"], name=f"{system_b} preferred")
    fig.update_layout(
        barmode="group",
        yaxis={"range": [0, 1], "title": "share of ratings"},
        title="Win / tie / loss per criterion (bars: 95% Wilson interval of the win rate)",
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
    )
    return fig
