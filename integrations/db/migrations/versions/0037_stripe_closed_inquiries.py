"""Stripe disputes closed without a chargeback are inquiries: their kind corrected

Migration 0033 backfilled every Stripe dispute as a chargeback: Stripe has no dispute type,
only the `warning_*` statuses of an inquiry, and the status was never stored (the webhook log
keeps a digest of the body; the history and reason keep Stripe's reason, which an inquiry and
a chargeback share). One thing stored does tell: the state `closed`. Only Stripe's
`warning_closed` (an inquiry closed without becoming a chargeback) fires `close` on a Stripe
dispute (dispute_steps.STRIPE: a chargeback is won or lost, never closed), so a Stripe dispute
`closed` and kind `chargeback` is an inquiry 0033 mislabelled. Kept as a chargeback, the
reconciliation booked the money out when it opened and back when it closed — two lines Stripe
never booked. Each is corrected as a person would (`correct_kind`): kind `inquiry`, a history
row naming this migration (actor `system:migration-0037`, at the dispute's last change; the
version is left alone: no aggregate in memory can hold a stale copy across an upgrade; no
outbox event: nothing happened to the dispute, the store mislabelled it).

What it cannot tell: an open Stripe inquiry recorded before 0033 (still held against refunds
as a chargeback, and booked in the reconciliation) — nothing stored says which it is; ops
correct one with `orderpilot dispute correct-kind` after reading its status in Stripe — and
one Stripe closed before warning_closed fired `close` (it fired `win` then: a real win and a
closed inquiry look alike).

Downgrade: the disputes this migration corrected (its history rows) are chargebacks again and
its history rows are removed; a correction made by a person since stays.

Revision ID: 0037_stripe_closed_inquiries
Revises: 0038_buyer_key_recipient_phones
Create Date: 2026-11-30 00:05:00
"""
import json

from alembic import op
import sqlalchemy as sa


revision = '0037_stripe_closed_inquiries'
down_revision = '0038_buyer_key_recipient_phones'
branch_labels = None
depends_on = None

ACTOR = 'system:migration-0037'
MISLABELLED = "provider = 'stripe' AND state = 'closed' AND kind = 'chargeback'"
PAYLOAD = json.dumps({
    "kind": "inquiry", "kind_before": "chargeback",
    "reason": "closed by Stripe without a chargeback (warning_closed): an inquiry migration "
              "0033 stored as a chargeback"}, ensure_ascii=False)
BY_US = ("SELECT entity_id FROM transition_history WHERE entity = 'dispute' AND "
         "trigger = 'correct_kind' AND actor = :actor")


def upgrade() -> None:
    # a JSON column: PostgreSQL takes the text as JSON only when told (SQLite's CAST to an
    # unknown type name would make it a number)
    postgres = op.get_bind().dialect.name == 'postgresql'
    payload = 'CAST(:payload AS JSON)' if postgres else ':payload'
    op.execute(sa.text(
        "INSERT INTO transition_history (entity, entity_id, order_id, trigger, from_state, "
        "to_state, actor, at, payload) SELECT 'dispute', id, order_id, 'correct_kind', state, "
        f"state, :actor, updated_at, {payload} FROM disputes WHERE {MISLABELLED}").bindparams(
            actor=ACTOR, payload=PAYLOAD))
    op.execute(f"UPDATE disputes SET kind = 'inquiry' WHERE {MISLABELLED}")


def downgrade() -> None:
    op.execute(sa.text(
        f"UPDATE disputes SET kind = 'chargeback' WHERE id IN ({BY_US}) AND "
        "provider = 'stripe' AND state = 'closed' AND kind = 'inquiry'").bindparams(
            actor=ACTOR))
    op.execute(sa.text(
        "DELETE FROM transition_history WHERE entity = 'dispute' AND trigger = 'correct_kind' "
        "AND actor = :actor").bindparams(actor=ACTOR))
