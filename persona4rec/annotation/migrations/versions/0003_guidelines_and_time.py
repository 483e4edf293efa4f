"""Quality control: a study's guidelines for annotators, and the seconds each assignment was on screen
(see persona4rec/annotation/models.py).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("studies") as batch:
        batch.add_column(sa.Column("guidelines", sa.Text(), server_default="", nullable=False))
    with op.batch_alter_table("assignments") as batch:
        batch.add_column(sa.Column("seconds_spent", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("assignments") as batch:
        batch.drop_column("seconds_spent")
    with op.batch_alter_table("studies") as batch:
        batch.drop_column("guidelines")
