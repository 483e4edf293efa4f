"""What the Streamlit app shows, computed by the library: the pages in pages/ only lay these out.

    text        escaping data for display (review text and names are shown as text, never as markup)
    workspaces  finding built workspaces, what each has built, the command that builds what is missing
    catalogue   one workspace's tables and offline records, loaded once
    explore     a user's history and their reranked candidates with the winning personas
    match       why a persona matches a user: the profile items' shares of the score, the nearest sentences
    importing   the New workspace page: previews, uploads, the import and the build's progress
    items       an item's summary, personas and the review aspects each persona grew from
    compare     single- vs multi-persona rankings; the evaluation reports as tables
    studies     the study systems a workspace offers, building its examples (annotation/examples.py), history
    charts      plotly figures
    session     the Streamlit side: cached loaders and the chosen workspace (imports streamlit)

Everything except `session` is plain Python over pandas and the library, so it is tested without Streamlit.
"""
