"""The work waiting for a person, read from the store: the source of truth the console's runs
are reconciled against.

Five kinds: orders held by the risk engine (`risk-review`), after-sales requests a person must
decide (`refund-review`), parcels in an open stall episode (`stall`), chargebacks to answer
before the provider's evidence due date (`dispute-review`: once that date passes unanswered the
case is no longer open — nothing can be submitted, the bank decides), and return cases whose
parcel the carrier sent back to the buyer (`return-bounced`: a new label or close, within the
after-sales SLA from the bounce). Each open case has an
`episode`: the id that names its one live run (a parcel can stall again later: a new episode).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from integrations.db import casework_reads as reads
from integrations.db.dispute_store import DisputeStore
from integrations.service.context import Context, Tx
from statemachine import ids
from statemachine.currency import shown
from statemachine.dispute import UNANSWERED, Dispute, DisputeKind
from statemachine.errors import NotFound

RISK_REVIEW, REFUND_REVIEW, STALL, DISPUTE_REVIEW, RETURN_BOUNCED = (
    "risk-review", "refund-review", "stall", "dispute-review", "return-bounced")
KINDS = (RISK_REVIEW, REFUND_REVIEW, STALL, DISPUTE_REVIEW, RETURN_BOUNCED)
ABOUT = {RISK_REVIEW: ids.ORDER, REFUND_REVIEW: ids.CASE, STALL: ids.SHIPMENT,
         DISPUTE_REVIEW: ids.DISPUTE, RETURN_BOUNCED: ids.CASE}  # what each kind is about
MONEY_KEYS = ("amount", "threshold", "total", "limit", "requested", "paid")


@dataclass(frozen=True)
class OpenCase:
    """One piece of work for a person: what, about which order, how much, why, by when."""

    kind: str
    entity: str            # o-42 | c-3 | s-7 | d-2
    episode: str           # the run's identity: o-42 | c-3 | s-7-1793520000 | d-2 | d-2-inquiry
    order_id: str
    buyer_id: str
    amount: int            # minor units
    currency: str
    opened_at: datetime
    due_at: datetime | None
    reasons: tuple[str, ...] = field(default=())

    def sla_left(self, now: datetime) -> timedelta | None:
        return None if self.due_at is None else self.due_at - now


money = shown  # minor units as a person reads them: `¥6,999.00`, `USD 12.50`


def plain_reason(reason: dict[str, Any], currency: str) -> str:
    """A risk reason with its amounts in major units ("amount ¥6,999.00 above ¥5,000.00")."""
    text = str(reason.get("text", reason.get("rule", "")))
    values = reason.get("values") or {}
    for key in MONEY_KEYS:
        value = values.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and str(value) in text:
            text = text.replace(str(value), money(value, currency), 1)
    return text


def open_cases(ctx: Context, kinds: tuple[str, ...] = KINDS) -> list[OpenCase]:
    """Every case waiting for a person now, oldest first."""
    with ctx.tx(readonly=True) as tx:
        readers = _readers(ctx, tx)
        found = [case for kind in kinds for case in readers[kind](None)]
    return sorted(found, key=lambda c: c.opened_at)


def open_case(ctx: Context, kind: str, entity: str) -> OpenCase | None:
    """The open case of `kind` about `entity` (o-42 / c-3 / s-7 / d-2), or None once it is
    closed."""
    number = ABOUT[kind].parse(entity, "entity")
    with ctx.tx(readonly=True) as tx:
        found = _readers(ctx, tx)[kind](number)
    return found[0] if found else None


def _readers(ctx: Context, tx: Tx) -> dict[str, Callable[[int | None], list[OpenCase]]]:
    conn = tx.connection
    sla = ctx.timeouts.aftersales_sla
    return {RISK_REVIEW: partial(_risk_reviews, conn),
            REFUND_REVIEW: partial(_refund_reviews, conn, sla),
            STALL: partial(_stalls, conn), RETURN_BOUNCED: partial(_bounced_returns, conn, sla),
            DISPUTE_REVIEW: partial(_dispute_reviews, tx, ctx.clock.now())}


def placement_device_ip(ctx: Context, order_id: str) -> tuple[str | None, str | None]:
    """The device and IP the order was placed from, as the risk engine kept them."""
    with ctx.tx(readonly=True) as tx:
        row = reads.placement_facts(tx.connection, ids.ORDER.parse(order_id))
    return (row.device_id, row.ip) if row else (None, None)


def related_orders(ctx: Context, order_id: str, limit: int = 10) -> list[dict[str, Any]]:
    """Other orders placed from the same device, IP or normalised address."""
    number = ids.ORDER.parse(order_id)
    with ctx.tx(readonly=True) as tx:
        me = reads.placement_facts(tx.connection, number)
        if me is None:
            return []
        seen: dict[int, dict[str, Any]] = {}
        for column, label in reads.SHARED:
            if not getattr(me, column):
                continue
            for r in reads.orders_sharing(tx.connection, number, column, getattr(me, column),
                                          limit):
                seen.setdefault(r.id, {"order_id": ids.ORDER(r.id), "buyer_id": r.buyer_id,
                                       "state": r.state, "total": r.total,
                                       "currency": r.currency, "placed_at": r.created_at,
                                       "shares": []})["shares"].append(label)
    return sorted(seen.values(), key=lambda o: o["placed_at"], reverse=True)[:limit]


def _risk_reviews(conn: Any, order_number: int | None) -> list[OpenCase]:
    return [OpenCase(RISK_REVIEW, ids.ORDER(r.order_id), ids.ORDER(r.order_id),
                     ids.ORDER(r.order_id), r.buyer_id, r.total, r.currency, r.opened_at, r.due_at,
                     tuple(plain_reason(x, r.currency) for x in r.reasons or ()))
            for r in reads.held_orders(conn, order_number)]


def _refund_reviews(conn: Any, sla: timedelta, case_number: int | None) -> list[OpenCase]:
    """Requests under review, due `sla` after the request (statemachine.aftersales.answer_due):
    computed, so a request past its SLA stays due then — overdue — after the sweep fired it."""
    return [OpenCase(REFUND_REVIEW, ids.CASE(r.id), ids.CASE(r.id), ids.ORDER(r.order_id),
                     r.buyer_id, sum(int(ln.get("amount", 0)) for ln in r.lines or ()), r.currency,
                     r.created_at, r.created_at + sla,
                     (f"{r.kind.replace('_', ' ')}: {r.reason}",))
            for r in reads.cases_under_review(conn, case_number)]


def _bounced_returns(conn: Any, sla: timedelta, case_number: int | None) -> list[OpenCase]:
    """Return cases whose return parcel came back to the buyer, waiting since the bounce (their
    last step), due `sla` after it, overdue after. A case can bounce again after a new label:
    each bounce is an episode (a run) of its own."""
    return [OpenCase(RETURN_BOUNCED, ids.CASE(r.id), f"{ids.CASE(r.id)}-"
                     f"{int(r.updated_at.timestamp())}", ids.ORDER(r.order_id),
                     r.buyer_id, sum(int(ln.get("amount", 0)) for ln in r.lines or ()), r.currency,
                     r.updated_at, r.updated_at + sla,
                     (f"{r.kind.replace('_', ' ')}: the return parcel came back to the buyer",))
            for r in reads.cases_in(conn, "return_bounced", case_number)]


def _stalls(conn: Any, shipment_number: int | None) -> list[OpenCase]:
    return [OpenCase(STALL, ids.SHIPMENT(r.id), _episode(r), ids.ORDER(r.order_id),
                     r.buyer_id, r.total, r.currency, r.last_scan_at or r.created_at, None,
                     (f"{r.carrier} {r.tracking_no}: {r.stall_reason or 'stalled'}",))
            for r in reads.stalled_parcels(conn, shipment_number)]


def _dispute_reviews(tx: Tx, now: datetime, dispute_number: int | None) -> list[OpenCase]:
    """Disputes not answered yet whose evidence may still be submitted."""
    store = DisputeStore(tx.store.sql)
    if dispute_number is None:
        disputes = [d for state in sorted(UNANSWERED) for d in store.listed(state)]
    else:
        try:
            disputes = [store.get(dispute_number)]
        except NotFound:
            return []
    return [OpenCase(DISPUTE_REVIEW, d.public_id, _dispute_episode(d), ids.ORDER(d.order_id),
                     tx.store.get_order(d.order_id).buyer_id, d.amount, d.currency,
                     d.created_at, d.evidence_due_by, (f"{d.kind}: {d.reason or 'no reason'}",))
            for d in disputes if d.state in UNANSWERED and
            (d.evidence_due_by is None or now < d.evidence_due_by)]


def _dispute_episode(dispute: Dispute) -> str:
    """An inquiry the bank escalates is a chargeback to answer afresh (its own reason and due
    date): a new episode, so a new run and form — the inquiry's run is not asked again."""
    return dispute.public_id if dispute.kind is DisputeKind.CHARGEBACK \
        else f"{dispute.public_id}-{dispute.kind}"


def _episode(parcel: Any) -> str:
    """A stall episode is named by the last scan before the silence: unchanged while the
    parcel stays stalled (even when it is also marked late), new after the next scan."""
    since = parcel.last_scan_at or parcel.created_at
    return f"{ids.SHIPMENT(parcel.id)}-{int(since.timestamp())}"
