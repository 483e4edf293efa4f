"""New workspace (owner only): choose a data file on the server or upload one, check its detected format,
columns and first rows, map the columns, import it, then build it with a progress bar per step."""

import streamlit as st

from persona4rec.errors import Persona4RecError
from persona4rec.pipeline import BuildConfig
from persona4rec.views import importing, session
from persona4rec.views.text import md
from persona4rec.workspace import default_home

session.page_setup()
session.require_owner()
st.title("New workspace")
home = default_home()
st.caption(
    f"A new workspace is created under {md(str(home.resolve()))} ($PERSONA4REC_HOME), where the sidebar's "
    "workspace picker finds it."
)
NONE = "(none)"


def say_error(exc: Exception) -> None:
    st.error(md(str(exc)))


# -- 1. the data file ------------------------------------------------------------------------------
st.subheader("1. The data")
where = st.radio("Where is it?", ["A file on the server", "Upload a file"], key="new_source", horizontal=True)
reviews_path = meta_path = None
folder_name = ""  # a folder's name is the first guess at the workspace's
if where == "A file on the server":
    typed = st.text_input("Path on the server: a reviews file, or a folder to choose from", key="new_path").strip()
    if typed:
        chosen = importing.server_path(typed)
        if chosen.is_dir():
            files = importing.data_files(chosen)
            if not files:
                st.warning("That folder holds no data file (.csv, .tsv, .jsonl, .json, .parquet, .inter; or .gz).")
            else:
                names = [f.name for f in files]
                guess, meta_guess = importing.likely_roles(files)
                reviews_name = st.selectbox(
                    "Reviews (interactions) file", names, index=guess, key=f"new_folder_reviews:{chosen}"
                )
                meta_name = st.selectbox(
                    "Item metadata file (optional)",
                    [NONE, *names],
                    index=0 if meta_guess is None else meta_guess + 1,
                    key=f"new_folder_meta:{chosen}",
                )
                reviews_path = chosen / reviews_name
                folder_name = chosen.name
                meta_path = None if meta_name == NONE else chosen / meta_name
        elif chosen.is_file():
            reviews_path = chosen
            meta_typed = st.text_input("Item metadata file on the server (optional)", key="new_meta_path").strip()
            meta_path = importing.server_path(meta_typed) if meta_typed else None
        else:
            st.error(f"{md(typed)}: no such file or folder on the server.")
else:
    upload = st.file_uploader("Reviews (interactions) file", key="new_upload")
    meta_upload = st.file_uploader("Item metadata file (optional)", key="new_upload_meta")
    try:
        if upload is not None:
            reviews_path = importing.save_upload(upload.name, upload.getvalue(), home)
        if meta_upload is not None:
            meta_path = importing.save_upload(meta_upload.name, meta_upload.getvalue(), home)
    except Persona4RecError as exc:
        say_error(exc)
        reviews_path = None
if reviews_path is None:
    st.info(
        "Choose the reviews file first: CSV, TSV, JSON lines or Parquet (gzip or plain), a RecBole .inter "
        "file, or an Amazon or Yelp dump."
    )
    st.stop()

# -- 2. what it holds -------------------------------------------------------------------------------
st.subheader("2. Format and first rows")
try:
    preview = session.source_preview(reviews_path)
    meta_preview = session.source_preview(meta_path) if meta_path is not None else None
except Persona4RecError as exc:
    say_error(exc)
    st.stop()
st.markdown(f"**Reviews:** {md(str(reviews_path))} · detected format {md(preview.summary())}")
if preview.problem:
    st.caption(md(preview.problem))
st.dataframe(preview.rows_frame(), hide_index=True, width="stretch", key="new_preview")
if meta_preview is not None:
    st.markdown(f"**Item metadata:** {md(str(meta_path))} · {len(meta_preview.columns)} columns")
    st.dataframe(meta_preview.rows_frame(), hide_index=True, width="stretch", key="new_meta_preview")
# Widgets below are keyed by the file: choosing another file starts again from its own suggestions.
shown = f"{reviews_path}|{meta_path}"
formats = importing.format_choices()
default_format = preview.detected if preview.detected in formats else "table"
fmt = st.selectbox("Format", formats, index=formats.index(default_format), key=f"new_format:{shown}")

