"""A corrected address meets placement's address rules (`correct_address`).

Before, a correction was not looked at by any rule: a person typing the buyer's new address
could send a paid order to a block-listed address or phone, a parcel locker, or an address
many orders went to in the last hour. Now the rules placement applies to an address and a
phone (statemachine/risk/correction.py) run on the new address and the corrected phone, on the
correction's transaction, and:

- a rule the rule set rejects on (the block list, by default) refuses the correction, whatever
  the order's state, naming the field (`address`, `address.phone`); nothing is written;
- a rule that would send a placement to a person (review or verify) refuses it too once the
  order is past its review — awaiting payment, paid, picking, packed: moving a paid order back
  to review would take its stock and money with it — unless the address or phone is on the
  allow list (an analyst's decision, with its reason and author, as at placement);
- an order under review is corrected, and what the rules said goes to its reviewer: kept with
  the correction (`address_corrected.risk`), in the history and the review form.

A risk check without rules (`approve_everything`) judges nothing here either.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from integrations.geo.contact import Contact
from integrations.risk.sql_store import SqlRiskStore
from integrations.service.context import Context, Tx
from statemachine.errors import InvalidInput
from statemachine.order_aggregate import Order, OrderState
from statemachine.risk.correction import field_of
from statemachine.risk_port import CorrectionCheck, PlacedLine, PlacementFacts, Reason


def judged(ctx: Context, tx: Tx, order: Order, sent: Mapping[str, Any], contact: Contact,
           now: datetime) -> list[dict[str, str]]:
    """What the reviewer is told ({rule, text}; [] when nothing fired or no review waits), or
    InvalidInput naming each field a rule refuses."""
    check = ctx.risk_check
    if not isinstance(check, CorrectionCheck):
        return []
    verdict = check.judge_correction(_facts(order, sent, contact, now),
                                     SqlRiskStore(tx.connection))
    blocked = _problems(verdict.blocks, "the order cannot be sent there")
    if blocked:
        raise InvalidInput(blocked)
    if not verdict.holds or verdict.allowed:
        return []
    if order.state is OrderState.UNDER_REVIEW:  # its reviewer decides, told what fired
        return [{"rule": r.rule, "text": r.text} for r in verdict.holds]
    # a verifying order waits for its buyer's code, not for a person: no review to tell
    where = "waiting for its buyer's verification code, not for a person" \
        if order.state is OrderState.VERIFYING else "past its review"
    raise InvalidInput(_problems(
        verdict.holds, f"placement would hold the order for a person, and it is "
        f"{order.state.value}, {where} (an address or phone on the allow list passes)"))


def _problems(reasons: tuple[Reason, ...], then: str) -> dict[str, str]:
    said: dict[str, list[str]] = {}
    for reason in reasons:
        for field in field_of(reason):
            text = "on the block list" if reason.rule == "blacklist" else reason.text
            said.setdefault(field, []).append(f"{text} (rule {reason.rule})")
    return {field: "; ".join(texts) + f": {then}" for field, texts in said.items()}


def _facts(order: Order, sent: Mapping[str, Any], contact: Contact,
           now: datetime) -> PlacementFacts:
    """The order as corrected, as a placement now would see it; the phone only when the
    correction names one (a kept phone was judged at placement)."""
    return PlacementFacts(
        order_id=order.public_id, buyer_id=order.buyer_id, amount=order.total,
        currency=order.currency, placed_at=now,
        lines=tuple(PlacedLine(ln.sku, ln.quantity, ln.unit_price) for ln in order.lines),
        shipping_address=dict(sent), device_id=order.attrs.get("device_id"),
        ip=order.attrs.get("ip"), phone=contact.phone, address=contact.address)
