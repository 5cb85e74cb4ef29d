"""Disputes in and out of the store, on the caller's unit of work."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from integrations.db.sql import Sql
from statemachine.dispute import Dispute, DisputeState
from statemachine.errors import ConcurrentUpdate, NotFound

COLS = ("id, order_id, provider, provider_ref, payment_ref, state, version, amount, currency, "
        "created_at, reason, evidence_due_by, evidence, booked, unbooked")


class DisputeStore:
    def __init__(self, sql: Sql):
        self.sql = sql

    def add(self, values: dict[str, Any]) -> Dispute:
        number = self.sql.insert_id(
            "INSERT INTO disputes (order_id, provider, provider_ref, payment_ref, state, "
            "version, amount, currency, reason, evidence_due_by, evidence, booked, unbooked, "
            "created_at, updated_at) VALUES (:order_id, :provider, :provider_ref, "
            ":payment_ref, 'opened', 1, :amount, :currency, :reason, :evidence_due_by, NULL, "
            "0, 0, :at, :at)", values)
        return self.get(number)

    def get(self, number: int) -> Dispute:
        row = self.sql.one(f"SELECT {COLS} FROM disputes WHERE id = :id", {"id": number})
        if row is None:
            raise NotFound("dispute", f"d-{number}")
        return self._dispute(row)

    def by_ref(self, provider: str, ref: str) -> Dispute | None:
        row = self.sql.one(f"SELECT {COLS} FROM disputes WHERE provider = :p AND "
                           "provider_ref = :r", {"p": provider, "r": ref})
        return None if row is None else self._dispute(row)

    def of_order(self, order_id: int) -> list[Dispute]:
        return [self._dispute(r) for r in self.sql.all(
            f"SELECT {COLS} FROM disputes WHERE order_id = :o ORDER BY id", {"o": order_id})]

    def listed(self, state: str | None = None) -> list[Dispute]:
        where, params = ("WHERE state = :s", {"s": state}) if state else ("", {})
        return [self._dispute(r) for r in self.sql.all(
            f"SELECT {COLS} FROM disputes {where} ORDER BY id", params)]

    def save(self, dispute: Dispute, at: datetime) -> None:
        done = self.sql.run(
            "UPDATE disputes SET state = :state, evidence = :evidence, booked = :booked, "
            "unbooked = :unbooked, version = version + 1, updated_at = :at "
            "WHERE id = :id AND version = :version",
            {"state": dispute.state.value, "evidence": dispute.evidence,
             "booked": dispute.booked, "unbooked": dispute.unbooked, "at": at,
             "id": dispute.id, "version": dispute.version}).rowcount
        if done != 1:
            raise ConcurrentUpdate("dispute", dispute.public_id, dispute.version)
        dispute.version += 1

    def _dispute(self, r: Any) -> Dispute:
        when = self.sql.when
        return Dispute(id=r[0], order_id=r[1], provider=r[2], provider_ref=r[3],
                       payment_ref=r[4], state=DisputeState(r[5]), version=r[6], amount=r[7],
                       currency=r[8], created_at=when(r[9]), reason=r[10],
                       evidence_due_by=when(r[11]), evidence=self.sql.doc(r[12]),
                       booked=r[13], unbooked=r[14])
