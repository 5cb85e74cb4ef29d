"""Blacklist matching: normalised addresses, phones and IP ranges (stdlib `ipaddress`)."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from statemachine.risk_port import PlacementFacts

from .signals import ADDRESS, BUYER, DEVICE, IP, PHONE

_NON_WORD = re.compile(r"[^0-9a-z]+")
_ADDRESS_KEYS = ("line1", "line2", "postcode", "city", "country")
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def normalise_address(address: Mapping[str, str]) -> str:
    """One comparable string for an address: lower case, punctuation and spacing removed."""
    parts = (address.get(key, "") for key in _ADDRESS_KEYS)
    return " ".join(p for p in (_NON_WORD.sub(" ", x.lower()).strip() for x in parts) if p)


def normalise_phone(phone: str) -> str:
    """Digits only, with a leading + kept, so '+44 (0)20-1234' and '+44020 1234' match."""
    digits = re.sub(r"\D", "", phone)
    return ("+" + digits) if phone.strip().startswith("+") else digits


@dataclass(frozen=True, slots=True)
class Blacklist:
    """A snapshot of the blacklist entries the adapter loaded (values already normalised)."""

    buyers: frozenset[str] = frozenset()
    devices: frozenset[str] = frozenset()
    phones: frozenset[str] = frozenset()
    addresses: frozenset[str] = frozenset()
    networks: tuple[IpNetwork, ...] = field(default_factory=tuple)


def parse_networks(entries: Iterable[str]) -> tuple[IpNetwork, ...]:
    """Single IPs and CIDR ranges ('10.0.0.0/8', '2001:db8::/32') as networks."""
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries)


def ip_listed(ip: str | None, networks: tuple[IpNetwork, ...]) -> bool:
    """True when the IP falls in any listed network; an unparsable or missing IP never does."""
    if not ip or not networks:
        return False
    try:
        address = ipaddress.ip_address(ip.strip())
    except ValueError:
        return False
    return any(address.version == net.version and address in net for net in networks)


def blacklist_hits(facts: PlacementFacts, blacklist: Blacklist) -> tuple[str, ...]:
    """The blacklist kinds this order matches, in a fixed order."""
    checks = (
        (BUYER, facts.buyer_id in blacklist.buyers),
        (DEVICE, facts.device_id is not None and facts.device_id in blacklist.devices),
        (PHONE, facts.phone is not None and normalise_phone(facts.phone) in blacklist.phones),
        (ADDRESS, bool(facts.shipping_address)
         and normalise_address(facts.shipping_address) in blacklist.addresses),
        (IP, ip_listed(facts.ip, blacklist.networks)),
    )
    return tuple(kind for kind, hit in checks if hit)
