"""What the racing workers do: each action is one caller's call, through the public entry
points (Python API, webhook handlers, the review form's service call, the sweep)."""

from __future__ import annotations

from typing import Any

from integrations.ingest import handlers
from integrations.ingest.events import CarrierEvent, PaymentEvent
from integrations.service import reviews
from orderpilot import OrderPilot
from statemachine.risk_port import Reason, RiskAction, RiskDecision, approve_everything
from tests.integration.races.bulk_actions import expire_in_bulk, pay_each
from tests.integration.races.correction_actions import (
    correct_over_http,
    correct_phone,
    correct_to,
    place_at,
    retried,
    serve_http,
)
from tests.integration.races.http_actions import ops_over_http
from tests.integration.races.trouble_actions import (
    approve_case,
    declare_stalled_lost,
    dispute_opened,
    lose_silent_parcels,
    pay_recorded_refund,
    receive_return,
    report_lost,
    report_payment,
    ship_with_labels,
    sweep_at,
)
from tests.integration.races.turn_actions import (
    hold_inventory_until,
    hold_turns_until,
    place_when_waiting,
    sweep_when_held,
    take_turns_when,
)
from tests.integration.races.waybill_actions import ship_batch, ship_numbered, ship_typed

__all__ = ["approve_case", "approve_everything", "correct_over_http", "correct_phone",
           "correct_to",
           "declare_stalled_lost",
           "dispute_opened", "expire_in_bulk", "hold_inventory_until", "hold_turns_until",
           "pay_each", "place_at", "place_when_waiting",
           "lose_silent_parcels", "ops_over_http", "pay_recorded_refund",
           "receive_return", "report_lost", "report_payment", "retried", "ship_batch",
           "ship_numbered", "ship_typed", "serve_http", "ship_with_labels", "sweep_at",
           "sweep_when_held",
           "take_turns_when"]

ADDRESS = {"province": "浙江省", "city": "杭州市", "district": "西湖区",
           "street": "文三路 18 号 3 幢 502 室", "recipient": "李雷", "phone": "+86 138 0013 8000"}


def warm_up() -> None:
    """Load what a first placement loads (the address parser's dictionaries take ~1.5 s), so
    that the first racing trial races and a killed writer dies mid-work, not mid-import."""
    from integrations.geo.addresses import parse_address

    parse_address(ADDRESS)


def review_everything(facts: Any, connection: Any) -> RiskDecision:
    """A risk check that holds every order for a person (the review races need them)."""
    return RiskDecision(RiskAction.REVIEW, 85.0, (Reason("score", "行为评分 ≥ 80，人工审核"),))


def idle(pilot: OrderPilot) -> None:
    return None


def place(pilot: OrderPilot, buyer: str, lines: list[dict[str, Any]],
          key: str | None = None) -> str:
    order = pilot.orders.place(buyer_id=buyer, lines=lines, shipping_address=ADDRESS,
                               device_id=f"d-{buyer}", idempotency_key=key)
    return order.id


def fire(pilot: OrderPilot, order_id: str, trigger: str, **params: Any) -> str:
    return pilot.orders.fire(order_id, trigger, **params).state


def fire_parcel(pilot: OrderPilot, shipment_id: str, trigger: str, **params: Any) -> str:
    return pilot.shipments.fire(shipment_id, trigger, **params).state


def fire_case(pilot: OrderPilot, case_id: str, trigger: str, **params: Any) -> str:
    return pilot.cases.fire(case_id, trigger, **params).state


def open_and_refund(pilot: OrderPilot, order_id: str, line_no: int, quantity: int) -> str:
    """A buyer's refund-only request, approved at once and refunded (three commands)."""
    case = pilot.cases.open(order_id, kind="refund_only", reason="商品破损",
                            lines=[{"line_no": line_no, "quantity": quantity}])
    pilot.cases.fire(case.id, "auto_approve")
    return pilot.cases.fire(case.id, "refund").state


def open_case(pilot: OrderPilot, order_id: str, kind: str, line_no: int, quantity: int) -> str:
    """A buyer's after-sales request on some units of one line; the new case's id."""
    return pilot.cases.open(order_id, kind=kind, reason="七天无理由退货",
                            lines=[{"line_no": line_no, "quantity": quantity}]).id


