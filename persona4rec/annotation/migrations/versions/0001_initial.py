"""The initial study schema: systems, studies, examples, annotators, assignments, ratings, rating history,
submissions (see persona4rec/annotation/models.py for what each column means).

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "annotators",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_annotators")),
        sa.UniqueConstraint("name", name=op.f("uq_annotators_name")),
    )
    op.create_table(
        "systems",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_systems")),
        sa.UniqueConstraint("name", name=op.f("uq_systems_name")),
    )
    op.create_table(
        "studies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("criteria_set", sa.String(length=20), nullable=False),
        sa.Column("system_a_id", sa.Integer(), nullable=False),
        sa.Column("system_b_id", sa.Integer(), nullable=False),
        sa.Column("examples_per_study", sa.Integer(), nullable=False),
        sa.Column("annotators_per_example", sa.Integer(), nullable=False),
        sa.Column("access_token_hash", sa.String(length=64), nullable=True),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("criteria_set IN ('explanation', 'persona')", name=op.f("ck_studies_criteria_set")),
        sa.CheckConstraint("annotators_per_example >= 1", name=op.f("ck_studies_annotators_per_example")),
        sa.CheckConstraint("system_a_id <> system_b_id", name=op.f("ck_studies_distinct_systems")),
        sa.ForeignKeyConstraint(["system_a_id"], ["systems.id"], name=op.f("fk_studies_system_a_id_systems")),
        sa.ForeignKeyConstraint(["system_b_id"], ["systems.id"], name=op.f("fk_studies_system_b_id_systems")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_studies")),
        sa.UniqueConstraint("name", name=op.f("uq_studies_name")),
    )
    op.create_table(
        "examples",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=200), nullable=False),
        sa.Column("item_id", sa.String(length=200), nullable=False),
        sa.Column("item_title", sa.Text(), nullable=False),
        sa.Column("history", sa.JSON(), nullable=False),
        sa.Column("explanation_a", sa.Text(), nullable=False),
        sa.Column("explanation_b", sa.Text(), nullable=False),
        sa.Column("system_a_id", sa.Integer(), nullable=False),
        sa.Column("system_b_id", sa.Integer(), nullable=False),
        sa.Column("workspace", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["study_id"], ["studies.id"], name=op.f("fk_examples_study_id_studies"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["system_a_id"], ["systems.id"], name=op.f("fk_examples_system_a_id_systems")),
        sa.ForeignKeyConstraint(["system_b_id"], ["systems.id"], name=op.f("fk_examples_system_b_id_systems")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_examples")),
        sa.UniqueConstraint("study_id", "position", name=op.f("uq_examples_study_id_position")),
    )
    op.create_index(op.f("ix_examples_study_id"), "examples", ["study_id"])
    op.create_table(
        "assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("example_id", sa.Integer(), nullable=False),
        sa.Column("annotator_id", sa.Integer(), nullable=False),
        sa.Column("queue_position", sa.Integer(), nullable=False),
        sa.Column("left_is_a", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("completed_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'done')", name=op.f("ck_assignments_status")),
        sa.ForeignKeyConstraint(
            ["annotator_id"], ["annotators.id"], name=op.f("fk_assignments_annotator_id_annotators")
        ),
        sa.ForeignKeyConstraint(
            ["example_id"], ["examples.id"], name=op.f("fk_assignments_example_id_examples"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["study_id"], ["studies.id"], name=op.f("fk_assignments_study_id_studies"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignments")),
        sa.UniqueConstraint("example_id", "annotator_id", name=op.f("uq_assignments_example_id_annotator_id")),
        sa.UniqueConstraint(
            "study_id",
            "annotator_id",
            "queue_position",
            name=op.f("uq_assignments_study_id_annotator_id_queue_position"),
        ),
    )
    op.create_index(op.f("ix_assignments_annotator_id"), "assignments", ["annotator_id"])
    op.create_index(op.f("ix_assignments_example_id"), "assignments", ["example_id"])
    op.create_index(op.f("ix_assignments_study_id"), "assignments", ["study_id"])
    op.create_table(
        "ratings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("example_id", sa.Integer(), nullable=False),
        sa.Column("annotator_id", sa.Integer(), nullable=False),
        sa.Column("criterion", sa.String(length=50), nullable=False),
        sa.Column("shown_choice", sa.String(length=3), nullable=False),
        sa.Column("chosen_system_id", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("submission_id", sa.String(length=100), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("shown_choice IN ('A', 'B', 'tie')", name=op.f("ck_ratings_shown_choice")),
        sa.ForeignKeyConstraint(["annotator_id"], ["annotators.id"], name=op.f("fk_ratings_annotator_id_annotators")),
        sa.ForeignKeyConstraint(
            ["assignment_id"], ["assignments.id"], name=op.f("fk_ratings_assignment_id_assignments"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["chosen_system_id"], ["systems.id"], name=op.f("fk_ratings_chosen_system_id_systems")),
        sa.ForeignKeyConstraint(
            ["example_id"], ["examples.id"], name=op.f("fk_ratings_example_id_examples"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ratings")),
        sa.UniqueConstraint(
            "example_id", "annotator_id", "criterion", name=op.f("uq_ratings_example_id_annotator_id_criterion")
        ),
    )
    op.create_index(op.f("ix_ratings_assignment_id"), "ratings", ["assignment_id"])
    op.create_table(
        "submissions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.String(length=100), nullable=False),
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("outcome IN ('stored', 'revised', 'unchanged')", name=op.f("ck_submissions_outcome")),
        sa.ForeignKeyConstraint(
            ["assignment_id"],
            ["assignments.id"],
            name=op.f("fk_submissions_assignment_id_assignments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_submissions")),
        sa.UniqueConstraint("submission_id", name=op.f("uq_submissions_submission_id")),
    )
    op.create_index(op.f("ix_submissions_assignment_id"), "submissions", ["assignment_id"])
    op.create_table(
        "rating_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rating_id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("shown_choice", sa.String(length=3), nullable=False),
        sa.Column("chosen_system_id", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("submission_id", sa.String(length=100), nullable=False),
        sa.Column("valid_from", sa.DateTime(), nullable=False),
        sa.Column("replaced_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["chosen_system_id"], ["systems.id"], name=op.f("fk_rating_history_chosen_system_id_systems")
        ),
        sa.ForeignKeyConstraint(
            ["rating_id"], ["ratings.id"], name=op.f("fk_rating_history_rating_id_ratings"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rating_history")),
    )
    op.create_index(op.f("ix_rating_history_rating_id"), "rating_history", ["rating_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_rating_history_rating_id"), table_name="rating_history")
    op.drop_table("rating_history")
    op.drop_index(op.f("ix_submissions_assignment_id"), table_name="submissions")
    op.drop_table("submissions")
    op.drop_index(op.f("ix_ratings_assignment_id"), table_name="ratings")
    op.drop_table("ratings")
    op.drop_index(op.f("ix_assignments_study_id"), table_name="assignments")
    op.drop_index(op.f("ix_assignments_example_id"), table_name="assignments")
    op.drop_index(op.f("ix_assignments_annotator_id"), table_name="assignments")
    op.drop_table("assignments")
    op.drop_index(op.f("ix_examples_study_id"), table_name="examples")
    op.drop_table("examples")
    op.drop_table("studies")
    op.drop_table("systems")
    op.drop_table("annotators")
