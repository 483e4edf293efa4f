"""Annotate: the pairwise study. Identify, get the next example, judge A vs B on every criterion, submit."""

import time
import uuid

import streamlit as st

from persona4rec.annotation import (
    CHOICES,
    AccessDenied,
    annotator_progress,
    annotator_queue,
    get_assignment,
    identify_annotator,
    list_studies,
    next_assignment,
    redeem_invitation,
    submit_ratings,
)
from persona4rec.annotation.crowd import QUERY_PARAMETER as CROWD_PARAMETER
from persona4rec.annotation.crowd import completion_code_for, crowd_study, identify_worker
from persona4rec.annotation.invitations import QUERY_PARAMETER as INVITE_PARAMETER
from persona4rec.errors import InputError
from persona4rec.views import session
from persona4rec.views.studies import history_frame
from persona4rec.views.text import md

CHOICE_LABELS = {"A": "A", "B": "B", "tie": "Tie"}
NEXT = "next"

session.page_setup()
st.title("Annotate")
db = session.database()
invite = st.query_params.get(INVITE_PARAMETER)
crowd = st.query_params.get(CROWD_PARAMETER)
worker_id = None
if invite is None and crowd is not None:
    # A crowdsourcing link: the platform's worker id says who this is; a bad link shows nothing else.
    try:
        study, worker_id = crowd_study(db, st.query_params.to_dict())
    except AccessDenied as exc:
        st.error(md(str(exc)))
        st.stop()
    me_key = f"annotator:{study.id}"
    if st.session_state.get(me_key) is None and not study.requires_token:
        st.session_state[me_key] = identify_worker(db, study, worker_id)
elif invite is not None:
    # A personal link: it alone says who this is and which study; a bad one shows nothing else.
    try:
        invited = redeem_invitation(db, invite)
    except AccessDenied as exc:
        st.error(md(str(exc)))
        st.stop()
    study = invited.study
    me_key = f"annotator:{study.id}"
    st.session_state[me_key] = invited.annotator
else:
    if session.access() == session.VISITOR:
        st.warning("Open the personal link you were sent to annotate.")
        st.stop()
    studies = {s.id: s for s in list_studies(db)}
    if not studies:
        st.info("There is no study yet. Create one on the Studies and results page.")
        st.stop()
    study_id = st.selectbox("Study", list(studies), key="annotate_study", format_func=lambda i: studies[i].name)
    study = studies[study_id]
    me_key = f"annotator:{study.id}"
    if study.invite_only:
        st.warning("This study is by invitation only: open the personal link you were sent.")
        st.stop()

if st.session_state.get(me_key) is None:
    with st.form("identify"):
        name = st.text_input("Your name", key="annotate_name") if worker_id is None else None
        token = st.text_input("Access token", type="password", key="annotate_token") if study.requires_token else None
        if st.form_submit_button("Start annotating"):
            try:
                st.session_state[me_key] = (
                    identify_annotator(db, study.id, name, token)
                    if worker_id is None
                    else identify_worker(db, study, worker_id, token)
                )
                st.rerun()
            except (AccessDenied, InputError) as exc:
                st.error(md(str(exc)))
    st.stop()

me = st.session_state[me_key]
progress = annotator_progress(db, study.id, me.id)
read_key = f"guidelines_read:{study.id}:{me.id}"
if study.guidelines.strip() and progress.done == 0 and not st.session_state.get(read_key):
    st.subheader("Before you start")
    st.text(study.guidelines)  # the owner's text, shown as text: no markup runs
    if st.button("I have read the guidelines", key="annotate_guidelines_read"):
        st.session_state[read_key] = True
        st.rerun()
    st.stop()
top = st.columns([3, 1])
top[0].caption(f"Annotating as {md(me.name)}: {progress.done} done, {progress.pending} open.")
if invite is None and worker_id is None and top[1].button("Switch annotator", key="annotate_switch"):
    st.session_state[me_key] = None
    st.rerun()
flash = st.session_state.pop("annotate_flash", None)
if flash:
    st.success(flash)

done = [q for q in annotator_queue(db, study.id, me.id) if q.status == "done"]
labels = {NEXT: "the next example"} | {
    q.assignment_id: f"revise #{q.queue_position + 1}: {q.item_title or q.item_id}" for q in done
}
goto_key = f"annotate_goto:{study.id}:{me.id}"
if st.session_state.pop("annotate_back_to_next", False) or st.session_state.get(goto_key) not in labels:
    st.session_state[goto_key] = NEXT
target = st.selectbox("Go to", list(labels), key=goto_key, format_func=labels.get)
view = next_assignment(db, study.id, me.id) if target == NEXT else get_assignment(db, target, me.id)
if view is None:
    st.success("You have finished every example of this study. Thank you! Pick one above to revise it.")
    code = completion_code_for(db, study, me.id)
    if code:
        st.markdown("Your completion code (enter it on the platform that sent you here):")
        st.code(code, language=None)
    st.stop()

st.subheader(f"Example {view.queue_position + 1}: {md(view.item_title or view.item_id)}")
st.caption(
    "The recommended item, after the user's recent history below. The two explanations come from "
    "two systems, in an order drawn for you; judge only what they say."
)
st.dataframe(history_frame(view.history), hide_index=True, width="stretch")
left, right = st.columns(2)
with left, st.container(border=True):
    st.markdown("**Explanation A**")
    st.text(view.explanation_shown_a)
with right, st.container(border=True):
    st.markdown("**Explanation B**")
    st.text(view.explanation_shown_b)

submission_key = f"submission:{view.assignment_id}"
st.session_state.setdefault(submission_key, uuid.uuid4().hex)
shown_key = f"shown_at:{view.assignment_id}"  # when this example appeared: the time spent on it
st.session_state.setdefault(shown_key, time.monotonic())
with st.form(f"rate:{view.assignment_id}"):
    answers = {}
    for criterion in view.criteria:
        previous = view.answers.get(criterion.key)
        answers[criterion.key] = st.radio(
            criterion.name,
            list(CHOICES),
            horizontal=True,
            help=criterion.definition,
            index=list(CHOICES).index(previous) if previous else None,
            format_func=CHOICE_LABELS.get,
            key=f"rate:{view.assignment_id}:{criterion.key}",
        )
    comment = st.text_area("Comment (optional)", value=view.comment, key=f"comment:{view.assignment_id}")
    if st.form_submit_button("Submit" if view.status != "done" else "Submit revision"):
        unanswered = [c.name for c in view.criteria if answers[c.key] is None]
        if unanswered:
            st.error("Please answer every criterion: " + ", ".join(unanswered) + ".")
        else:
            result = submit_ratings(
                db,
                view.assignment_id,
                answers,
                comment,
                st.session_state[submission_key],
                annotator_id=me.id,
                seconds_spent=time.monotonic() - st.session_state.pop(shown_key),
            )
            # A new id for a later revision; a resent click of this one stores nothing twice.
            st.session_state[submission_key] = uuid.uuid4().hex
            st.session_state["annotate_flash"] = {
                "stored": "Saved. Here is the next example.",
                "revised": "Revision saved; the earlier answers are kept in the history.",
                "unchanged": "Nothing changed.",
                "duplicate": "Already saved.",
            }[result.outcome]
            st.session_state["annotate_back_to_next"] = True
            st.rerun()
