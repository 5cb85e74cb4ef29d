"""The statements behind the risk signals, on the placement transaction's DBAPI cursor (`Sql`):
they run on every placement (see db/sql.py for why not Core).

Reads are point lookups on the maintained counters (db/risk_counters.py) plus three bounded
queries: velocity over the window (an index range on `risk_order_facts`), units per sku bought
today, and the block / allow list candidates. `record_placement` writes the order's decisions and
facts and moves the counters, after its decision, so no count sees the order being decided.
Mapping the rows to `RiskSignals` is integrations/risk/sql_store.py.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from integrations.db.risk_counters import count_placement, other_number
from integrations.db.rows import Insert
from integrations.db.schema_risk import BuyerProfileRow, RiskDecisionRow, RiskOrderFactsRow
from integrations.db.sql import Row, Sql
from statemachine.risk.signals import ADDRESS, BUYER, DEVICE, IP
from statemachine.risk_port import PlacementFacts

COLUMNS = {BUYER: "buyer_id", DEVICE: "device_id", IP: "ip", ADDRESS: "address_norm"}

# The other buyers on one number (:p1 or :p2) in the phone window, whichever column of their
# orders holds it (the buyer's phone_norm, a recipient's other number): two index ranges
# (ix_risk_facts_phone, ix_risk_facts_recipient_phone), UNION counting each buyer once.
PHONE_OTHERS = """(SELECT count(*) FROM (
 SELECT buyer_id FROM risk_order_facts WHERE phone_norm = :{p} AND placed_at > :phone_since
   AND placed_at <= :now AND buyer_id <> :b AND order_id <> :o
 UNION SELECT buyer_id FROM risk_order_facts WHERE recipient_phone_norm = :{p}
   AND placed_at > :phone_since AND placed_at <= :now AND buyer_id <> :b AND order_id <> :o
 ) AS {p}_buyers)"""

# One round trip for everything keyed by the buyer, device, IP or phones: point lookups, and
# for each of the order's numbers index ranges over its window as velocity by address is —
# bounded by the orders to that number in the window, not by the store's history.
PROFILE_HEAD = """SELECT p.signed_up_at, b.credit_score, s.orders, s.cancelled, s.completed,
 s.disputes, m.orders, m.amount,
 (SELECT buyers FROM risk_key_stats WHERE kind = 'device' AND value = :d),
 (SELECT count(*) FROM risk_key_buyers WHERE kind = 'device' AND value = :d AND buyer_id = :b),
 (SELECT buyers FROM risk_key_stats WHERE kind = 'ip' AND value = :ip),
 (SELECT count(*) FROM risk_key_buyers WHERE kind = 'ip' AND value = :ip AND buyer_id = :b),
 (SELECT count(*) FROM risk_buyer_addresses
   WHERE buyer_id = :b AND last_seen > :since AND address_key <> :a),
 """
PROFILE_TAIL = """
FROM (SELECT 1 AS one) AS x
LEFT JOIN risk_buyer_profiles p ON p.buyer_id = :b
LEFT JOIN buyers b ON b.id = :b
LEFT JOIN risk_buyer_stats s ON s.buyer_id = :b
LEFT JOIN risk_buyer_spend m ON m.buyer_id = :b AND m.currency = :c"""


def _profile_sql(numbers: int) -> str:
    """The profile statement for an order with that many numbers: a number it lacks is a
    constant 0, not two index probes and a UNION over nothing."""
    counts = [PHONE_OTHERS.format(p=p) for p in ("p1", "p2")[:numbers]]
    return PROFILE_HEAD + ",\n".join(counts + ["0"] * (2 - numbers)) + PROFILE_TAIL


# By how many numbers the order has (facts.phones): most have one (the buyer gave none, or the
# recipient's is theirs) and count it alone — 3-4 % less on SQLite than beside an empty second
# count, about a quarter less with none; noise on PostgreSQL (bench/risk_phone_window.py,
# BENCHMARKS.md, which also says why counting both numbers in one query is not cheaper)
PROFILE_BY_NUMBERS = {n: _profile_sql(n) for n in (0, 1, 2)}
PROFILE_SQL = PROFILE_BY_NUMBERS[2]

SKU_SQL = ("SELECT l.sku, sum(l.quantity) FROM order_lines l "
           "JOIN risk_order_facts f ON f.order_id = l.order_id "
           "JOIN orders o ON o.id = l.order_id "
           "WHERE f.buyer_id = :b AND f.placed_at >= :midnight AND f.placed_at <= :now "
           "AND o.state NOT IN ('cancelled', 'rejected', 'expired') AND l.sku IN ({skus}) "
           "GROUP BY l.sku")
DECISIONS, FACTS = RiskDecisionRow.__table__, RiskOrderFactsRow.__table__
PROFILES = BuyerProfileRow.__table__
DECISION, PLACEMENT = Insert(DECISIONS, but=()), Insert(FACTS, but=())  # what placement saw
SIGNUP = Insert(PROFILES, but=(), key=("buyer_id",), update=("signed_up_at",))  # a later call wins


def profile(sql: Sql, facts: PlacementFacts, since: datetime, phone_since: datetime,
            order_id: int) -> Row:
    """The buyer's sign-up time, credit, counters and spend in the order's currency, the buyers
    on its device and IP (all, and this one), the buyer's other addresses seen after `since`,
    and per number of the order (`facts.phones`, columns 13 and 14; 0 for a number it lacks)
    the other buyers whose orders placed in (phone_since, placed_at] carried it — never
    `order_id` (its facts are written when a correction is judged)."""
    p1, p2 = (*facts.phones, "", "")[:2]  # a number the order lacks is not counted
    row = sql.one(PROFILE_BY_NUMBERS[len(facts.phones)], {
        "b": facts.buyer_id, "d": facts.device_id, "ip": facts.ip, "c": facts.currency,
        "a": facts.address_key or "", "since": since, "p1": p1, "p2": p2,
        "phone_since": phone_since, "now": facts.placed_at, "o": order_id})
    assert row is not None  # one row always: the left joins hang off a constant row
    return row


def velocity(sql: Sql, keys: Mapping[str, str], start: datetime, now: datetime,
             order_id: int) -> dict[str, int]:
    """Orders placed in (start, now] sharing each dimension's value (one index-range query),
    but `order_id`: at placement its facts are not written yet; a corrected address is judged
    when they are, and the order is no other order to its address."""
    sums = ", ".join(f"coalesce(sum(CASE WHEN {COLUMNS[d]} = :{d} THEN 1 ELSE 0 END), 0)"
                     for d in keys)
    match = " OR ".join(f"{COLUMNS[d]} = :{d}" for d in keys)
    row = sql.one(f"SELECT {sums} FROM risk_order_facts WHERE placed_at > :start "
                  f"AND placed_at <= :now AND order_id <> :o AND ({match})",
                  {**keys, "now": now, "start": start, "o": order_id})
    assert row is not None
    return {d: int(n) for d, n in zip(keys, row, strict=True)}


def sku_units(sql: Sql, buyer_id: str, skus: Sequence[str], midnight: datetime,
              now: datetime) -> dict[str, int]:
    """Units per sku (of `skus`) in the buyer's live orders placed in [midnight, now]."""
    params: dict[str, Any] = {f"s{i}": sku for i, sku in enumerate(skus)}
    rows = sql.all(SKU_SQL.format(skus=", ".join(f":{k}" for k in params)),
                   {**params, "b": buyer_id, "midnight": midnight, "now": now})
    return {sku: int(n) for sku, n in rows}


