"""The public Python API: `OrderPilot` and its parts (orders, inventory, shipments, cases).

Every method is a thin call into `integrations.service`, the same functions the Prefect flows
and the HTTP endpoints use. Ids are strings (`o-42`, `s-7`, `c-3`); money is integer minor units.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from integrations.bootstrap import build_context
from integrations.config import Settings
from integrations.db.stock import Drift
from integrations.ingest.payment_reports import PaymentOutcome, report_payment
from integrations.service import (
    address_corrections,
    goodwill,
    listing,
    money,
    orders,
    shipments,
    sweep,
    verification,
)
from integrations.service.context import Context
from integrations.service.idempotency import check_key
from integrations.service.inputs import (
    PlaceOrder,
    Receipt,
    check_actor,
    check_when,
    parse,
    parse_id,
)
from integrations.service.listing import OrderPage
from integrations.service.ship_selected import ship_selected
from integrations.service.views import (
    GoodwillRefund,
    OrderView,
    ShipmentView,
    StockLevel,
    TransitionView,
)
from orderpilot.cases_api import Cases
from orderpilot.claims_api import Claims
from orderpilot.disputes_api import Disputes
from orderpilot.fulfil_api import Fulfilment, Waves
from orderpilot.payments_api import Payments
from orderpilot.reviews import Reviews
from orderpilot.risk import Risk
from orderpilot.verification import Verification
from orderpilot.webhooks_api import Webhooks
from statemachine.clock import Clock
from statemachine.errors import InvalidInput
from statemachine.order import Order
from statemachine.ports import Carrier, PaymentGateway
from statemachine.risk_port import RiskCheck
from statemachine.shipment import SHIPMENT_LIFECYCLE


def _secret_block(name: str) -> str:
    """A payment credential kept in a Prefect Secret block, read as the flows read it. Prefect
    (seconds to import) is loaded only when the environment names such a block."""
    from flows import wiring

    return wiring.secret_block(name)


class OrderPilot:
    """One shop's order store and lifecycle engine.

    `OrderPilot()` uses ORDERPILOT_DATABASE_URL or a SQLite file `orderpilot.db` in the current
    directory, creating or upgrading the schema on first use.
    """

    def __init__(self, database_url: str | None = None, *, clock: Clock | None = None,
                 risk_check: RiskCheck | None = None, settings: Settings | None = None,
                 gateway: PaymentGateway | None = None):
        self.context: Context = build_context(database_url, clock, risk_check, settings,
                                              gateway=gateway, secrets=_secret_block)
        self.orders = Orders(self.context)
        self.inventory = Inventory(self.context)
        self.shipments = Shipments(self.context)
        self.cases = Cases(self.context)
        self.waves = Waves(self.context)
        self.fulfilment = Fulfilment(self.context)
        self.claims = Claims(self.context)
        self.reviews, self.risk = Reviews(self.context), Risk(self.context)
        self.verification = Verification(self.context)
        self.webhooks = Webhooks(self.context)
        self.payments = Payments(self.context)
        self.disputes = Disputes(self.context)

    @property
    def clock(self) -> Clock:
        return self.context.clock

    def sweep(self, now: datetime | None = None, *, batch: int | None = None) -> dict[str, int]:
        """Fire every deadline due at `now` (default: the clock); returns counts per kind."""
        when = check_when("now", now) if now is not None else self.context.clock.now()
        if batch is not None and (isinstance(batch, bool) or not isinstance(batch, int)
                                  or not 1 <= batch <= 10_000):  # as ORDERPILOT_SWEEP_BATCH
            raise InvalidInput({"batch": f"expected a whole number from 1 to 10000 (got "
                                         f"{batch!r:.40})"})
        return sweep.sweep(self.context, when, batch or self.context.settings.sweep_batch)

    def close(self) -> None:
        self.context.close()


class Orders:
    def __init__(self, context: Context):
        self._ctx = context

    def place(self, *, actor: str = "api", **request: Any) -> OrderView:
        """Hold stock and run the risk check; the order comes back awaiting_payment,
        under_review or rejected. Raises InvalidInput or InsufficientStock, writing nothing."""
        now = self._ctx.clock.now()  # one time for the placement and the code it sends
        order = orders.place(self._ctx, parse(PlaceOrder, request), check_actor(actor), now)
        verification.after_placement(self._ctx, order.id, order.state, now)
        return OrderView.of(order)

    def fire(self, order_id: str, trigger: str, *, actor: str = "api",
             idempotency_key: str | None = None, **params: Any) -> OrderView:
        """Move an order; InvalidTransition / GuardRejected name the state and what is allowed."""
        number = parse_id("order_id", order_id, "o")
        order = orders.fire_order(self._ctx, number, trigger, check_actor(actor), params,
                                  check_key(idempotency_key))
        return OrderView.of(self._captured(order) if trigger == "ship" else order)

    def ship_with_labels(self, order_id: str, carriers: Mapping[str, Carrier], *,
                         actor: str = "api", ship_refunded: str | None = None) -> OrderView:
        """`ship` a packed order with a waybill per warehouse bought from the carrier that
        selection picks (`ORDERPILOT_FULFILMENT__CARRIERS`; its reasons are in each parcel's
        history). `carriers`: an adapter per carrier name. Nothing is bought when the order
        cannot ship or a chosen carrier has no adapter; labels bought for a `ship` refused
        meanwhile go unused (carriers void them). `ship_refunded`: why an order whose money
        was all refunded ships anyway (e.g. a gift), as `fire(…, "ship")` takes it."""
        number = parse_id("order_id", order_id, "o")
        order, _ = ship_selected(self._ctx, number, carriers, check_actor(actor),
                                 ship_refunded)
        return OrderView.of(self._captured(order))

    def _captured(self, order: Order) -> Order:
        """A shipped order whose payment was only authorised is captured now (committed)."""
        if not order.authorisation:
            return order
        # made after the ship's commit, whose time is not returned: booked at a read of its own
        money.execute_pending(self._ctx, order.id, self._ctx.clock.now())
        with self._ctx.tx(readonly=True) as tx:
            return tx.store.get_order(order.id)

    def correct_address(self, order_id: str, *, address: Mapping[str, Any], by: str,
                        reason: str | None = None, now: datetime | None = None) -> OrderView:
        """Send the order to `address` (fields or `line`, as `place` takes them) as `by`,
        until it ships: checked as placement checks it and by its address rules (InvalidInput
        naming `address.<field>`, nothing written); InvalidTransition naming the state once it
        has shipped. Recipient and phone are kept unless `address` names them; a review
        waiting stays waiting. The address the order has already is no change: the order is
        returned as it was (same version), nothing written."""
        number = parse_id("order_id", order_id, "o")
        when = check_when("now", now) if now is not None else None
        return OrderView.of(address_corrections.correct_address(
            self._ctx, number, address, by, reason, when).order)

    def pay(self, order_id: str, *, amount: int, payment_ref: str, currency: str | None = None,
            paid_at: datetime | None = None) -> PaymentOutcome:
        """Money a provider with no webhook here took for the order, reported by your code:
        applied as `POST /v1/payments/events` applies a `succeeded` event, once per
        `payment_ref`. Late money (an expired, cancelled or rejected order, a second payment)
        follows ORDERPILOT_LATE_PAYMENTS — the order revived, or the money recorded and
        refunded — where `fire("pay")` refuses it; the answer says which."""
        return report_payment(self._ctx, order_id, amount, payment_ref, currency, paid_at)

    def refund_goodwill(self, order_id: str, *, amount: int, reason: str, by: str,
                        key: str | None = None, currency: str | None = None
                        ) -> GoodwillRefund:
        """Pay the buyer `amount` back through the payment provider, tied to no case
        (goodwill, a price adjustment): minor units of the order's currency (500 = ¥5.00 of a
        CNY order; `currency`, if given, must be the order's), `reason` kept with it, `by` who
        decided. Answered as `cases.refund` is: `succeeded`, `pending` (the money sweep makes
        it under the same `refund` key) or `refused` (`error` says why). `key` makes a retry
        the same refund (`refund:o-17:<key>`; without it each call is a new refund). Bad
        input names each field, nothing written; more than may be refunded is refused."""
        number = parse_id("order_id", order_id, "o")
        return goodwill.refund_goodwill(self._ctx, number, amount=amount, reason=reason,
                                        by=by, key=key, currency=currency)

    def get(self, order_id: str) -> OrderView:
        with self._ctx.tx(readonly=True) as tx:
            return OrderView.of(tx.store.get_order(parse_id("order_id", order_id, "o")))

    def allowed_triggers(self, order_id: str) -> list[str]:
        """The triggers `fire` takes from the order's state now (a guard may still refuse one:
        `pay` with another amount), as an InvalidTransition lists them. Not the shop's own
        steps (`refund`: an after-sales case's, `pilot.cases.refund`, or a cancellation's;
        `reallocate`), nor `correct_address` (its own call, `correct_address`), nor `capture`
        unless the order holds an uncaptured authorisation."""
        with self._ctx.tx(readonly=True) as tx:
            order = tx.store.get_order(parse_id("order_id", order_id, "o"))
        return orders.allowed_to_a_caller(self._ctx, order)

    def list(self, **filters: Any) -> OrderPage:
        """A page of orders, newest first: state=[...], buyer=, since=, until=, risk=
        (approve | review | verify | reject), text=, limit= (≤ 500), after= (the previous
        page's `next`)."""
        return listing.list_orders(self._ctx, **filters)

    def search(self, text: str, **filters: Any) -> OrderPage:
        """Orders matching an order id, buyer id, payment reference or tracking number."""
        return listing.list_orders(self._ctx, text=text, **filters)

    def export(self, fmt: str = "csv", **filters: Any) -> str:
        """Every matching order as CSV (with a header row) or as a JSON array."""
        if fmt not in ("csv", "json"):
            raise InvalidInput({"fmt": f"expected csv or json (got {fmt!r})"})
        return listing.export(self._ctx, fmt, **filters)  # type: ignore[arg-type]

    def history(self, order_id: str) -> list[TransitionView]:
        """Every transition of the order and of its parcels and cases, oldest first."""
        number = parse_id("order_id", order_id, "o")
        with self._ctx.tx(readonly=True) as tx:
            tx.store.get_order(number)  # NotFound for an unknown order
            return [TransitionView.of(row) for row in tx.store.history(number)]


class Inventory:
    def __init__(self, context: Context):
        self._ctx = context

    def receive(self, *, sku: str, warehouse: str, quantity: int) -> StockLevel:
        """Add stock on hand for sku × warehouse (the row is created on first receipt)."""
        line = parse(Receipt, {"sku": sku, "warehouse": warehouse, "quantity": quantity})
        with self._ctx.tx() as tx:
            tx.stock.receive(line.sku, line.warehouse, line.quantity)
        return self.level(sku=sku, warehouse=warehouse)

    def level(self, *, sku: str, warehouse: str) -> StockLevel:
        for level in self.levels():
            if (level.sku, level.warehouse) == (sku, warehouse):
                return level
        raise InvalidInput({"sku": f"no inventory for {sku} in {warehouse}"})

    def levels(self) -> list[StockLevel]:
        with self._ctx.tx(readonly=True) as tx:
            return [StockLevel(sku=r.sku, warehouse=r.warehouse, on_hand=r.on_hand,
                               reserved=r.reserved, available=r.on_hand - r.reserved)
                    for r in tx.stock.levels()]

    def reconcile(self, *, fix: bool = False) -> list[Drift]:
        """Recompute `reserved` from live holds; returns the drift found (repaired if fix)."""
        with self._ctx.tx() as tx:
            return tx.stock.reconcile(fix=fix)


class Shipments:
    def __init__(self, context: Context):
        self._ctx = context

    def of_order(self, order_id: str) -> list[ShipmentView]:
        with self._ctx.tx(readonly=True) as tx:
            number = parse_id("order_id", order_id, "o")
            tx.store.get_order(number)
            return [ShipmentView.of(s) for s in tx.store.shipments_of(number)]

    def get(self, shipment_id: str) -> ShipmentView:
        with self._ctx.tx(readonly=True) as tx:
            return ShipmentView.of(tx.store.get_shipment(parse_id("shipment_id", shipment_id,
                                                                  "s")))

    def fire(self, shipment_id: str, trigger: str, *, actor: str = "carrier",
             idempotency_key: str | None = None, **params: Any) -> ShipmentView:
        """Apply a carrier scan (pick_up, scan, out_for_delivery, deliver) or an exception."""
        number = parse_id("shipment_id", shipment_id, "s")
        return ShipmentView.of(shipments.fire_shipment(
            self._ctx, number, trigger, check_actor(actor), params, check_key(idempotency_key)))

    def allowed_triggers(self, shipment_id: str) -> list[str]:
        return SHIPMENT_LIFECYCLE.allowed(self.get(shipment_id).state)
