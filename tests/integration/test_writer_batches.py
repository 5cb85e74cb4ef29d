"""The one writer: a batch of one (the single-call API) and a batch of many leave the same rows.

`Writer.apply` lists its parts once and a batch of one goes through them (writer.py); these
tests drive the same steps over three orders once as one batch per step and once as three
batches of one, on two stores, check both sizes took the same parts in order, and compare every
lifecycle table (surrogate ids aside: the same rows are appended in the same order per order,
and the orders are moved in the same order)."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from integrations.db import writer as writer_module
from integrations.db.sql import to_json
from integrations.db.writer import Change, event_json, event_payload
from integrations.service import pipeline
from integrations.service.inputs import ORDER_PARAMS, Empty, trigger_params
from integrations.service.kinds import ORDER, SHIPMENT
from orderpilot import ManualClock, OrderPilot
from statemachine.lifecycle import Fired
from statemachine.risk_port import approve_everything

T0 = datetime(2026, 11, 11, 9, 0, tzinfo=UTC)
ADDRESS = {"street": "文三路 18 号", "city": "杭州市", "district": "西湖区", "province": "浙江省"}
STEPS = ("pay", "start_picking", "pack", "ship")
PARTS = ("_save", "_stock", "_deadlines", "_record")  # the writer's parts, in lock order
TABLES = {  # what is compared, ordered without surrogate ids where rows are appended
    "orders": "SELECT * FROM orders ORDER BY id",
    "order_lines": "SELECT * FROM order_lines ORDER BY order_id, line_no",
    "shipments": "SELECT * FROM shipments ORDER BY id",
    "transition_history": "SELECT entity, entity_id, order_id, trigger, from_state, to_state, "
                          "actor, at, payload FROM transition_history ORDER BY order_id, id",
    "outbox": "SELECT event, entity, entity_id, order_id, payload, created_at FROM outbox "
              "ORDER BY order_id, id",
    "deadlines": "SELECT kind, entity, entity_id, order_id, due_at FROM deadlines "
                 "ORDER BY kind, entity, entity_id",
    "stock_holds": "SELECT order_id, line_no, sku, warehouse, quantity, status FROM stock_holds "
                   "ORDER BY order_id, line_no",
    "inventory": "SELECT * FROM inventory ORDER BY sku, warehouse",
}


def _shop(url: str) -> tuple[OrderPilot, list[int]]:
    pilot = OrderPilot(url, clock=ManualClock(T0), risk_check=approve_everything)
    pilot.inventory.receive(sku="SKU-1", warehouse="WH-1", quantity=10)
    placed = [pilot.orders.place(buyer_id=f"b-{n}", shipping_address=ADDRESS,
                                 lines=[{"sku": "SKU-1", "quantity": 1 + n, "unit_price": 1999}])
              for n in range(3)]
    return pilot, [int(o.id.removeprefix("o-")) for o in placed]


def _params(trigger: str, order) -> dict:
    given = {"amount": order.total, "payment_ref": f"p-{order.id}"} if trigger == "pay" else {}
    return trigger_params(trigger, list(ORDER_PARAMS), ORDER_PARAMS, Empty, given)


def _drive(pilot: OrderPilot, numbers: list[int], batched: bool) -> None:
    """The happy path to delivery, each step over every order: one batch, or one per order."""
    ctx = pilot.context
    for i, trigger in enumerate(STEPS):
        at = T0 + timedelta(minutes=i + 1)
        with ctx.tx() as tx:
            orders = [tx.store.get_order(n, lock=True) for n in numbers]
            moves = [pipeline.Move(o, trigger, at, "api", _params(trigger, o))
                     for o in orders]
            for part in ([moves] if batched else [[m] for m in moves]):
                pipeline.run(ctx, tx, ORDER, part, refuse=False)
    for i, trigger in enumerate(("pick_up", "deliver")):
        at = T0 + timedelta(hours=i + 1)
        with ctx.tx() as tx:
            parcels = [p for n in numbers for p in tx.store.shipments_of(n)]
            moves = [pipeline.Move(p, trigger, at, "carrier") for p in parcels]
            for part in ([moves] if batched else [[m] for m in moves]):
                pipeline.run(ctx, tx, SHIPMENT, part, refuse=False)


def _watch_parts(monkeypatch) -> list[tuple[int, list[str]]]:
    """(batch size, the writer's parts called for it) of each `Writer.apply` from now on."""
    calls: list[tuple[int, list[str]]] = []
    real_apply = writer_module.Writer.apply

    def apply(self, changes):
        calls.append((len(changes), []))
        return real_apply(self, changes)

    def watched(name, real):
        return lambda self, *args: (calls[-1][1].append(name), real(self, *args))[1]

    monkeypatch.setattr(writer_module.Writer, "apply", apply)
    for name in PARTS:
        monkeypatch.setattr(writer_module.Writer, name,
                            watched(name, getattr(writer_module.Writer, name)))
    return calls


def _rows(url: str) -> dict[str, list[tuple]]:
    engine = create_engine(url)
    with engine.connect() as conn:
        found = {name: [tuple(r) for r in conn.execute(text(sql))]
                 for name, sql in TABLES.items()}
    engine.dispose()
    return found


def test_a_batch_of_one_writes_what_a_batch_of_many_writes(tmp_path: Path, sqlite_url: str,
                                                           monkeypatch):
    # Given two copies of one store, each with the same three orders placed
    other = tmp_path / "other.db"
    shutil.copyfile(sqlite_url.removeprefix("sqlite:///"), other)
    one_url, many_url = sqlite_url, f"sqlite:///{other}"
    singles, batches = _shop(one_url), _shop(many_url)
    calls = _watch_parts(monkeypatch)
    # When the same steps run as batches of one on the first and as batches of three on the
    # second (ship also creates each order's parcel; delivering the parcel delivers the order)
    _drive(*singles, batched=False)
    _drive(*batches, batched=True)
    singles[0].close()
    batches[0].close()
    # Then both sizes were written, each through the same parts in the same order,
    sizes = [size for size, _ in calls]
    assert 1 in sizes and max(sizes) >= 3
    assert {tuple(parts) for _, parts in calls} == {PARTS}
    # and every lifecycle table holds the same rows
    one, many = _rows(one_url), _rows(many_url)
    for table in TABLES:
        assert one[table] == many[table], table
    assert one["transition_history"][-1][3:6] == ("deliver", "shipped", "delivered")


@pytest.mark.parametrize("data", [
    {"buyer_id": "b-1", "state": "paid", "total": 3998},
    {"state": "paid", "details": "the entity's own details key"},  # the slow, general way
    {}])
def test_an_outbox_event_spliced_from_the_history_payload_is_the_encoded_event(data):
    fired = Fired("order", "o-7", "pay", "awaiting_payment", "paid", "paid", T0, "api",
                  {"amount": 3998, "note": "付款 ✓", "at": T0, "nested": {"k": [1, None]}})
    change = Change(object(), fired, 7, data)
    assert event_json(change, to_json(fired.payload)) == to_json(event_payload(change))
