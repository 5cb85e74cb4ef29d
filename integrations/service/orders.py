"""Order handlers: place an order, fire a trigger. Both run through the one pipeline.

A handler runs in one transaction: the state change (version-checked), stock movements,
deadlines, history and outbox rows commit together or not at all — written by the writer from
what the step table declares (statemachine/order.py).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from integrations.db.writer import StockTaken
from integrations.geo.contact import Contact, Contradictions, parse_contact
from integrations.geo.distance import buyer_distances
from integrations.risk.sql_store import SqlRiskStore
from integrations.service import pipeline
from integrations.service.carriers import check_catalogue
from integrations.service.contention import retrying
from integrations.service.context import Context, Tx
from integrations.service.idempotency import (
    fire_once,
    remember,
    replay_or_none,
    request_digest,
    settle_race,
)
from integrations.service.inputs import ORDER_PARAMS, Empty, PlaceOrder, trigger_params
from integrations.service.kinds import ORDER, order_event_data
from statemachine.errors import Contention, GuardRejected, InvalidInput, InvalidTransition
from statemachine.lifecycle import Fired
from statemachine.order import ORDER_LIFECYCLE
from statemachine.order_aggregate import Order, OrderLine, OrderState
from statemachine.risk_port import PlacedLine, PlacementFacts, RiskAction
from statemachine.stock import AllocationChoice, Availability, Need, choose_allocation

STOCK_RACE_RETRIES = 5
DECISION = {RiskAction.APPROVE: "approve", RiskAction.VERIFY: "verify",
            RiskAction.REVIEW: "review", RiskAction.REJECT: "reject"}

T = TypeVar("T")

event_data = order_event_data  # the name other modules know
ORDER_TRIGGERS = tuple(ORDER_PARAMS)  # what `fire_order` takes, in the order errors list them


def place_order(ctx: Context, request: PlaceOrder, actor: str,
                now: datetime | None = None, *, placed_at: datetime | None = None,
                contradictions: Contradictions = "refuse") -> int:
    """Validate, allocate and hold stock, decide risk; returns the new order's number.
    `placed_at`: when the buyer placed it, if before `now` (an import): the order's and a new
    buyer's creation time; the hold, risk and history still run at `now`. `contradictions`:
    refuse region fields that contradict each other, or place the order for review
    (geo/contact.py)."""
    return place(ctx, request, actor, now, placed_at=placed_at,
                 contradictions=contradictions).id


@retrying("placing the order")
def place(ctx: Context, request: PlaceOrder, actor: str, now: datetime | None = None,
          first: Callable[[Tx], None] | None = None, *,
          placed_at: datetime | None = None,
          contradictions: Contradictions = "refuse") -> Order:
    """`place_order`, returning the order as placed (or as the first call with the same
    idempotency key placed it). The same key with a different request is refused
    (`KeyReused`, an InvalidInput naming idempotency_key). `first` runs at the start of the
    placement's transaction (a caller's own check, which may raise to place nothing)."""
    now = now or ctx.clock.now()
    key = request.idempotency_key
    digest = request_digest(request) if key else None
    # before the transaction: parsing an address takes ms
    contact = parse_contact(request, contradictions)

    def attempt() -> Order:
        try:
            with ctx.tx() as tx:
                if first is not None:
                    first(tx)
                return place_in(ctx, tx, request, actor, now, contact, digest,
                                placed_at=placed_at)
        except StockTaken:
            raise
        except Exception as error:
            return settle_race(ctx, key, "place", None, error,
                               lambda tx, n: tx.store.get_order(n), digest)

    return planning_again(attempt)


def place_in(ctx: Context, tx: Tx, request: PlaceOrder, actor: str, now: datetime,
             contact: Contact, digest: str | None, *,
             placed_at: datetime | None = None) -> Order:
    """Place inside the caller's unit of work (a webhook logs its event in the same one): a key
    used before returns its order (`KeyReused` if it was for another request); `contact` is
    `contact_of(request)`, parsed before the transaction. May raise `StockTaken`: see
    `planning_again`."""
    key = request.idempotency_key
    prior = replay_or_none(tx, key, "place", None, digest) if key else None
    if prior is not None:
        return tx.store.get_order(prior)
    order = _new(ctx, tx, request, actor, now, contact, placed_at)
    if key:
        remember(tx, key, "place", order.id, now, digest)
    return order


def contact_of(request: PlaceOrder) -> Contact:
    """The buyer's phone and parsed address (milliseconds: parse before the transaction)."""
    return parse_contact(request)


