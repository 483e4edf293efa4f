"""Every rating of a study as records, a DataFrame, CSV or JSON (written atomically).

One record per rating row: study, example (id, position, user, item, whether it is an attention check, and
its pair of systems: system_a, system_b), annotator, criterion, the order the two explanations were shown in
(which system was left/"A" and right/"B"), the choice as shown, the system it maps to, the outcome in the
example's terms (system_a / system_b / tie), the comment, the revision number,
the submission id and when it was first stored and last changed (UTC, ISO 8601). JSON holds text as
stored; CSV prefixes a cell that a spreadsheet would run as a formula (=, +, -, @) with an apostrophe.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import aliased

from ..errors import InputError
from ..io import atomic_path
from .db import Database
from .models import Annotator, Assignment, Example, Rating, Study, System

EXPORT_COLUMNS = (
    "study",
    "study_id",
    "criteria_set",
    "example_id",
    "example_position",
    "user_id",
    "item_id",
    "is_check",
    "system_a",
    "system_b",
    "annotator",
    "annotator_id",
    "assignment_id",
    "criterion",
    "shown_left_system",
    "shown_right_system",
    "left_is_a",
    "shown_choice",
    "chosen_system",
    "outcome",
    "comment",
    "revision",
    "submission_id",
    "created_at",
    "updated_at",
)


def _outcome(chosen_system_id: int | None, system_a_id: int) -> str:
    if chosen_system_id is None:
        return "tie"
    return "system_a" if chosen_system_id == system_a_id else "system_b"


def rating_records(db: Database, study: int | str) -> list[dict[str, Any]]:
    """All rating rows of the study (by id or name), ordered by example, annotator and criterion."""
    from .study import get_study

    info = get_study(db, study)
    system_a, system_b, chosen = aliased(System), aliased(System), aliased(System)
    with db.read() as session:
        rows = session.execute(
            select(
                Study.name,
                Study.id,
                Study.criteria_set,
                Example.id,
                Example.position,
                Example.user_id,
                Example.item_id,
                Annotator.name,
                Annotator.id,
                Assignment.id,
                Assignment.left_is_a,
                Rating.criterion,
                Rating.shown_choice,
                Rating.chosen_system_id,
                chosen.name,
                Rating.comment,
                Rating.revision,
                Rating.submission_id,
                Rating.created_at,
                Rating.updated_at,
                Example.system_a_id,
                system_a.name,
                system_b.name,
                Example.is_check,
            )
            .join(Example, Example.id == Rating.example_id)
            .join(Study, Study.id == Example.study_id)
            .join(Assignment, Assignment.id == Rating.assignment_id)
            .join(Annotator, Annotator.id == Rating.annotator_id)
            .join(system_a, system_a.id == Example.system_a_id)
            .join(system_b, system_b.id == Example.system_b_id)
            .outerjoin(chosen, chosen.id == Rating.chosen_system_id)
            .where(Study.id == info.id)
            .order_by(Example.position, Annotator.name, Rating.criterion)
        ).all()
    records = []
    for (
        study_name,
        study_id,
        criteria_set,
        example_id,
        position,
        user_id,
        item_id,
        annotator,
        annotator_id,
        assignment_id,
        left_is_a,
        criterion,
        shown_choice,
        chosen_id,
        chosen_name,
        comment,
        revision,
        submission_id,
        created_at,
        updated_at,
        system_a_id,
        name_a,
        name_b,
        is_check,
    ) in rows:
        records.append(
            {
                "study": study_name,
                "study_id": study_id,
                "criteria_set": criteria_set,
                "example_id": example_id,
                "example_position": position,
                "user_id": user_id,
                "item_id": item_id,
                "is_check": bool(is_check),
                "system_a": name_a,
                "system_b": name_b,
                "annotator": annotator,
                "annotator_id": annotator_id,
                "assignment_id": assignment_id,
                "criterion": criterion,
                "shown_left_system": name_a if left_is_a else name_b,
                "shown_right_system": name_b if left_is_a else name_a,
                "left_is_a": bool(left_is_a),
                "shown_choice": shown_choice,
                "chosen_system": chosen_name or "",
                "outcome": _outcome(chosen_id, system_a_id),
                "comment": comment,
                "revision": revision,
                "submission_id": submission_id,
                "created_at": created_at.isoformat() + "Z",
                "updated_at": updated_at.isoformat() + "Z",
            }
        )
    return records


def ratings_frame(db: Database, study: int | str):
    """rating_records as a pandas DataFrame (columns EXPORT_COLUMNS, also when there are no ratings)."""
    import pandas as pd

    return pd.DataFrame(rating_records(db, study), columns=list(EXPORT_COLUMNS))


# A cell a spreadsheet would evaluate as a formula (CSV injection): = + - @, and tab / carriage return, which
# some spreadsheets skip before looking for one. Such text gets a leading apostrophe in CSV (not in JSON).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
EXPORT_FORMATS = ("csv", "json")


def spreadsheet_safe(value: Any) -> Any:
    """`value` as a CSV cell no spreadsheet runs: text that starts like a formula is prefixed with '."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def ratings_text(db: Database, study: int | str, fmt: str) -> tuple[str, int]:
    """(every rating of the study as CSV or JSON text, the number of ratings): what `study export` writes
    and what the owner's page offers for download. JSON is {"study": {...}, "ratings": [records]}, text as
    stored; CSV neutralises cells that a spreadsheet would run as formulas."""
    import io

    from .study import get_study

    records = rating_records(db, study)
    if fmt == "csv":
        buffer = io.StringIO(newline="")
        writer = csv.DictWriter(buffer, fieldnames=list(EXPORT_COLUMNS))
        writer.writeheader()
        writer.writerows({key: spreadsheet_safe(value) for key, value in r.items()} for r in records)
        return buffer.getvalue(), len(records)
    info = get_study(db, study)
    document = {
        "study": {
            "id": info.id,
            "name": info.name,
            "criteria_set": info.criteria_set,
            "criteria": [c.key for c in info.criteria],
            "system_a": info.system_a,
            "system_b": info.system_b,
            "systems": list(info.systems),
            "check_share": info.check_share,
            "examples": info.examples_per_study,
            "annotators_per_example": info.annotators_per_example,
            "seed": info.seed,
        },
        "ratings": records,
    }
    return json.dumps(document, indent=2, ensure_ascii=False, default=str) + "\n", len(records)


