"""Running the Streamlit app: launch (the `streamlit run` command line, its URL) and check (an AppTest
driver that opens every page on a workspace, behind `persona4rec app --check`)."""
