"""The pairwise study: create it, let annotators identify themselves, hand out their queue, store ratings.

Every function takes a `Database` (db.py) and returns plain frozen dataclasses, so a Streamlit page can
call it from any thread and keep the result without a live session. Each write is one transaction
(`BEGIN IMMEDIATE` on SQLite), so concurrent annotators queue rather than fail.

Assignment policy: an annotator's queue grows one example at a time, when they ask for the next one. The
example chosen is one they have not seen that still has fewer than `annotators_per_example` annotators,
preferring the example closest to complete (so finished examples, the ones agreement can be computed on,
accumulate early), ties broken by a per-annotator seeded order. The left/right order of the two
explanations is drawn from (study seed, annotator name, example position) and recorded on the assignment.
A study with attention checks (`check_share` > 0) gives each annotator a check example, in their own
seeded order and without the per-example cap, whenever their queue has fewer checks than that share;
the queue ends when no real example is left for them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import random
import re
import statistics
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..errors import InputError, Persona4RecError
from .criteria import CHOICES, Criterion, criteria_for
from .db import Database
from .models import (
    Annotator,
    Assignment,
    Example,
    Rating,
    RatingHistory,
    Study,
    StudySystem,
    Submission,
    System,
    utcnow,
)

T = TypeVar("T")

# Descriptions recorded for the systems the app offers; any other name is accepted too.
KNOWN_SYSTEMS: dict[str, str] = {
    "multi_persona": "Persona4Rec: the winning persona's rationale from the multi-persona index",
    "single_persona": "one aggregated persona per item (single-persona index)",
    "summary_profile": "a one-profile-per-item summary, no personas",
    "online_llm": "a rationale generated online by the LLM client for this user and item",
}

MAX_NAME_LENGTH = 200


class AccessDenied(Persona4RecError):
    """The study refuses this visitor: a missing or wrong access token, or an invitation that is malformed,
    unknown or revoked (or none, for an invite-only study)."""


# ---------------------------------------------------------------------------------------------- records


@dataclass(frozen=True)
class ExampleInput:
    """One recommendation to be judged: both systems' explanations for the same user and item."""

    user_id: str
    item_id: str
    explanation_a: str  # from the study's system A
    explanation_b: str  # from the study's system B
    history: list[dict[str, Any]] = field(default_factory=list)  # shown as given, e.g. title/rating/text
    item_title: str = ""
    workspace: str = ""
    # This example's pair when the study compares more than two systems (design.balanced_pairs); "" means
    # the study's system A and B.
    system_a: str = ""
    system_b: str = ""
    is_check: bool = False  # an attention check: explanation_a is the right answer (checks.py)


@dataclass(frozen=True)
class StudyInfo:
    id: int
    name: str
    criteria_set: str
    criteria: tuple[Criterion, ...]
    system_a: str
    system_b: str
    examples_per_study: int
    annotators_per_example: int
    seed: int
    requires_token: bool
    created_at: dt.datetime
    invite_only: bool = False  # annotators enter only through personal invitations (invitations.py)
    guidelines: str = ""  # shown to each annotator before their first example
    systems: tuple[str, ...] = ()  # every compared system, system A and B first
    check_share: float = 0.0  # share of each annotator's queue that is attention checks
    check_pass_mark: float = 0.75  # share of checks an annotator must pass not to be flagged
    worker_id_param: str | None = None  # URL parameter with a crowd worker's id (e.g. PROLIFIC_PID)
    completion_code: str | None = None  # shown to a crowd worker whose queue is done


@dataclass(frozen=True)
class AnnotatorInfo:
    id: int
    name: str
    external_id: str | None = None  # a crowd worker's platform id


