"""Counters behind the risk signals, moved when things happen instead of recounted at every
placement: a buyer's orders / cancellations / completions / disputes, spend per currency,
distinct buyers per device and IP, and the addresses a buyer shipped to (last time seen).

Placement reads them with point lookups, so its cost does not grow with a buyer's history.
Upserts (`ON CONFLICT … DO UPDATE`) run on SQLite (≥ 3.24) and PostgreSQL alike and keep
concurrent placements of one buyer correct (the row is locked by the update).

Called with the unit of work's `Sql` by risk's signal store (placement), its outcome hook and
its credit store (disputes): DBAPI-cursor statements, as they run on every placement.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable

from integrations.db.rows import Insert
from integrations.db.schema_risk import RiskBuyerAddressRow, RiskKeyBuyerRow
from integrations.db.sql import Sql
from statemachine.risk.credit import CreditEventKind
from statemachine.risk.signals import DEVICE, IP
from statemachine.risk_port import PlacementFacts

DISPUTES = (CreditEventKind.CHARGEBACK, CreditEventKind.MALICIOUS_REFUND)
OUTCOMES = {"cancelled": "cancelled", "completed": "completed"}  # order state -> counter

STATS_SQL = ("INSERT INTO risk_buyer_stats (buyer_id, orders, cancelled, completed, disputes) "
             "VALUES (:b, 1, 0, 0, 0) ON CONFLICT (buyer_id) DO UPDATE "
             "SET orders = risk_buyer_stats.orders + 1")
SPEND_SQL = ("INSERT INTO risk_buyer_spend (buyer_id, currency, orders, amount) "
             "VALUES (:b, :c, 1, :amount) ON CONFLICT (buyer_id, currency) DO UPDATE "
             "SET orders = risk_buyer_spend.orders + 1, "
             "amount = risk_buyer_spend.amount + :amount")
KEY_BUYERS, ADDRESSES = RiskKeyBuyerRow.__table__, RiskBuyerAddressRow.__table__
KEY_BUYER = Insert(KEY_BUYERS, but=(), key=("kind", "value", "buyer_id"))  # DO NOTHING: 1 if new
KEY_STATS_SQL = ("INSERT INTO risk_key_stats (kind, value, buyers) VALUES (:k, :v, 1) "
                 "ON CONFLICT (kind, value) DO UPDATE SET buyers = risk_key_stats.buyers + 1")
ADDRESS = Insert(ADDRESSES, but=(), key=("buyer_id", "address_key"), update=("last_seen",))


def count_placement(sql: Sql, facts: PlacementFacts, address_key: str | None) -> None:
    """One more order for the buyer, its spend, its device / IP and its address."""
    sql.later(STATS_SQL, [{"b": facts.buyer_id}])
    sql.later(SPEND_SQL, [{"b": facts.buyer_id, "c": facts.currency, "amount": facts.amount}])
    for kind, value in ((DEVICE, facts.device_id), (IP, facts.ip)):
        if not value:
            continue
        KEY_BUYER.check(row := {"kind": kind, "value": value, "buyer_id": facts.buyer_id})
        sql.later(KEY_BUYER.sql, [row], _new_buyer_of(sql, kind, value))
    if address_key:
        ADDRESS.later(sql, [{"buyer_id": facts.buyer_id, "address_key": address_key,
                             "last_seen": facts.placed_at}])


def other_number(phone: str | None, recipient_phone: str | None) -> str | None:
    """The recipient's number as risk_order_facts keeps it (`recipient_phone_norm`): only
    when it is not the order's `phone` (one number is counted once per order)."""
    return recipient_phone if recipient_phone != phone else None


def _new_buyer_of(sql: Sql, kind: str, value: str) -> Callable[[int], None]:
    """Counts the buyer for the device / IP once its key row was written (1: a new one)."""
    def then(written: int) -> None:
        if written == 1:
            sql.later(KEY_STATS_SQL, [{"k": kind, "v": value}])
    return then


