"""Single vs multi-persona: one user's two rankings side by side; the workspace's evaluation reports."""

import streamlit as st

from persona4rec.views import charts, compare, session
from persona4rec.views.text import md

session.page_setup()
session.require_owner()
st.title("Single vs multi-persona")
ws = session.require_workspace()
cat = session.catalogue(ws)
ready = cat.readiness
one_user, whole = st.tabs(["One user", "Whole workspace"])

with whole:
    overall, segments = compare.metric_tables(ws)
    if overall.empty:
        session.say_missing(ws, "metrics", "The metric tables")
    else:
        st.subheader("Metrics (reports/metrics.json)")
        st.dataframe(overall, hide_index=True, width="stretch", key="compare_metrics")
        metric_names = [c for c in overall.columns if "@" in c]
        if metric_names:
            default = metric_names.index("NDCG@10") if "NDCG@10" in metric_names else 0
            metric = st.selectbox("Plot", metric_names, index=default, key="compare_metric")
            st.plotly_chart(charts.metric_chart(overall, metric), key="compare_metric_chart")
        if not segments.empty:
            st.subheader("Segments (warm/cold users, head/tail items)")
            st.dataframe(segments, hide_index=True, width="stretch")
    report = ws.reports_dir / "report.md"
    if report.is_file():
        st.download_button(
            "Download report.md", report.read_bytes(), file_name=f"{ws.name}-report.md", mime="text/markdown"
        )

with one_user:
    missing = [
        (what, ok)
        for what, ok in (
            ("personas", ready.personas),
            ("personas_single", ready.personas_single),
            ("candidates", bool(ready.generators)),
        )
        if not ok
    ]
    if missing:
        for what, _ in missing:
            session.say_missing(ws, what, "Comparing the two indexes")
    else:
        left, middle, right = st.columns(3)
        split = left.selectbox("Held-out split", ["test", "valid"], key="compare_split")
        generator = middle.selectbox("First-stage candidates", list(ready.generators), key="compare_generator")
        candidates = session.candidates(ws, generator, split)
        user = right.selectbox("User", list(candidates), key="compare_user")
        target = cat.held_out(user, split)
        items, scores = candidates.get(user, ([], []))
        multi = session.reranker(ws, "multi", generator).rerank(user, items, split, scores)
        single = session.reranker(ws, "single", generator).rerank(user, items, split, scores)
        table = compare.side_by_side(cat, multi, single, target)
        st.dataframe(
            table.drop(columns=["multi_explanation", "single_explanation"]),
            hide_index=True,
            width="stretch",
            key="compare_table",
            column_config={"held_out": st.column_config.CheckboxColumn("held out")},
        )
        if len(table):
            item_id = st.selectbox(
                "Explanations for",
                table["item_id"].tolist(),
                key="compare_item",
                format_func=lambda i: f"{cat.title(i)} ({i})",
            )
            row = table[table["item_id"] == item_id].iloc[0]
            a, b = st.columns(2)
            with a:
                st.markdown(f"**Multi-persona** (rank {row['multi_rank']})")
                st.markdown(md(row["multi_explanation"]) or "_no persona_")
            with b:
                st.markdown(f"**Single persona** (rank {row['single_rank']})")
                st.markdown(md(row["single_explanation"]) or "_no persona_")
