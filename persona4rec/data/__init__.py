"""Data: loaders for real review datasets into one canonical schema, cleaning, k-core and splitting.

schema.py     the canonical reviews/items/split tables, their dtypes, and `review_key` ("user|item")
loaders/      one module per source format (Amazon 2014/2018/2023, Yelp; any table through a column map;
              RecBole atomic files) into canonical frames
formats.py    which loader reads which files: registry, auto-detection, the typed import config, table preview
reading.py    streaming records out of JSON-lines / Python-literal files, with bad-line accounting
tabular.py    streaming records out of CSV / TSV / Parquet tables (and RecBole's typed TSV), numbered by
              line or row
fields.py     typed access to one record's fields, naming what is missing or mistyped; times and ratings
cleaning.py   markup (an HTML parser), mojibake, Unicode, duplicates, empty reviews; everything done is
              counted; `plain_text`, the one text cleaner
kcore.py      k-core filtering of the interaction graph
split.py      leave-one-out split by time; the paper's history length L; which splits a target may see
importer.py   loaded frames -> a workspace (`build_workspace`), and the stored tables back
tables.py     reviews joined with their split, and items (`load_tables`, `Tables.titles`)
stats.py      what a workspace's data holds: sizes, ratings, coverage, dates, split, cleaning
"""
