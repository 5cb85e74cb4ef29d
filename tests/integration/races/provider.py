"""One payment provider for every racing process: the simulated gateway, its books kept in a
file that each call reads and writes under an exclusive lock.

A provider is one system however many of our processes call it: it refuses a refund beyond
what is left of a payment and answers a repeated idempotency key with its first result, across
all callers. The in-memory simulated gateway does that within one process only, so racing
processes each holding their own would each pay out in full — and hide the bug. Every call is
also logged (kind, payment, amount, key, outcome), refused ones included, so a test can tell
what the provider was asked for as well as what it paid.
"""

from __future__ import annotations

import fcntl
import pickle
from pathlib import Path
from typing import Any

from integrations.payments.simulated import SimulatedGateway, _Payment


class SharedProvider(SimulatedGateway):
    def __init__(self, path: str):
        super().__init__()
        self.path = Path(path)
        self.calls: list[tuple[str, str, int, str, str]] = []

    def paid(self, payment_ref: str, amount: int, currency: str = "CNY") -> None:
        """The buyer paid `amount` under `payment_ref` (captured at the provider)."""
        with self._books():
            self._payments[payment_ref] = _Payment("", amount, currency, "captured",
                                                   captured=amount)

    def dashboard_refund(self, payment_ref: str, amount: int) -> None:
        """Staff refund `amount` by hand in the provider's dashboard (no key of ours)."""
        with self._books():
            payment = self._payments[payment_ref]
            assert amount <= payment.captured - payment.refunded
            payment.refunded += amount
            self.calls.append(("refund", payment_ref, amount, "dashboard", "done"))

    def refunded(self, payment_ref: str) -> int:
        """What the provider paid back of a payment."""
        with self._books():
            payment = self._payments.get(payment_ref)
            return payment.refunded if payment else 0

    def asked(self, payment_ref: str) -> list[tuple[str, int, str]]:
        """Every refund call made for a payment, refused ones too: (key, amount, outcome)."""
        with self._books():
            return [(key, amount, outcome) for _, ref, amount, key, outcome in self.calls
                    if ref == payment_ref]

    def _once(self, key: str, request: tuple, call: Any):  # type: ignore[no-untyped-def]
        with self._books():
            try:
                result = super()._once(key, request, call)
            except Exception as error:
                self._log(request, key, f"refused: {error}")
                raise
            self._log(request, key, "done")
            return result

    def _log(self, request: tuple, key: str, outcome: str) -> None:
        if request[0] == "refund":
            self.calls.append(("refund", request[1], request[2], key, outcome))

    def _books(self) -> _Locked:
        return _Locked(self)


class _Locked:
    """Load the provider's books under an exclusive file lock; write them back on the way out."""

    def __init__(self, provider: SharedProvider):
        self.provider = provider
        self.lock: Any = None

    def __enter__(self) -> None:
        p = self.provider
        self.lock = open(p.path.with_suffix(".lock"), "a")  # noqa: SIM115 (closed in __exit__)
        fcntl.flock(self.lock, fcntl.LOCK_EX)
        if p.path.exists() and p.path.stat().st_size:
            p._payments, p._by_key, p.calls = pickle.loads(p.path.read_bytes())

    def __exit__(self, *exc: object) -> None:
        p = self.provider
        try:
            p.path.write_bytes(pickle.dumps((p._payments, p._by_key, p.calls)))
        finally:
            fcntl.flock(self.lock, fcntl.LOCK_UN)
            self.lock.close()
