"""SQLAlchemy 2 models of the pairwise human-rating study.

Vocabulary. A *study* compares two or more *systems* (e.g. multi- vs single-persona rationales) on one
criteria set; its systems are listed in *study_systems* (system A and system B are the first two). Each
*example* is one recommendation with the explanations of one pair of systems (the example's system A and
B; with more than two systems the pairs are balanced, annotation/design.py). A *check* example is an
attention check with a known answer: its explanation_a is the right one (annotation/checks.py).
An *assignment* puts one example in one annotator's queue; the left/right order it is shown in is drawn
(seeded) when the assignment is made and stored in `left_is_a`. Annotators answer "A" (left), "B" (right)
or "tie" per criterion; each answer is one *rating* row (unique per example x annotator x criterion) that
also records the system it maps back to. A later, different answer updates the row and moves the old value
to *rating_history*. *submissions* remembers every submit's id so a resent (double-clicked) submit is a no-op.
An *invitation* is one annotator's personal link into one study; a study with any is invite-only. An *owner*
account may create studies, invite annotators and read results.

The schema is created only by the migrations in `migrations/versions`; a test checks they match these models.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.sql.expression import false

# Explicit constraint names so migrations (and SQLite batch mode) can refer to them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class System(Base):
    """A way of producing explanations (e.g. "multi_persona", "single_persona", "online_llm")."""

    __tablename__ = "systems"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")


class Study(Base):
    __tablename__ = "studies"
    __table_args__ = (
        CheckConstraint("criteria_set IN ('explanation', 'persona')", name="criteria_set"),
        CheckConstraint("annotators_per_example >= 1", name="annotators_per_example"),
        CheckConstraint("system_a_id <> system_b_id", name="distinct_systems"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    criteria_set: Mapped[str] = mapped_column(String(20))
    system_a_id: Mapped[int] = mapped_column(ForeignKey("systems.id"))
    system_b_id: Mapped[int] = mapped_column(ForeignKey("systems.id"))
    examples_per_study: Mapped[int] = mapped_column(Integer)
    annotators_per_example: Mapped[int] = mapped_column(Integer, default=3)
    # sha256 hex of the study's access token; NULL when the study is open to anyone with a name.
    access_token_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # Set by the first invitation: from then on only a valid personal invitation lets anyone annotate.
    invite_only: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # What annotators read before their first example, written by the owner (shown as text, never markup).
    guidelines: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Attention checks: the share of each annotator's queue that is check examples, and the share of checks
    # an annotator must pass not to be flagged.
    check_share: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    check_pass_mark: Mapped[float] = mapped_column(Float, default=0.75, server_default="0.75")
    # Crowdsourcing: the URL parameter carrying an external worker id (e.g. PROLIFIC_PID), and the code shown
    # to a worker whose queue is done. NULL: the study takes no crowd workers.
    worker_id_param: Mapped[str | None] = mapped_column(String(50), nullable=True)
    completion_code: Mapped[str | None] = mapped_column(String(100), nullable=True)
    seed: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    system_a: Mapped[System] = relationship(foreign_keys=[system_a_id])
    system_b: Mapped[System] = relationship(foreign_keys=[system_b_id])
    examples: Mapped[list[Example]] = relationship(back_populates="study", order_by="Example.position")
    systems: Mapped[list[StudySystem]] = relationship(order_by="StudySystem.position")


class StudySystem(Base):
    """One of a study's compared systems, in the order the owner gave them."""

    __tablename__ = "study_systems"
    __table_args__ = (UniqueConstraint("study_id", "system_id"), UniqueConstraint("study_id", "position"))

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id", ondelete="CASCADE"), index=True)
    system_id: Mapped[int] = mapped_column(ForeignKey("systems.id"))
    position: Mapped[int] = mapped_column(Integer)

    system: Mapped[System] = relationship()


