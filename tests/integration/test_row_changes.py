"""The writer's UPDATE names only the columns a step changed (integrations/db/row_changes.py).

An order's `attrs` document is decoded on first read and written only when it was read or
replaced; the scalar columns are compared with what the row held when read, or last written in
the same unit of work. The stored document is observed through its text: a row whose document
is spelled with spaces (the same document) keeps that spelling when a step did not touch it,
and gets the writer's compact spelling when it did."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import create_engine, text

from integrations.db import rows
from integrations.service import pipeline
from integrations.service.kinds import ORDER
from orderpilot import ManualClock, OrderPilot
from statemachine.order_aggregate import Order, OrderState
from statemachine.risk_port import approve_everything

T0 = datetime(2026, 11, 11, 9, 0, tzinfo=UTC)
ADDRESS = {"street": "文三路 18 号", "city": "杭州市", "district": "西湖区", "province": "浙江省"}


def _paid_order(url: str) -> tuple[OrderPilot, str]:
    """A paid order whose stored document is spelled with spaces (json.dumps' default)."""
    pilot = OrderPilot(url, clock=ManualClock(T0), risk_check=approve_everything)
    pilot.inventory.receive(sku="SKU-1", warehouse="WH-1", quantity=5)
    order = pilot.orders.place(buyer_id="b-1", shipping_address=ADDRESS,
                               lines=[{"sku": "SKU-1", "quantity": 1, "unit_price": 1999}])
    pilot.orders.fire(order.id, "pay", amount=order.total, payment_ref="p-1")
    _spell_with_spaces(url)
    return pilot, order.id


def _spell_with_spaces(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        stored = conn.execute(text("SELECT attrs FROM orders WHERE id = 1")).scalar_one()
        document = json.loads(stored) if isinstance(stored, str) else stored
        conn.execute(text("UPDATE orders SET attrs = :a WHERE id = 1"),
                     {"a": json.dumps(document, ensure_ascii=False)})
    engine.dispose()


def _stored(url: str) -> tuple[str, str, int]:
    engine = create_engine(url)
    with engine.connect() as conn:
        found = conn.execute(text("SELECT CAST(attrs AS TEXT), state, version FROM orders "
                                  "WHERE id = 1")).one()
    engine.dispose()
    return tuple(found)


def test_a_step_that_never_reads_the_document_leaves_it_as_stored(any_url):
    # Given a paid order whose document is stored spelled with spaces
    pilot, order_id = _paid_order(any_url)
    before, _, version = _stored(any_url)
    assert ": " in before
    # When a step that does not read it fires (its view reads it after the write)
    view = pilot.orders.fire(order_id, "start_picking")
    pilot.close()
    # Then the state and version moved and the document is the stored text, not rewritten
    after, state, moved = _stored(any_url)
    assert (state, moved) == ("picking", version + 1)
    assert after == before
    assert view.shipping_address["city"] == "杭州市" and view.risk["action"] == "approve"


def test_a_document_read_or_replaced_by_a_step_is_written(any_url):
    # Given the paid order, loaded in a unit of work
    pilot, _ = _paid_order(any_url)
    ctx = pilot.context
    with ctx.tx() as tx:
        order = tx.store.get_order(1, lock=True)
        assert isinstance(order, rows.StoredOrder)
        # When its document is replaced whole (no read before) and a step fires
        order.attrs = {**json.loads(_stored(any_url)[0]), "note": "賬單"}
        pipeline.run(ctx, tx, ORDER, [pipeline.Move(order, "start_picking", T0, "api")],
                     refuse=False)
    # Then the new document is stored, in the writer's compact spelling
    after, state, _ = _stored(any_url)
    assert state == "picking" and json.loads(after)["note"] == "賬單" and ": " not in after
    # And a step whose document was only changed in place is written too
    _spell_with_spaces(any_url)
    with ctx.tx() as tx:
        order = tx.store.get_order(1, lock=True)
        order.attrs["note"] = "改"
        pipeline.run(ctx, tx, ORDER, [pipeline.Move(order, "pack", T0, "api")], refuse=False)
    pilot.close()
    after, state, _ = _stored(any_url)
    assert state == "packed" and json.loads(after)["note"] == "改"


def test_a_second_write_in_one_unit_compares_with_what_the_first_wrote(any_url):
    # Given the paid order, loaded once in a unit of work
    pilot, _ = _paid_order(any_url)
    ctx = pilot.context
    with ctx.tx() as tx:
        order = tx.store.get_order(1, lock=True)
        # When a step moves it on, and the aggregate is then set back to the state it was
        # read in and written again in the same unit of work
        pipeline.run(ctx, tx, ORDER, [pipeline.Move(order, "start_picking", T0, "api")],
                     refuse=False)
        order.state = OrderState.PAID
        tx.writer._update(rows.ORDERS, "order", [(order, 1, T0 + timedelta(seconds=1))],
                          _times(tx))
    pilot.close()
    # Then the row holds the state written last (the one it was read in), not the first write's
    assert _stored(any_url)[1:] == ("paid", 5)


def _times(tx):
    from integrations.db.sql import Times

    return Times(tx.store.sql)


class _Cells:
    """Reads cells as Sql does (the loader needs `when` and `doc` only)."""

    when = staticmethod(lambda cell: cell)
    doc = staticmethod(lambda cell: cell)


def test_changed_names_the_columns_a_step_changed_and_none_for_an_order_not_read():
    row = (7, "b-1", "paid", 3, "CNY", 1999, 1999, 0, "p-1", None, '{"risk": {"score": 1}}', T0)
    assert rows.ORDERS.columns == ("id", "buyer_id", "state", "version", "currency", "total",
                                   "paid", "refunded", "payment_ref", "hold_expires_at",
                                   "attrs", "created_at")
    order = rows.ORDERS.load(_Cells, row, lines=[])
    assert rows.ORDERS.changed(order, str) == {}
    order.state, order.refunded = OrderState.PICKING, 100
    assert rows.ORDERS.changed(order, str) == {"state": "picking", "refunded": 100}
    assert rows.ORDERS.changes(order, str)["attrs"] == '{"risk": {"score": 1}}'  # as stored
    assert order.attrs == {"risk": {"score": 1}}  # read: written from now on
    assert rows.ORDERS.changed(order, str)["attrs"] == '{"risk":{"score":1}}'
    plain = Order(id=8, buyer_id="b-2", state=OrderState.PAID, version=1, currency="CNY",
                  total=1, lines=[], created_at=T0)
    assert rows.ORDERS.changed(plain, str) is None