def export_ratings(db: Database, study: int | str, path: str | Path, fmt: str | None = None) -> int:
    """Write every rating of the study to `path` as CSV or JSON (fmt, or from the suffix), atomically;
    returns the number of ratings written (see ratings_text)."""
    path = Path(path)
    fmt = (fmt or path.suffix.lstrip(".")).lower()
    if fmt not in EXPORT_FORMATS:
        raise InputError(
            "export format must be csv or json (give --format or a .csv/.json name)", path=path, field="format"
        )
    text, count = ratings_text(db, study, fmt)
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
    return count


def progress_frame(progress) -> Any:
    """A study's per-annotator progress (study.StudyProgress) as a pandas DataFrame, one row per annotator:
    annotator, assigned, done, pending, ratings, share_of_needed (done / examples x annotators_per_example)."""
    import pandas as pd

    rows = [
        {
            "annotator": a.annotator,
            "annotator_id": a.annotator_id,
            "assigned": a.assigned,
            "done": a.done,
            "pending": a.pending,
            "ratings": a.ratings,
            "share_of_needed": a.done / progress.needed if progress.needed else 0.0,
        }
        for a in progress.annotators
    ]
    return pd.DataFrame(
        rows, columns=["annotator", "annotator_id", "assigned", "done", "pending", "ratings", "share_of_needed"]
    )