@dataclass(frozen=True)
class AssignmentView:
    """What the Annotate page shows: systems hidden, explanations already in their left/right order."""

    assignment_id: int
    study_id: int
    annotator_id: int
    example_id: int
    queue_position: int
    status: str  # "pending" or "done"
    user_id: str
    item_id: str
    item_title: str
    history: list[dict[str, Any]]
    workspace: str
    explanation_shown_a: str  # left, labelled "A"
    explanation_shown_b: str  # right, labelled "B"
    criteria: tuple[Criterion, ...]
    answers: dict[str, str]  # criterion key -> "A" | "B" | "tie" as already answered (revisions)
    comment: str


@dataclass(frozen=True)
class QueueEntry:
    assignment_id: int
    queue_position: int
    example_id: int
    item_id: str
    item_title: str
    status: str


@dataclass(frozen=True)
class SubmitResult:
    assignment_id: int
    submission_id: str
    # "stored": first answers; "revised": some answers changed (old values kept in rating_history);
    # "unchanged": same answers as stored; "duplicate": this submission id was already received.
    outcome: str
    changed: tuple[str, ...] = ()


@dataclass(frozen=True)
class AnnotatorProgress:
    annotator_id: int
    annotator: str
    assigned: int
    done: int
    pending: int
    ratings: int
    median_seconds: float | None = None  # per done example, where the time was measured


@dataclass(frozen=True)
class StudyProgress:
    study_id: int
    examples: int
    annotators_per_example: int
    needed: int  # examples x annotators_per_example
    done: int  # finished assignments
    complete_examples: int  # examples with all their annotators done
    annotators: tuple[AnnotatorProgress, ...]


# ---------------------------------------------------------------------------------------------- helpers


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _seeded_unit(*parts: object) -> float:
    """A reproducible number in [0, 1) from the parts (independent of Python's hash randomisation)."""
    digest = hashlib.sha256(":".join(str(p) for p in parts).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def left_is_a_for(seed: int, annotator: str, example_position: int) -> bool:
    """Whether system A's explanation is shown on the left, for this annotator (by name) and example (by
    its position in the study): the same study re-created from the same inputs shows the same orders."""
    return _seeded_unit(seed, "order", annotator, example_position) < 0.5


def _in_write(db: Database, work: Callable[[Session], T], attempts: int = 3) -> T:
    """Run `work` in one write transaction. A unique-constraint race (possible on servers without
    SQLite's write lock) rolls back and re-runs it, and the re-run sees the other writer's rows."""
    for attempt in range(attempts):
        try:
            with db.write() as session:
                return work(session)
        except IntegrityError:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def _clean_name(name: str, what: str) -> str:
    cleaned = " ".join(str(name or "").split())
    if not cleaned:
        raise InputError(f"{what} must not be empty", field=what)
    if len(cleaned) > MAX_NAME_LENGTH:
        raise InputError(f"{what} is longer than {MAX_NAME_LENGTH} characters", field=what)
    return cleaned


def _system(session: Session, name: str, description: str | None) -> System:
    system = session.scalar(select(System).where(System.name == name))
    if system is None:
        system = System(name=name, description=description or KNOWN_SYSTEMS.get(name, ""))
        session.add(system)
        session.flush()
    return system


def _study_info(study: Study) -> StudyInfo:
    return StudyInfo(
        id=study.id,
        name=study.name,
        criteria_set=study.criteria_set,
        criteria=criteria_for(study.criteria_set),
        system_a=study.system_a.name,
        system_b=study.system_b.name,
        examples_per_study=study.examples_per_study,
        annotators_per_example=study.annotators_per_example,
        seed=study.seed,
        requires_token=study.access_token_hash is not None,
        created_at=study.created_at,
        invite_only=bool(study.invite_only),
        guidelines=study.guidelines or "",
        systems=tuple(s.system.name for s in study.systems) or (study.system_a.name, study.system_b.name),
        check_share=float(study.check_share or 0.0),
        check_pass_mark=float(0.75 if study.check_pass_mark is None else study.check_pass_mark),
        worker_id_param=study.worker_id_param,
        completion_code=study.completion_code,
    )


def _load_study(session: Session, study: int | str | StudyInfo) -> Study:
    if isinstance(study, StudyInfo):
        study = study.id
    if isinstance(study, int):
        found = session.get(Study, study)
    else:
        found = session.scalar(select(Study).where(Study.name == study))
    if found is None:
        raise InputError(f"no study {study!r}", field="study")
    return found


def _validate_example(example: ExampleInput, line: int, systems: Sequence[str]) -> ExampleInput:
    for name in ("user_id", "item_id", "explanation_a", "explanation_b"):
        value = getattr(example, name)
        if not isinstance(value, str) or not value.strip():
            raise InputError(f"must be a non-empty string, got {value!r}", line=line, field=name)
    if not isinstance(example.history, list) or not all(isinstance(h, dict) for h in example.history):
        raise InputError("must be a list of objects", line=line, field="history")
    pair = (example.system_a or systems[0], example.system_b or systems[1])
    for name, system in zip(("system_a", "system_b"), pair):
        if system not in systems:
            raise InputError(f"{system!r} is not one of the study's systems", line=line, field=name)
    if pair[0] == pair[1]:
        raise InputError("an example's two systems must differ", line=line, field="system_b")
    return example


def _check_settings(check_share: float, check_pass_mark: float, worker_id_param, completion_code) -> None:
    if not 0.0 <= check_share < 1.0:
        raise InputError("must be at least 0 and below 1", field="check_share")
    if not 0.0 <= check_pass_mark <= 1.0:
        raise InputError("must be between 0 and 1", field="check_pass_mark")
    if worker_id_param is not None and not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,49}", worker_id_param):
        raise InputError(
            "must be a URL parameter name: a letter, then letters, digits or _ (e.g. PROLIFIC_PID)",
            field="worker_id_param",
        )
    if completion_code is not None and not (0 < len(completion_code.strip()) <= 100):
        raise InputError("must be 1 to 100 characters", field="completion_code")


