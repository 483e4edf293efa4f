"""More than two systems per study (study_systems), attention checks (examples.is_check, the study's check
share and pass mark) and crowd workers (the study's worker-id parameter and completion code, the
annotator's external id). See persona4rec/annotation/models.py.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "study_systems",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("system_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["study_id"], ["studies.id"], name="fk_study_systems_study_id_studies", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["system_id"], ["systems.id"], name="fk_study_systems_system_id_systems"),
        sa.PrimaryKeyConstraint("id", name="pk_study_systems"),
        sa.UniqueConstraint("study_id", "system_id", name="uq_study_systems_study_id_system_id"),
        sa.UniqueConstraint("study_id", "position", name="uq_study_systems_study_id_position"),
    )
    op.create_index("ix_study_systems_study_id", "study_systems", ["study_id"])
    # Studies made before this revision compare their system A and system B.
    op.execute(
        "INSERT INTO study_systems (study_id, system_id, position) "
        "SELECT id, system_a_id, 0 FROM studies UNION ALL SELECT id, system_b_id, 1 FROM studies"
    )
    with op.batch_alter_table("studies") as batch:
        batch.add_column(sa.Column("check_share", sa.Float(), server_default="0", nullable=False))
        batch.add_column(sa.Column("check_pass_mark", sa.Float(), server_default="0.75", nullable=False))
        batch.add_column(sa.Column("worker_id_param", sa.String(length=50), nullable=True))
        batch.add_column(sa.Column("completion_code", sa.String(length=100), nullable=True))
    with op.batch_alter_table("examples") as batch:
        batch.add_column(sa.Column("is_check", sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table("annotators") as batch:
        batch.add_column(sa.Column("external_id", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("annotators") as batch:
        batch.drop_column("external_id")
    with op.batch_alter_table("examples") as batch:
        batch.drop_column("is_check")
    with op.batch_alter_table("studies") as batch:
        batch.drop_column("completion_code")
        batch.drop_column("worker_id_param")
        batch.drop_column("check_pass_mark")
        batch.drop_column("check_share")
    op.drop_index("ix_study_systems_study_id", table_name="study_systems")
    op.drop_table("study_systems")