def payment_webhook(pilot: OrderPilot, event_id: str, **body: Any) -> int:
    """The payment gateway's webhook, as the HTTP route applies it (without the socket)."""
    outcome = handlers.payment_event(pilot.context, PaymentEvent(event_id=event_id, **body))
    return outcome.status


def carrier_webhook(pilot: OrderPilot, event_id: str, **body: Any) -> bool:
    outcome = handlers.carrier_event(pilot.context, CarrierEvent(event_id=event_id, **body))
    return bool(outcome.body.get("applied"))


def sweep(pilot: OrderPilot) -> dict[str, int]:
    return pilot.sweep()


def review_cli(pilot: OrderPilot, order_id: str, approve: bool, by: str) -> str:
    """`orderpilot review approve|reject` → pilot.reviews."""
    decide = pilot.reviews.approve if approve else pilot.reviews.reject
    return decide(order_id, by=by, reason="人工审核").state


def review_form(pilot: OrderPilot, order_id: str, approve: bool, by: str) -> str:
    """The Prefect form's decision, through the same service call the flow makes."""
    decision = reviews.Decision(approve=approve, reason="人工审核", reviewer=by)
    return reviews.decide(pilot.context, int(order_id[2:]), decision)


def lose_parcel(pilot: OrderPilot, shipment_id: str) -> str:
    """Logistics declares the parcel lost: the buyer is compensated, a claim is filed."""
    return pilot.claims.report_lost(shipment_id, reason="承运商确认丢件")["state"]


def first_use(pilot: OrderPilot, url: str) -> str:
    """A worker starting on a store nobody has used yet (schema created on first use)."""
    from integrations.db.migrate import current_revision

    fresh = OrderPilot(url)
    try:
        return str(current_revision(fresh.context.engine))
    finally:
        fresh.close()


def place_webhook(pilot: OrderPilot, event_id: str, buyer: str,
                  lines: list[dict[str, Any]]) -> dict[str, Any]:
    """The shop's order-placed webhook, as the HTTP route applies it."""
    from integrations.ingest.events import OrderPlaced

    event = OrderPlaced(event_id=event_id, order={
        "buyer_id": buyer, "lines": lines, "shipping_address": ADDRESS})
    outcome = handlers.order_placed(pilot.context, event)
    return {"status": outcome.status, "order": outcome.body["order"]["id"],
            "lines": [(ln["sku"], ln["quantity"]) for ln in outcome.body["order"]["lines"]],
            "duplicate": outcome.duplicate}


def provider_captured(pilot: OrderPilot, order_id: str, payment_ref: str, amount: int,
                      at: str, late_payments: str = "refund", provider: str = "") -> str:
    """The provider reports the buyer's money arrived, as /hooks/stripe and /hooks/alipay
    apply it: once, then the provider calls it recorded (a late payment's refund) after the
    commit. `late_payments`: the shop's policy for money that comes after the hold lapsed;
    `provider`: the shared provider's books (races/provider.py), else each process's own."""
    from dataclasses import replace
    from datetime import datetime

    from integrations.ingest.money_events import apply_money_event
    from integrations.service import money
    from statemachine.ports import MoneyEvent

    event = MoneyEvent("simulated", f"evt-{payment_ref}", "captured", payment_ref, amount,
                       "CNY", datetime.fromisoformat(at), order_id=order_id)
    ctx = replace(pilot.context, settings=pilot.context.settings.model_copy(
        update={"late_payments": late_payments}))
    if provider:
        from tests.integration.races.provider import SharedProvider

        ctx = replace(ctx, gateway=SharedProvider(provider))
    outcome, follow = apply_money_event(ctx, event)
    money.execute_quietly(ctx, follow, ctx.clock.now())
    return str(outcome.body.get("note") or outcome.status)


def save_console_cursor(pilot: OrderPilot, outbox_id: int) -> int:
    """A console remembers how far it followed the outbox (two consoles: one restarting while
    the other still runs)."""
    from integrations.console.follower import save_cursor

    save_cursor(pilot.context, outbox_id)
    return outbox_id


