"""What the signal adapter gathers before `decide` runs: counts, list hits, credit, history.

Every field may be `None`, which means "unknown". A rule that needs an unknown value does not
fire (Stripe Radar's semantics for a missing attribute).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# Dimensions the velocity rule counts over, and the blacklist kinds the adapter may report.
BUYER, DEVICE, IP, ADDRESS, PHONE = "buyer", "device", "ip", "address", "phone"


@dataclass(frozen=True, slots=True)
class RiskSignals:
    """Facts about the buyer and the surroundings of an order, gathered without the label."""

    account_created_at: datetime | None = None
    # Earlier orders in the rule set's velocity window, per dimension (buyer/device/ip/address).
    velocity: Mapping[str, int] = field(default_factory=dict)
    # Block-list kinds that matched this order (see `blacklist.blacklist_hits`).
    blacklist_hits: tuple[str, ...] = ()
    # Allow-list kinds that matched: approve at once, unless a block list matched too.
    allow_hits: tuple[str, ...] = ()
    # Quantity of each sku this account already bought today, before this order.
    sku_bought_today: Mapping[str, int] | None = None
    address_changes: int | None = None
    orders_total: int | None = None
    orders_cancelled: int | None = None
    orders_completed: int | None = None
    disputes: int | None = None
    credit_score: int | None = None
    # Distinct *other* buyers seen earlier on this device / IP.
    device_other_buyers: int | None = None
    ip_other_buyers: int | None = None
    # Distinct *other* buyers whose orders in the phone-velocity window carried one of this
    # order's numbers (as the buyer's or the recipient's): the most on any one number, and that
    # number (E.164; None: the order's `phone`); None when the order has no phone.
    phone_other_buyers: int | None = None
    shared_phone: str | None = None
    # Mean amount (minor units) of the buyer's earlier orders.
    buyer_mean_amount: float | None = None


def phone_sharing(counted: Sequence[tuple[str, int]]) -> dict[str, Any]:
    """`phone_other_buyers` and `shared_phone` from each of the order's numbers (buyer's
    first) with its other buyers: the number shared by the most, the buyer's own on a tie
    (max keeps the first of equals); nothing for an order without a number."""
    if not counted:
        return {}
    phone, most = max(counted, key=lambda pair: pair[1])
    return {"phone_other_buyers": most, "shared_phone": phone}


def account_age_seconds(signals: RiskSignals, placed_at: datetime) -> float | None:
    """Seconds from sign-up to this order, or None when the sign-up time is unknown."""
    if signals.account_created_at is None:
        return None
    return (placed_at - signals.account_created_at).total_seconds()
