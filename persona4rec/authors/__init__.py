"""Interop with the paper authors' artifacts (github.com/legenduck/PERSONA4REC): their files in and out.

    files.py       their artifact files (1_aspects ... 4_selected_personas): read and write, both dialects
    interop.py     their artifacts as a workspace (`import_authors`) and a workspace as them (`export_authors`)
    evaluation.py  their gt/candidate evaluation files, scored exactly as their eval.py does

This package sits above data/, offline/ and evaluation/ (it imports them); nothing below it imports it.
"""
