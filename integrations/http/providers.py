"""Payment providers' own webhooks, signed their own way (not with our HMAC), beside the
carriers' and Shopify's under `/hooks/` (hooks.py; the size limit of auth.py applies):

- `POST /hooks/stripe` — `Stripe-Signature`, checked by the stripe SDK;
- `POST /hooks/alipay` — Alipay's RSA2-signed notify form, checked by python-alipay-sdk.

A refused delivery (forged, stale, not configured) writes nothing and is answered 401
(`failure` as text for Alipay, which reads only the text). An Alipay notice that passed its
checks but could not be applied now (the store busy or away: 503 with Retry-After; a step the
order refuses: 409; anything unexpected: 500) is answered `failure` as text too — never the
JSON error body, which Alipay cannot read — and Alipay resends it.
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from integrations.http.deps import Ctx
from integrations.http.errors import RETRY_AFTER_SECONDS, status_of
from integrations.ingest.money_events import apply_money_event
from integrations.notifications.masking import known_pii, mask_doc
from integrations.payments import alipay_notify, stripe_events
from integrations.payments.settings import PaymentSettings
from integrations.service import money
from statemachine.errors import OrderPilotError
from statemachine.ports import MoneyEvent, WebhookRefused

log = logging.getLogger(__name__)
router = APIRouter(prefix="/hooks", tags=["providers"])


@router.post("/stripe")
async def stripe_webhook(request: Request, ctx: Ctx) -> Response:
    """Stripe events: payment_intent.* (authorised, succeeded, failed), charge.refunded,
    charge.dispute.created / updated / closed / funds_withdrawn / funds_reinstated. Other types
    are acknowledged and ignored."""
    settings: PaymentSettings = request.app.state.payments
    body = await request.body()
    if not settings.stripe_webhook_secret:
        return _refused_json("stripe webhooks are not configured")
    try:
        event = stripe_events.read_event(body, request.headers.get("stripe-signature"),
                                         settings.secret("stripe_webhook_secret"),
                                         settings.webhook_tolerance_seconds)
    except WebhookRefused as error:
        return _refused_json(str(error))
    if event is None:
        return JSONResponse({"applied": False, "note": "event type not used by orderpilot"})
    outcome = await run_in_threadpool(_apply, ctx, event)
    headers = {"Idempotent-Replay": "true"} if outcome.duplicate else None
    # Stripe keeps the answer in its dashboard's delivery log: no buyer's phone, street or name
    body = mask_doc(outcome.body, known_pii(outcome.body.get("order")))
    return JSONResponse(body, outcome.status, headers=headers)


@router.post("/alipay")
async def alipay_webhook(request: Request, ctx: Ctx) -> Response:
    """Alipay's asynchronous notification; answered `success` once applied (or replayed)."""
    settings: PaymentSettings = request.app.state.payments
    gateway, body = ctx.gateway, await request.body()
    if settings.provider != "alipay" or not hasattr(gateway, "client"):
        return PlainTextResponse("failure", 401)
    form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    try:
        events = alipay_notify.read_notify(form, gateway.client, settings.secret("alipay_app_id"),
                                           ctx.clock.now(), settings.alipay_notify_window_seconds,
                                           settings.alipay_seller_id)
    except WebhookRefused as error:
        log.warning("alipay notification refused: %s", error)
        return PlainTextResponse("failure", 401)
    follow: list[str] = []  # made once every event of the notice is booked (see _apply_alipay)
    try:
        for event in events:  # each once by its id: a resend replays those applied already
            answer = await _apply_alipay(ctx, event, follow)
            if answer is not None:
                return answer
    finally:
        await run_in_threadpool(_make, ctx, follow)
    return PlainTextResponse("success")


async def _apply_alipay(ctx: Ctx, event: MoneyEvent, follow: list[str]) -> Response | None:
    """None once applied; else Alipay's plain `failure`, with a status that says why. The
    provider calls it recorded join `follow`, made after the notice's last event: a refund
    notice that books the payment first (late money: its refund recorded) and then a refund
    made in the merchant portal must not have asked Alipay for the whole late money between
    the two — Alipay would refuse what the portal refund took."""
    try:
        _, recorded = await run_in_threadpool(apply_money_event, ctx, event)
        follow.extend(recorded)
    except OrderPilotError as error:  # this event not written: Alipay resends (25 hours)
        status = status_of(error)
        log.warning("alipay notification %s not applied, answered failure (%s): %s",
                    event.event_id, status, error)
        return PlainTextResponse("failure", status, headers={
            "Retry-After": RETRY_AFTER_SECONDS} if status == 503 else None)
    except Exception:
        log.exception("alipay notification %s not applied, answered failure (500)",
                      event.event_id)
        return PlainTextResponse("failure", 500)
    return None


def _apply(ctx: Ctx, event: MoneyEvent):  # type: ignore[no-untyped-def]
    """Apply once, then make the provider calls it recorded (a capture after an
    authorisation); whatever stops one there (a timeout, a collision settling it) leaves it
    pending for the money sweep — the event is booked: its answer stands, not a 503 that
    has Stripe resend an event whose replay makes no call."""
    outcome, follow = apply_money_event(ctx, event)
    _make(ctx, follow)
    return outcome


def _make(ctx: Ctx, keys: list[str]) -> None:
    """The provider calls a notice recorded; whatever stops one leaves it pending for the
    money sweep (the notice itself is booked: its answer stands). Booked at this request's
    time, read once here: the notice's own is not in its outcome."""
    money.execute_after_commit(ctx, keys, ctx.clock.now())


def _refused_json(problem: str) -> JSONResponse:
    log.warning("provider webhook refused: %s", problem)
    return JSONResponse({"error": "webhook_refused", "message": problem}, 401)
