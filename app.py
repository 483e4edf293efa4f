"""Persona4Rec app: `streamlit run app.py [-- --workspace PATH]` (or PERSONA4REC_WORKSPACE=PATH).

Navigation over the pages in pages/ and the workspace picker; everything else lives in the pages and in
persona4rec.views. Heavy libraries (torch, faiss) load only when a page needs the reranker.
"""

import streamlit as st

from persona4rec.views.session import mark_entry_ran, workspace_picker

st.set_page_config(page_title="Persona4Rec", page_icon="🧭", layout="wide")

PAGES = [
    st.Page("pages/explore_user.py", title="Explore a user", icon="🔎", default=True),
    st.Page("pages/item_personas.py", title="Item personas", icon="🧩"),
    st.Page("pages/single_vs_multi.py", title="Single vs multi-persona", icon="⚖️"),
    st.Page("pages/annotate.py", title="Annotate", icon="✍️"),
    st.Page("pages/studies.py", title="Studies and results", icon="📊"),
]

navigation = st.navigation(PAGES)
workspace_picker()
mark_entry_ran()
navigation.run()
