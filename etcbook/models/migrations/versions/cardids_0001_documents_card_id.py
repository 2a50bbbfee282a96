"""Documents name their card by id (``documents.card_id``): cards of a fleet may share their
last 4 digits, and a driver must see only the originals of their own cards. Filled for every
document whose digits one card has; left empty where several cards share them (such an
original cannot be told apart by its digits: the accounts desk still sees it) and for digits
no card has yet (the card registered later takes it, ``models.cards.create_card``).

Revision ID: cardids_0001
Revises: cards_0001
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "cardids_0001"
down_revision = "pgimport_0001"
branch_labels = None
depends_on = None


DRIVER_POLICY = (
    "CREATE POLICY driver_own ON documents TO etcbook_driver USING ({0}) WITH CHECK ({0})"
)


def _driver_policy(expression: str) -> None:
    """On a ledger whose roles are set up (``admin init``), the drivers' policy on documents."""
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    exists = bind.exec_driver_sql(
        "SELECT 1 FROM pg_policies WHERE tablename = 'documents' AND policyname = 'driver_own'"
        " AND schemaname = current_schema()"
    ).first()
    if exists is not None:
        bind.exec_driver_sql("DROP POLICY driver_own ON documents")
        bind.exec_driver_sql(DRIVER_POLICY.format(expression))


def upgrade() -> None:
    op.add_column("documents", sa.Column("card_id", sa.Integer, nullable=True))
    op.create_index("ix_documents_card_id", "documents", ["card_id"])
    op.get_bind().exec_driver_sql(
        "UPDATE documents SET card_id = (SELECT c.id FROM cards c"
        " WHERE c.last4 = documents.card_last4)"
        " WHERE (SELECT count(*) FROM cards c WHERE c.last4 = documents.card_last4) = 1"
    )
    # By id (as models.roles.CARD_TABLES says): another driver's card may share the digits.
    _driver_policy("card_id = ANY(my_card_ids())")


def downgrade() -> None:
    _driver_policy("card_last4 IN (SELECT last4 FROM cards)")
    op.drop_index("ix_documents_card_id", "documents")
    with op.batch_alter_table("documents") as batch:
        batch.drop_column("card_id")