# ---------------------------------------------------------------------------------------------- studies


def create_study(
    db: Database,
    name: str,
    criteria_set: str,
    system_a: str,
    system_b: str,
    examples: Sequence[ExampleInput],
    *,
    annotators_per_example: int = 3,
    seed: int = 0,
    access_token: str | None = None,
    examples_per_study: int | None = None,
    system_descriptions: Mapping[str, str] | None = None,
    guidelines: str = "",
    systems: Sequence[str] | None = None,
    check_share: float = 0.0,
    check_pass_mark: float = 0.75,
    worker_id_param: str | None = None,
    completion_code: str | None = None,
) -> StudyInfo:
    """Create a study over `examples` (a seeded sample of `examples_per_study` of them when fewer are
    wanted). Explanation texts are stored exactly as given. `access_token`, when set, is required from
    every annotator (only its sha256 is stored).

    `systems` lists every compared system when there are more than two (system_a and system_b first; each
    example then names its own pair, see design.paired_examples). `check_share` > 0 adds attention checks
    built from the examples (checks.attention_checks); an annotator passing fewer than `check_pass_mark`
    of theirs is flagged. `worker_id_param` lets crowd workers in by the id the platform puts in the URL,
    and `completion_code` is shown to them when their queue is done."""
    from .checks import DECOY_SYSTEM, attention_checks, checks_needed

    name = _clean_name(name, "name")
    system_a, system_b = _clean_name(system_a, "system_a"), _clean_name(system_b, "system_b")
    compared = [system_a, system_b] + [
        s for s in (_clean_name(x, "systems") for x in systems or ()) if s not in (system_a, system_b)
    ]
    criteria_for(criteria_set)
    if system_a == system_b:
        raise InputError("system A and system B must differ", field="system_b")
    if DECOY_SYSTEM in compared:
        raise InputError(f"{DECOY_SYSTEM!r} is reserved for attention checks", field="systems")
    if annotators_per_example < 1:
        raise InputError("must be at least 1", field="annotators_per_example")
    worker_id_param = worker_id_param.strip() if worker_id_param else None
    completion_code = completion_code.strip() if completion_code else None
    _check_settings(check_share, check_pass_mark, worker_id_param, completion_code)
    chosen = [_validate_example(e, i + 1, compared) for i, e in enumerate(examples)]
    if not chosen:
        raise InputError("a study needs at least one example", field="examples")
    if examples_per_study is not None:
        if examples_per_study < 1:
            raise InputError("must be at least 1", field="examples_per_study")
        if examples_per_study < len(chosen):
            keep = sorted(random.Random(seed).sample(range(len(chosen)), examples_per_study))
            chosen = [chosen[i] for i in keep]
    real = len(chosen)
    if check_share > 0:
        chosen += attention_checks(chosen, checks_needed(real, check_share), seed)
    descriptions = dict(system_descriptions or {})

    def work(session: Session) -> StudyInfo:
        if session.scalar(select(Study.id).where(Study.name == name)) is not None:
            raise InputError(f"a study named {name!r} already exists", field="name")
        ids = {s: _system(session, s, descriptions.get(s)).id for s in compared}
        if check_share > 0:
            ids[DECOY_SYSTEM] = _system(session, DECOY_SYSTEM, None).id
        study = Study(
            name=name,
            criteria_set=criteria_set,
            system_a_id=ids[system_a],
            system_b_id=ids[system_b],
            examples_per_study=real,
            annotators_per_example=annotators_per_example,
            access_token_hash=hash_token(access_token) if access_token else None,
            guidelines=str(guidelines or ""),
            check_share=float(check_share),
            check_pass_mark=float(check_pass_mark),
            worker_id_param=worker_id_param,
            completion_code=completion_code,
            seed=seed,
            created_at=utcnow(),
        )
        session.add(study)
        session.flush()
        session.add_all(StudySystem(study_id=study.id, system_id=ids[s], position=i) for i, s in enumerate(compared))
        session.add_all(
            Example(
                study_id=study.id,
                position=i,
                user_id=e.user_id,
                item_id=e.item_id,
                item_title=e.item_title or "",
                history=list(e.history),
                explanation_a=e.explanation_a,
                explanation_b=e.explanation_b,
                system_a_id=ids[e.system_a or system_a],
                system_b_id=ids[e.system_b or system_b],
                workspace=e.workspace or "",
                is_check=bool(e.is_check),
            )
            for i, e in enumerate(chosen)
        )
        session.flush()
        session.refresh(study)
        return _study_info(study)

    return _in_write(db, work)


