"""What every service function gets: the engine, the clock, the policies, the risk check."""

from __future__ import annotations

import copy
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from integrations.config import Settings
from integrations.db.errors import schema_problem
from integrations.db.migrate import schema_mismatch
from integrations.db.payment_book import BookedPayment, booked_payment
from integrations.db.unit_of_work import Engine, Tx, tx_on
from integrations.db.units import Units
from integrations.service.contention import as_domain_error
from statemachine.clock import Clock
from statemachine.policies import Timeouts
from statemachine.ports import PaymentGateway
from statemachine.risk_port import RiskCheck
from statemachine.verification import Verifier

if TYPE_CHECKING:
    from integrations.payments.settings import PaymentSettings


class SystemClock:
    """The wall clock, in UTC: the one place orderpilot reads it."""

    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class Context:
    engine: Engine
    clock: Clock
    settings: Settings
    timeouts: Timeouts
    risk_check: RiskCheck
    hooks: tuple[Callable[..., None], ...] = field(default=())  # see service/hooks.py
    verifier: Verifier | None = None  # step-up verification codes (service/verification.py)
    gateway: PaymentGateway = field(default_factory=lambda: _simulated_gateway())
    # the settings `gateway` was built from (webhook secrets too); None: not read yet
    payments: PaymentSettings | None = None
    # reads a payment credential kept in a secret block (payments/credentials.py)
    secrets: Callable[[str], str] | None = field(default=None, repr=False)
    # audience → apprise URLs (ORDERPILOT_NOTIFY_ROUTES), read and checked at start-up
    notify_routes: dict[str, list[str]] = field(default_factory=dict)
    units: Units = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # the durability setting reaches every connection that writes (engine.py)
        self.units = Units(self.engine.url, sqlite_synchronous=self.settings.sqlite_synchronous)
        bind_book = getattr(self.gateway, "bind_book", None)
        if callable(bind_book):  # the simulated provider: payments made elsewhere, as booked
            bind_book(store_book(self))

    @contextmanager
    def tx(self, readonly: bool = False) -> Iterator[Tx]:
        """Open a transaction; commit when the block ends, roll back if it raises.

        A collision with another writer (deadlock, serialization failure, SQLite busy) leaves
        as `Contention` (`contention.retrying` re-runs it), a table or column the store lacks
        as `SchemaMismatch` (naming its revision and the fix), a lost connection as
        `StoreUnavailable`, a refused value as `InvalidInput` — never as the driver's exception.
        """
        try:
            with self.units.begin(readonly) as connection:
                yield tx_on(connection)
        except Exception as error:
            problem = schema_problem(error)
            if problem is not None:  # a deployment error, not an outage: say so
                raise schema_mismatch(self.engine, problem) from error
            mapped = as_domain_error(error, self.engine.url.render_as_string(hide_password=True))
            if mapped is None or mapped is error:
                raise
            raise mapped from error

    def payment_settings(self) -> PaymentSettings:
        """The payment settings (webhook secrets included): those the gateway was built from,
        else read now, once — a context given its gateway reads no secret block until a
        webhook app asks for them."""
        if self.payments is None:
            from integrations.payments.credentials import read_payment_settings

            self.payments = read_payment_settings(self.secrets)
        return self.payments

    def joined(self, units: Any) -> Context:
        """This context with other units of work (the savepoints of a group commit)."""
        clone = copy.copy(self)
        clone.units = units
        return clone

    def close(self) -> None:
        """Close the held connections and the engine's pool."""
        _close(self.units, self.engine)

    def close_when_dropped(self) -> None:
        """Close this context once nothing refers to it any more, or when the process exits
        (for an owner that shares it and cannot tell when its last user is done)."""
        weakref.finalize(self, _close, self.units, self.engine)


def _close(units: Units, engine: Engine) -> None:
    units.close()
    engine.dispose()


def _simulated_gateway() -> PaymentGateway:
    from integrations.payments.simulated import AdoptingGateway

    return AdoptingGateway()


def store_book(ctx: Context) -> Callable[[str], BookedPayment | None]:
    """A payment as `ctx`'s store booked it, for the simulated provider (weakly held: a
    gateway outliving its context does not keep its engine open)."""
    context = weakref.ref(ctx)

    def book(payment_ref: str) -> BookedPayment | None:
        held = context()
        if held is None:
            return None
        with held.tx(readonly=True) as tx:
            return booked_payment(tx.store.sql, payment_ref)

    return book
