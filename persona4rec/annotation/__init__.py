"""The pairwise human-rating study: database models and migrations, study logic, statistics, export.

Typical use from a page or script:

    from persona4rec.annotation import open_database, identify_annotator, next_assignment, submit_ratings
    db = open_database()                      # db/persona4rec.sqlite or PERSONA4REC_DB_URL, migrated
    me = identify_annotator(db, "study-1", "alice", access_token)
    shown = next_assignment(db, "study-1", me.id)
    submit_ratings(db, shown.assignment_id, {"intuitiveness": "A", ...}, comment, submission_id)

Names are imported lazily so that `persona4rec --help` does not pay for SQLAlchemy.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "criteria": (
        "Criterion",
        "CRITERIA_SETS",
        "EXPLANATION_CRITERIA",
        "PERSONA_CRITERIA",
        "CHOICES",
        "criteria_for",
        "criterion_keys",
    ),
    "db": ("Database", "DbConfig", "DEFAULT_URL", "open_database", "resolve_url", "make_engine"),
    "migrate": ("upgrade", "downgrade", "current_revision", "head_revision", "ensure_current"),
    "study": (
        "AccessDenied",
        "ExampleInput",
        "StudyInfo",
        "AnnotatorInfo",
        "AssignmentView",
        "QueueEntry",
        "SubmitResult",
        "AnnotatorProgress",
        "StudyProgress",
        "KNOWN_SYSTEMS",
        "create_study",
        "list_studies",
        "get_study",
        "set_access_token",
        "check_access",
        "identify_annotator",
        "next_assignment",
        "get_assignment",
        "annotator_queue",
        "release_stale_assignments",
        "submit_ratings",
        "rating_history",
        "study_progress",
        "annotator_progress",
        "normalise_choices",
        "left_is_a_for",
    ),
    "stats": (
        "CriterionResult",
        "wilson_interval",
        "sign_test",
        "fleiss_kappa",
        "krippendorff_alpha_nominal",
        "criterion_result",
        "criteria_results",
        "study_results",
        "results_frame",
    ),
    "export": ("EXPORT_COLUMNS", "rating_records", "ratings_frame", "progress_frame", "export_ratings"),
    "examples_io": ("read_examples_jsonl",),
    "workspace_examples": (
        "build_examples",
        "persona_explanation",
        "reranker_explainer",
        "summary_explainer",
        "built_in_explainer",
    ),
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = sorted(_WHERE)


def __getattr__(name: str):
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
