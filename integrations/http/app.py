"""The webhook / ingestion HTTP app: `create_app(context)` → FastAPI.

Every route under `/v1/<source>/` is authenticated by `SignatureMiddleware` with that source's
secret (shop, payments, carriers, reviews, ops). Providers post to `/hooks/<provider>`
(Kuaidi100, AfterShip, Shopify, Stripe, Alipay), checked by the providers' own schemes and
SDKs. Inbound events are applied once per event id; a duplicate returns the original response
with `Idempotent-Replay: true`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from anyio import to_thread
from fastapi import FastAPI

from integrations.config import read_settings
from integrations.geo import regions
from integrations.http import (
    errors,
    events,
    hooks,
    providers,
    reads,
    refunds,
    subscriptions,
)
from integrations.http.auth import SignatureMiddleware
from integrations.http.deps import Runner
from integrations.http.settings import HttpSettings
from integrations.payments.settings import PaymentSettings
from integrations.service.context import Context
from integrations.service.group_commit import GroupCommit


def create_app(ctx: Context, settings: HttpSettings | None = None,
               payments: PaymentSettings | None = None) -> FastAPI:
    """The app, wired to one service context; secrets come from `settings` and `payments`
    (default: the context's, Context.payment_settings)."""
    settings = settings or read_settings(HttpSettings)
    app = FastAPI(title="orderpilot ingestion", version="1", lifespan=_address_tables_loaded,
                  description="Signed webhooks in (HMAC-SHA256), order reads out.")
    app.state.context = ctx
    app.state.payments = payments or ctx.payment_settings()
    group = GroupCommit(ctx, settings.group_commit_max_batch,
                        settings.group_commit_max_wait_ms / 1000) if settings.group_commit else None
    app.state.runner = Runner(ctx, group)
    app.add_middleware(SignatureMiddleware, settings=settings, clock=ctx.clock)
    errors.install(app)
    app.include_router(events.router)
    app.include_router(reads.router)
    app.include_router(refunds.router)
    app.include_router(hooks.router)
    app.include_router(providers.router)
    app.include_router(subscriptions.router)
    return app


@asynccontextmanager
async def _address_tables_loaded(app: FastAPI) -> AsyncIterator[None]:
    """The server takes requests once the address tables are loaded: the first placement
    after a start (a deploy, a restart) would otherwise wait seconds for them, past a
    provider's 5 s, and be retried as failed."""
    await to_thread.run_sync(regions.load)
    yield
