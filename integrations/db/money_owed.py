"""What buyers are owed back, read from the store on the caller's unit of work: money of
cancelled, rejected or expired orders that nothing else will send (service/refunds_owed.py
lists it and alerts on it), less what the merchant's refunds redid of a refund that failed.
One report over payment operations, the ledger, orders, their history, disputes and the inbox
— apart from the operations' own reads and writes (money_store.py)."""

from __future__ import annotations

from datetime import datetime

from integrations.db.money_store import REFUNDED_IN_ADMIN, held_by_disputes
from integrations.db.sql import Sql

# a refund the merchant owes in the provider's admin: late money, a refund that failed there
# (owed again: `refund-again:…`), or a refund of ours of money the provider took (a case's)
MERCHANT_OWES = ("op.kind = 'refund' AND op.status = 'pending' AND op.provider IN "
                 f"{REFUNDED_IN_ADMIN}")
OWED_AGAIN = "op.idem_key LIKE 'refund-again:%'"
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


class OwedMoney:
    def __init__(self, sql: Sql):
        self.sql = sql

    def refunds_owed(self, limit: int, since_before: datetime | None = None, untold: str = ""
                     ) -> list[OwedRow]:
        """(order id, buyer, currency, owed, held, payment ref, since, kind, reason) of money
        the buyer is owed back, oldest first. Kinds:
        - `refund_later`: a cancelled order still holding money: a cancel with `refund_later`
          leaves paid > refunded there, and so does a refund in flight at cancel that then
          failed (every other cancel counts all of it refunded); what an open dispute covers is
          not owed (the bank is deciding: lost, it is booked refunded; won, it is owed); an
          open inquiry took no money and covers none of it: owed in full. Owed:
          the goods paid and not refunded (the order's terms). Since: when the order was
          cancelled (its `cancel` in the history; a later refund or other change does not move
          it). Reads the cancelled orders through ix_orders_state and each one's history
          through ix_transition_history_order_id;
        - `late_payment`: late money the merchant refunds in the provider's admin (its refund
          operation pending, never called by us), since it arrived. Owed: what the ledger holds
          of it (the order never took money of its own);
        - `refund_failed`: a refund that failed in the provider's admin, owed again: its amount
          less what the merchant's refunds since redid of it (`_given`: each amount matched to
          one thing owed, service/owed_again.py), since the failure. The others owe the rest
          only (a failed refund of one tin of a cancelled order leaves the other tin owed as
          `refund_later`; a failed refund of all the late money leaves no `late_payment`);
        - `refund_in_admin`: a refund of ours (an after-sales case's, compensation) of money
          the provider took, for the merchant to make in its admin (its operation pending,
          never called by us): its amount less what the provider's refunds gave it already
          (units or money still to come: held for it, `_given`), since it was recorded; its
          reason the progress's `redo` once its refund in the admin failed. A
          cancelled order's `refund_later` row owes the rest only;
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
        # an open chargeback: the bank decides (an open inquiry took nothing: still owed)
        disputed = ("(SELECT COALESCE(SUM(d.amount), 0) FROM disputes d WHERE d.order_id = "
                    f"o.id AND {held_by_disputes('d')})")
        late_money = "op.idem_key LIKE 'late-refund:%'"
        # what the order's failed refunds owe again: listed on their own rows (with their
        # reason), so the order's other rows owe only the rest — the same money never twice
        # (what the merchant's refunds since redid of it: `given` in its progress, matched once
        # by service/owed_again.py — never every refund booked since the failure)
        still = f"op.amount - {self._given()}"

        def owing_in_admin(which: str) -> str:
            return (f"(SELECT COALESCE(SUM(CASE WHEN {still} > 0 THEN {still} ELSE 0 END), 0) "
                    f"FROM payment_operations op WHERE op.order_id = o.id AND {MERCHANT_OWES} "
                    f"AND {which})")

        # late money's row leaves out its failed refunds; a refund left for later those and
        # the refunds of ours waiting in the provider's admin (a case's): listed on their own
        failed, not_late = owing_in_admin(OWED_AGAIN), owing_in_admin(f"NOT {late_money}")
        in_order, in_op = held.format(currency="o.currency"), held.format(currency="op.currency")
        later = (f"SELECT o.id, o.buyer_id, o.currency, o.paid - o.refunded - {disputed} - "
                 f"{not_late} AS owed, {in_order} AS held, o.payment_ref, {cancelled_at} AS "
                 "since, 'refund_later' AS kind, o.state || ' with its refund left for later; not "
                 "refunded since' AS reason FROM orders o WHERE o.state IN ('cancelled', "
                 "'rejected') AND o.paid > o.refunded")
        admin = (f"SELECT o.id, o.buyer_id, op.currency, CASE WHEN {late_money} THEN {in_op} - "
                 f"{failed} WHEN {OWED_AGAIN} THEN {still} ELSE op.amount - {self._given()} "
                 f"END AS owed, {in_op} "
                 f"AS held, op.payment_ref, op.created_at AS since, CASE WHEN {late_money} THEN "
                 f"'late_payment' WHEN {OWED_AGAIN} THEN 'refund_failed' ELSE 'refund_in_admin' "
                 f"END AS kind, COALESCE({self._progress('redo', 'TEXT')}, op.reason) AS reason "
                 "FROM payment_operations op JOIN orders o ON o.id = "
                 f"op.order_id WHERE {MERCHANT_OWES}")
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

    def _given(self) -> str:
        """What the provider's refunds gave a refund of ours (`op`) waiting for more of its
        units or money: held for it in the ledger, not owed any more (service/admin_refunds.py
        keeps it in the inbox, `admin-refund:<key>`, `given`)."""
        return f"COALESCE({self._progress('given', 'INTEGER')}, 0)"

    def _progress(self, field: str, sql_type: str) -> str:
        """A field of the progress of a refund of ours (`op`) owed in the admin: `given`, or
        `redo` — the reason to list it with once its refund there failed
        (service/failed_in_admin.py); NULL if none. Two spellings, one per dialect: the `->>`
        both know needs SQLite 3.38 (we need 3.35; Ubuntu 22.04 has 3.37.2), and decoding in
        Python would leave `owed > 0` and the LIMIT to Python as well."""
        value = (f"CAST(json_extract(i.result, '$.{field}') AS {sql_type})" if self.sql.sqlite
                 else f"CAST(i.result ->> '{field}' AS {sql_type})")
        return f"(SELECT {value} FROM inbox i WHERE i.key = 'admin-refund:' || op.idem_key)"