def set_access_token(db: Database, study: int | str | StudyInfo, access_token: str | None) -> StudyInfo:
    """Set, change or (with None or "") remove the study's access token."""

    def work(session: Session) -> StudyInfo:
        found = _load_study(session, study)
        found.access_token_hash = hash_token(access_token) if access_token else None
        session.flush()
        return _study_info(found)

    return _in_write(db, work)


def list_studies(db: Database) -> list[StudyInfo]:
    with db.read() as session:
        return [_study_info(s) for s in session.scalars(select(Study).order_by(Study.created_at, Study.id))]


def get_study(db: Database, study: int | str) -> StudyInfo:
    """A study by id or name; InputError when there is none."""
    with db.read() as session:
        return _study_info(_load_study(session, study))


# ---------------------------------------------------------------------------------------------- annotators


def check_access(db: Database, study: int | str | StudyInfo, access_token: str | None) -> None:
    """Raise AccessDenied unless the study is open or `access_token` is its token."""
    with db.read() as session:
        expected = _load_study(session, study).access_token_hash
    if expected is None:
        return
    given = hash_token(access_token) if access_token else ""
    if not hmac.compare_digest(given, expected):
        raise AccessDenied("this study needs its access token; the one given is missing or wrong")


def identify_annotator(
    db: Database, study: int | str | StudyInfo, name: str, access_token: str | None = None
) -> AnnotatorInfo:
    """The annotator called `name` (registered on first use), after checking the study's access token.
    An invite-only study refuses: its annotators are who their personal invitation says."""
    check_access(db, study, access_token)
    with db.read() as session:
        if _load_study(session, study).invite_only:
            raise AccessDenied("this study is by invitation only: open the personal link you were sent")
    name = _clean_name(name, "annotator")

    def work(session: Session) -> AnnotatorInfo:
        annotator = session.scalar(select(Annotator).where(Annotator.name == name))
        if annotator is None:
            annotator = Annotator(name=name, created_at=utcnow())
            session.add(annotator)
            session.flush()
        return AnnotatorInfo(annotator.id, annotator.name)

    return _in_write(db, work)


