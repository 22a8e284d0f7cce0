"""customer handle: the WhatsApp username of a customer who may hide their number

Revision ID: 0009_customer_handle
Revises: 0001
Create Date: 2026-12-01 03:10:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_customer_handle"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        batch.add_column(sa.Column("handle", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        batch.drop_column("handle")
