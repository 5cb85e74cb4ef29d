"""Payment operations in and out of the store, on the caller's unit of work. What buyers are
owed back — a report over operations, ledger, orders, history and disputes — is money_owed.py."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from integrations.db.rows import Insert
from integrations.db.schema_money import PaymentOperationRow
from integrations.db.sql import Sql
from statemachine import ids
from statemachine.dispute import OPEN_DISPUTE_STATES, DisputeKind
from statemachine.money import (
    CHARGED_BACK_FOR_GOOD,
    REFUNDED_BY_MERCHANT,
    LostChargeback,
    OperationKind,
    OperationStatus,
    PaymentOperation,
    Reserved,
)
from statemachine.ports import RefundLine

OP_COLS = ("id, order_id, kind, status, amount, currency, idem_key, provider, payment_ref, "
           "actor, created_at, lines, purpose, reason, provider_ref, attempts, error")
OPERATIONS = PaymentOperationRow.__table__
OPERATION = Insert(OPERATIONS)  # every column but the id
UNPAYABLE = "o.paid = 0 AND o.state IN ('expired', 'cancelled', 'rejected')"
OPEN_CHECKOUT = "c.kind = 'checkout' AND c.swept_at IS NULL"  # ix_payment_operations_open_...
# also the backfill of migration 0015 (which keeps its own copy, as migrations do)
SWEEP_CHECKOUTS = (
    "UPDATE payment_operations SET swept_at = :at WHERE kind = 'checkout' AND swept_at IS NULL "
    "AND (status = 'failed' OR EXISTS (SELECT 1 FROM orders o WHERE o.id = "
    "payment_operations.order_id AND o.paid > 0) OR provider_ref IS NOT NULL AND EXISTS ("
    "SELECT 1 FROM payment_operations v WHERE v.order_id = payment_operations.order_id AND "
    "v.kind IN ('void', 'refund') AND v.payment_ref = payment_operations.provider_ref))")


def _listed(names: frozenset[str]) -> str:
    """A fixed set of names as an SQL list: ('a', 'b') (our own constants, never input)."""
    return "(" + ", ".join(f"'{n}'" for n in sorted(names)) + ")"


def held_by_disputes(alias: str = "") -> str:
    """SQL: the disputes (`alias`, a table alias or none) that hold their money against
    refunds — open chargebacks, the money the provider took. An open inquiry took none and the
    charge may still be refunded (Stripe refunds a charge under inquiry): it holds nothing
    until `escalate` makes it a chargeback."""
    d = f"{alias}." if alias else ""
    return (f"{d}state IN {OPEN_DISPUTE_STATES!r} AND "
            f"{d}kind = '{DisputeKind.CHARGEBACK.value}'")


# providers whose refunds the merchant makes in their admin (Shopify …), as an SQL list
REFUNDED_IN_ADMIN = _listed(REFUNDED_BY_MERCHANT)


class MoneyStore:
    def __init__(self, sql: Sql):
        self.sql = sql

    def add(self, values: dict[str, Any]) -> PaymentOperation:
        """A new operation, no attempt made: `values` names the columns of payment_operations
        but the id, attempts and error (provider_ref, settled_at, lines, purpose and reason may
        be left out); a column neither named nor defaulted here is refused (ValueError)."""
        row = {"provider_ref": None, "settled_at": None, "swept_at": None, "lines": [],
               "purpose": {},
               "reason": None, **values, "attempts": 0, "error": None}
        number = OPERATION.write_id(self.sql, row)
        found = self.by_id(number)
        assert found is not None
        return found

    def by_key(self, key: str, *, lock: bool = False) -> PaymentOperation | None:
        suffix = " FOR UPDATE" if lock and not self.sql.sqlite else ""
        row = self.sql.one(f"SELECT {OP_COLS} FROM payment_operations WHERE idem_key = :k"
                           + suffix, {"k": key})
        return None if row is None else self._operation(row)

    def by_id(self, number: int) -> PaymentOperation | None:
        row = self.sql.one(f"SELECT {OP_COLS} FROM payment_operations WHERE id = :id",
                           {"id": number})
        return None if row is None else self._operation(row)

    def of_order(self, order_id: int) -> list[PaymentOperation]:
        return [self._operation(r) for r in self.sql.all(
            f"SELECT {OP_COLS} FROM payment_operations WHERE order_id = :o ORDER BY id",
            {"o": order_id})]

    def pending(self, older_than: datetime, limit: int) -> list[str]:
        """Keys of operations still waiting for a call of ours, oldest first (not those the
        merchant makes in the provider's admin: they would fill every batch)."""
        return [r[0] for r in self.sql.all(
            "SELECT idem_key FROM payment_operations WHERE status = 'pending' AND kind <> "
            f"'checkout' AND provider NOT IN {REFUNDED_IN_ADMIN} AND created_at "
            "<= :t ORDER BY created_at, id LIMIT :n", {"t": older_than, "n": limit})]

    def abandoned_checkouts(self, limit: int) -> list[tuple[int, str]]:
        """(order id, payment ref) of payments opened at the provider — a checkout of ours, or
        a payment the order started (authorised, processing) — for orders that can no longer
        be paid (expired, cancelled, rejected; nothing paid), never captured nor released yet (a
        late payment's refund means it was captured).
        Checkouts first, oldest first. Reads the checkouts `sweep_checkouts` has not set
        aside and the orders in ix_orders_unpaid_payment, not the shop's history."""
        # released already, being captured, or captured and refunded (late money): not open
        untouched = ("NOT EXISTS (SELECT 1 FROM payment_operations v WHERE v.order_id = o.id "
                     "AND (v.kind IN ('void', 'refund') OR v.kind = 'capture' AND v.status "
                     "<> 'failed') AND v.payment_ref = {ref})")
        # SQLite has no statistics to tell these partial indexes are the narrow ones
        checkouts, orders = (("INDEXED BY ix_payment_operations_open_checkouts",
                              "INDEXED BY ix_orders_unpaid_payment") if self.sql.sqlite
                             else ("", ""))
        rows = self.sql.all(
            f"SELECT c.order_id, c.provider_ref FROM payment_operations c {checkouts} JOIN "
            f"orders o ON o.id = c.order_id WHERE {OPEN_CHECKOUT} AND c.status = 'succeeded' AND "
            f"c.provider_ref IS NOT NULL AND {UNPAYABLE} AND "
            f"{untouched.format(ref='c.provider_ref')} ORDER BY c.id LIMIT :n", {"n": limit})
        rows += self.sql.all(
            f"SELECT o.id, o.payment_ref FROM orders o {orders} WHERE {UNPAYABLE} AND "
            f"o.payment_ref IS NOT NULL AND {untouched.format(ref='o.payment_ref')} "
            "ORDER BY o.id LIMIT :n",
            {"n": limit})
        return list(dict.fromkeys((int(r[0]), str(r[1])) for r in rows))[:limit]

    def sweep_checkouts(self, at: datetime) -> int:
        """Set aside (swept_at) the checkouts that can never be an abandoned payment again:
        failed, their order paid (paid never goes back to 0), or their payment released or
        refunded (a void or refund stays). A capture alone does not count: it may fail."""
        return int(self.sql.run(SWEEP_CHECKOUTS, {"at": at}).rowcount)

    def settle(self, key: str, status: OperationStatus, at: datetime,
               provider_ref: str | None = None, error: str | None = None,
               amount: int | None = None) -> bool:
        """Pending → succeeded / failed; False if it was settled already (by someone else).
        `amount`: what it settled for, when less than it asked (the rest owed anew)."""
        return self.sql.run(
            "UPDATE payment_operations SET status = :s, settled_at = :at, provider_ref = "
            "COALESCE(:ref, provider_ref), error = :err, amount = COALESCE(:amount, amount) "
            "WHERE idem_key = :k AND status = 'pending'",
            {"s": status.value, "at": at, "ref": provider_ref, "err": error, "k": key,
             "amount": amount}).rowcount == 1

    def ask_less(self, key: str, amount: int, at: datetime, why: str) -> bool:
        """A pending operation now asks `amount`, less than it did: others took the rest over
        (`why`); asking nothing it is closed as failed, `why` its error. False if it was not
        pending, or asked less already."""
        if amount <= 0:
            return self.settle(key, OperationStatus.FAILED, at, error=why)
        return self.sql.run(  # the reason says so, within its column's 500 characters
            "UPDATE payment_operations SET amount = :a, reason = SUBSTR(COALESCE(reason, '') "
            "|| :why, 1, 500) WHERE idem_key = :k AND status = 'pending' AND amount > :a",
            {"a": amount, "k": key, "why": f" ({why})"}).rowcount == 1

    def note_provider_ref(self, key: str, ref: str) -> None:
        """The provider accepted the call under `ref`; its webhook settles it later."""
        self.sql.run("UPDATE payment_operations SET provider_ref = :r WHERE idem_key = :k",
                     {"r": ref, "k": key})

    def count_of_order(self, order_id: int) -> int:
        row = self.sql.one("SELECT COUNT(*) FROM payment_operations WHERE order_id = :o",
                           {"o": order_id})
        return int(row[0]) if row else 0

    def order_of_payment(self, payment_ref: str) -> int | None:
        """The order a provider's payment reference (ours, or the provider's own) belongs
        to, from the operations we recorded, else from the disputes opened on it."""
        row = self.sql.one(
            "SELECT order_id FROM payment_operations WHERE payment_ref = :r OR "
            "provider_ref = :r ORDER BY id LIMIT 1", {"r": payment_ref}) or self.sql.one(
            "SELECT order_id FROM disputes WHERE payment_ref = :r LIMIT 1", {"r": payment_ref})
        return int(row[0]) if row else None

    def note_attempt(self, key: str, error: str) -> None:
        self.sql.run("UPDATE payment_operations SET attempts = attempts + 1, error = :e "
                     "WHERE idem_key = :k AND status = 'pending'", {"e": error[:500], "k": key})

    def reserved(self, order_id: int, *, excluding: str | None = None) -> Reserved:
        """Refunds in flight, open chargebacks (their money, their ids) and chargebacks lost or
        conceded of an order (lock the order first)."""
        # not a late payment's own money, nor a refund of the provider's owed again after it
        # failed there (`refund-again:…`, booked when the provider says it was made): neither
        # is the order's money in flight. A refund of ours to be made in the provider's admin
        # (a case's, of money Shopify took) is: it waits for the merchant, and the money and
        # units it gives back are spoken for, as any refund of ours in flight
        ops = self.sql.all("SELECT idem_key, amount, lines FROM payment_operations WHERE "
                           "order_id = :o AND kind = 'refund' AND status = 'pending' AND "
                           "idem_key NOT LIKE 'late-refund:%' AND NOT (provider IN "
                           f"{REFUNDED_IN_ADMIN} AND idem_key LIKE 'refund-again:%')",
                           {"o": order_id})
        lines: Counter[int] = Counter()
        amount = 0
        for key, value, op_lines in ops:
            if key == excluding:
                continue
            amount += value
            for line in self.sql.doc(op_lines) or []:
                lines[line["line_no"]] += line["quantity"]
        # the chargebacks open (they hold their money) and those lost or conceded (whether
        # the payment may still be refunded after them is the provider's: statemachine.money)
        charged = self.sql.all(
            f"SELECT id, amount, state, provider FROM disputes WHERE order_id = :o AND kind = "
            f"'{DisputeKind.CHARGEBACK.value}' AND state IN "
            f"{(*OPEN_DISPUTE_STATES, *CHARGED_BACK_FOR_GOOD)!r} ORDER BY id", {"o": order_id})
        held = [(n, a) for n, a, state, _ in charged if state in OPEN_DISPUTE_STATES]
        return Reserved(amount, dict(lines), sum(int(a) for _, a in held),
                        tuple(ids.DISPUTE(int(n)) for n, _ in held),
                        tuple(LostChargeback(ids.DISPUTE(int(n)), state, provider)
                              for n, _, state, provider in charged
                              if state in CHARGED_BACK_FOR_GOOD))

    def settled_refunds(self, order_id: int, payment_ref: str) -> int:
        """What the ledger holds as refunded of one payment of an order: our refunds of it
        (their rows name the refund, the operation names the payment) and refunds the provider
        reported for it. A late payment's refund is of another payment, not counted."""
        row = self.sql.one(
            "SELECT COALESCE(SUM(r.amount), 0) FROM payment_records r WHERE r.order_id = :o "
            "AND r.kind = 'refund' AND CASE WHEN r.event_key LIKE 'op:%' THEN EXISTS ("
            "SELECT 1 FROM payment_operations p WHERE p.order_id = r.order_id AND "
            "'op:' || p.idem_key = r.event_key AND p.payment_ref = :r) "
            "ELSE r.provider_ref = :r END", {"o": order_id, "r": payment_ref})
        return int(row[0]) if row else 0

    # `base` or `base:<n>`, among the order's operations: the key names the order (or its
    # case), and the prefix test can use no index, so without order_id it read every
    # operation ever recorded (bench/hot_scans.py). The prefix also matches keys that only
    # start like `base` (`void:o-1:<payment>` for `void:o-1`): `_attempts` keeps `:<n>` only.
    _KEYED = ("order_id = :o AND (idem_key = :b OR substr(idem_key, 1, :n) = :p)")

    def latest(self, base: str, order_id: int) -> PaymentOperation | None:
        """The order's newest operation keyed `base` or `base:<n>` (retries after a failure)."""
        rows = self._attempts(base, order_id)
        return self._operation(rows[-1]) if rows else None

    def count_keys(self, base: str, order_id: int) -> int:
        """How many of the order's operations used `base` or `base:<n>` as their key."""
        return len(self._attempts(base, order_id))

    def _attempts(self, base: str, order_id: int) -> list[Any]:
        """Rows keyed `base` or `base:<n>`, oldest first (a handful per order)."""
        rows = self.sql.all(f"SELECT {OP_COLS} FROM payment_operations WHERE {self._KEYED} "
                            "ORDER BY id", {"o": order_id, "b": base, "p": base + ":",
                                            "n": len(base) + 1})
        return [r for r in rows if r[6] == base or _is_count(r[6][len(base) + 1:])]

    def _operation(self, r: Any) -> PaymentOperation:
        doc, when = self.sql.doc, self.sql.when
        lines = tuple(RefundLine(ln["line_no"], ln["quantity"], ln["amount"])
                      for ln in doc(r[11]) or [])
        return PaymentOperation(
            id=r[0], order_id=r[1], kind=OperationKind(r[2]), status=OperationStatus(r[3]),
            amount=r[4], currency=r[5], key=r[6], provider=r[7], payment_ref=r[8], actor=r[9],
            created_at=when(r[10]), lines=lines, purpose=doc(r[12]) or {}, reason=r[13],
            provider_ref=r[14], attempts=r[15], error=r[16])


def _is_count(suffix: str) -> bool:
    return suffix.isascii() and suffix.isdigit()