# ---------------------------------------------------------------------------------------------- queue


def _view(session: Session, assignment: Assignment) -> AssignmentView:
    example = assignment.example
    study = session.get(Study, assignment.study_id)
    ratings = session.scalars(select(Rating).where(Rating.assignment_id == assignment.id)).all()
    shown_a, shown_b = (
        (example.explanation_a, example.explanation_b)
        if assignment.left_is_a
        else (example.explanation_b, example.explanation_a)
    )
    return AssignmentView(
        assignment_id=assignment.id,
        study_id=assignment.study_id,
        annotator_id=assignment.annotator_id,
        example_id=example.id,
        queue_position=assignment.queue_position,
        status=assignment.status,
        user_id=example.user_id,
        item_id=example.item_id,
        item_title=example.item_title,
        history=list(example.history or []),
        workspace=example.workspace,
        explanation_shown_a=shown_a,
        explanation_shown_b=shown_b,
        criteria=criteria_for(study.criteria_set),
        answers={r.criterion: r.shown_choice for r in ratings},
        comment=ratings[0].comment if ratings else "",
    )


def _allocate(session: Session, study: Study, annotator_id: int) -> Assignment | None:
    """A new assignment for the annotator (module docstring: the policy), or None when no real example is
    left for them."""
    taken = (
        select(Assignment.example_id, func.count().label("n"))
        .where(Assignment.study_id == study.id)
        .group_by(Assignment.example_id)
        .subquery()
    )
    mine = select(Assignment.example_id).where(Assignment.study_id == study.id, Assignment.annotator_id == annotator_id)
    unseen = session.execute(
        select(Example.id, Example.position, Example.is_check, func.coalesce(taken.c.n, 0))
        .outerjoin(taken, taken.c.example_id == Example.id)
        .where(Example.study_id == study.id, Example.id.not_in(mine))
    ).all()
    real = [r for r in unseen if not r[2] and r[3] < study.annotators_per_example]
    if not real:
        return None
    name = session.get(Annotator, annotator_id).name
    checks = [r for r in unseen if r[2]]
    if checks and _check_due(session, study, annotator_id):
        example_id, position_in_study = min(checks, key=lambda r: _seeded_unit(study.seed, "check", name, r[1]))[:2]
    else:
        example_id, position_in_study = min(real, key=lambda r: (-r[3], _seeded_unit(study.seed, "queue", name, r[1])))[
            :2
        ]
    # max + 1, not count: released assignments leave gaps in a queue
    position = session.scalar(
        select(func.coalesce(func.max(Assignment.queue_position) + 1, 0)).where(
            Assignment.study_id == study.id, Assignment.annotator_id == annotator_id
        )
    )
    assignment = Assignment(
        study_id=study.id,
        example_id=example_id,
        annotator_id=annotator_id,
        queue_position=position,
        status="pending",
        created_at=utcnow(),
        left_is_a=left_is_a_for(study.seed, name, position_in_study),
    )
    session.add(assignment)
    session.flush()
    return assignment


def _check_due(session: Session, study: Study, annotator_id: int) -> bool:
    """Whether the annotator's next example should be a check: their queue, with it, would otherwise hold
    fewer checks than the study's share (rounded), so checks are spread through the queue."""
    if not study.check_share:
        return False
    total, checks = session.execute(
        select(func.count(Assignment.id), func.coalesce(func.sum(case((Example.is_check, 1), else_=0)), 0))
        .join(Example, Example.id == Assignment.example_id)
        .where(Assignment.study_id == study.id, Assignment.annotator_id == annotator_id)
    ).one()
    return int(checks) < int(study.check_share * (total + 1) + 0.5)


