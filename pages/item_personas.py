"""Item personas: browse and search items; each item's summary, personas and the aspects behind them."""

import streamlit as st

from persona4rec.views import items, session
from persona4rec.views.text import md

session.page_setup()
session.require_owner()
st.title("Item personas")
ws = session.require_workspace()
cat = session.catalogue(ws)

search, only = st.columns([3, 1])
query = search.text_input("Search items (id, title or category)", key="items_query")
with_personas = only.toggle("Only items with personas", value=cat.readiness.personas, key="items_with_personas")
table = items.item_table(cat, query)
if with_personas:
    table = table[table["personas"] > 0]
st.dataframe(table, hide_index=True, width="stretch", height=260)
if table.empty:
    st.info("No item matches.")
    st.stop()
item_id = st.selectbox(
    "Item", table["item_id"].tolist(), key="items_item", format_func=lambda i: f"{cat.title(i)} ({i})"
)
view = items.item_view(cat, item_id)

st.header(md(view.title))
st.caption(md(" > ".join(view.categories)))
st.subheader("Summary")
if view.summary:
    st.markdown(md(view.summary))
    st.caption(f"From the item's {md(view.summary_source)}; made by {md(view.summary_backend)}")
else:
    session.say_missing(ws, "summaries", "The summary")

st.subheader("Personas")
if not view.personas and cat.readiness.personas:
    st.info("This item has no personas (the offline stages skipped it or have not reached it).")
elif not view.personas:
    session.say_missing(ws, "personas", "This section")
else:
    note = " (no usable review aspects: indexed by its summary only)" if view.summary_only else ""
    st.caption(f"{len(view.personas)} personas made by {md(view.personas_backend)}{md(note)}")
    for n, pv in enumerate(view.personas):
        with st.expander(f"{md(pv.persona.name)} · {md(pv.persona.id)}", expanded=n == 0):
            st.markdown(f"**Description.** {md(pv.persona.description)}")
            st.markdown(f"**Preference rationale.** {md(pv.persona.preference_rationale)}")
            if len(pv.evidence):
                st.caption(f"The {len(pv.evidence)} review(s) and aspects this persona grew from")
                st.dataframe(pv.evidence, hide_index=True, width="stretch")
            else:
                st.caption("No review evidence recorded for this persona.")

st.subheader("Single aggregated persona")
if view.single is None and cat.readiness.personas_single:
    st.info("This item has no single aggregated persona.")
elif view.single is None:
    session.say_missing(ws, "personas_single", "The single-persona view")
else:
    st.markdown(f"**{md(view.single.name)}.** {md(view.single.description)}")
    st.markdown(f"**Preference rationale.** {md(view.single.preference_rationale)}")
    st.caption(f"Made by {md(view.single_backend)}")
