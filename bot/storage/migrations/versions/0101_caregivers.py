"""Caregivers (issue 6): invites, join attempts, names, alert claims, checklist results, card.

Revision ID: 0101
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.storage.models import UTCDateTime

revision = "0101"
down_revision = "0001"
branch_labels = None
depends_on = None


def _person() -> sa.Column[int]:
    return sa.Column(
        "person_id",
        sa.Integer(),
        sa.ForeignKey("people.id", ondelete="CASCADE"),
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "care_invites",
        sa.Column("id", sa.Integer(), primary_key=True),
        _person(),
        sa.Column("code_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("claimed_by", sa.String(64)),
    )
    op.create_index("ix_care_invites_person_id", "care_invites", ["person_id"])
    op.create_index("ix_care_invites_claimed_by", "care_invites", ["claimed_by"])
    op.create_table(
        "care_join_attempts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_care_join_attempts_key", "care_join_attempts", ["key"])
    op.create_table(
        "care_names",
        sa.Column(
            "person_id",
            sa.Integer(),
            sa.ForeignKey("people.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("name", sa.String(64), nullable=False),
    )
    op.create_table(
        "care_claims",
        sa.Column("id", sa.Integer(), primary_key=True),
        _person(),
        sa.Column(
            "plan_id", sa.Integer(), sa.ForeignKey("plans.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("group_key", sa.String(64), nullable=False),
        sa.Column("occurrence_id", sa.Integer(), nullable=False),
        sa.Column("by", sa.String(64), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("plan_id", "group_key", name="uq_care_claim"),
    )
    op.create_index("ix_care_claims_person_id", "care_claims", ["person_id"])
    op.create_index("ix_care_claims_by", "care_claims", ["by"])
    op.create_table(
        "checklist_results",
        sa.Column("id", sa.Integer(), primary_key=True),
        _person(),
        sa.Column("by", sa.String(64), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(24), nullable=False),
        sa.Column("route", sa.String(12), nullable=False),
        sa.Column("cause", sa.String(12), nullable=False),
        sa.Column("signs", sa.JSON(), nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_checklist_results_person_id", "checklist_results", ["person_id"])
    op.create_index("ix_checklist_results_by", "checklist_results", ["by"])
    op.create_table(
        "card_fields",
        sa.Column("id", sa.Integer(), primary_key=True),
        _person(),
        sa.Column("field", sa.String(24), nullable=False),
        sa.Column("value", sa.String(120), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("person_id", "field", name="uq_card_field"),
    )
    op.create_index("ix_card_fields_person_id", "card_fields", ["person_id"])


def downgrade() -> None:
    for table in (
        "card_fields",
        "checklist_results",
        "care_claims",
        "care_names",
        "care_join_attempts",
        "care_invites",
    ):
        op.drop_table(table)
