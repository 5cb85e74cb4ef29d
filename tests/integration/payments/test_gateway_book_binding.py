"""The default gateway reads payments made elsewhere from the store (`AdoptingGateway`'s book,
weakly bound to the context that opened it). Built lazily (payments/deferred.py), it must keep
the book of the pilot's own context: each `dataclasses.replace` copy of a context binds again,
and a copy's book dies with the copy. Before, the gateway built while a copy was alive kept
that copy's book, and once the copy was gone every later refund of late money was refused
("no payment … captured") — found by the payment race tests. Both stores."""

from __future__ import annotations

import gc

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
