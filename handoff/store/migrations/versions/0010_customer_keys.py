"""customer keys: the name words, order numbers and told emails and phones agents find a customer by; re-asks

cases.reask_turns counts the assistant's questions for a fact the customer had already given (reask_rate).

Revision ID: 0010_customer_keys
Revises: 0001
Create Date: 2026-12-01 03:10:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from handoff.store.search_keys import fact_keys, name_keys

revision = "0010_customer_keys"
down_revision = "0001"
branch_labels = None
depends_on = None

BigIntId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
KeyValue = sa.String(length=120).with_variant(sa.String(length=120, collation="C"), "postgresql")


def upgrade() -> None:
    keys = op.create_table(
        "customer_keys",
        sa.Column("id", BigIntId, autoincrement=True, nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", KeyValue, nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("customer_id", "kind", "value", name="uq_customer_keys"),
    )
    op.create_index("ix_customer_keys_lookup", "customer_keys", ["kind", "value", "customer_id"])
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("reask_turns", sa.Integer(), nullable=False, server_default="0"))
    customers = sa.table("customers", sa.column("id", sa.String), sa.column("display_name", sa.String),
                         sa.column("facts", sa.JSON))
    connection = op.get_bind()
    rows: list[dict[str, str]] = []
    for customer_id, name, facts in connection.execute(sa.select(customers.c.id, customers.c.display_name,
                                                                  customers.c.facts)):
        found = {("name", key) for key in name_keys(name)} | fact_keys(facts if isinstance(facts, dict) else {})
        rows.extend({"customer_id": customer_id, "kind": kind, "value": value} for kind, value in sorted(found))
        if len(rows) >= 5000:
            op.bulk_insert(keys, rows)
            rows = []
    if rows:
        op.bulk_insert(keys, rows)


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("reask_turns")
    op.drop_index("ix_customer_keys_lookup", table_name="customer_keys")
    op.drop_table("customer_keys")
