"""Payment operations in and out of the store, on the caller's unit of work."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from integrations.db.rows import Insert
from integrations.db.schema_money import PaymentOperationRow
from integrations.db.sql import Sql
from statemachine.dispute import OPEN_DISPUTE_STATES
from statemachine.money import (
    REFUNDED_BY_MERCHANT,
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


# a refund the merchant owes in the provider's admin: late money, or a refund that failed there
MERCHANT_OWES = ("op.kind = 'refund' AND op.status = 'pending' AND op.provider IN "
                 f"{_listed(REFUNDED_BY_MERCHANT)}")
# refunds booked since the failed refund's own ledger row (ids: the order's money takes turns)
REFUNDED_AFTER_FAILURE = (
    "(SELECT COALESCE(SUM(r.amount), 0) FROM payment_records r WHERE r.order_id = op.order_id "
    "AND r.kind = 'refund' AND r.currency = op.currency AND r.id > (SELECT MAX(f.id) FROM "
    "payment_records f WHERE f.order_id = op.order_id AND f.event_key = 'op:' || "
    "op.idem_key))")
# A debt (service/outside_refunds.py): a cancellation's or rejection's refund (the ending step
# counted it refunded), `cancel-refund:o-N`, or late money's, `late-refund:<provider>:<payment>`;
# our attempts at it are `<key>` then `<key>:2` …, what was paid back outside our own refunds
# (the provider's portal, an offline payout) `<key>@<where>:<id>`. One debt's operations: the
# order's cancellation ones, or one late payment's.
SAME_DEBT = (
    "n.order_id = op.order_id AND n.id > op.id AND CASE WHEN op.idem_key LIKE 'late-refund:%' "
    "THEN n.idem_key LIKE 'late-refund:%' AND n.payment_ref = op.payment_ref ELSE "
    "n.idem_key LIKE 'cancel-refund:%' END")
# Refused for good: a debt whose latest attempt failed (no later one) is owed what that attempt
# asked less what was paid back toward it since; a refusal that a portal refund superseded was
# followed by an attempt for the rest, or asked for more than was left (owed ≤ 0: not listed).
REFUSED_DEBTS = (
    "SELECT o.id, o.buyer_id, op.currency, op.amount - (SELECT COALESCE(SUM(n.amount), 0) FROM "
    f"payment_operations n WHERE {SAME_DEBT} AND n.status = 'succeeded' AND n.idem_key LIKE "
    "'%@%') AS owed, {held} AS held, op.payment_ref, op.settled_at AS since, 'refund_refused' "
    "AS kind, 'refund refused for good by ' || op.provider || ': ' || COALESCE(op.error, "
    "'no reason given') AS reason FROM payment_operations op JOIN orders o ON o.id = "
    "op.order_id WHERE op.kind = 'refund' AND op.status = 'failed' AND (op.idem_key LIKE "
    "'cancel-refund:%' OR op.idem_key LIKE 'late-refund:%') AND op.idem_key NOT LIKE '%@%' "
    f"AND NOT EXISTS (SELECT 1 FROM payment_operations n WHERE {SAME_DEBT} AND n.kind = "
    "'refund' AND n.idem_key NOT LIKE '%@%')")
# (order id, buyer, currency, owed, held, payment ref, since, kind, reason)
OwedRow = tuple[int, str, str, int, int, str | None, datetime, str, str]


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
            f"'checkout' AND provider NOT IN {_listed(REFUNDED_BY_MERCHANT)} AND created_at "
            "<= :t ORDER BY created_at, id LIMIT :n", {"t": older_than, "n": limit})]

    def refunds_owed(self, limit: int, since_before: datetime | None = None, untold: str = ""
                     ) -> list[OwedRow]:
        """(order id, buyer, currency, owed, held, payment ref, since, kind, reason) of money
        the buyer is owed back, oldest first. Kinds:
        - `refund_later`: a cancelled order still holding money: a cancel with `refund_later`
          leaves paid > refunded there, and so does a refund in flight at cancel that then
          failed (every other cancel counts all of it refunded); what an open dispute covers is
          not owed (the bank is deciding: lost, it is booked refunded; won, it is owed). Owed:
          the goods paid and not refunded (the order's terms). Since: when the order was
          cancelled (its `cancel` in the history; a later refund or other change does not move
          it). Reads the cancelled orders through ix_orders_state and each one's history
          through ix_transition_history_order_id;
        - `late_payment`: late money the merchant refunds in the provider's admin (its refund
          operation pending, never called by us), since it arrived. Owed: what the ledger holds
          of it (the order never took money of its own);
        - `refund_failed`: a refund that failed in the provider's admin, owed again: its amount
          less the refunds booked since, since the failure. The order's other rows owe the rest
          only (a failed refund of one tin of a cancelled order leaves the other tin owed as
          `refund_later`; a failed refund of all the late money leaves no `late_payment`);
        - `refund_refused`: a debt of a cancelled, rejected or expired order (its cancellation's
          refund, or late money's) whose latest refund of ours the provider refused for good
          (`charge_disputed`, …): what that refund asked less what was paid back toward the debt
          since (a portal refund, an offline payout), since the refusal; the reason is the
          provider's. Not reported again as overdue (`untold`): staff were told when refused.
        Held: what the ledger shows the provider kept (captures, late money too, less refunds,
        shipping and tax included), in the row's currency: the order's, or for late money the
        one it came in — money in another currency (late money of another provider, its
        refund not made yet) is never added to it. `since_before`: owed since before then;
        `untold`: an inbox key prefix (`refund-owed:o-`) the order's id has not been kept
        under."""
        where = (" WHERE NOT EXISTS (SELECT 1 FROM inbox i WHERE i.key = :p || "
                 "CAST(owing.id AS VARCHAR(20)))") if untold else ""
        held = ("(SELECT COALESCE(SUM(CASE WHEN p.kind IN ('capture', 'late_capture') THEN "
                "p.amount WHEN p.kind = 'refund' THEN -p.amount ELSE 0 END), 0) FROM "
                "payment_records p WHERE p.order_id = o.id AND p.currency = {currency})")
        cancelled_at = ("COALESCE((SELECT MAX(h.at) FROM transition_history h WHERE h.order_id "
                        "= o.id AND h.entity = 'order' AND h.trigger IN ('cancel', 'reject')), "
                        "o.updated_at)")
        disputed = ("(SELECT COALESCE(SUM(d.amount), 0) FROM disputes d WHERE d.order_id = "
                    f"o.id AND d.state IN {OPEN_DISPUTE_STATES!r})")  # the bank decides
        late_money = "op.idem_key LIKE 'late-refund:%'"
        # what the order's failed refunds owe again: listed on their own rows (with their
        # reason), so the order's other rows owe only the rest — the same money never twice
        still = f"op.amount - {REFUNDED_AFTER_FAILURE}"
        failed = (f"(SELECT COALESCE(SUM(CASE WHEN {still} > 0 THEN {still} ELSE 0 END), 0) "
                  f"FROM payment_operations op WHERE op.order_id = o.id AND {MERCHANT_OWES} "
                  f"AND NOT {late_money})")
        in_order, in_op = held.format(currency="o.currency"), held.format(currency="op.currency")
        later = (f"SELECT o.id, o.buyer_id, o.currency, o.paid - o.refunded - {disputed} - "
                 f"{failed} AS owed, {in_order} AS held, o.payment_ref, {cancelled_at} AS since, "
                 "'refund_later' AS kind, o.state || ' with its refund left for later; not "
                 "refunded since' AS reason FROM orders o WHERE o.state IN ('cancelled', "
                 "'rejected') AND o.paid > o.refunded")
        admin = (f"SELECT o.id, o.buyer_id, op.currency, CASE WHEN {late_money} THEN {in_op} - "
                 f"{failed} ELSE {still} END AS owed, {in_op} AS held, "
                 f"op.payment_ref, op.created_at AS since, CASE WHEN {late_money} THEN "
                 "'late_payment' ELSE 'refund_failed' END AS kind, op.reason FROM "
                 "payment_operations op JOIN orders o ON o.id = op.order_id WHERE "
                 f"{MERCHANT_OWES}")
        told = " AND kind <> 'refund_refused'" if untold else ""  # told when it was refused
        refused = REFUSED_DEBTS.format(held=in_op)  # a debt's: the order's, or late money's
        owing = f"SELECT * FROM ({later} UNION ALL {admin} UNION ALL {refused}) owing{where}{told}"
        return [(int(r[0]), str(r[1]), str(r[2]), int(r[3]), int(r[4]), r[5],
                 self.sql.when(r[6]), str(r[7]), str(r[8] or ""))
                for r in self.sql.all(
                    f"SELECT id, buyer_id, currency, owed, held, payment_ref, since, kind, reason "
                    f"FROM ({owing}) owed WHERE owed > 0"
                    f"{' AND since < :t' if since_before else ''} ORDER BY since, id LIMIT :n",
                    {"n": limit, "p": untold,
                     "t": self.sql.time(since_before) if since_before else None})]

    def refunded_after_failure(self, operation: PaymentOperation) -> int:
        """What the ledger booked as refunded of the order since the refund that `operation`
        owes again failed (its `refund_failed` row)."""
        row = self.sql.one(f"SELECT {REFUNDED_AFTER_FAILURE} FROM payment_operations op "
                           "WHERE op.idem_key = :k", {"k": operation.key})
        return int(row[0]) if row else 0

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
               provider_ref: str | None = None, error: str | None = None) -> bool:
        """Pending → succeeded / failed; False if it was settled already (by someone else)."""
        return self.sql.run(
            "UPDATE payment_operations SET status = :s, settled_at = :at, provider_ref = "
            "COALESCE(:ref, provider_ref), error = :err WHERE idem_key = :k AND status = "
            "'pending'", {"s": status.value, "at": at, "ref": provider_ref, "err": error,
                          "k": key}).rowcount == 1

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
        """Refunds in flight and open disputes of an order (lock the order first)."""
        # not a late payment's own money, nor a refund owed in the provider's admin (booked
        # when the provider says it was made): neither is the order's money in flight
        ops = self.sql.all("SELECT idem_key, amount, lines FROM payment_operations WHERE "
                           "order_id = :o AND kind = 'refund' AND status = 'pending' AND "
                           "idem_key NOT LIKE 'late-refund:%' AND provider NOT IN "
                           f"{_listed(REFUNDED_BY_MERCHANT)}", {"o": order_id})
        lines: Counter[int] = Counter()
        amount = 0
        for key, value, op_lines in ops:
            if key == excluding:
                continue
            amount += value
            for line in self.sql.doc(op_lines) or []:
                lines[line["line_no"]] += line["quantity"]
        disputed = self.sql.one("SELECT COALESCE(SUM(amount), 0) FROM disputes WHERE "
                                "order_id = :o AND state IN ('opened', 'evidence_due', "
                                "'submitted')", {"o": order_id})
        return Reserved(amount, dict(lines), int(disputed[0]) if disputed else 0)

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
