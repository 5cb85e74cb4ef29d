"""The default gateway reads payments made elsewhere from the store (`AdoptingGateway`'s book,
weakly bound to the context that opened it). It must keep the book of the pilot's own context:
a copy's book dies with the copy. Before, each `dataclasses.replace` copy of a context bound
its own book again, and the lazily built gateway (payments/deferred.py) kept the book of the
copy alive when it was built: once the copy was gone every later refund of late money was
refused ("no payment … captured") — found by the payment race tests. Now only the context that
opened the store binds; copies never do. Both stores."""

from __future__ import annotations

import gc
from dataclasses import replace
from typing import Any

import pytest

from integrations.payments.simulated import AdoptingGateway
from integrations.service.context import Context
from orderpilot import OrderPilot
from statemachine.risk_port import approve_everything
from tests.integration.races.actions import provider_captured

ADDRESS = {"street": "文三路 18 号", "city": "杭州市", "district": "西湖区", "province": "浙江省"}


def refunds(shop: OrderPilot) -> dict[str, tuple[str, str | None]]:
    with shop.context.tx(readonly=True) as tx:
        rows = tx.store.sql.all("SELECT idem_key, status, error FROM payment_operations "
                                "WHERE kind = 'refund'", {})
    return {str(r[0]): (str(r[1]), r[2]) for r in rows}


def test_late_money_is_refunded_after_the_copy_that_built_the_gateway_is_gone(any_url, clock):
    shop = OrderPilot(any_url, clock=clock, risk_check=approve_everything)
    shop.inventory.receive(sku="SKU-1", warehouse="WH-1", quantity=5)
    line = [{"sku": "SKU-1", "quantity": 1, "unit_price": 1999}]
    first = shop.orders.place(buyer_id="b-1", shipping_address=ADDRESS, lines=line)
    second = shop.orders.place(buyer_id="b-2", shipping_address=ADDRESS, lines=line)
    # Given a buyer who paid twice: the second payment is refunded by a copy of the pilot's
    # context (as a webhook with the shop's late-payment policy runs), which builds the gateway
    provider_captured(shop, first.id, "wx-1", 1999, clock.now().isoformat())
    provider_captured(shop, first.id, "alipay-2", 1999, clock.now().isoformat())
    gc.collect()  # the copy is gone
    # When another order's hold expires and its money arrives late
    clock.advance(minutes=40)
    shop.sweep()
    provider_captured(shop, second.id, "alipay-3", 1999, clock.now().isoformat())
    # Then both late payments were refunded by the provider, the second one too
    assert refunds(shop) == {"late-refund:simulated:alipay-2": ("succeeded", None),
                             "late-refund:simulated:alipay-3": ("succeeded", None)}
    shop.close()


class CountingBinds(AdoptingGateway):
    """The simulated provider, counting the books it is given."""

    def __init__(self) -> None:
        super().__init__()
        self.binds = 0

    def bind_book(self, book: Any) -> None:
        self.binds += 1
        super().bind_book(book)


def same_store(ctx: Context) -> Context:
    """A copy as a webhook with the shop's late-payment policy makes (the original's units)."""
    return replace(ctx, settings=ctx.settings.model_copy(update={"late_payments": "refund"}))


def other_durability(ctx: Context) -> Context:
    """A copy writing with the other SQLite durability: it opens connections of its own."""
    level = "full" if ctx.settings.sqlite_synchronous == "normal" else "normal"
    return replace(ctx, settings=ctx.settings.model_copy(update={"sqlite_synchronous": level}))


@pytest.mark.parametrize("copy_of", [same_store, other_durability])
def test_only_the_context_that_opened_the_store_binds_the_gateways_book(any_url, clock,
                                                                       copy_of):
    # Given a pilot: its context opened the store and bound the simulated provider's book
    gateway = CountingBinds()
    shop = OrderPilot(any_url, clock=clock, risk_check=approve_everything, gateway=gateway)
    assert gateway.binds == 1
    # When copies of its context are made and used
    for _ in range(3):
        with copy_of(shop.context).tx(readonly=True):
            pass
    # Then none of them bound the gateway again (before: each copy did, with its own book)
    assert gateway.binds == 1
    shop.close()


@pytest.mark.parametrize("copy_of", [same_store, other_durability])
def test_a_copy_going_away_leaves_late_money_refundable(any_url, clock, copy_of):
    # Given a pilot on the simulated provider, and an order whose hold lapsed
    shop = OrderPilot(any_url, clock=clock, risk_check=approve_everything,
                      gateway=AdoptingGateway(now=clock.now))
    shop.inventory.receive(sku="SKU-1", warehouse="WH-1", quantity=5)
    order = shop.orders.place(buyer_id="b-1", shipping_address=ADDRESS, lines=[
        {"sku": "SKU-1", "quantity": 1, "unit_price": 1999}])
    clock.advance(minutes=40)
    shop.sweep()
    # And a copy of its context, used and gone
    copy = copy_of(shop.context)
    with copy.tx(readonly=True):
        pass
    copy.close()
    del copy
    gc.collect()
    # When the buyer's money arrives late, reported through the pilot's own API
    late = shop.orders.pay(order.id, amount=1999, payment_ref="alipay-4")
    # Then the provider refunded it (before, had the gateway kept the latest book: refused,
    # "no payment alipay-4 captured", the copy's book being gone)
    assert late.outcome == "refunded"
    assert refunds(shop) == {"late-refund:payments:alipay-4": ("succeeded", None)}
    shop.close()