def next_assignment(db: Database, study: int | str | StudyInfo, annotator_id: int) -> AssignmentView | None:
    """The annotator's first unfinished assignment (resuming where they left off), else a newly allocated
    one; None when nothing is left for them in this study. (Streamlit calls this on every rerun: the
    common case, a pending assignment, is answered by a read without taking the write lock.)"""

    def first_pending(session: Session, found: Study) -> Assignment | None:
        if session.get(Annotator, annotator_id) is None:
            raise InputError(f"no annotator with id {annotator_id}", field="annotator")
        return session.scalar(
            select(Assignment)
            .where(
                Assignment.study_id == found.id, Assignment.annotator_id == annotator_id, Assignment.status == "pending"
            )
            .order_by(Assignment.queue_position)
        )

    with db.read() as session:
        pending = first_pending(session, _load_study(session, study))
        if pending is not None:
            return _view(session, pending)

    def work(session: Session) -> AssignmentView | None:
        found = _load_study(session, study)
        assignment = first_pending(session, found) or _allocate(session, found, annotator_id)
        return _view(session, assignment) if assignment else None

    return _in_write(db, work)


def get_assignment(db: Database, assignment_id: int, annotator_id: int | None = None) -> AssignmentView:
    """One assignment as shown (for revisiting a finished one); checks it is the annotator's own."""
    with db.read() as session:
        assignment = session.get(Assignment, assignment_id)
        if assignment is None or (annotator_id is not None and assignment.annotator_id != annotator_id):
            raise InputError(f"no assignment {assignment_id} for this annotator", field="assignment")
        return _view(session, assignment)


def annotator_queue(db: Database, study: int | str | StudyInfo, annotator_id: int) -> list[QueueEntry]:
    """The annotator's queue in order, finished and pending, for resuming and revising."""
    with db.read() as session:
        found = _load_study(session, study)
        rows = session.execute(
            select(
                Assignment.id,
                Assignment.queue_position,
                Example.id,
                Example.item_id,
                Example.item_title,
                Assignment.status,
            )
            .join(Example, Example.id == Assignment.example_id)
            .where(Assignment.study_id == found.id, Assignment.annotator_id == annotator_id)
            .order_by(Assignment.queue_position)
        ).all()
        return [QueueEntry(*row) for row in rows]


def release_stale_assignments(db: Database, study: int | str | StudyInfo, older_than: dt.timedelta) -> int:
    """Give back the slots of pending, never-rated assignments handed out more than `older_than` ago
    (an annotator who took an example and left), so other annotators can get those examples. Returns
    how many were released."""

    def work(session: Session) -> int:
        found = _load_study(session, study)
        cutoff = utcnow() - older_than
        stale = session.scalars(
            select(Assignment).where(
                Assignment.study_id == found.id,
                Assignment.status == "pending",
                Assignment.created_at < cutoff,
                ~select(Rating.id).where(Rating.assignment_id == Assignment.id).exists(),
            )
        ).all()
        for assignment in stale:
            session.delete(assignment)
        return len(stale)

    return _in_write(db, work)


# ---------------------------------------------------------------------------------------------- ratings


def normalise_choices(choices: Mapping[str, str], criteria: Sequence[Criterion]) -> dict[str, str]:
    """Map {criterion key or name: "A" | "B" | "tie" (any case)} to {key: "A" | "B" | "tie"}; every
    criterion must be answered exactly once."""
    by_alias = {alias: c.key for c in criteria for alias in (c.key, c.name.lower())}
    out: dict[str, str] = {}
    for raw_key, raw_value in choices.items():
        key = by_alias.get(str(raw_key).strip().lower())
        if key is None:
            raise InputError(
                f"not a criterion of this study (expected {', '.join(c.key for c in criteria)})", field=str(raw_key)
            )
        value = {"a": "A", "b": "B", "tie": "tie"}.get(str(raw_value).strip().lower())
        if value is None:
            raise InputError(f"answer must be one of {', '.join(CHOICES)}, got {raw_value!r}", field=key)
        if key in out:
            raise InputError("answered twice", field=key)
        out[key] = value
    missing = [c.key for c in criteria if c.key not in out]
    if missing:
        raise InputError(f"no answer for {', '.join(missing)}", field=missing[0])
    return out