def planning_again(attempt: Callable[[], T]) -> T:
    """Run a placement's transaction again when a concurrent order took the stock it planned
    (a fresh plan on a fresh snapshot each time); `Contention` if that keeps happening."""
    for _ in range(STOCK_RACE_RETRIES):
        try:
            return attempt()
        except StockTaken:
            continue
    # every fresh plan lost its stock to a concurrent order: contention, not a shortage
    raise Contention("placing the order", STOCK_RACE_RETRIES,
                     "concurrent orders took the planned stock each time")


def _place(ctx: Context, tx: Tx, request: PlaceOrder, actor: str, now: datetime,
           contact: Contact) -> int:
    """Place inside the caller's unit of work (the replay's bulk path); the order's number.
    `contact` is `contact_of(request)`, parsed before the transaction (not under its lock)."""
    return _new(ctx, tx, request, actor, now, contact).id


def _new(ctx: Context, tx: Tx, request: PlaceOrder, actor: str, now: datetime,
         contact: Contact, placed_at: datetime | None = None) -> Order:
    """Create the order (holding its stock) and fire the risk engine's decision on it."""
    # parallel checkouts of a buyer, or of many accounts on one device, IP, address or
    # phone, are decided in turn, each counting the others (velocity, accounts per device or
    # phone, daily limits): decided side by side, none saw the others
    tx.store.placing_for(risk_turns(contact, request.buyer_id, request.device_id,
                                    str(request.ip) if request.ip else None))
    needs = [Need(i, ln.sku, ln.quantity) for i, ln in enumerate(request.lines, start=1)]
    available = tx.stock.availability(n.sku for n in needs)
    _check_skus_known(request, {sku for sku, _ in available})
    choice = _allocate(ctx, needs, available, contact)
    tx.store.ensure_buyer(request.buyer_id, placed_at or now)
    order = _new_order(ctx, request, contact, choice, placed_at or now)
    created = pipeline.create(ctx, tx, ORDER, order, actor, {
        "allocation": [[a.sku, a.warehouse, a.quantity] for a in choice.allocations],
        "allocation_reasons": list(choice.reasons)}, now)
    decision = ctx.risk_check(_facts(order, request, contact, now), SqlRiskStore(tx.connection))
    order.attrs["risk"] = {"action": decision.action.value, "score": decision.score,
                           "reasons": [{"rule": r.rule, "text": r.text, "values": dict(r.values)}
                                       for r in decision.reasons]}
    reason = "; ".join(r.text for r in decision.reasons) or None
    moves = [pipeline.Move(order, DECISION[decision.action], now, "risk-engine",
                           {"reason": reason})]
    pipeline.run(ctx, tx, ORDER, moves, refuse=False, created=[created])
    return order


def fire_order(ctx: Context, order_id: int, trigger: str, actor: str,
               params: dict[str, Any], idempotency_key: str | None = None,
               now: datetime | None = None) -> Order:
    """Fire `trigger` on an order with validated params; a repeated key applies once."""
    checked = trigger_params(trigger, ORDER_TRIGGERS, ORDER_PARAMS, Empty, params)
    if trigger == "ship" and not checked.get("parcels"):  # carriers selected at ship: the
        check_catalogue(ctx)  # catalogue's first check loads a table, not under the lock
    now = now or ctx.clock.now()
    return fire_once(ctx, idempotency_key, trigger, order_id,
                     lambda tx, n: tx.store.get_order(n, lock=True),
                     lambda tx, order: _fire_for_a_caller(ctx, tx, order, trigger, actor,
                                                          checked, now),
                     checked, now)


def _fire_for_a_caller(ctx: Context, tx: Tx, order: Order, trigger: str, actor: str,
                       params: dict[str, Any], now: datetime) -> Fired:
    """`fire`, as a caller of the API may: `revive` only under the shop's revive policy (the
    policy decides what late money does, whoever reports it), and a refusal lists only the
    steps the caller could take instead (not internal ones such as `refund`)."""
    if trigger == "revive" and ctx.settings.late_payments != "revive" \
            and ORDER_LIFECYCLE.can(order.state, "revive"):
        raise GuardRejected("order", order.public_id, order.state.value, trigger,
                            "the shop refunds money that comes after the hold lapsed "
                            "(ORDERPILOT_LATE_PAYMENTS=refund; revive to revive orders)")
    try:
        return fire(ctx, tx, order, trigger, actor, params, now=now)
    except InvalidTransition as error:
        raise as_a_caller_sees(ctx, error, order) from None