def set_sku_data(pilot: OrderPilot, what: str, sku: str, value: Any) -> str:
    """Staff setting one sku's data from two desks at once (or two KPI runs): `weight`,
    `flag`, `location`, or `kpis` (the carrier KPI job)."""
    f = pilot.fulfilment
    if what == "weight":
        f.set_weight(sku, value)
    elif what == "flag":
        f.flag_sku(sku, "high_value", note=value)
    elif what == "location":
        f.locate(sku, "WH-1", value)
    else:
        f.refresh_carrier_kpis()
    return what


def blacklist_order(pilot: OrderPilot, order_id: str, by: str) -> list[str]:
    """A reviewer blacklists the buyer of an order (with it as evidence)."""
    entries = pilot.risk.blacklist_order(order_id, by=by, reason="同一团伙刷单",
                                         kinds=("buyer",))
    return [e.kind for e in entries]


def create_wave(pilot: OrderPilot, warehouse: str, by: str) -> str | None:
    """A warehouse lead puts the waiting paid orders into a pick wave."""
    wave = pilot.waves.create(warehouse=warehouse, actor=by)
    return None if wave is None else wave["id"]


def receive(pilot: OrderPilot, sku: str, warehouse: str, quantity: int) -> int:
    """A goods receipt booked at the dock (the CLI's `orderpilot stock receive`)."""
    return pilot.inventory.receive(sku=sku, warehouse=warehouse, quantity=quantity).on_hand


def store_identity(pilot: OrderPilot) -> str:
    """A relay or a Prefect worker starting on the store asks for the store's id."""
    from integrations.events.identity import store_id

    return store_id(pilot.context)



def by_rules(facts: Any, store: Any) -> RiskDecision:
    """The packaged rule set, as a shop runs it (velocity: more than 5 orders an hour from one
    buyer, device or address → verification)."""
    return _packaged()(facts, store)


def _packaged() -> Any:
    """The packaged rule set's check, built on first use in this process."""
    global _RULES
    if _RULES is None:
        from integrations.risk.adapter import RuleSetRiskCheck
        from integrations.risk.config import default_ruleset

        _RULES = RuleSetRiskCheck(default_ruleset())
    return _RULES


_RULES: Any = None


class _RulesJudgingCorrections:
    """`by_rules` that also judges corrected addresses and phones, as the packaged check does
    (`by_rules` is a plain function: no `judge_correction`, so a correction meets no rule)."""

    def __call__(self, facts: Any, store: Any) -> RiskDecision:
        return _packaged()(facts, store)

    def judge_correction(self, facts: Any, store: Any) -> Any:
        return _packaged().judge_correction(facts, store)


rules_judging_corrections = _RulesJudgingCorrections()


def place_state(pilot: OrderPilot, buyer: str, lines: list[dict[str, Any]],
                device: str | None = None, address: dict[str, str] | None = None) -> str:
    """`place`, answering the state the risk decision left the order in (the buyer's own
    device and the common address unless given)."""
    order = pilot.orders.place(buyer_id=buyer, lines=lines, shipping_address=address or ADDRESS,
                               device_id=device or f"d-{buyer}")
    return order.state


class _RefundingGateway:
    """The provider's answer to a refund call: accepted and done (`status`), as Stripe answers
    most card refunds, or accepted and confirmed later by its webhook (`pending`)."""

    provider = "simulated"

    def __init__(self, status: str):
        self.status = status

    def refund(self, payment_ref: str, amount: int, *, idempotency_key: str,
               lines: Any = (), currency: str | None = None) -> Any:
        from statemachine.ports import PaymentResult

        return PaymentResult("refund", f"{payment_ref}-rf1", payment_ref, amount, "CNY",
                             idempotency_key, status=self.status)


def execute_refund(pilot: OrderPilot, key: str, status: str = "succeeded") -> str:
    """A recorded refund made at the provider, then settled from its answer (money.execute)."""
    from integrations.service import money

    return money.execute(pilot.context, key, pilot.clock.now(),
                         _RefundingGateway(status)).status.value