def _chosen_system(example: Example, assignment: Assignment, shown: str) -> int | None:
    if shown == "tie":
        return None
    picked_a = (shown == "A") == assignment.left_is_a
    return example.system_a_id if picked_a else example.system_b_id


def submit_ratings(
    db: Database,
    assignment_id: int,
    choices: Mapping[str, str],
    comment: str = "",
    submission_id: str | None = None,
    *,
    annotator_id: int | None = None,
    seconds_spent: float | None = None,
) -> SubmitResult:
    """Store all of an assignment's answers in one transaction.

    Idempotent: a resent `submission_id` (a double-clicked submit) stores nothing and answers "duplicate";
    the same answers under a new id store nothing ("unchanged"). Different answers to an already rated
    assignment update the rating rows, and each old value goes to rating_history ("revised").
    `seconds_spent` (how long the example was on screen before this submit) is added to the assignment's
    time unless the submit is a duplicate.
    """
    submission_id = str(submission_id) if submission_id else uuid.uuid4().hex
    comment = "" if comment is None else str(comment)

    def work(session: Session) -> SubmitResult:
        seen = session.scalar(select(Submission).where(Submission.submission_id == submission_id))
        if seen is not None:
            if seen.assignment_id != assignment_id:
                raise InputError("this submission id belongs to another assignment", field="submission_id")
            return SubmitResult(assignment_id, submission_id, "duplicate")
        assignment = session.get(Assignment, assignment_id)
        if assignment is None or (annotator_id is not None and assignment.annotator_id != annotator_id):
            raise InputError(f"no assignment {assignment_id} for this annotator", field="assignment")
        example = assignment.example
        study = session.get(Study, assignment.study_id)
        answers = normalise_choices(choices, criteria_for(study.criteria_set))
        existing = {
            r.criterion: r for r in session.scalars(select(Rating).where(Rating.assignment_id == assignment.id))
        }
        now = utcnow()
        changed: list[str] = []
        for key, shown in answers.items():
            rating = existing.get(key)
            if rating is None:
                session.add(
                    Rating(
                        assignment_id=assignment.id,
                        example_id=example.id,
                        annotator_id=assignment.annotator_id,
                        criterion=key,
                        shown_choice=shown,
                        chosen_system_id=_chosen_system(example, assignment, shown),
                        comment=comment,
                        submission_id=submission_id,
                        revision=0,
                        created_at=now,
                        updated_at=now,
                    )
                )
                changed.append(key)
            elif rating.shown_choice != shown or rating.comment != comment:
                session.add(
                    RatingHistory(
                        rating_id=rating.id,
                        revision=rating.revision,
                        shown_choice=rating.shown_choice,
                        chosen_system_id=rating.chosen_system_id,
                        comment=rating.comment,
                        submission_id=rating.submission_id,
                        valid_from=rating.updated_at,
                        replaced_at=now,
                    )
                )
                rating.shown_choice = shown
                rating.chosen_system_id = _chosen_system(example, assignment, shown)
                rating.comment = comment
                rating.submission_id = submission_id
                rating.revision += 1
                rating.updated_at = now
                changed.append(key)
        outcome = "unchanged" if not changed else ("stored" if not existing else "revised")
        if assignment.status != "done":
            assignment.status, assignment.completed_at = "done", now
        if seconds_spent is not None and seconds_spent >= 0:
            assignment.seconds_spent = (assignment.seconds_spent or 0.0) + float(seconds_spent)
        session.add(
            Submission(submission_id=submission_id, assignment_id=assignment.id, outcome=outcome, received_at=now)
        )
        session.flush()
        return SubmitResult(assignment.id, submission_id, outcome, tuple(changed))

    return _in_write(db, work)