def as_a_caller_sees(ctx: Context, error: InvalidTransition,
                     order: Order | None = None) -> InvalidTransition:
    """An order's refusal listing only what a caller may fire instead (the API and the bulk
    path answer alike; `callable_by_a_caller`)."""
    return InvalidTransition(error.entity, error.entity_id, error.state, error.trigger,
                             callable_by_a_caller(ctx, error.allowed, order),
                             none="none by a caller" if error.allowed
                             else "none (final state)")


def allowed_to_a_caller(ctx: Context, order: Order) -> list[str]:
    """What a caller may fire on `order` now (`pilot.orders.allowed_triggers`, the HTTP detail)."""
    return callable_by_a_caller(ctx, ORDER_LIFECYCLE.allowed(order.state), order)


def callable_by_a_caller(ctx: Context, steps: list[str], order: Order | None = None
                         ) -> list[str]:
    """Of an order's `steps` (its state's), those `pilot.orders.fire` takes: not internal
    steps (refund, reallocate …) nor those with a call of their own (correct_address), revive
    only under the revive policy, capture only while `order` (when known) holds an
    uncaptured authorisation — the guard refuses it on any other order, always."""
    revive = ctx.settings.late_payments == "revive"
    return [t for t in steps if t in ORDER_PARAMS and (t != "revive" or revive)
            and (t != "capture" or order is None or order.authorisation is not None)]


def fire(ctx: Context, tx: Tx, order: Order, trigger: str, actor: str,
         params: dict[str, Any], *, now: datetime) -> Fired:
    """The one path every order transition takes (API, sweeps, cascades, flows); `now` is
    the calling service's one clock read (required: a default would read the clock here)."""
    return pipeline.fire(ctx, tx, ORDER, order, trigger, actor, params, now)


def _allocate(ctx: Context, needs: list[Need], available: Availability,
              contact: Contact) -> AllocationChoice:
    """Nearest warehouse to the buyer's region that can serve, else the nearest split."""
    policy = ctx.settings.fulfilment
    km = buyer_distances(contact.address.region_code, policy.warehouse_regions, policy.distance)
    return choose_allocation(needs, available, km, policy.km_per_day)


def _new_order(ctx: Context, request: PlaceOrder, contact: Contact, choice: AllocationChoice,
               placed_at: datetime) -> Order:
    lines = [OrderLine(i, ln.sku, ln.quantity, ln.unit_price)
             for i, ln in enumerate(request.lines, start=1)]
    attrs = {"shipping_address": request.shipping_address.model_dump(exclude_none=True),
             "address": contact.address.as_dict(),
             "device_id": request.device_id, "ip": str(request.ip) if request.ip else None,
             "phone": contact.phone, "recipient_phone": contact.recipient_phone,
             "service": request.service,
             "email": request.email, "locale": request.locale,
             "promise_extra_days": choice.extra_days or None}
    return Order(id=0, buyer_id=request.buyer_id, state=OrderState.CREATED, version=1,
                 currency=request.currency or ctx.settings.currency,
                 total=sum(ln.amount for ln in lines), lines=lines, created_at=placed_at,
                 attrs={k: v for k, v in attrs.items() if v is not None},
                 allocation=tuple(choice.allocations))


def _check_skus_known(request: PlaceOrder, known: set[str]) -> None:
    unknown = {f"lines[{i}].sku": f"unknown sku {ln.sku!r} (no inventory in any warehouse)"
               for i, ln in enumerate(request.lines) if ln.sku not in known}
    if unknown:
        raise InvalidInput(unknown)


def risk_turns(contact: Contact, buyer_id: str, device_id: str | None = None,
               ip: str | None = None) -> list[tuple[str, str]]:
    """What placements' risk signals count other orders by, of an order or a correction
    (which changes only where it goes): its buyer, device, IP, address and phones, the
    buyer's and the recipient's (E.164: one number however it was written)."""
    keys = [("buyer", buyer_id), ("device", device_id), ("ip", ip),
            ("address", contact.address.key), ("phone", contact.phone),
            ("phone", contact.recipient_phone)]
    return [(kind, value) for kind, value in keys if value]


def _facts(order: Order, request: PlaceOrder, contact: Contact,
           now: datetime) -> PlacementFacts:
    return PlacementFacts(
        order_id=order.public_id, buyer_id=order.buyer_id, amount=order.total,
        currency=order.currency, placed_at=now,
        lines=tuple(PlacedLine(ln.sku, ln.quantity, ln.unit_price) for ln in order.lines),
        shipping_address=request.shipping_address.model_dump(exclude_none=True),
        device_id=request.device_id, ip=str(request.ip) if request.ip else None,
        phone=contact.phone, recipient_phone=contact.recipient_phone, address=contact.address,
        phone_is_recipients=contact.phone_is_recipients)
