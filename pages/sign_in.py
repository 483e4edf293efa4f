"""Sign in: the only page a visitor sees when the app has an owner secret (PERSONA4REC_ADMIN_TOKEN or an
owner account); annotators never need it, their invitation link opens their Annotate page."""

import streamlit as st

from persona4rec.views import session

session.page_setup()
st.title("Persona4Rec")
st.write("This app is for a study's owner. Annotators: open the personal link you were sent.")
with st.form("sign_in"):
    secret = st.text_input("Owner secret", type="password", key="owner_secret")
    if st.form_submit_button("Sign in"):
        if session.sign_in(secret):
            st.session_state.pop("owner_secret", None)
            st.rerun()
        st.error("That is not an owner's secret.")
