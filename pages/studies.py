"""Studies and results: create a pairwise study of two or more systems from the workspace (attention checks,
crowd workers); per-criterion and per-pair results, the Bradley-Terry ranking, annotator quality and
progress, and every rating as CSV or JSON."""

import streamlit as st

from persona4rec.annotation import (
    CRITERIA_SETS,
    KNOWN_SYSTEMS,
    create_study,
    invite_annotators,
    invited_annotators,
    list_studies,
    ratings_text,
    revoke_invitation,
    study_progress,
)
from persona4rec.annotation.crowd import crowd_url
from persona4rec.annotation.online import OnlineExplainer
from persona4rec.errors import Persona4RecError
from persona4rec.views import charts, session, studies
from persona4rec.views.text import md

session.page_setup()
session.require_owner()
st.title("Studies and results")
db = session.database()
results_tab, create_tab, invite_tab = st.tabs(["Results", "Create a study", "Invite annotators"])

with create_tab:
    ws = session.current_workspace()
    ready = session.catalogue(ws).readiness if ws is not None else None
    if ws is None:
        st.info("Choose or build a workspace first: study examples come from its held-out items and personas.")
    elif not ready.personas:
        session.say_missing(ws, "personas", "Building study examples")
    else:
        criteria_set = st.selectbox(
            "Criteria",
            list(CRITERIA_SETS),
            key="study_criteria",
            format_func={"explanation": "Explanation quality", "persona": "Persona quality"}.get,
        )
        for criterion in CRITERIA_SETS[criteria_set]:
            st.markdown(f"- **{criterion.name}**", help=criterion.definition)
        systems = studies.available_systems(session.catalogue(ws))
        with st.form("create_study"):
            name = st.text_input("Study name", key="study_name")
            chosen_systems = st.multiselect(
                "Systems to compare (two or more; the first two are system A and B)",
                systems,
                default=systems[:2],
                key="study_systems",
                format_func=lambda s: f"{s}: {KNOWN_SYSTEMS[s]}",
            )
            st.caption(
                "Each example is a sampled test user's held-out item (what they chose next), explained by two of "
                "the systems; with more than two, every pair gets the same number of examples. The same seed "
                "gives the same examples as `persona4rec study create --workspace`."
            )
            c1, c2, c3 = st.columns(3)
            n_examples = c1.number_input("Examples", min_value=1, max_value=500, value=20, key="study_examples")
            per_example = c2.number_input(
                "Annotators per example", min_value=1, max_value=20, value=3, key="study_annotators"
            )
            seed = c3.number_input("Seed", min_value=0, value=0, key="study_seed")
            token = st.text_input(
                "Access token (optional; annotators must give it)", type="password", key="study_token"
            )
            guidelines = st.text_area(
                "Guidelines for annotators (optional; shown as plain text before their first example)",
                key="study_guidelines",
            )
            q1, q2 = st.columns(2)
            check_share = q1.slider(
                "Attention checks (share of each queue; an explanation written for another item beside the real one)",
                0.0,
                0.5,
                0.0,
                0.05,
                key="study_check_share",
            )
            pass_mark = q2.slider("Check pass mark", 0.0, 1.0, 0.75, 0.05, key="study_check_pass_mark")
            c4, c5 = st.columns(2)
            worker_param = c4.text_input(
                "Crowd worker id URL parameter (optional, e.g. PROLIFIC_PID)", key="study_worker_param"
            )
            completion_code = c5.text_input(
                "Completion code for crowd workers (optional)", type="password", key="study_completion_code"
            )
            if "online_llm" not in systems:
                st.caption(
                    "online_llm (a rationale written by the LLM at request time) is offered once an LLM "
                    "server is configured (OPENAI_BASE_URL or PERSONA4REC_LLM_BASE_URL)."
                )
            if st.form_submit_button("Create study"):
                try:
                    online = OnlineExplainer(ws) if "online_llm" in chosen_systems else None
                    bar = st.progress(0.0, text="Building examples…")
                    examples = studies.study_examples(
                        ws,
                        chosen_systems,
                        int(n_examples),
                        seed=int(seed),
                        criteria_set=criteria_set,
                        load_reranker=lambda variant: session.reranker(ws, variant),
                        online=online,
                        progress=lambda done, total: bar.progress(done / total, text=f"{done}/{total} examples"),
                    )
                    info = create_study(
                        db,
                        name,
                        criteria_set,
                        chosen_systems[0],
                        chosen_systems[1],
                        examples,
                        systems=chosen_systems,
                        annotators_per_example=int(per_example),
                        seed=int(seed),
                        access_token=token or None,
                        guidelines=guidelines,
                        check_share=float(check_share),
                        check_pass_mark=float(pass_mark),
                        worker_id_param=worker_param.strip() or None,
                        completion_code=completion_code.strip() or None,
                    )
                    st.success(f"Created study {md(info.name)} with {len(examples)} examples.")
                    if info.worker_id_param:
                        st.markdown("Crowd link (the platform fills in each worker's id):")
                        st.code(crowd_url(info, studies.app_base_url(st.context.url)), language=None)
                    if online is not None:
                        st.caption(
                            f"Online rationales by {md(online.name)}; {len(online.failures)} invalid answers skipped."
                        )
                except Persona4RecError as exc:
                    st.error(md(str(exc)))

