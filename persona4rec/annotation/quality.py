"""Per-annotator quality of a study: attention-check score (checks.py) and agreement with the majority.

Agreement with the majority is leave-one-out: for each real example and criterion an annotator rated, the
other annotators' ratings of it must have a strict majority outcome (at least one other rating, no tie
between the top outcomes), and the annotator agrees when their outcome is that majority. Leaving the
annotator out keeps their own vote from counting as agreement (with three annotators, counting it would
give everyone at least 1/3 for free).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from .checks import check_passed


@dataclass(frozen=True)
class AnnotatorQuality:
    annotator_id: int
    annotator: str
    checks_rated: int
    checks_passed: int
    check_score: float  # checks_passed / checks_rated; NaN before any check is rated
    flagged: bool  # check_score below the study's pass mark
    compared: int  # ratings that had a majority of other annotators to compare with
    agreement_with_majority: float  # share of those that agree with it; NaN when none

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def strict_majority(outcomes: Sequence[str]) -> str | None:
    """The most frequent outcome, or None when there is none or the top two are tied."""
    ranked = Counter(outcomes).most_common(2)
    if not ranked or (len(ranked) == 2 and ranked[0][1] == ranked[1][1]):
        return None
    return ranked[0][0]


def annotator_quality(records: Sequence[Mapping[str, Any]], pass_mark: float) -> list[AnnotatorQuality]:
    """Check score, flag and agreement per annotator from a study's rating records (export.rating_records:
    `is_check`, `example_id`, `annotator_id`, `annotator`, `criterion`, `outcome`), by annotator name."""
    names = {r["annotator_id"]: r["annotator"] for r in records}
    votes: dict[tuple[int, int], Counter] = defaultdict(Counter)  # (annotator, check example) -> outcomes
    cells: dict[tuple[int, str], dict[int, str]] = defaultdict(dict)  # (example, criterion) -> annotator: outcome
    for r in records:
        if r["is_check"]:
            votes[(r["annotator_id"], r["example_id"])][r["outcome"]] += 1
        else:
            cells[(r["example_id"], r["criterion"])][r["annotator_id"]] = r["outcome"]
    rated: Counter = Counter()
    passed: Counter = Counter()
    for (annotator, _example), tally in votes.items():
        rated[annotator] += 1
        passed[annotator] += check_passed(tally["system_a"], tally["system_b"])
    compared: Counter = Counter()
    agreed: Counter = Counter()
    for by_annotator in cells.values():
        for annotator, outcome in by_annotator.items():
            others = strict_majority([o for a, o in by_annotator.items() if a != annotator])
            if others is not None:
                compared[annotator] += 1
                agreed[annotator] += outcome == others
    out = []
    for annotator in sorted(names, key=names.get):
        score = passed[annotator] / rated[annotator] if rated[annotator] else math.nan
        out.append(
            AnnotatorQuality(
                annotator_id=annotator,
                annotator=names[annotator],
                checks_rated=rated[annotator],
                checks_passed=passed[annotator],
                check_score=score,
                flagged=bool(rated[annotator]) and score < pass_mark,
                compared=compared[annotator],
                agreement_with_majority=agreed[annotator] / compared[annotator] if compared[annotator] else math.nan,
            )
        )
    return out


def study_quality(db, study) -> list[AnnotatorQuality]:
    """annotator_quality for a study in the database (by id, name or StudyInfo), at its own pass mark."""
    from .export import rating_records
    from .study import get_study

    info = get_study(db, study.id if hasattr(study, "id") else study)
    return annotator_quality(rating_records(db, info.id), info.check_pass_mark)


def flagged_annotators(db, study) -> set[int]:
    return {q.annotator_id for q in study_quality(db, study) if q.flagged}