def rating_history(db: Database, assignment_id: int) -> list[dict[str, Any]]:
    """Every earlier value of the assignment's ratings, oldest first (criterion, revision, choice, times)."""
    with db.read() as session:
        rows = session.execute(
            select(
                Rating.criterion,
                RatingHistory.revision,
                RatingHistory.shown_choice,
                RatingHistory.chosen_system_id,
                RatingHistory.comment,
                RatingHistory.submission_id,
                RatingHistory.valid_from,
                RatingHistory.replaced_at,
            )
            .join(Rating, Rating.id == RatingHistory.rating_id)
            .where(Rating.assignment_id == assignment_id)
            .order_by(RatingHistory.replaced_at, RatingHistory.id)
        ).all()
        return [dict(row._mapping) for row in rows]


# ---------------------------------------------------------------------------------------------- progress


def study_progress(db: Database, study: int | str | StudyInfo) -> StudyProgress:
    """How far the study is: per annotator (assigned, done, pending, rating rows; attention checks included,
    they are the annotator's work) and overall (real examples only: checks are not part of what is needed)."""
    with db.read() as session:
        found = _load_study(session, study)
        n_examples = session.scalar(
            select(func.count()).select_from(Example).where(Example.study_id == found.id, ~Example.is_check)
        )
        per_annotator = session.execute(
            select(
                Annotator.id,
                Annotator.name,
                func.count(Assignment.id),
                func.sum(case((Assignment.status == "done", 1), else_=0)),
            )
            .join(Assignment, Assignment.annotator_id == Annotator.id)
            .where(Assignment.study_id == found.id)
            .group_by(Annotator.id, Annotator.name)
            .order_by(Annotator.name)
        ).all()
        ratings = dict(
            session.execute(
                select(Rating.annotator_id, func.count())
                .join(Example, Example.id == Rating.example_id)
                .where(Example.study_id == found.id)
                .group_by(Rating.annotator_id)
            ).all()
        )
        done_per_example = session.execute(
            select(Assignment.example_id, func.count())
            .join(Example, Example.id == Assignment.example_id)
            .where(Assignment.study_id == found.id, Assignment.status == "done", ~Example.is_check)
            .group_by(Assignment.example_id)
        ).all()
        seconds: dict[int, list[float]] = {}
        for aid, spent in session.execute(
            select(Assignment.annotator_id, Assignment.seconds_spent).where(
                Assignment.study_id == found.id, Assignment.status == "done", Assignment.seconds_spent.is_not(None)
            )
        ):
            seconds.setdefault(aid, []).append(float(spent))
        annotators = tuple(
            AnnotatorProgress(
                aid,
                name,
                assigned,
                int(done or 0),
                assigned - int(done or 0),
                ratings.get(aid, 0),
                statistics.median(seconds[aid]) if aid in seconds else None,
            )
            for aid, name, assigned, done in per_annotator
        )
        return StudyProgress(
            study_id=found.id,
            examples=n_examples,
            annotators_per_example=found.annotators_per_example,
            needed=n_examples * found.annotators_per_example,
            done=sum(n for _, n in done_per_example),
            complete_examples=sum(1 for _, n in done_per_example if n >= found.annotators_per_example),
            annotators=annotators,
        )


def annotator_progress(db: Database, study: int | str | StudyInfo, annotator_id: int) -> AnnotatorProgress:
    for entry in study_progress(db, study).annotators:
        if entry.annotator_id == annotator_id:
            return entry
    with db.read() as session:
        annotator = session.get(Annotator, annotator_id)
        if annotator is None:
            raise InputError(f"no annotator with id {annotator_id}", field="annotator")
        return AnnotatorProgress(annotator.id, annotator.name, 0, 0, 0, 0)
