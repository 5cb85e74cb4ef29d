"""The buyer of an imported order whose export names none: a keyed hash of what else identifies
them — the email, else the phone *at its address*.

Keyed (HMAC-SHA256 under the install's own secret, `install_secrets.buyer_ids`, generated once
by migration 0038), not a plain hash: buyer ids travel where personal data does not (events,
webhooks to subscribers, logs, the Prefect UI), and a plain sha256 of an email or of a phone at
an address is undone by hashing a list of known emails or every mobile number (~1.3e9 in China)
at that address. Under the key the same email is the same buyer within one install, and nobody
without the store can test a guess.

Buyers derived before 0038 (plain sha256, d263df3) keep their ids: an import looks the plain
hash up among the known buyers and uses it when that buyer exists; the plain hash is computed
in memory only and never given to a new buyer. Not re-keyed by the migration: their ids have
left the store already (events, webhook deliveries) and a new id would make them two buyers
there; a buyer id is a parent of a dozen risk tables; and a phone-at-address buyer's id would
have to be re-made from an address key whose rules changed since (migrations 0016-0028), a
re-made key that differs splitting the buyer silently. (The order does keep the email it was
given, `attrs.email`, for notices — masked in logs — so "never in clear" holds for the id.)

Shopify guest checkouts (`shopify-guest-…`, no customer id) are derived the same way from their
email (`guest_buyer`); the guest ids shopify.py derived before (plain sha256 of the lowercased
email) are kept by the same lookup.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from integrations.db.buyers import buyer
from integrations.db.install_secrets import install_secret
from integrations.db.unit_of_work import Tx
from integrations.geo.addresses import parse_address
from integrations.geo.phones import home_digits, parse_phone
from statemachine.errors import InvalidInput

KEY_NAME = "buyer_ids"
ID_DIGITS = 16  # hex digits of the digest kept in the id: 64 bits


def imported_buyer(tx: Tx, source: str, email: Any, address: Any) -> str | None:
    """The buyer id of an import without one (`<source>-<16 hex>`), None when the record
    gives neither an email nor a phone to derive it from."""
    identity = buyer_identity(email, address if isinstance(address, Mapping) else {})
    if identity is None:
        return None
    return known_or_keyed(tx, source, identity,
                          legacy=_id(source, hashlib.sha256(identity.encode()).hexdigest()))


def guest_buyer(tx: Tx, source: str, email: Any, legacy: str) -> str | None:
    """The buyer id of a storefront guest (no account, an email): `<source>-<16 hex>` keyed
    by its email as an import's is, or `legacy` (the id the storefront's driver derived before
    the key) when that buyer exists. None without an email."""
    identity = buyer_identity(email, {}) if email and str(email).strip() else None
    return None if identity is None else known_or_keyed(tx, source, identity, legacy=legacy)


def known_or_keyed(tx: Tx, source: str, identity: str, *, legacy: str) -> str:
    """`legacy` when a buyer has it (derived before the key: keeps its id), else the identity's
    HMAC under the install's key. One PK lookup (and the key's) in the caller's transaction."""
    if buyer(tx.connection, legacy) is not None:
        return legacy
    key = bytes.fromhex(install_secret(tx.connection, KEY_NAME))
    return _id(source, hmac.new(key, identity.encode(), hashlib.sha256).hexdigest())


def buyer_identity(email: Any, address: Mapping[str, Any]) -> str | None:
    """What identifies the buyer: the email (case and spaces aside), else the phone (however
    the export wrote it: +86 139 1234 5678, 13912345678, full-width digits) @ the address's
    parsed key. Not the phone alone: a ring's accounts shipping to one collecting phone from
    their own addresses were one buyer, and `phone_velocity` (other buyers on a number) never
    saw them; one person ordering again to the same place stays one buyer."""
    if email and str(email).strip():
        return "email:" + str(email).strip().casefold()
    phone = address.get("phone")
    if not phone:
        return None
    try:
        digits = home_digits(parse_phone(str(phone)))
    except InvalidInput:  # refused with the placement, naming the phone
        digits = "".join(ch for ch in str(phone) if ch.isdigit())
    return f"{digits}@{_place(address)}"


def _place(address: Mapping[str, Any]) -> str:
    """The address's key as placement parses it (cached: placement's parse reuses it); an
    address placement will refuse keys by its fields as written."""
    try:
        return parse_address(address).key
    except InvalidInput:
        return "|".join(str(address.get(k) or "") for k in sorted(address) if k != "phone")


def _id(source: str, digest: str) -> str:
    return f"{source}-{digest[:ID_DIGITS]}"[:64]
