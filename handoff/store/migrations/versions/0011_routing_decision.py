"""routing decision: the policy's decision and reason on each handoff; a follow-up held for its agent

Revision ID: 0011_routing_decision
Revises: 0001
Create Date: 2026-12-01 08:20:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_routing_decision"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("handoffs") as batch:
        batch.add_column(sa.Column("decision", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("decision_reason", sa.String(length=32), nullable=True))
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("held_for_id", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("held_until", sa.DateTime(timezone=True), nullable=True))
        batch.create_foreign_key("fk_cases_held_for_id_agents", "agents", ["held_for_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_constraint("fk_cases_held_for_id_agents", type_="foreignkey")
        batch.drop_column("held_until")
        batch.drop_column("held_for_id")
    with op.batch_alter_table("handoffs") as batch:
        batch.drop_column("decision_reason")
        batch.drop_column("decision")
