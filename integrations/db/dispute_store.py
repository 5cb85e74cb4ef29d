"""Reads of disputes (they are written by the writer, like every lifecycle aggregate)."""

from __future__ import annotations

from integrations.db import rows
from integrations.db.sql import Sql
from statemachine import ids
from statemachine.dispute import Dispute
from statemachine.errors import NotFound


class DisputeStore:
    def __init__(self, sql: Sql):
        self.sql = sql

    def get(self, number: int) -> Dispute:
        row = self.sql.one(f"{rows.DISPUTES.select} WHERE id = :id", {"id": number})
        if row is None:
            raise NotFound("dispute", ids.DISPUTE(number))
        return rows.DISPUTES.load(self.sql, row)

    def times_made_a_chargeback(self, dispute: Dispute) -> int:
        """How often an inquiry of this dispute became a chargeback (escalate, reopen): each
        time it is unanswered again, its answer a new one. Read by the order's history index."""
        row = self.sql.one(
            "SELECT COUNT(*) FROM transition_history WHERE order_id = :o AND "
            "entity = 'dispute' AND entity_id = :d AND trigger IN ('escalate', 'reopen')",
            {"o": dispute.order_id, "d": dispute.id})
        return int(row[0]) if row else 0

    def by_ref(self, provider: str, ref: str) -> Dispute | None:
        row = self.sql.one(f"{rows.DISPUTES.select} WHERE provider = :p AND provider_ref = :r",
                           {"p": provider, "r": ref})
        return None if row is None else rows.DISPUTES.load(self.sql, row)

    def of_order(self, order_id: int) -> list[Dispute]:
        return [rows.DISPUTES.load(self.sql, r) for r in self.sql.all(
            f"{rows.DISPUTES.select} WHERE order_id = :o ORDER BY id", {"o": order_id})]

    def listed(self, state: str | None = None) -> list[Dispute]:
        where, params = (" WHERE state = :s", {"s": state}) if state else ("", {})
        return [rows.DISPUTES.load(self.sql, r) for r in self.sql.all(
            f"{rows.DISPUTES.select}{where} ORDER BY id", params)]