# -- 3. which column is what -----------------------------------------------------------------------
column_map: dict[str, str] = {}
meta_map: dict[str, str] = {}
time_unit, rating_scale = "auto", ""
if fmt in importing.TABLE_FORMATS:
    st.subheader("3. Columns")
    st.caption("Columns left unmapped are kept in each item's or review's attributes.")
    keys, required = importing.review_keys()
    cells = st.columns(len(keys))
    for cell, key in zip(cells, keys):
        options = ([] if key in required else [NONE]) + preview.columns
        suggested = preview.column_map.get(key)
        # a required key with no column of a usual name starts empty: never a silent wrong guess
        index = options.index(suggested) if suggested in options else (None if key in required else 0)
        label = f"{key}{' *' if key in required else ''}"
        picked = cell.selectbox(
            label, options, index=index, key=f"new_map_{key}:{shown}", placeholder="choose a column"
        )
        column_map[key] = "" if picked in (None, NONE) else picked
    if meta_preview is not None:
        st.markdown("**Item metadata columns**")
        item_keys, item_required = importing.item_keys()
        cells = st.columns(len(item_keys))
        for cell, key in zip(cells, item_keys):
            options = ([] if key in item_required else [NONE]) + meta_preview.columns
            suggested = meta_preview.meta_column_map.get(key)
            index = options.index(suggested) if suggested in options else 0
            picked = cell.selectbox(key, options, index=index, key=f"new_meta_map_{key}:{shown}")
            meta_map[key] = "" if picked == NONE else picked
    units = ["auto", "s", "ms", "iso"]
    left, right = st.columns(2)
    detected_unit = f"; the suggested column reads as {preview.time_unit}" if preview.time_unit else ""
    time_unit = left.selectbox(
        f"Timestamp unit (auto: seconds, milliseconds or ISO 8601, detected per column{detected_unit})",
        units,
        key=f"new_time_unit:{shown}",
    )
    rating_scale = right.text_input("Rating scale LOW,HIGH (empty: any number)", key=f"new_rating_scale:{shown}")

# -- 4. import ---------------------------------------------------------------------------------------
st.subheader("4. Import")
left, middle, right = st.columns([2, 1, 1])
name = left.text_input("Workspace name", value=folder_name or reviews_path.name.split(".")[0], key="new_name")
kcore = middle.number_input("k-core (0: off)", min_value=0, max_value=100, value=5, key="new_kcore")
skip_bad = right.checkbox("Skip bad lines (counted)", key="new_skip_bad")
unmapped = [k for k in importing.review_keys()[1] if fmt in importing.TABLE_FORMATS and not column_map.get(k)]
if unmapped:
    st.warning(f"Choose the column for {', '.join(unmapped)} first (step 3).")
if st.button("Import", type="primary", key="new_import", disabled=bool(unmapped)):
    try:
        target = importing.workspace_target(name, home)
        request = importing.import_request(
            reviews_path,
            meta_path,
            format=fmt,
            column_map=column_map,
            meta_column_map=meta_map,
            time_unit=time_unit,
            rating_scale=rating_scale,
            kcore=int(kcore),
            skip_bad_lines=skip_bad,
        )
        with st.spinner("Importing: reading, cleaning, k-core, leave-one-out split…"):
            ws = importing.import_workspace(request, target)
    except Persona4RecError as exc:
        say_error(exc)
    else:
        st.session_state["new_imported"] = str(ws.root)
        st.session_state.pop("new_build_report", None)

imported = st.session_state.get("new_imported")
if not imported:
    st.stop()
ws = session.workspace_at(imported)
if ws is None:
    st.session_state.pop("new_imported", None)
    st.stop()
st.success(f"Imported {md(ws.name)}.")
st.code(importing.import_summary(ws), language="text")

# -- 5. build --------------------------------------------------------------------------------------
st.subheader("5. Build")
st.caption(
    "Offline personas, first-stage candidates, the encoder, the persona indexes, the serving config and the "
    "metrics: every step resumes and skips what is already done. The LLM backend uses the server that "
    "OPENAI_BASE_URL / the [llm] config names; the extractive one needs none."
)
defaults = BuildConfig()
cells = st.columns(5)
backend = cells[0].selectbox("Offline backend", ["extractive", "llm"], key="new_backend")
generators = cells[1].multiselect(
    "Candidate generators", ["bpr", "lightgcn", "pop"], default=list(defaults.generators), key="new_generators"
)
single = cells[2].checkbox("Single-persona variant", value=defaults.single, key="new_single")
train = cells[3].checkbox("Train the encoder", value=defaults.train, key="new_train")
tune = cells[4].checkbox("Tune on VALID", value=defaults.tune, key="new_tune")
if st.button("Build", type="primary", key="new_build", disabled=not generators):
    bar = st.progress(0.0, text="starting…")
    config = BuildConfig(backend=backend, single=single, generators=tuple(generators), train=train, tune=tune)
    try:
        report, tracker = importing.build_imported(ws.root, config, lambda done, text: bar.progress(done, text=text))
    except Persona4RecError as exc:
        say_error(exc)
    else:
        st.session_state["new_build_report"] = importing.build_report_frame(report)
report_frame = st.session_state.get("new_build_report")
if report_frame is not None:
    st.markdown("**Stage report**")
    st.dataframe(report_frame, hide_index=True, width="stretch", key="new_build_steps")
    st.button(
        "Open it in the picker",
        key="new_open",
        on_click=session.choose_workspace,
        args=(str(ws.root),),
    )
