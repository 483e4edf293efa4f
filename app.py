"""Persona4Rec app: `streamlit run app.py [-- --workspace PATH]` (or PERSONA4REC_WORKSPACE=PATH).

Navigation over the pages in pages/ and the workspace picker; everything else lives in the pages and in
persona4rec.views. Heavy libraries (torch, faiss) load only when a page needs the reranker.
"""

import streamlit as st

from persona4rec.annotation.crowd import QUERY_PARAMETER as CROWD_PARAMETER
from persona4rec.annotation.invitations import QUERY_PARAMETER as INVITE_PARAMETER
from persona4rec.views import session
from persona4rec.views.session import mark_entry_ran, workspace_picker

st.set_page_config(page_title="Persona4Rec", page_icon="🧭", layout="wide")

PAGES = [
    st.Page("pages/explore_user.py", title="Explore a user", icon="🔎", default=True),
    st.Page("pages/item_personas.py", title="Item personas", icon="🧩"),
    st.Page("pages/single_vs_multi.py", title="Single vs multi-persona", icon="⚖️"),
    ANNOTATE := st.Page("pages/annotate.py", title="Annotate", icon="✍️"),
    st.Page("pages/studies.py", title="Studies and results", icon="📊"),
    st.Page("pages/new_workspace.py", title="New workspace", icon="➕"),  # imports and builds: the owner's
]

SIGN_IN = st.Page("pages/sign_in.py", title="Sign in", icon="🔑")

# Who sees what: a personal invitation link (?invite=...) or a crowd link (?crowd=STUDY&PROLIFIC_PID=...)
# opens the Annotate page alone; with an owner secret configured, a visitor sees only the sign-in page; the
# owner, or anyone in open mode, every page.
if INVITE_PARAMETER in st.query_params or CROWD_PARAMETER in st.query_params:
    navigation = st.navigation([ANNOTATE], position="hidden")
elif (who := session.access()) == session.VISITOR:
    navigation = st.navigation([SIGN_IN], position="hidden")
else:
    navigation = st.navigation(PAGES)
    if who == session.OPEN:
        st.sidebar.info(
            "Open mode: no owner secret is set, so anyone who can open this app sees every page, results "
            "included. Set PERSONA4REC_ADMIN_TOKEN or run `persona4rec admin create NAME` to guard it."
        )
    elif st.sidebar.button("Sign out", key="owner_sign_out"):
        session.sign_out()
        st.rerun()
    workspace_picker()
mark_entry_ran()
navigation.run()
