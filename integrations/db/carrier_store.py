"""Rows behind carrier selection: what a parcel carries (consumed holds, sku weights), the
carriers' KPIs counted from our parcels, and the stored KPIs of the last KPI job.

Functions of the unit of work's `Sql` (the ship step runs on the hot path)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from integrations.db.rows import Insert
from integrations.db.schema_fulfil import CarrierKpiRow, SkuSpecRow, WaybillCounterRow
from integrations.db.sql import Sql, in_list
from statemachine.carrier_kpi import KpiCounts
from statemachine.waybills import COUNT_MAX, waybill_key

KPIS, SPECS = CarrierKpiRow.__table__, SkuSpecRow.__table__
# upserts: a DELETE then INSERT let two writers of the same key both insert, and PostgreSQL
# refused the second with a raw UniqueViolation (two KPI runs, two people setting a weight)
KPI = Insert(KPIS, but=(), key=("carrier",),
             update=("parcels", "on_time", "loss_rate", "complaint_rate", "computed_at"))
SPEC = Insert(SPECS, but=(), key=("sku",), update=("weight_g",))


def parcel_lines(sql: Sql, order_id: int, warehouse: str) -> list[tuple[int, int, int]]:
    """(line no, quantity, unit weight in g, 0 if unknown) of the order's consumed holds at
    `warehouse`: what its parcel from there carries."""
    return [tuple(r) for r in sql.all(
        "SELECT h.line_no, h.quantity, COALESCE(s.weight_g, 0) FROM stock_holds h LEFT JOIN "
        "sku_specs s ON s.sku = h.sku WHERE h.order_id = :o AND h.warehouse = :wh AND "
        "h.status = 'consumed'", {"o": order_id, "wh": warehouse})]


# the counts statemachine/carrier_kpi.py defines, one row per carrier name as stored. A parcel
# has at most one claim (parcel_claims.shipment_id is unique): the join never counts it twice
KPI_COUNTS = (
    "SELECT s.carrier, COUNT(*), "
    "SUM(CASE WHEN s.promised_by IS NOT NULL AND (s.state IN ('delivered', 'lost') OR "
    "(s.state != 'returned_to_sender' AND s.promised_by < :as_of)) THEN 1 ELSE 0 END), "
    "SUM(CASE WHEN s.state = 'delivered' AND s.last_scan_at <= s.promised_by "
    "THEN 1 ELSE 0 END), "
    "SUM(CASE WHEN s.state IN ('delivered', 'lost', 'returned_to_sender') THEN 1 ELSE 0 END), "
    "SUM(CASE WHEN s.state = 'lost' THEN 1 ELSE 0 END), "
    "SUM(CASE WHEN s.state = 'delivered' THEN 1 ELSE 0 END), "
    "SUM(CASE WHEN s.state = 'delivered' AND c.kind = 'damaged' THEN 1 ELSE 0 END), "
    "SUM(CASE WHEN EXISTS (SELECT 1 FROM transition_history h WHERE h.order_id = s.order_id "
    "AND h.entity = 'shipment' AND h.entity_id = s.id AND h.trigger = 'stall') "
    "THEN 1 ELSE 0 END) "
    "FROM shipments s LEFT JOIN parcel_claims c ON c.shipment_id = s.id "
    "WHERE s.created_at >= :start AND s.purpose != 'return' {until}GROUP BY s.carrier")


def kpi_counts(sql: Sql, start: datetime, end: datetime | None, as_of: datetime
               ) -> list[tuple[str, KpiCounts]]:
    """Per carrier name as stored, the KPI counts of the parcels handed over in [start, end)
    (end None: to this day), promises judged as of `as_of` (statemachine/carrier_kpi.py says
    what each one counts)."""
    until = "" if end is None else "AND s.created_at < :end "
    return [(r[0], KpiCounts(*(int(n or 0) for n in r[1:]))) for r in sql.all(
        KPI_COUNTS.format(until=until), {"start": start, "end": end, "as_of": as_of})]


def replace_kpis(sql: Sql, rows: Iterable[Mapping[str, Any]]) -> None:
    """The KPI table becomes these rows, each naming every column of carrier_kpis (carrier,
    parcels, on_time, loss_rate, complaint_rate, computed_at), no more (ValueError otherwise)."""
    rows = list(rows)
    for row in rows:  # before the DELETE: a wrong row leaves the last job's KPIs in place
        KPI.check(row)
    where, params = in_list("carrier", [row["carrier"] for row in rows])  # none: 1 = 0
    sql.run(f"DELETE FROM carrier_kpis WHERE NOT ({where})", params)  # carriers gone
    KPI.write(sql, rows)


def stored_kpis(sql: Sql) -> list[tuple[str, int, float | None, float | None, float | None]]:
    """(carrier, parcels, on time, loss rate, complaint rate) as of the last KPI job."""
    return [tuple(r) for r in sql.all(
        "SELECT carrier, parcels, on_time, loss_rate, complaint_rate FROM carrier_kpis")]


def set_weight(sql: Sql, sku: str, weight_g: int) -> None:
    SPEC.write_row(sql, {"sku": sku, "weight_g": weight_g})


# one statement: the row is created or locked and moved on, its new value returned (SQLite
# ≥ 3.35 and PostgreSQL); two processes asking at once get two numbers. Never past a BIGINT:
# at 2**63 - 1 no row comes back (SQLite's + 1 there gave a REAL, 2**63, again and again — one
# number handed out twice — and PostgreSQL's refused as "bigint out of range")
NEXT_WAYBILL = ("INSERT INTO waybill_counters (prefix, last_no) VALUES (:p, 1) "
                "ON CONFLICT (prefix) DO UPDATE SET last_no = waybill_counters.last_no + 1 "
                f"WHERE waybill_counters.last_no < {COUNT_MAX} RETURNING last_no")


def next_waybill_no(sql: Sql, prefix: str) -> int | None:
    """The next waybill number under `prefix` on this store (1, 2, … per prefix); None when
    the prefix's counter is at its end (2**63 - 1: every number was handed out)."""
    row = sql.one(NEXT_WAYBILL, {"p": prefix})
    return None if row is None else int(row[0])