def count_outcomes(sql: Sql, outcomes: Iterable[tuple[str, str]]) -> None:
    """(buyer, order state entered) pairs: cancellations and completions, one update each."""
    tally = Counter((buyer, OUTCOMES[state]) for buyer, state in outcomes if state in OUTCOMES)
    for (buyer, column), n in tally.items():
        sql.run(f"UPDATE risk_buyer_stats SET {column} = {column} + :n WHERE buyer_id = :b",
                {"n": n, "b": buyer})


def count_disputes(sql: Sql, events: Iterable[tuple[str, CreditEventKind]]) -> None:
    """(buyer, credit event) pairs: chargebacks and malicious refunds are disputes."""
    tally = Counter(buyer for buyer, kind in events if kind in DISPUTES)
    for buyer, n in tally.items():
        sql.run("UPDATE risk_buyer_stats SET disputes = disputes + :n WHERE buyer_id = :b",
                {"n": n, "b": buyer})



# An order's address corrected (`correct_address`): the order counts at its new address (and
# phone), as a recount of the placement facts would — velocity by address, related orders, the
# buyer's addresses (last seen at the order's placement; the old one only while another of
# the buyer's orders still goes there). Upserts keep the later time: another order may have
# used the new address since.
FACTS_ADDRESS_SQL = ("SELECT address_norm, phone_norm, recipient_phone_norm "
                     "FROM risk_order_facts WHERE order_id = :o")
MOVE_FACTS_SQL = "UPDATE risk_order_facts SET address_norm = :new WHERE order_id = :o"
# the buyer's number (placement kept the buyer's own, else the address's): a corrected one
# is the order's when it was the only one (service/address_corrections.py `_buyer_phone`);
# the recipient's, when another, is the corrected one
MOVE_PHONE_SQL = ("UPDATE risk_order_facts SET phone_norm = :p, recipient_phone_norm = :r "
                  "WHERE order_id = :o")
SEEN_AT_SQL = (
    "INSERT INTO risk_buyer_addresses (buyer_id, address_key, last_seen) "
    "SELECT buyer_id, :new, placed_at FROM risk_order_facts WHERE order_id = :o "
    "ON CONFLICT (buyer_id, address_key) DO UPDATE SET last_seen = CASE WHEN "
    "excluded.last_seen > risk_buyer_addresses.last_seen THEN excluded.last_seen "
    "ELSE risk_buyer_addresses.last_seen END")
FORGET_SQL = (
    "DELETE FROM risk_buyer_addresses WHERE buyer_id = :b AND address_key = :old "
    "AND NOT EXISTS (SELECT 1 FROM risk_order_facts WHERE buyer_id = :b "
    "AND address_norm = :old)")
LAST_SEEN_SQL = (
    "UPDATE risk_buyer_addresses SET last_seen = (SELECT max(placed_at) FROM "
    "risk_order_facts WHERE buyer_id = :b AND address_norm = :old) "
    "WHERE buyer_id = :b AND address_key = :old")


def move_address(sql: Sql, order_id: int, buyer_id: str, new_key: str,
                 phone: str | None, recipient_phone: str | None = None) -> None:
    """The order ships to `new_key` now, reaches its buyer at `phone` and its recipient at
    `recipient_phone` (E.164; None: no number): its placement facts and the buyer's addresses
    say so. An order placement kept no facts for (no risk check ran) was never counted:
    nothing to move."""
    row = sql.one(FACTS_ADDRESS_SQL, {"o": order_id})
    if row is None:
        return
    other = other_number(phone, recipient_phone)
    if (row[1], row[2]) != (phone, other):
        sql.run(MOVE_PHONE_SQL, {"p": phone, "r": other, "o": order_id})
    if row[0] == new_key:
        return
    old = row[0]
    sql.run(MOVE_FACTS_SQL, {"new": new_key, "o": order_id})
    sql.run(SEEN_AT_SQL, {"new": new_key, "o": order_id})
    if old:
        sql.run(FORGET_SQL, {"b": buyer_id, "old": old})
        sql.run(LAST_SEEN_SQL, {"b": buyer_id, "old": old})
