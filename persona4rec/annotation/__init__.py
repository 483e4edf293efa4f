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

from ..lazy import lazy_exports

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
    "engine": ("DbConfig", "DEFAULT_URL", "resolve_url", "is_sqlite", "make_engine", "write_engine"),
    "db": ("Database", "open_database"),
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
    "export": (
        "EXPORT_COLUMNS",
        "rating_records",
        "ratings_frame",
        "ratings_text",
        "spreadsheet_safe",
        "progress_frame",
        "export_ratings",
    ),
    "examples_io": ("read_examples_jsonl",),
    "owners": ("ADMIN_TOKEN_ENV", "OwnerAccount", "create_owner", "is_owner", "owner_secret_configured"),
    "invitations": (
        "IssuedInvitation",
        "Invited",
        "invite_annotators",
        "redeem_invitation",
        "revoke_invitation",
        "invited_annotators",
        "invitation_url",
    ),
    "examples": (
        "build_examples",
        "built_in_explainer",
        "reranker_explainer",
        "persona_set_explainer",
        "summary_explainer",
    ),
    "history": ("HISTORY_SHOWN", "shown_histories"),
    "online": ("OnlineExplainer", "llm_configured"),
}
__all__, __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
