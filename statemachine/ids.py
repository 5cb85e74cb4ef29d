"""Public ids: one codec for every entity, used at every edge (`o-42` ⇄ 42).

The store keys rows by integer; people, events and webhooks see a prefixed string. Writing the
prefix by hand in many places made ids change form at every layer, and a loose parser
(`\\d` matches Arabic-Indic digits too) resolved `o-١` to `o-1`. Parsing here accepts the
canonical form only — ASCII digits, 1–18 of them (fits a BIGINT), no leading zero — and names the
field on refusal: `o-01` is not a spelling of o-1 (an Alipay trade numbered `o-01` paid order 1),
so every id has one spelling, the one this codec writes.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from statemachine.errors import InvalidInput

_DIGITS = re.compile(r"0|[1-9][0-9]{0,17}", re.ASCII)  # as `str(number)` writes them


@dataclass(frozen=True, slots=True)
class IdCodec:
    prefix: str
    entity: str

    def __call__(self, number: int) -> str:
        """The public id of row `number`."""
        return f"{self.prefix}-{number}"

    def parse(self, value: Any, field: str | None = None) -> int:
        """`o-42` → 42; anything else is InvalidInput naming `field` (default: `<entity>_id`)."""
        head = f"{self.prefix}-"
        if isinstance(value, str) and value.startswith(head):
            digits = value[len(head):]
            if _DIGITS.fullmatch(digits):
                return int(digits)
        raise InvalidInput({field or f"{self.entity}_id": f"expected an id like {self.prefix}-123 "
                            f"(ASCII digits, no leading zero; got {value!r})"})

    def number(self, value: str | int) -> int:
        """A row number from either form (internal callers that may hold either)."""
        return value if isinstance(value, int) else self.parse(value)


ORDER = IdCodec("o", "order")
SHIPMENT = IdCodec("s", "shipment")
CASE = IdCodec("c", "case")
CLAIM = IdCodec("cl", "claim")
WAVE = IdCodec("w", "wave")
TRANSFER = IdCodec("t", "transfer")
DISPUTE = IdCodec("d", "dispute")
SUBSCRIPTION = IdCodec("sub", "subscription")  # outbound webhook subscriptions
DELIVERY = IdCodec("dl", "delivery")  # one event for one subscription

BY_PREFIX = {codec.prefix: codec for codec in (ORDER, SHIPMENT, CASE, CLAIM, WAVE, TRANSFER,
                                               DISPUTE, SUBSCRIPTION, DELIVERY)}
BY_ENTITY = {codec.entity: codec for codec in BY_PREFIX.values()}

# The id of the event an outbox row becomes (Prefect events, outbound webhooks): derived from the
# outbox id, so a row published twice is the same event and consumers dedupe it.
EVENT_NAMESPACE = uuid.UUID("5d1f3c1e-6a55-4a0e-9a3e-0b7c2e4f9a10")


def event_id(outbox_id: int, source: str = "orderpilot") -> uuid.UUID:
    """The stable event id of one outbox row (same row → same id, on every retry)."""
    return uuid.uuid5(EVENT_NAMESPACE, f"{source}:outbox:{outbox_id}")


def message_id(outbox_id: int, source: str = "orderpilot") -> str:
    """The outbound webhook id of one outbox row (`msg_<hex>`): the same event id."""
    return f"msg_{event_id(outbox_id, source).hex}"