class Example(Base):
    """One recommendation shown to annotators: the user's history and both systems' explanations."""

    __tablename__ = "examples"
    __table_args__ = (UniqueConstraint("study_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # 0-based order within the study
    user_id: Mapped[str] = mapped_column(String(200))
    item_id: Mapped[str] = mapped_column(String(200))
    item_title: Mapped[str] = mapped_column(Text, default="")
    history: Mapped[Any] = mapped_column(JSON)  # list of dicts, stored as given
    explanation_a: Mapped[str] = mapped_column(Text)  # written by the study's system A
    explanation_b: Mapped[str] = mapped_column(Text)  # written by the study's system B
    system_a_id: Mapped[int] = mapped_column(ForeignKey("systems.id"))
    system_b_id: Mapped[int] = mapped_column(ForeignKey("systems.id"))
    workspace: Mapped[str] = mapped_column(String(500), default="")
    # An attention check: explanation_a is the known right answer (system_b is the decoy), and its ratings
    # score the annotator instead of entering the results.
    is_check: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    study: Mapped[Study] = relationship(back_populates="examples")


class Annotator(Base):
    __tablename__ = "annotators"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    # A crowd worker's id as the crowdsourcing platform sent it (the name is "PARAM:id"); NULL otherwise.
    external_id: Mapped[str | None] = mapped_column(String(200), nullable=True)


class Invitation(Base):
    """A personal link into one study for one annotator. Only a salted scrypt hash of its secret is kept;
    the link itself (id and secret) is shown once, when it is made."""

    __tablename__ = "invitations"
    __table_args__ = (UniqueConstraint("study_id", "annotator_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id", ondelete="CASCADE"), index=True)
    annotator_id: Mapped[int] = mapped_column(ForeignKey("annotators.id"))
    secret_hash: Mapped[str] = mapped_column(String(128))  # hex of scrypt(secret, salt)
    salt: Mapped[str] = mapped_column(String(64))  # hex
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class Owner(Base):
    """An owner account (`persona4rec admin create`): creates studies, invites, sees results. Only a salted
    scrypt hash of its secret is kept."""

    __tablename__ = "owners"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(128))
    salt: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Assignment(Base):
    """One example in one annotator's queue, with the left/right order it is shown in."""

    __tablename__ = "assignments"
    __table_args__ = (
        UniqueConstraint("example_id", "annotator_id"),
        UniqueConstraint("study_id", "annotator_id", "queue_position"),
        CheckConstraint("status IN ('pending', 'done')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id", ondelete="CASCADE"), index=True)
    example_id: Mapped[int] = mapped_column(ForeignKey("examples.id", ondelete="CASCADE"), index=True)
    annotator_id: Mapped[int] = mapped_column(ForeignKey("annotators.id"), index=True)
    queue_position: Mapped[int] = mapped_column(Integer)  # 0-based place in this annotator's queue
    # True: system A's explanation is shown on the left and labelled "A"; False: the two are swapped.
    left_is_a: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    completed_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    # Seconds the example was on screen before its submits (summed over revisions); NULL when not measured.
    seconds_spent: Mapped[float | None] = mapped_column(Float, nullable=True)

    example: Mapped[Example] = relationship()
    annotator: Mapped[Annotator] = relationship()


class Rating(Base):
    """One annotator's answer for one example and one criterion (revisions update it in place)."""

    __tablename__ = "ratings"
    __table_args__ = (
        UniqueConstraint("example_id", "annotator_id", "criterion"),
        CheckConstraint("shown_choice IN ('A', 'B', 'tie')", name="shown_choice"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"), index=True)
    example_id: Mapped[int] = mapped_column(ForeignKey("examples.id", ondelete="CASCADE"))
    annotator_id: Mapped[int] = mapped_column(ForeignKey("annotators.id"))
    criterion: Mapped[str] = mapped_column(String(50))
    shown_choice: Mapped[str] = mapped_column(String(3))  # as the annotator saw it: A (left), B (right), tie
    # The system the choice maps back to; NULL for a tie.
    chosen_system_id: Mapped[int | None] = mapped_column(ForeignKey("systems.id"), nullable=True)
    comment: Mapped[str] = mapped_column(Text, default="")
    submission_id: Mapped[str] = mapped_column(String(100))
    revision: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class RatingHistory(Base):
    """The value a rating had before a revision replaced it."""

    __tablename__ = "rating_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    rating_id: Mapped[int] = mapped_column(ForeignKey("ratings.id", ondelete="CASCADE"), index=True)
    revision: Mapped[int] = mapped_column(Integer)  # the revision number the old value had
    shown_choice: Mapped[str] = mapped_column(String(3))
    chosen_system_id: Mapped[int | None] = mapped_column(ForeignKey("systems.id"), nullable=True)
    comment: Mapped[str] = mapped_column(Text, default="")
    submission_id: Mapped[str] = mapped_column(String(100))
    valid_from: Mapped[dt.datetime] = mapped_column(DateTime)  # when the old value was stored
    replaced_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Submission(Base):
    """Every submit's idempotency key: a resent submission id is answered from here and stores nothing."""

    __tablename__ = "submissions"
    __table_args__ = (CheckConstraint("outcome IN ('stored', 'revised', 'unchanged')", name="outcome"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[str] = mapped_column(String(100), unique=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"), index=True)
    outcome: Mapped[str] = mapped_column(String(10))
    received_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
