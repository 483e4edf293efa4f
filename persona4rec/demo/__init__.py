"""The synthetic demo catalogue: a dataset with a planted structure, and checks against that truth.

vocabulary.py  the planted vocabulary: categories, their latent reasons to like, review templates
catalogue.py   the deterministic demo dataset built from it, and `build_demo_workspace`
quality.py     how well a workspace's personas line up with the planted reasons (purity vs chance)
study.py       the open study `persona4rec demo` leaves in the study database

It sits above data/ (the catalogue is written through `build_workspace`) and offline/ (quality reads the
persona records), and study.py above annotation/; only the CLI and the pipeline import it.
"""
