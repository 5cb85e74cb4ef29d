"""What every service function gets: the engine, the clock, the policies, the risk check."""

from __future__ import annotations

import copy
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NoReturn

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
    # the connections units of work run on. None: opened here. A copy made with
    # dataclasses.replace gets its original's, shared, not a second pool of connections
    units: Any = field(default=None, repr=False, compare=False)
    # what close() closes: what this context opened, and what its builder handed it (own)
    _owned: list[Any] = field(init=False, repr=False, compare=False, default_factory=list)

    def __post_init__(self) -> None:
        self._owned = []
        built = self.units is None  # not a copy (a copy is handed its original's units)
        if built or _of_another_store(self.units, self.engine, self.settings):
            # the durability setting reaches every connection that writes (engine.py)
            self.units = Units(self.engine.url,
                               sqlite_synchronous=self.settings.sqlite_synchronous)
            self._owned.append(self.units)
        bind_book = getattr(self.gateway, "bind_book", None)
        if built and callable(bind_book):  # the simulated provider: payments made elsewhere
            # Bound by the context that opened the store, once. A copy (dataclasses.replace)
            # shares its original's gateway, already bound; its own book, weakly held, would
            # die with the copy and leave the gateway reading nothing. A copy given a gateway
            # of its own binds it itself if it needs to (store_book).
            bind_book(store_book(self))

    def tx(self, readonly: bool = False) -> TxScope:
        """Open a transaction; commit when the block ends, roll back if it raises.

        A collision with another writer (deadlock, serialization failure, SQLite busy) leaves
        as `Contention` (`contention.retrying` re-runs it), a table or column the store lacks
        as `SchemaMismatch` (naming its revision and the fix), a lost connection as
        `StoreUnavailable`, a refused value as `InvalidInput` — never as the driver's exception.
        """
        return TxScope(self, readonly)

    def domain_error(self, error: Exception) -> Exception | None:
        """What `tx` raises instead of `error` (None: `error` itself)."""
        problem = schema_problem(error)
        if problem is not None:  # a deployment error, not an outage: say so
            return schema_mismatch(self.engine, problem)
        mapped = as_domain_error(error, self.engine.url.render_as_string(hide_password=True))
        return None if mapped is None or mapped is error else mapped

    def payment_settings(self) -> PaymentSettings:
        """The payment settings (webhook secrets included): those the gateway was or will be
        built from (one reading), else read now, once — no secret block is read until a
        webhook app asks for them or money first moves."""
        if self.payments is None:
            from integrations.payments.credentials import read_payment_settings
            from integrations.payments.deferred import DeferredGateway

            self.payments = (self.gateway.settings() if isinstance(self.gateway, DeferredGateway)
                             else read_payment_settings(self.secrets))
        return self.payments

    def joined(self, units: Any) -> Context:
        """This context with other units of work (the savepoints of a group commit); it
        shares everything else and closes nothing."""
        clone = copy.copy(self)
        clone.units, clone._owned = units, []
        return clone

    def own(self, *resources: Any) -> None:
        """Make close() close these too (the engine and the gateway build_context opened for
        this context): an engine is disposed, anything else closed if it can be."""
        self._owned.extend(r for r in resources if isinstance(r, Engine) or callable(
            getattr(r, "close", None)))

    def close(self) -> None:
        """Close what this context opened or owns: its held connections, the engine's pool,
        the payment gateway's HTTP client. A copy (dataclasses.replace, joined) shares its
        original's and closes nothing of them; a gateway passed in is its caller's to close."""
        _close(self._owned)

    def close_when_dropped(self) -> None:
        """Close this context once nothing refers to it any more, or when the process exits
        (for an owner that shares it and cannot tell when its last user is done)."""
        weakref.finalize(self, _close, self._owned)


class TxScope:
    """The context manager of `Context.tx` (a class, not a generator: one per API call, and
    contextlib's generator machinery cost more than an empty transaction's BEGIN and COMMIT).
    Whatever leaves the unit of work — its BEGIN, the block, its COMMIT — leaves as
    `Context.domain_error` says."""

    __slots__ = ("ctx", "readonly", "unit")

    def __init__(self, ctx: Context, readonly: bool):
        self.ctx, self.readonly = ctx, readonly

    def __enter__(self) -> Tx:
        units = self.ctx.units
        self.unit = unit = units.begin(self.readonly)
        try:
            connection = unit.__enter__()
        except Exception as error:
            self._raise(error)
        try:  # the tools are kept with the held connection (Units.tools)
            return units.tools(unit, connection, tx_on).fresh()
        except BaseException as error:
            self.__exit__(type(error), error, error.__traceback__)
            raise

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: Any) -> bool:
        try:
            if self.unit.__exit__(kind, error, trace):
                return True
        except Exception as raised:
            self._raise(raised)
        if isinstance(error, Exception):
            mapped = self.ctx.domain_error(error)
            if mapped is not None:
                raise mapped from error
        return False

    def _raise(self, error: Exception) -> NoReturn:
        mapped = self.ctx.domain_error(error)
        if mapped is None:
            raise error
        raise mapped from error


def _close(owned: list[Any]) -> None:
    """Close each resource once (close() and then the finalizer at exit close nothing twice)."""
    while owned:
        resource = owned.pop(0)
        if isinstance(resource, Engine):
            resource.dispose()
        else:
            resource.close()


def _of_another_store(units: Any, engine: Engine, settings: Settings) -> bool:
    """`units` (a copy's, from its original) run on another store than `engine`, or write
    with another durability than `settings` asks: a copy made so opens its own."""
    return isinstance(units, Units) and (
        units.engine.url != engine.url
        or units.sqlite_synchronous != settings.sqlite_synchronous)


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
