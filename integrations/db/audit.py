"""The store's invariants, checked from the rows alone: what must hold after any mix of commands.

Used by the race suite after every trial, by the contention benchmark, and by operators
(`orderpilot db check`). Each finding is one sentence naming the row and what is wrong; an
empty list means the store is consistent:

- stock: `reserved` equals the live holds of each sku × warehouse, nothing is negative;
- money: refunded ≤ paid on every order, and cases never refunded more than the order did;
- history: each entity's transitions form one unbroken chain ending in its current state,
  one row per version step, and each transition has exactly one outbox event;
- timers: every entity keeps exactly the deadlines its lifecycle declares for its state (the
  step tables' `Timer`s; a review or after-sales SLA that already fired is announced in the
  outbox instead of kept, a parcel's promise may have passed, a return label has no pickup
  deadline, a dispute without an evidence due date no evidence alert);
- parcels: a shipped order still awaits a parcel; a delivered one awaits none (its own
  parcels: a case's return, replacement or repaired parcels are the case's).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection

from integrations.db.sql import Sql
from statemachine import ids
from statemachine.aftersales import CASE_LIFECYCLE
from statemachine.dispute import DISPUTE_LIFECYCLE
from statemachine.lifecycle import Lifecycle
from statemachine.order import ORDER_LIFECYCLE
from statemachine.shipment import SHIPMENT_LIFECYCLE

LIFECYCLES: dict[str, Lifecycle] = {"order": ORDER_LIFECYCLE, "shipment": SHIPMENT_LIFECYCLE,
                                    "case": CASE_LIFECYCLE, "dispute": DISPUTE_LIFECYCLE}

# timers that may be absent while their state lasts: the promise (none made, or passed), the
# capture of an authorisation (only an order paid on one keeps it, until the capture is
# recorded) and the SLAs that fired already (announced in the outbox instead)
MAY_BE_ABSENT = {"promised_delivery", "authorisation_expiry"}
# … and per kind of aggregate: a return label waits for the buyer to hand the parcel in, with
# no pickup deadline (statemachine.shipment.pickup_due)
PURPOSE = {"shipment": "purpose"}
ABSENT_FOR = {("shipment", "return"): {"pickup_due"}}
# … and per row: a dispute the provider gave no evidence due date (its bank allows no answer:
# Stripe's due_by null or 0) has nothing to alert before (statemachine.dispute.evidence_alert_due)
UNDATED = {"dispute": ("evidence_due_by", "dispute_evidence")}
FIRED_SIGNALS = {("order", "review_sla"): "orderpilot.order.review_overdue",
                 ("case", "aftersales_sla"): "orderpilot.case.sla_breached",
                 ("dispute", "dispute_evidence"): "orderpilot.dispute.evidence_due_soon"}
TABLES = {"order": "orders", "shipment": "shipments", "case": "aftersales_cases",
          "claim": "parcel_claims", "dispute": "disputes"}
PREFIX = {"order": "o", "shipment": "s", "case": "c", "claim": "cl", "dispute": "d"}


def audit(connection: Connection, order_ids: Iterable[int] | None = None) -> list[str]:
    """Every invariant violation in the store (or among these orders and their children)."""
    sql = Sql(connection)
    scope = None if order_ids is None else sorted(set(order_ids))
    return [*_stock(sql), *_money(sql, scope), *_history(sql, scope), *_timers(sql, scope),
            *_parcels(sql, scope)]


def _where(column: str, scope: list[int] | None, joiner: str = "WHERE") -> str:
    if scope is None:
        return ""
    return f" {joiner} {column} IN ({', '.join(str(int(n)) for n in scope) or 'NULL'})"


def _stock(sql: Sql) -> list[str]:
    live: Counter[tuple[str, str]] = Counter()
    for sku, wh, q in sql.all("SELECT sku, warehouse, SUM(quantity) FROM stock_holds "
                              "WHERE status = 'held' GROUP BY sku, warehouse"):
        live[(sku, wh)] = int(q)
    found = []
    for sku, wh, on_hand, reserved in sql.all("SELECT sku, warehouse, on_hand, reserved "
                                              "FROM inventory ORDER BY sku, warehouse"):
        held = live.pop((sku, wh), 0)
        if reserved != held:
            found.append(f"inventory {sku}@{wh}: reserved {reserved} but live holds {held}")
        if on_hand < 0 or reserved < 0:
            found.append(f"inventory {sku}@{wh}: negative (on_hand {on_hand}, "
                         f"reserved {reserved})")
    found += [f"holds on {sku}@{wh} ({q}) have no inventory row" for (sku, wh), q in live.items()]
    return found


def _money(sql: Sql, scope: list[int] | None) -> list[str]:
    found = [f"order {ids.ORDER(n)}: refunded {refunded} > paid {paid}"
             for n, paid, refunded in sql.all(
        "SELECT id, paid, refunded FROM orders WHERE refunded > paid"
        + _where("id", scope, "AND"))]
    found += [f"order {ids.ORDER(n)}: cases refunded {cases} > order refunded {refunded}"
              for n, refunded, cases in sql.all(
                  "SELECT o.id, o.refunded, SUM(c.refunded) FROM orders o JOIN aftersales_cases"
                  " c ON c.order_id = o.id" + _where("o.id", scope) +
                  " GROUP BY o.id, o.refunded HAVING SUM(c.refunded) > o.refunded")]
    return found


def _history(sql: Sql, scope: list[int] | None) -> list[str]:
    chains: dict[tuple[str, int], list[tuple[Any, ...]]] = defaultdict(list)
    for row in sql.all("SELECT entity, entity_id, trigger, from_state, to_state FROM "
                       "transition_history" + _where("order_id", scope) + " ORDER BY id"):
        chains[(row[0], row[1])].append(row[2:])
    outbox: Counter[tuple[str, int, str, str]] = Counter()
    for entity, entity_id, payload in sql.all(
            "SELECT entity, entity_id, payload FROM outbox" + _where("order_id", scope)):
        body = sql.doc(payload)
        if "trigger" in body and "to_state" in body:
            outbox[(entity, entity_id, body["trigger"], body["to_state"])] += 1
    found = []
    for entity, table in TABLES.items():
        for number, state, version in sql.all(
                f"SELECT id, state, version FROM {table}"
                + _where("order_id" if entity != "order" else "id", scope)):
            found += _chain(f"{entity} {PREFIX[entity]}-{number}", state, version,
                            chains.pop((entity, number), []))
    found += [f"history of unknown {entity} #{number}" for entity, number in chains]
    history: Counter[tuple[str, int, str, str]] = Counter()
    for row in sql.all("SELECT entity, entity_id, trigger, to_state FROM transition_history"
                       + _where("order_id", scope)):
        history[tuple(row)] += 1
    for key in history.keys() | outbox.keys():
        if history[key] != outbox[key]:
            found.append(f"{key[0]} #{key[1]} {key[2]}→{key[3]}: {history[key]} history "
                         f"row(s) but {outbox[key]} outbox event(s)")
    return found


def _chain(name: str, state: str, version: int, rows: list[tuple[Any, ...]]) -> list[str]:
    if not rows:
        return [f"{name}: no history"]
    found = []
    if rows[0][1] is not None:
        found.append(f"{name}: history starts at {rows[0][1]}, not at creation")
    for before, after in zip(rows, rows[1:], strict=False):
        if after[1] != before[2]:
            found.append(f"{name}: history jumps from {before[2]} to {after[0]} "
                         f"from {after[1]}")
    if rows[-1][2] != state:
        found.append(f"{name}: history ends in {rows[-1][2]} but the row says {state}")
    if len(rows) != version:
        found.append(f"{name}: version {version} but {len(rows)} history row(s)")
    return found


def _timers(sql: Sql, scope: list[int] | None) -> list[str]:
    kept: dict[tuple[str, int], Counter[str]] = defaultdict(Counter)
    for entity, entity_id, kind in sql.all("SELECT entity, entity_id, kind FROM deadlines"
                                           + _where("order_id", scope)):
        kept[(entity, entity_id)][kind] += 1
    fired = {(e, n, ev) for e, n, ev in sql.all(
        "SELECT o.entity, o.entity_id, o.event FROM outbox o WHERE o.event IN ("
        + ", ".join(f"'{event}'" for event in FIRED_SIGNALS.values()) + ")"
        + _where("o.order_id", scope, "AND"))}
    found = []
    for entity, lifecycle in LIFECYCLES.items():
        dated, undated_kind = UNDATED.get(entity, ("1", ""))
        for number, state, purpose, due in sql.all(
                f"SELECT id, state, {PURPOSE.get(entity, 'NULL')}, {dated} FROM "
                f"{TABLES[entity]}" + _where("order_id" if entity != "order" else "id", scope)):
            have = kept.pop((entity, number), Counter())
            implied = {t.kind.value for t in lifecycle.timers
                       if state in {s.value for s in t.states}}
            absent = MAY_BE_ABSENT | ABSENT_FOR.get((entity, purpose), set()) \
                | ({undated_kind} if due is None else set())
            need = {kind for kind in implied - absent if not (
                (entity, kind) in FIRED_SIGNALS and not have[kind]
                and (entity, number, FIRED_SIGNALS[(entity, kind)]) in fired)}
            name = f"{entity} {PREFIX[entity]}-{number} ({state})"
            found += [f"{name}: {kind} timer missing" for kind in sorted(need - set(have))]
            found += [f"{name}: unexpected {kind} timer" for kind in sorted(set(have) - implied)]
            found += [f"{name}: {kind} timer kept {n} times" for kind, n in have.items() if n > 1]
    found += [f"timer for unknown {entity} #{number}" for entity, number in kept]
    found += _hold_due(sql, scope)
    return found


def _hold_due(sql: Sql, scope: list[int] | None) -> list[str]:
    return [f"order {ids.ORDER(n)}: hold expiry timer due {sql.when(due)}, hold runs until "
            f"{sql.when(until)}" for n, due, until in sql.all(
                "SELECT o.id, d.due_at, o.hold_expires_at FROM orders o JOIN deadlines d ON "
                "d.entity = 'order' AND d.entity_id = o.id AND d.kind = 'hold_expiry'"
                + _where("o.id", scope))
            if sql.when(due) != sql.when(until)]


def _parcels(sql: Sql, scope: list[int] | None) -> list[str]:
    settled = {r[0] for r in sql.all("SELECT shipment_id FROM parcel_claims WHERE kind IN "
                                     "('lost', 'returned')" + _where("order_id", scope, "AND"))}
    awaited: Counter[int] = Counter()
    parcels: Counter[int] = Counter()
    # after-sales parcels (return / replacement / repaired) are their case's, not the order's
    for number, order_id, state in sql.all("SELECT id, order_id, state FROM shipments WHERE "
                                           "purpose = 'order'" + _where("order_id", scope,
                                                                        "AND")):
        parcels[order_id] += 1
        if state != "delivered" and number not in settled:
            awaited[order_id] += 1
    found = []
    for number, state in sql.all("SELECT id, state FROM orders WHERE state IN "
                                 "('shipped', 'delivered')" + _where("id", scope, "AND")):
        if state == "shipped" and parcels[number] and not awaited[number]:
            found.append(f"order {ids.ORDER(number)} is shipped but awaits no parcel")
        if state == "delivered" and awaited[number]:
            found.append(f"order {ids.ORDER(number)} is delivered but awaits {awaited[number]} "
                         "parcel(s)")
    return found

