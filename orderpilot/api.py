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
from integrations.console.casework import REFUND_REVIEW, open_cases
from integrations.db.stock import Drift
from integrations.ingest.payment_reports import PaymentOutcome, report_payment
from integrations.service import (
    address_corrections,
    aftersales,
    listing,
    money,
    orders,
    refunds,
    shipments,
    sweep,
    verification,
)
from integrations.service.context import Context
from integrations.service.inputs import (
    Decided,
    OpenCase,
    PlaceOrder,
    Receipt,
    check_actor,
    check_when,
    parse,
    parse_id,
)
from integrations.service.listing import OrderPage
from integrations.service.money_refunds import try_refund_case
from integrations.service.refunds_owed import masked_for
from integrations.service.ship_selected import ship_selected
from integrations.service.views import (
    CaseRefund,
    CaseView,
    OrderView,
    ShipmentView,
    StockLevel,
    TransitionView,
)
from orderpilot.claims_api import Claims
from orderpilot.disputes_api import Disputes
from orderpilot.fulfil_api import Fulfilment, Waves
from orderpilot.payments_api import Payments
from orderpilot.reviews import Reviews
from orderpilot.risk import Risk
from orderpilot.verification import Verification
from orderpilot.webhooks_api import Webhooks
from statemachine import ids
from statemachine.aftersales import CASE_LIFECYCLE
from statemachine.clock import Clock
from statemachine.errors import InvalidInput
from statemachine.money import OperationStatus, PaymentOperation
from statemachine.order import ORDER_LIFECYCLE, Order
from statemachine.ports import Carrier, PaymentGateway, PermanentPaymentError
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
        order = orders.place(self._ctx, parse(PlaceOrder, request), check_actor(actor))
        verification.after_placement(self._ctx, order.id, order.state)
        return OrderView.of(order)

    def fire(self, order_id: str, trigger: str, *, actor: str = "api",
             idempotency_key: str | None = None, **params: Any) -> OrderView:
        """Move an order; InvalidTransition / GuardRejected name the state and what is allowed."""
        number = parse_id("order_id", order_id, "o")
        order = orders.fire_order(self._ctx, number, trigger, check_actor(actor), params,
                                  _key(idempotency_key))
        return OrderView.of(self._captured(order) if trigger == "ship" else order)

    def ship_with_labels(self, order_id: str, carriers: Mapping[str, Carrier], *,
                         actor: str = "api") -> OrderView:
        """`ship` a packed order with a waybill per warehouse bought from the carrier that
        selection picks (`ORDERPILOT_FULFILMENT__CARRIERS`; its reasons are in each parcel's
        history). `carriers`: an adapter per carrier name. Nothing is bought when the order
        cannot ship or a chosen carrier has no adapter; labels bought for a `ship` refused
        meanwhile go unused (carriers void them)."""
        number = parse_id("order_id", order_id, "o")
        order, _ = ship_selected(self._ctx, number, carriers, check_actor(actor))
        return OrderView.of(self._captured(order))

    def _captured(self, order: Order) -> Order:
        """A shipped order whose payment was only authorised is captured now (committed)."""
        if not order.authorisation:
            return order
        money.execute_pending(self._ctx, order.id)
        with self._ctx.tx(readonly=True) as tx:
            return tx.store.get_order(order.id)

    def correct_address(self, order_id: str, *, address: Mapping[str, Any], by: str,
                        reason: str | None = None, now: datetime | None = None) -> OrderView:
        """Send the order to `address` (fields or `line`, as `place` takes them) as `by`,
        until it ships: checked as placement checks it (InvalidInput naming `address.<field>`,
        nothing written); InvalidTransition naming the state once it has shipped. Recipient
        and phone are kept unless `address` names them; a review waiting stays waiting."""
        number = parse_id("order_id", order_id, "o")
        when = check_when("now", now) if now is not None else None
        return OrderView.of(address_corrections.correct_address(
            self._ctx, number, address, by, reason, when))

    def pay(self, order_id: str, *, amount: int, payment_ref: str, currency: str | None = None,
            paid_at: datetime | None = None) -> PaymentOutcome:
        """Money a provider with no webhook here took for the order, reported by your code:
        applied as `POST /v1/payments/events` applies a `succeeded` event, once per
        `payment_ref`. Late money (an expired, cancelled or rejected order, a second payment)
        follows ORDERPILOT_LATE_PAYMENTS — the order revived, or the money recorded and
        refunded — where `fire("pay")` refuses it; the answer says which."""
        return report_payment(self._ctx, order_id, amount, payment_ref, currency, paid_at)

    def get(self, order_id: str) -> OrderView:
        with self._ctx.tx(readonly=True) as tx:
            return OrderView.of(tx.store.get_order(parse_id("order_id", order_id, "o")))

    def allowed_triggers(self, order_id: str) -> list[str]:
        return ORDER_LIFECYCLE.allowed(self.get(order_id).state)

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
            self._ctx, number, trigger, check_actor(actor), params, _key(idempotency_key)))

    def allowed_triggers(self, shipment_id: str) -> list[str]:
        return SHIPMENT_LIFECYCLE.allowed(self.get(shipment_id).state)


