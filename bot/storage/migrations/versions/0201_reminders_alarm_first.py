"""Reminders keyed to the alarm date (issue 12): plans laid out lazily, people unreachable.

`plans.laid_until`: occurrences exist up to this moment and are laid out further as time passes
(a refill ladder runs until the refill is confirmed, so it has no end to lay out at once).
`people.unreachable_at`: when the chat service last said this person cannot be reached (they
blocked the bot); their caregivers then get the ladder at once. Cleared when they write again.

Revision ID: 0201
Revises: 0101
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.storage.models import UTCDateTime

revision = "0201"
down_revision = "0101"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("plans") as batch:
        batch.add_column(sa.Column("laid_until", UTCDateTime()))
    op.create_index("ix_plans_status_laid", "plans", ["status", "laid_until"])
    with op.batch_alter_table("people") as batch:
        batch.add_column(sa.Column("unreachable_at", UTCDateTime()))
    # Plans laid out in full by earlier versions: their last occurrence is where laying resumes.
    op.execute(
        "UPDATE plans SET laid_until = (SELECT max(due_at) FROM occurrences"
        " WHERE occurrences.plan_id = plans.id)"
    )


def downgrade() -> None:
    op.drop_index("ix_plans_status_laid", "plans")
    with op.batch_alter_table("people") as batch:
        batch.drop_column("unreachable_at")
    with op.batch_alter_table("plans") as batch:
        batch.drop_column("laid_until")