def provider_refunded(pilot: OrderPilot, order_id: str, payment_ref: str, total: int,
                      at: str, event: str = "") -> str:
    """The provider's refund notice (Stripe charge.refunded, Alipay refund notify): the
    payment's refunded total so far."""
    from datetime import datetime

    from integrations.ingest.money_events import apply_money_event
    from statemachine.ports import MoneyEvent

    notice = MoneyEvent("simulated", event or f"evt-rf-{payment_ref}-{total}", "refunded",
                        payment_ref, total, "CNY", datetime.fromisoformat(at),
                        order_id=order_id)
    outcome, _ = apply_money_event(pilot.context, notice)
    return str(outcome.body.get("note") or outcome.status)


def provider_refunded_and_made(pilot: OrderPilot, order_id: str, payment_ref: str,
                               total: int, at: str, event: str, provider: str) -> str:
    """The provider's refund notice, then the provider calls it recorded (the rest of a debt
    a dashboard refund superseded), made through the provider every process shares."""
    from datetime import datetime

    from integrations.ingest.money_events import apply_money_event
    from integrations.service import money
    from statemachine.ports import MoneyEvent
    from tests.integration.races.provider import SharedProvider

    notice = MoneyEvent("simulated", event, "refunded", payment_ref, total, "CNY",
                        datetime.fromisoformat(at), order_id=order_id)
    outcome, follow = apply_money_event(pilot.context, notice)
    gateway = SharedProvider(provider)
    now = pilot.clock.now()
    made = [money.execute(pilot.context, key, now, gateway).status.value for key in follow]
    return f"{outcome.body.get('note') or outcome.status}; made {made}"


def shopify(pilot: OrderPilot, topic: str, webhook_id: str, payload: dict[str, Any]
            ) -> dict[str, Any]:
    """A verified Shopify webhook, as /hooks/shopify applies it (without the socket)."""
    from integrations.ingest.storefront import shopify_webhook

    outcome = shopify_webhook(pilot.context, topic, webhook_id, "tea-house.myshopify.com",
                              payload)
    return {"status": outcome.status, "order": (outcome.body.get("order") or {}).get("id"),
            "applied": outcome.body.get("applied"), "note": outcome.body.get("note")}


def fan_out(pilot: OrderPilot) -> int:
    """The webhook relay's fan-out step: waiting outbox rows handed to the subscriptions."""
    from integrations.events.webhook_relay import WebhookRelay

    relay = WebhookRelay(pilot.context, {})
    try:
        return relay.fan_out()
    finally:
        relay.close()


def unsubscribe(pilot: OrderPilot, subscription_id: str) -> str:
    """Staff removing a webhook subscription (`orderpilot webhooks remove`)."""
    from integrations.service import webhooks

    webhooks.remove(pilot.context, subscription_id)
    return subscription_id


def console_job(pilot: OrderPilot, job: str, entity: str, provider: str) -> str:
    """One of the console's automation jobs (settle-cancel, triage-refund, settle-refund),
    paying through the provider every process shares (races/provider.py)."""
    from integrations.console.jobs import JOBS, Ports
    from tests.integration.races.provider import SharedProvider

    ports = Ports(SharedProvider(provider), carrier=_no_carrier, notify=_told,
                  retry_delays=(0.01,))
    return JOBS[job](pilot.context, ports, entity)


def cancel_and_settle(pilot: OrderPilot, order_id: str, provider: str) -> str:
    """The buyer cancels a paid order; the console's settle-cancel job pays the money back."""
    pilot.orders.fire(order_id, "cancel", actor="buyer", reason="买家取消")
    return console_job(pilot, "settle-cancel", order_id, provider)


def _no_carrier(name: str, clock: Any) -> Any:
    raise AssertionError("no carrier is chased in the money races")


def _told(message: Any) -> None:
    return None


def buy_waybills(pilot: OrderPilot, carrier: str, count: int) -> list[str]:
    """`count` waybills bought from the default adapter of `carrier` (a CLI `case new-label`,
    the console): the tracking numbers it handed out."""
    from integrations.service.carrier_adapters import carrier_adapter
    from statemachine.ports import WaybillRequest

    adapter = carrier_adapter(pilot.context, carrier)
    return [adapter.create_waybill(WaybillRequest(f"o-{n}", 1, "WH-HZ", ADDRESS, 12_900))
            .tracking_no for n in range(1, count + 1)]
