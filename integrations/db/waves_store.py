"""The rows of pick waves: waves, their orders (position, outcome), the paid orders waiting
for one, and the units a wave picks. Functions of the unit of work's `Sql`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from integrations.db import turns
from integrations.db.rows import Insert
from integrations.db.schema_fulfil import WaveOrderRow, WaveRow
from integrations.db.sql import Sql, in_list
from statemachine import ids

WAVES, MEMBERS = WaveRow.__table__, WaveOrderRow.__table__
WAVE = Insert(WAVES, but=("id", "released_by", "released_at"))  # those at release
MEMBER = Insert(MEMBERS, but=("outcome",))  # set at release

WAVE_COLS = ("id, warehouse, carrier, cutoff_at, state, created_by, created_at, released_by, "
             "released_at")


def create(sql: Sql, warehouse: str, carrier: str, cutoff: datetime, actor: str,
           at: datetime, order_ids: Sequence[int]) -> int:
    """A new open wave holding these orders in this order; returns its number."""
    row = {"warehouse": warehouse, "carrier": carrier, "cutoff_at": cutoff, "state": "open",
           "created_by": actor, "created_at": at}
    wave_id = WAVE.write_id(sql, row)
    MEMBER.write(sql, [{"wave_id": wave_id, "order_id": o, "warehouse": warehouse,
                        "position": n} for n, o in enumerate(order_ids, start=1)])
    return wave_id


def waiting(sql: Sql, warehouse: str) -> list[tuple[int, datetime, dict[str, Any]]]:
    """Paid orders with sold stock in this warehouse that are in no wave there yet:
    (order, when it was paid, its attrs). On PostgreSQL the warehouse's wave lock is taken
    first (held to the end of the transaction), so two leads creating waves at once take
    turns and the second sees the first's members; both took the same orders before, and the
    second INSERT hit (order_id, warehouse). SQLite's writers take turns anyway."""
    turns.take(sql, [turns.turn_key(f"wave:{warehouse}")])
    rows = sql.all(
        "SELECT o.id, o.attrs FROM orders o WHERE o.state = 'paid' AND EXISTS (SELECT 1 FROM "
        "stock_holds h WHERE h.order_id = o.id AND h.warehouse = :wh AND h.status = 'consumed')"
        " AND NOT EXISTS (SELECT 1 FROM wave_orders w WHERE w.order_id = o.id AND "
        "w.warehouse = :wh)",
        {"wh": warehouse})
    if not rows:
        return []
    where, params = in_list("order_id", [r[0] for r in rows])
    paid_at = dict(sql.all(
        "SELECT order_id, MAX(at) FROM transition_history WHERE entity = 'order' AND "
        f"trigger = 'pay' AND {where} GROUP BY order_id", params))
    return [(r[0], sql.when(paid_at[r[0]]), sql.doc(r[1]) or {}) for r in rows]


def set_outcome(sql: Sql, wave_id: int, order_id: int, outcome: str) -> None:
    sql.run("UPDATE wave_orders SET outcome = :out WHERE wave_id = :w AND order_id = :o",
            {"out": outcome, "w": wave_id, "o": order_id})


def mark_released(sql: Sql, wave_id: int, actor: str, at: datetime) -> None:
    sql.run("UPDATE waves SET state = 'released', released_by = :a, released_at = :at "
            "WHERE id = :id", {"a": actor, "at": at, "id": wave_id})


def wave(sql: Sql, wave_id: int) -> dict[str, Any] | None:
    """The wave (columns `WAVE_COLS`, its order ids in position order, their outcomes)."""
    row = sql.one(f"SELECT {WAVE_COLS} FROM waves WHERE id = :id", {"id": wave_id})
    return None if row is None else _wave(sql, row)


def waves(sql: Sql, state: str | None = None) -> list[dict[str, Any]]:
    """Every wave (in that state), by cut-off."""
    where = "WHERE state = :s " if state else ""
    return [_wave(sql, r) for r in sql.all(
        f"SELECT {WAVE_COLS} FROM waves {where}ORDER BY cutoff_at, id", {"s": state})]


def _wave(sql: Sql, row: tuple) -> dict[str, Any]:
    found = dict(zip(WAVE_COLS.split(", "), row, strict=True))
    for key in ("cutoff_at", "created_at", "released_at"):
        found[key] = sql.when(found[key])
    members = sql.all("SELECT order_id, outcome FROM wave_orders WHERE wave_id = :w "
                      "ORDER BY position", {"w": found["id"]})
    found["order_ids"] = [m[0] for m in members]
    found["outcomes"] = {ids.ORDER(m[0]): m[1] for m in members if m[1]}
    return found


def units(sql: Sql, order_ids: Sequence[int], warehouse: str) -> list[tuple[str, int, int]]:
    """(sku, order, units) sold from this warehouse to these orders, by sku then order."""
    where, params = in_list("order_id", list(order_ids))
    return [tuple(r) for r in sql.all(
        f"SELECT sku, order_id, SUM(quantity) FROM stock_holds WHERE {where} AND warehouse = :wh"
        " AND status = 'consumed' GROUP BY sku, order_id ORDER BY sku, order_id",
        {**params, "wh": warehouse})]


def in_a_wave(sql: Sql, order_id: int) -> bool:
    """Whether the order was put into a pick wave (open or released)."""
    return sql.one("SELECT 1 FROM wave_orders WHERE order_id = :o", {"o": order_id}) is not None
