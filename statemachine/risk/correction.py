"""What placement's address rules say of a corrected address (`correct_address`).

A person correcting an order's address or phone is not a risk reviewer: the address they type
(often what the buyer asked for on the phone) meets the rules placement applies to an address
and a phone — the same rule functions (rules.py), under the rule set's actions — and only
those: the buyer, device, amount and history were judged at placement and did not change.

- `blocks`: rules the rule set rejects on (by default the block list: the new address or phone
  listed). The correction is refused.
- `holds`: rules that would send a placement to a person (review, or verify: a code sent to the
  buyer is no check of an address a person typed) — a vague address, a virtual-operator phone,
  many orders to the new address in the velocity window, a buyer changing addresses often, a
  new phone on the orders of many other buyers (`phone_velocity`).
- `allowed`: the new address or phone is on the allow list (and not on the block list): as at
  placement, that passes the holds.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .facts import PlacementFacts, Reason, RiskAction
from .rules import (
    Rule,
    address_changes,
    address_contradiction,
    blacklist,
    phone_velocity,
    rule_action,
    vague_address,
    velocity,
    virtual_phone,
)
from .ruleset import RuleSet
from .signals import ADDRESS, PHONE, RiskSignals

ADDRESS_RULES: tuple[Rule, ...] = (blacklist, velocity, vague_address, address_changes,
                                   virtual_phone, address_contradiction, phone_velocity)
PHONE_RULES = ("virtual_phone", "phone_velocity")  # about the phone: field `address.phone`
CORRECTED = (ADDRESS, PHONE)  # what a correction changes: the only list hits and velocity kept


@dataclass(frozen=True, slots=True)
class CorrectionVerdict:
    blocks: tuple[Reason, ...] = ()
    holds: tuple[Reason, ...] = ()
    allowed: bool = False


def judge_correction(facts: PlacementFacts, signals: RiskSignals,
                     ruleset: RuleSet) -> CorrectionVerdict:
    """The address rules on the order as corrected (`facts`: the new address, the new phone
    or None when the phone was not corrected), with `signals` narrowed to what the correction
    changes: list hits on the address and phone, velocity by address, the other buyers on
    the phone (None when the phone was not corrected: placement judged the kept one)."""
    narrowed = replace(
        signals,
        blacklist_hits=tuple(k for k in signals.blacklist_hits if k in CORRECTED),
        allow_hits=tuple(k for k in signals.allow_hits if k in CORRECTED),
        velocity={k: n for k, n in signals.velocity.items() if k == ADDRESS})
    blocks: list[Reason] = []
    holds: list[Reason] = []
    for rule in ADDRESS_RULES:
        reason = rule(facts, narrowed, ruleset)
        if reason is not None:
            (blocks if rule_action(rule, ruleset) is RiskAction.REJECT else holds).append(reason)
    allowed = bool(narrowed.allow_hits) and not narrowed.blacklist_hits
    return CorrectionVerdict(tuple(blocks), tuple(holds), allowed)


def field_of(reason: Reason) -> tuple[str, ...]:
    """The correction's fields a reason is about: `address.phone` for the phone, `address`
    for the address as a whole (a block list hit names each kind it matched)."""
    if reason.rule == "blacklist":
        return tuple("address.phone" if kind == PHONE else "address"
                     for kind in reason.values.get("hits", ()))
    return ("address.phone",) if reason.rule in PHONE_RULES else ("address",)
