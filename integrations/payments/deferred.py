"""The configured payment gateway, built when money first moves — not when a store opens.

Its credentials may be kept in Prefect Secret blocks (payments/credentials.py): built at
start-up, every pilot (each CLI command, `orderpilot order show` included) needed the Prefect
server up just to read an order. Deferred, a read never asks for them; the first use of the
gateway reads the settings (SecretsUnavailable when the server cannot give them) and builds it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from integrations.payments.select import gateway_from_settings
from integrations.payments.settings import PaymentSettings


class DeferredGateway:
    """Stands for the gateway `gateway_from_settings(read())` builds on first use: any
    attribute but those below is the built gateway's. `settings()` is the one reading both
    the gateway and the webhook secrets use (Context.payment_settings)."""

    def __init__(self, read: Callable[[], PaymentSettings]):
        self._read = read
        self._settings: PaymentSettings | None = None
        self._gateway: Any = None
        self._book: Any = None

    def settings(self) -> PaymentSettings:
        if self._settings is None:
            self._settings = self._read()
        return self._settings

    @property
    def provider(self) -> str:
        """The provider's name — from the environment when the reader knows it, so that
        recording a money operation (in the transaction that decides it) never waits on the
        secret blocks: a block that cannot be read fails the provider call after the commit,
        which leaves the operation pending (money.execute), not the decision undone."""
        known = getattr(self._read, "provider", None)
        return str(known) if known is not None else str(self.built().provider)

    def built(self) -> Any:
        if self._gateway is None:
            gateway = gateway_from_settings(self.settings())
            if self._book is not None and callable(getattr(gateway, "bind_book", None)):
                gateway.bind_book(self._book)
            self._gateway = gateway
        return self._gateway

    def bind_book(self, book: Any) -> None:
        """Kept for the simulated provider, given to it when it is built (the context that
        opened the store binds its book at start-up: asking the built gateway would build it)."""
        self._book = book
        if self._gateway is not None and callable(getattr(self._gateway, "bind_book", None)):
            self._gateway.bind_book(book)

    def close(self) -> None:
        """Close the gateway if it was built (its provider's HTTP client); nothing otherwise."""
        close = getattr(self._gateway, "close", None)
        if callable(close):
            close()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):  # copy / pickle probes, and our own before __init__ set them
            raise AttributeError(name)
        return getattr(self.built(), name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_"):
            object.__setattr__(self, name, value)
        else:  # a setting of the provider's (a test's failure rate): the built gateway's
            setattr(self.built(), name, value)

    def __repr__(self) -> str:
        built = "not built" if self._gateway is None else f"built: {self._gateway!r}"
        return f"DeferredGateway({built})"
