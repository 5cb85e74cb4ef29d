"""Providers' own webhooks, each checked with the provider's own signature scheme:

- `POST /hooks/kuaidi100` — Kuaidi100 subscription pushes (form `param` + `sign`, MD5 + salt);
- `POST /hooks/aftership` — AfterShip tracking webhooks (`aftership-hmac-sha256`);
- `POST /hooks/shopify` — Shopify order webhooks (`X-Shopify-Hmac-Sha256`), see shopify.py.

They live outside `/v1/` because the orderpilot signature does not apply to them; the size
limit does (see auth.py). Work runs in the thread pool (the store is synchronous) through the
route runner, so the opt-in group commit batches these too.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from integrations.carriers import aftership, kuaidi100
from integrations.connect_config import secret_of
from integrations.http.deps import ERRORS, Run
from integrations.ingest import shopify
from integrations.ingest.once import Outcome
from integrations.ingest.storefront import shopify_webhook
from integrations.ingest.tracking import apply_update
from statemachine.errors import InvalidInput

router = APIRouter(prefix="/hooks", responses=ERRORS, tags=["providers"])


def _refused(problem: str, **extra: object) -> JSONResponse:
    return JSONResponse({"error": "unauthorized", "message": problem, **extra}, 401)


def _body(outcome: Outcome) -> dict:
    return {"applied": outcome.body.get("applied"), "note": outcome.body.get("note"),
            "duplicate": outcome.duplicate, "order_id": (outcome.body.get("order") or {})
            .get("id") or (outcome.body.get("shipment") or {}).get("order_id")}


@router.post("/kuaidi100")
async def kuaidi100_push(request: Request, run: Run) -> JSONResponse:
    """A Kuaidi100 push; answered the way Kuaidi100 expects (`result`, `returnCode`)."""
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    param, sign = (form.get("param") or [None])[0], (form.get("sign") or [None])[0]
    salt = secret_of(run.ctx.settings.tracking.kuaidi100_salt)
    problem = kuaidi100.sign_problem(param, sign, salt)
    if problem is not None:
        return _refused(problem, result=False, returnCode="401")
    update = kuaidi100.parse_push(param or "")
    outcome = await run_in_threadpool(run, lambda c: apply_update(c, update))
    return JSONResponse({**kuaidi100.OK_ANSWER, **_body(outcome)})


@router.post("/aftership")
async def aftership_webhook(request: Request, run: Run) -> JSONResponse:
    """An AfterShip tracking webhook."""
    body = await request.body()
    secret = secret_of(run.ctx.settings.tracking.aftership_webhook_secret)
    problem = aftership.signature_problem(body, request.headers.get(
        aftership.SIGNATURE_HEADER), secret)
    if problem is not None:
        return _refused(problem)
    update = aftership.parse_webhook(body)
    outcome = await run_in_threadpool(run, lambda c: apply_update(c, update))
    return JSONResponse(_body(outcome))


@router.post("/shopify")
async def shopify_order_webhook(request: Request, run: Run) -> JSONResponse:
    """A Shopify order or refund webhook (topic in X-Shopify-Topic)."""
    body, headers, policy = await request.body(), request.headers, run.ctx.settings.shopify
    problem = shopify.signature_problem(body, headers.get(shopify.HMAC_HEADER),
                                        secret_of(policy.webhook_secret))
    shop = headers.get("x-shopify-shop-domain", "")
    if problem is None and policy.shop_domain and shop != policy.shop_domain:
        problem = f"webhooks are accepted from {policy.shop_domain} only (got {shop!r})"
    if problem is not None:
        return _refused(problem)
    topic, webhook_id = headers.get("x-shopify-topic"), headers.get("x-shopify-webhook-id")
    if not topic or not webhook_id:
        raise InvalidInput({"headers": "X-Shopify-Topic and X-Shopify-Webhook-Id are required"})
    try:
        payload = json.loads(body)
    except ValueError:
        raise InvalidInput({"body": "body is not valid JSON"}) from None
    if not isinstance(payload, dict):
        raise InvalidInput({"body": "expected a JSON object"})
    outcome = await run_in_threadpool(run, lambda c: shopify_webhook(
        c, topic, webhook_id[:128], shop or "unknown-shop", payload))
    reply = {**outcome.body, "duplicate": outcome.duplicate}
    return JSONResponse(reply, outcome.status,
                        headers={"Idempotent-Replay": "true"} if outcome.duplicate else None)