class Cases:
    def __init__(self, context: Context):
        self._ctx = context

    def open(self, order_id: str, *, kind: str, lines: list[dict[str, int]], reason: str,
             actor: str = "buyer", idempotency_key: str | None = None) -> CaseView:
        """Open an after-sales case (refund_only, return_refund, exchange, repair) on lines."""
        number = parse_id("order_id", order_id, "o")
        request = parse(OpenCase, {"kind": kind, "lines": lines, "reason": reason})
        case_id = aftersales.open_case(self._ctx, number, request, check_actor(actor),
                                       _key(idempotency_key))
        return self.get(ids.CASE(case_id))

    def get(self, case_id: str) -> CaseView:
        with self._ctx.tx(readonly=True) as tx:
            return CaseView.of(tx.store.get_case(parse_id("case_id", case_id, "c")))

    def fire(self, case_id: str, trigger: str, *, actor: str = "api",
             idempotency_key: str | None = None, **params: Any) -> CaseView:
        number = parse_id("case_id", case_id, "c")
        return CaseView.of(aftersales.fire_case(self._ctx, number, trigger, check_actor(actor),
                                                params, _key(idempotency_key)))

    def refund(self, case_id: str, *, by: str, amount: int | None = None) -> CaseRefund:
        """Pay the buyer back through the payment provider — by default what the case is owed
        (`amount`: minor units, at most that) — and count it on the case and its order once
        the provider has paid. Returns the payment operation's status with the case as it is
        now: `succeeded`, `pending` (counted when it settles) or `refused` (nothing counted;
        `error` says why: the provider's text, the buyer masked). (`fire(case_id, "refund")`
        only records a refund made elsewhere: no money moves.)"""
        number = parse_id("case_id", case_id, "c")
        done = try_refund_case(self._ctx, number, check_actor(by), amount)
        refund = CaseRefund.of(done, self.get(case_id))
        if refund.error is None:
            return refund
        return refund.model_copy(update={"error": _refusal(self._ctx, done)})

    def fire_with_label(self, case_id: str, trigger: str, carrier: Carrier, *,
                        actor: str = "api", reason: str | None = None) -> CaseView:
        """`await_return`, `exchange` or `repair` with a label bought from `carrier` (a return
        label for await_return); the parcel is tracked like any other."""
        from integrations.service.case_labels import fire_with_label

        number = parse_id("case_id", case_id, "c")
        return CaseView.of(fire_with_label(self._ctx, number, trigger, carrier,
                                           check_actor(actor), reason))

    def new_label(self, case_id: str, *, actor: str = "api",
                  reason: str | None = None) -> CaseView:
        """`await_return` with a return waybill bought from the carrier the order's goods went
        with, through its configured adapter — what `orderpilot case new-label` and the
        console's bounced-return form do. CarrierUnavailable / WaybillRefused: nothing bought,
        the case unchanged."""
        from integrations.service.carrier_adapters import carrier_adapter
        from integrations.service.case_labels import new_return_label

        number = parse_id("case_id", case_id, "c")
        case, _ = new_return_label(self._ctx, number,
                                   lambda name: carrier_adapter(self._ctx, name),
                                   check_actor(actor), reason)
        return CaseView.of(case)

    def allowed_triggers(self, case_id: str) -> list[str]:
        return CASE_LIFECYCLE.allowed(self.get(case_id).state)

    def waiting(self) -> list[CaseView]:
        """Requests waiting for a person's decision, oldest first."""
        cases = open_cases(self._ctx, (REFUND_REVIEW,))
        return [self.get(case.entity) for case in cases]

    def approve(self, case_id: str, *, by: str, reason: str) -> CaseView:
        """Grant a request held for a person; InvalidTransition if it was decided already.

        A refund-only request is then paid back through the payment provider at once, as
        `refund` pays (the console's settle job, if one runs, finds it paid: the money moves
        once): it comes back `refunded`. Still pending at the provider (a timeout): it comes
        back `approved`, and the money sweep (`pilot.payments.sweep`, or the console) makes
        the call again and counts it when paid. Refused by the provider: PermanentPaymentError
        — the approval stands, nothing is counted; `refund` asks again, or close the case.
        A return's refund follows the inspection of its goods (`refund`)."""
        key = self._decide(case_id, True, by, reason)  # its refund recorded with it
        done = refunds.pay(self._ctx, key) if key else None
        if done is not None and done.status is OperationStatus.FAILED:
            raise PermanentPaymentError(f"{case_id} is approved, but the provider refused "
                                        f"its refund {done.key}: {_refusal(self._ctx, done)}")
        return self.get(case_id)

    def reject(self, case_id: str, *, by: str, reason: str) -> CaseView:
        """Refuse a request held for a person; InvalidTransition if it was decided already."""
        self._decide(case_id, False, by, reason)
        return self.get(case_id)

    def _decide(self, case_id: str, approve: bool, by: str, reason: str) -> str | None:
        """Apply the decision; the key of the refund it recorded, if any."""
        number = parse_id("case_id", case_id, "c")
        checked = parse(Decided, {"by": by, "reason": reason})
        return refunds.decide(self._ctx, number, approve, checked.reason, checked.by)


def _refusal(ctx: Context, done: PaymentOperation) -> str:
    """The provider's reason for refusing, as shown: it may quote the buyer (masked)."""
    return masked_for(ctx, done.order_id, done.error) if done.error else "no reason given"


def _key(key: Any) -> str | None:
    if key is not None and (not isinstance(key, str) or not 0 < len(key) <= 200):
        raise InvalidInput({"idempotency_key": f"expected 1–200 characters (got {key!r})"})
    return key

