"""The demo's open study: so that a stakeholder who runs `make demo` finds the Annotate and results pages
working, the demo leaves one explanation study (multi- vs single-persona, no ratings) in the study
database, built once by the one example builder and kept on later runs."""

from __future__ import annotations

from ..workspace import Workspace

DEMO_EXAMPLES = 10
SYSTEMS = ("multi_persona", "single_persona")


def demo_study_name(ws: Workspace) -> str:
    return f"{ws.name}-open-study"


def ensure_demo_study(ws: Workspace, url: str | None = None):
    """The workspace's demo study in the study database at `url` (default: PERSONA4REC_DB_URL, else
    db/persona4rec.sqlite), created when missing; returns its StudyInfo."""
    from ..annotation.db import open_database
    from ..annotation.examples import build_examples
    from ..annotation.study import create_study, list_studies

    db = open_database(url)
    try:
        name = demo_study_name(ws)
        for study in list_studies(db):
            if study.name == name:
                return study
        examples = build_examples(ws, *SYSTEMS, DEMO_EXAMPLES, seed=0)
        return create_study(db, name, "explanation", *SYSTEMS, examples, annotators_per_example=3, seed=0)
    finally:
        db.dispose()