# A number the simulated carrier could hand out (carriers/simulated.py: its prefix, the name in
# capitals, a dash and the count in 7 or more digits, SIM-EXPRESS-0000042), in any case: the
# prefix is compared by its key (statemachine/waybills.py: sf-0000050 is SF-0000050), as
# migration 0032 reads them. A prefix with another lower-case letter left (no adapter writes
# one), longer than the counter's column, or a count past a BIGINT is never the adapter's
SIMULATED_NUMBER = re.compile(r"(?P<prefix>.+)-(?P<count>[0-9]{7,})", re.DOTALL)
PREFIX_MAX = WaybillCounterRow.__table__.c.prefix.type.length
# the counter moves past a number, never back; created at it when the prefix had none. Two
# statements, not one upsert: PostgreSQL locks the row an ON CONFLICT DO UPDATE meets even when
# its WHERE declines to update it, and the lock would be held until the ship commits — every
# adapter numbering that prefix meanwhile would wait. This way a counter already past the
# number is neither written nor locked (the INSERT first: a prefix created between the two by
# the adapter is then moved on by the UPDATE)
PASS = ("INSERT INTO waybill_counters (prefix, last_no) VALUES (:p, :n) "
        "ON CONFLICT (prefix) DO NOTHING",
        "UPDATE waybill_counters SET last_no = :n WHERE prefix = :p AND last_no < :n")


def simulated_count(tracking_no: str) -> tuple[str, int] | None:
    """(prefix, count) when the simulated carrier could hand out `tracking_no`, else None."""
    found = SIMULATED_NUMBER.fullmatch(tracking_no)
    if found is None:
        return None
    prefix, count = waybill_key(found["prefix"]), int(found["count"])
    if prefix != prefix.upper() or len(prefix) > PREFIX_MAX or count > COUNT_MAX:
        return None
    return prefix, count


def pass_waybills(sql: Sql, tracking_numbers: Iterable[str]) -> None:
    """Move the waybill counters past these numbers of new parcels, in their transaction: a
    number typed by a person (a label bought at the counter: SF-0000050 under any carrier) or
    given by a replay or an import is never handed out again by the adapter. One row per
    prefix, in prefix order (two writers lock counters in one order: no circle)."""
    highest: dict[str, int] = {}
    for number in tracking_numbers:
        if (found := simulated_count(number)) is not None:
            highest[found[0]] = max(highest.get(found[0], 0), found[1])
    rows = [{"p": p, "n": n} for p, n in sorted(highest.items())]
    for statement in PASS:
        sql.later(statement, rows)
