"""The `verification_challenges` rows: one per order, in the caller's transaction (the store of
integrations/verification/ and service/verification.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from integrations.db.rows import Insert
from integrations.db.schema_risk import VerificationChallengeRow
from integrations.db.sql import Sql

CHALLENGES = VerificationChallengeRow.__table__
# What opening writes (the rest is the send's and the decision's); DO NOTHING: one per order
OPENED = Insert(CHALLENGES, but=("sent_at", "send_failed_at", "outcome", "decided_at"),
                key=("order_id",))


@dataclass(frozen=True, slots=True)
class ChallengeRow:
    order_id: int
    code_hash: str
    attempts: int
    expires_at: datetime
    sent_at: datetime | None
    outcome: str | None


class ChallengeStore:
    def __init__(self, connection: Connection):
        self.sql = Sql(connection)

    def open(self, order_id: int, code_hash: str, now: datetime, expires_at: datetime) -> bool:
        """A new challenge for the order; False when it already has one (sent once only)."""
        row = {"order_id": order_id, "code_hash": code_hash, "attempts": 0, "created_at": now,
               "expires_at": expires_at}
        return OPENED.write_row(self.sql, row) == 1

    def get(self, order_id: int, lock: bool = False) -> ChallengeRow | None:
        suffix = " FOR UPDATE" if lock and not self.sql.sqlite else ""
        row = self.sql.one("SELECT order_id, code_hash, attempts, expires_at, sent_at, outcome "
                           f"FROM verification_challenges WHERE order_id = :o{suffix}",
                           {"o": order_id})
        if row is None:
            return None
        return ChallengeRow(row[0], row[1], row[2], self.sql.when(row[3]),
                            self.sql.when(row[4]), row[5])

    def mark_sent(self, order_id: int, ok: bool, at: datetime) -> None:
        column = "sent_at" if ok else "send_failed_at"
        self.sql.run(f"UPDATE verification_challenges SET {column} = :at WHERE order_id = :o",
                     {"at": at, "o": order_id})

    def count_attempt(self, order_id: int) -> None:
        self.sql.run("UPDATE verification_challenges SET attempts = attempts + 1 "
                     "WHERE order_id = :o", {"o": order_id})

    def decide(self, order_id: int, outcome: str, at: datetime) -> None:
        self.sql.run("UPDATE verification_challenges SET outcome = :v, decided_at = :at "
                     "WHERE order_id = :o AND outcome IS NULL",
                     {"v": outcome, "at": at, "o": order_id})
