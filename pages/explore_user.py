"""Explore a user: their history beside their candidates reranked by the persona index, each explained."""

import streamlit as st

from persona4rec.views import charts, explore, match, session
from persona4rec.views.text import md

session.page_setup()
session.require_owner()
st.title("Explore a user")
ws = session.require_workspace()
cat = session.catalogue(ws)
ready = cat.readiness

controls = st.columns(3)
split = controls[0].selectbox("Held-out split", ["test", "valid"], key="explore_split")
generator = controls[1].selectbox(
    "First-stage candidates",
    list(ready.generators) or ["(none built)"],
    key="explore_generator",
    disabled=not ready.generators,
)
candidates = session.candidates(ws, generator, split) if ready.generators else None
users = list(candidates) if candidates is not None else cat.users()
query = controls[2].text_input("Find a user (part of the id)", key="explore_query")
matching = [u for u in users if query.strip().lower() in u.lower()] if query.strip() else users
if not matching:
    st.warning("No user id contains that text.")
    st.stop()
user = st.selectbox(f"User ({len(matching)} of {len(users)})", matching, key="explore_user")
target = cat.held_out(user, split)
st.caption(f"Held-out {split} item: " + (md(f"{cat.title(target)} ({target})") if target else "none"))

history_col, ranked_col = st.columns([2, 3])
with history_col:
    st.subheader("History")
    st.caption(f"Oldest first; the last {explore.HISTORY_LENGTH} (in_profile) make the user vector.")
    st.dataframe(explore.user_history(cat, user, split), hide_index=True, width="stretch")

with ranked_col:
    st.subheader("Candidates reranked by the persona index")
    if not ready.personas:
        session.say_missing(ws, "personas", "Reranking")
        st.stop()
    if candidates is None:
        session.say_missing(ws, "candidates", "Reranking")
        st.stop()
    items, scores = candidates.get(user, ([], []))
    ranked = session.reranker(ws, "multi", generator).rerank(user, items, split, scores)
    table = explore.reranked_frame(cat, ranked, target)
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        key="explore_ranked",
        column_config={
            "held_out": st.column_config.CheckboxColumn("held out"),
            "similarity": st.column_config.NumberColumn(format="%.3f"),
        },
    )
    if target in items:
        hit = next(r for r in ranked if r.item_id == target)
        st.caption(f"The held-out item moved from CF rank {hit.cf_rank} to rank {hit.new_rank}.")
    else:
        st.caption(f"The held-out item is not among this user's {len(items)} {md(generator)} candidates.")

if not ranked:
    st.stop()
st.subheader("Why this persona won")
by_id = {r.item_id: r for r in ranked}
chosen_id = st.selectbox(
    "Candidate",
    list(by_id),
    key="explore_candidate",
    format_func=lambda i: f"#{by_id[i].new_rank} {cat.title(i)} ({i})",
)
chosen = by_id[chosen_id]
persona_side, user_side = st.columns(2)
with persona_side:
    st.markdown("**The persona**")
    if chosen.persona is None:
        st.info(f"No persona: this item is scored by its summary ({chosen.fallback}).")
    else:
        st.markdown(f"**{md(chosen.persona.name)}** · similarity {chosen.persona_sim:.3f}")
        st.markdown(f"**Description.** {md(chosen.persona.description)}")
        st.markdown(f"**Preference rationale.** {md(chosen.persona.preference_rationale)}")
    record = cat.personas.get(chosen_id)
    if record is not None:
        st.caption(f"Personas made by {md(record.backend)}")
    scores_frame = explore.persona_scores(cat, chosen)
    if len(scores_frame):
        st.plotly_chart(charts.persona_similarity_chart(scores_frame), key="explore_chart")
with user_side:
    st.markdown("**This user's history nearest to it**")
    if chosen.persona is None or chosen.persona_key is None or chosen.fallback == "no-history":
        st.info("Nothing to compare: the match needs a persona and a user history.")
    else:
        found = session.persona_match(ws, "multi", generator, user, chosen.persona_key, split)
        st.caption(
            f"Each profile item's share of the similarity {found.score:.3f} (the shares add up to it: its "
            "decay weight times its vector's match, over the user vector's length), then the user's own "
            "review sentences and aspects nearest the persona, embedded by the same encoder."
        )
        number = st.column_config.NumberColumn(format="%.3f")
        formats = {"similarity": number, "share": number, "weight": number}
        tabs = st.tabs(["Items", "Review sentences", "Aspects"])
        for tab, entries, key in zip(
            tabs, (found.items, found.sentences, found.aspects), ("items", "sentences", "aspects")
        ):
            with tab:
                if entries:
                    st.dataframe(
                        match.match_frame(entries),
                        hide_index=True,
                        width="stretch",
                        key=f"explore_match_{key}",
                        column_config=formats,
                    )
                else:
                    st.caption("None in this user's profile.")