def list_candidates(sql: Sql, wanted: Sequence[tuple[str, str]], now: datetime) -> list[Row]:
    """(list_name, kind, value) of the active, unexpired list entries that could match: those
    of a `wanted` (kind, value) — a kind may come twice (an order's two phones) — and every IP
    entry (ranges are matched by the caller)."""
    match = "".join(f" OR (kind = '{kind}' AND value = :v{n})"
                    for n, (kind, _) in enumerate(wanted))
    params = {f"v{n}": value for n, (_, value) in enumerate(wanted)}
    return sql.all(f"SELECT list_name, kind, value FROM risk_blacklist_entries "
                   f"WHERE removed_at IS NULL AND (expires_at IS NULL OR expires_at "
                   f"> :now) AND (kind = 'ip'{match})", {**params, "now": now})


def record_placement(sql: Sql, order_id: int, facts: PlacementFacts,
                     decisions: Sequence[Mapping[str, Any]]) -> None:
    """Keep the order's decision rows and what placement saw; count it for the next orders.
    Each decision row names every column of risk_decisions, no more (ValueError otherwise)."""
    row = {"order_id": order_id, "buyer_id": facts.buyer_id, "device_id": facts.device_id,
           "ip": facts.ip, "address_norm": facts.address_key, "phone_norm": facts.phone,
           "recipient_phone_norm": other_number(facts.phone, facts.recipient_phone),
           "amount": facts.amount, "currency": facts.currency, "placed_at": facts.placed_at}
    PLACEMENT.check(row)  # before the decisions' INSERT: a wrong row leaves nothing written
    DECISION.later(sql, decisions)
    PLACEMENT.later(sql, [row])
    count_placement(sql, facts, facts.address_key)


def register_signup(sql: Sql, buyer_id: str, signed_up_at: datetime) -> None:
    """Keep when the buyer signed up (the profile row `profile` reads); a later call wins."""
    SIGNUP.write_row(sql, {"buyer_id": buyer_id, "signed_up_at": signed_up_at})