with results_tab:
    known = {s.id: s for s in list_studies(db)}
    if not known:
        st.info("No study yet: create one in the next tab.")
    else:
        study_id = st.selectbox(
            "Study", list(known), index=len(known) - 1, key="results_study", format_func=lambda i: known[i].name
        )
        info = known[study_id]
        st.caption(
            f"{' vs '.join(md(x) for x in info.systems)} · {info.criteria_set} criteria · "
            f"{info.examples_per_study} examples × {info.annotators_per_example} annotators · seed {info.seed}"
            + (f" · attention checks {info.check_share:.0%} of each queue" if info.check_share else "")
        )
        progress = study_progress(db, study_id)
        st.progress(
            progress.done / progress.needed if progress.needed else 0.0,
            text=f"{progress.done} of {progress.needed} judgements done; "
            f"{progress.complete_examples} of {progress.examples} examples complete",
        )
        if info.worker_id_param:
            st.caption("Crowd link: " + crowd_url(info, studies.app_base_url(st.context.url)))
        without_flagged = st.toggle(
            "Leave out annotators flagged by attention checks", key="results_without_flagged", value=False
        )
        report = studies.study_report(db, study_id, exclude_flagged=without_flagged)
        if report.flagged:
            st.warning(
                f"{report.flagged} annotator(s) flagged: check score below the pass mark "
                f"{info.check_pass_mark:.0%}" + (" (left out below)." if without_flagged else " (included below).")
            )
        numbers = {
            c: st.column_config.NumberColumn(format="%.3f")
            for c in report.criteria.columns
            if report.criteria[c].dtype.kind == "f"
        }
        st.subheader(f"Per criterion: {md(info.system_a)} (A) vs {md(info.system_b)} (B)")
        st.caption(
            "win = A preferred, loss = B preferred; 95% Wilson intervals; sign test (ties dropped) "
            "two-sided p and Holm-corrected p over the criteria"
            + (" and pairs" if len(info.systems) > 2 else "")
            + "; agreement over examples with two or more ratings; attention checks never count."
        )
        st.dataframe(report.criteria, hide_index=True, width="stretch", key="results_table", column_config=numbers)
        if report.criteria["n"].sum() > 0:
            st.plotly_chart(charts.win_rate_chart(report.criteria, info.system_a, info.system_b), key="results_chart")
        if len(info.systems) > 2:
            st.subheader("Every pair")
            st.dataframe(report.pairs, hide_index=True, width="stretch", key="results_pairs", column_config=numbers)
        st.subheader("Ranking (Bradley-Terry)")
        st.caption(
            "Strength on a log-odds scale, mean zero; a tie is half a win each way; 95% bootstrap intervals "
            "over examples."
        )
        st.dataframe(report.ranking, hide_index=True, width="stretch", key="results_ranking")
        st.subheader("Annotators")
        st.caption(
            "Check score: share of attention checks passed. Agreement: share of ratings that match the "
            "majority of the other annotators of the same example and criterion (where they have one)."
        )
        st.dataframe(report.annotators, hide_index=True, width="stretch", key="results_annotators")
        left, right = st.columns(2)
        left.download_button(
            "Ratings as CSV",
            ratings_text(db, study_id, "csv")[0].encode("utf-8"),
            file_name=f"study-{study_id}-ratings.csv",
            mime="text/csv",
        )
        right.download_button(
            "Ratings as JSON",
            ratings_text(db, study_id, "json")[0].encode("utf-8"),
            file_name=f"study-{study_id}-ratings.json",
            mime="application/json",
        )

with invite_tab:
    all_studies = {s.id: s for s in list_studies(db)}
    if not all_studies:
        st.info("Create a study first.")
    else:
        chosen = st.selectbox("Study", list(all_studies), key="invite_study", format_func=lambda i: all_studies[i].name)
        st.caption(
            "Each annotator gets a personal link: it opens only their Annotate page, with no system names and "
            "no results. Only a salted hash of each link is stored, so copy the links now. Inviting someone "
            "again replaces their link; once a study has invitations, nobody can annotate it without one."
        )
        with st.form("invite"):
            names = st.text_input("Annotators (comma-separated)", key="invite_names")
            base_url = st.text_input("App address", value=studies.app_base_url(st.context.url), key="invite_base")
            if st.form_submit_button("Make links"):
                try:
                    issued = invite_annotators(db, chosen, [n for n in names.split(",") if n.strip()])
                    st.code("\n".join(f"{i.annotator} {i.url(base_url)}" for i in issued), language=None)
                except Persona4RecError as exc:
                    st.error(md(str(exc)))
        invited = invited_annotators(db, chosen)
        if invited:
            st.dataframe(
                [{"annotator": name, "link": "revoked" if revoked else "active"} for name, revoked in invited],
                hide_index=True,
            )
            active = [name for name, revoked in invited if not revoked]
            if active:
                who = st.selectbox("Revoke the link of", active, key="invite_revoke_who")
                if st.button("Revoke", key="invite_revoke"):
                    revoke_invitation(db, chosen, who)
                    st.rerun()
