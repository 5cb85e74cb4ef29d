"""Block and allow list entries in the database: add (with a reason, an author, an optional
expiry and evidence), block from an order in one call, list, remove (soft: `removed_at`).
Values are stored the way placement compares them, beside the value as it was typed. The rows
are read and written by db/risk_lists.py."""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any

from integrations.db import risk_lists
from integrations.geo.addresses import parse_address, parse_line
from integrations.geo.phones import parse_phone
from statemachine import ids
from statemachine.errors import Contention, InvalidInput, NotFound
from statemachine.risk.blacklist import parse_networks
from statemachine.risk.signals import ADDRESS, BUYER, DEVICE, IP, PHONE

KINDS = (BUYER, DEVICE, PHONE, ADDRESS, IP)
LISTS = ("block", "allow")


def normalise(kind: str, value: str) -> str:
    """The stored form of a value; InvalidInput names the bad field."""
    if kind not in KINDS:
        raise InvalidInput({"kind": f"expected one of {', '.join(KINDS)} (got {kind!r})"})
    value = (value or "").strip()
    if kind == PHONE:
        return parse_phone(value, "value").e164
    if kind == ADDRESS:
        return parse_line(value, field="value").key
    try:
        stored = str(parse_networks([value])[0]) if kind == IP else value
    except ValueError:
        raise InvalidInput({"value": f"expected an IP address or CIDR range "
                                     f"(got {value!r})"}) from None
    if not stored or len(stored) > 500:
        raise InvalidInput({"value": f"expected 1-500 characters (got {value!r})"})
    return stored


def add_entry(conn: Any, kind: str, value: str, *, reason: str, by: str, at: datetime,
              evidence: list[str] | None = None, normalised: bool = False,
              list_name: str = "block", expires_at: datetime | None = None) -> dict[str, Any]:
    """List a value; an already listed value gains the new evidence instead of a duplicate.
    `normalised`: the value is already in stored form (taken from an order)."""
    _check_entry(list_name, reason, at, expires_at)
    stored = value if normalised else normalise(kind, value)
    row = {"list_name": list_name, "kind": kind, "value": stored,
           "shown": None if normalised or value.strip() == stored else value.strip()[:500],
           "reason": reason.strip(), "created_by": by, "evidence_order_ids": list(evidence or []),
           "created_at": at, "expires_at": expires_at, "removed_at": None, "removed_by": None}
    for _ in range(2):  # another addition of the value may commit between look-up and insert
        existing = risk_lists.active_entry(conn, list_name, kind, stored, lock=True)
        if existing is not None:
            merged = list(dict.fromkeys([*existing["evidence_order_ids"], *(evidence or [])]))
            risk_lists.set_evidence(conn, existing["id"], merged)
            return {**existing, "evidence_order_ids": merged}
        entry_id = risk_lists.insert_entry(conn, row)
        if entry_id is not None:
            return {"id": entry_id, **row}
    raise Contention(f"listing {kind} on the {list_name} list", 2,
                     "added and removed by others meanwhile")


def _check_entry(list_name: str, reason: str, at: datetime, expires_at: datetime | None) -> None:
    if list_name not in LISTS:
        raise InvalidInput({"list": f"expected block or allow (got {list_name!r})"})
    if not reason or not reason.strip():
        raise InvalidInput({"reason": "a reason is required"})
    if expires_at is not None and (expires_at.tzinfo is None or expires_at <= at):
        raise InvalidInput({"expires_at": f"expected a timezone-aware time after "
                                          f"{at.isoformat()} (got {expires_at!r})"})


def order_values(conn: Any, order_id: int) -> dict[str, tuple[str, ...]]:
    """What an order can put on the blacklist, by kind: buyer, device, address, ip, and its
    phones — the buyer's and the recipient's when it is another (placement looks up both)."""
    row = risk_lists.order_buyer_attrs(conn, order_id)
    if row is None:
        raise NotFound("order", ids.ORDER(order_id))
    attrs = row.attrs or {}
    # the key today's placements compute, not the one stored when the order was placed: an
    # order placed before a parser change (traditional characters keyed apart until 0016, or
    # before addresses were parsed) would list a key no new order has
    key = (attrs.get("address") or {}).get("key")
    if attrs.get("shipping_address"):
        with contextlib.suppress(InvalidInput):  # no longer parses: the key it was placed with
            key = parse_address(attrs["shipping_address"]).key
    phones = (attrs.get("phone"), _recipient_phone(row, attrs))
    values = {BUYER: row.buyer_id, DEVICE: attrs.get("device_id"), IP: attrs.get("ip"),
              ADDRESS: key}
    return {**{kind: (v,) if v else () for kind, v in values.items()},
            PHONE: tuple(dict.fromkeys(p for p in phones if p))}


def _recipient_phone(row: Any, attrs: dict[str, Any]) -> str | None:
    """The recipient's number as placement looks it up. Orders placed before 471f8d6 kept
    none in attrs: the one 0038 backfilled into the risk facts, else the shipping address's
    number normalised as placement does (one that does not parse was never looked up)."""
    if "recipient_phone" in attrs:
        return attrs["recipient_phone"]
    if row.recipient_phone_norm:
        return row.recipient_phone_norm
    given = (attrs.get("shipping_address") or {}).get("phone")
    with contextlib.suppress(InvalidInput):
        return parse_phone(str(given)).e164 if given else None
    return None


def blacklist_from_order(conn: Any, order_id: int, *, kinds: tuple[str, ...], reason: str,
                         by: str, at: datetime) -> list[dict[str, Any]]:
    """List the order's buyer (and the other `kinds` it has: both its phones for `phone`)
    with the order as evidence."""
    unknown = [k for k in kinds if k not in KINDS]
    if unknown or BUYER not in kinds:
        raise InvalidInput({"kinds": f"expected buyer plus any of {', '.join(KINDS[1:])} "
                                     f"(got {list(kinds)})"})
    values = order_values(conn, order_id)
    return [add_entry(conn, kind, value, reason=reason, by=by, at=at,
                      evidence=[ids.ORDER(order_id)], normalised=kind in (ADDRESS, PHONE))
            for kind in kinds for value in values[kind]]


def list_entries(conn: Any, include_removed: bool = False,
                 list_name: str | None = None) -> list[dict[str, Any]]:
    """Entries by id, active only unless `include_removed`, of one list or both."""
    return risk_lists.entries(conn, include_removed, list_name)


def remove_entry(conn: Any, entry_id: int, *, by: str, at: datetime) -> dict[str, Any]:
    """Soft-delete an active entry (kept for the audit trail)."""
    removed = risk_lists.remove(conn, entry_id, by=by, at=at)
    if removed is None:
        raise NotFound("blacklist entry", str(entry_id))
    return removed
