"""Blacklist matching: address keys, E.164 phones, ids and IP ranges (stdlib `ipaddress`).

Values are compared in the form placement normalised them to (`ParsedAddress.key`, E.164),
so the adapter stores list entries in that same form."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field

from .facts import PlacementFacts
from .signals import ADDRESS, BUYER, DEVICE, IP, PHONE

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class Blacklist:
    """A snapshot of the blacklist entries the adapter loaded (values already normalised)."""

    buyers: frozenset[str] = frozenset()
    devices: frozenset[str] = frozenset()
    phones: frozenset[str] = frozenset()
    addresses: frozenset[str] = frozenset()
    networks: tuple[IpNetwork, ...] = field(default_factory=tuple)


MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")  # IPv4 as a dual-stack socket reports it


def parse_networks(entries: Iterable[str]) -> tuple[IpNetwork, ...]:
    """Single IPs and CIDR ranges ('10.0.0.0/8', '2001:db8::/32') as networks; an IPv4-mapped
    one ('::ffff:1.2.3.4') as the IPv4 network it is."""
    return tuple(_unmapped(ipaddress.ip_network(entry.strip(), strict=False))
                 for entry in entries)


def _unmapped(net: IpNetwork) -> IpNetwork:
    if isinstance(net, ipaddress.IPv6Network) and net.prefixlen >= 96 and net.subnet_of(MAPPED):
        return ipaddress.IPv4Network((net.network_address.ipv4_mapped, net.prefixlen - 96))
    return net


def ip_listed(ip: str | None, networks: tuple[IpNetwork, ...]) -> bool:
    """True when the IP falls in any listed network; an unparsable or missing IP never does."""
    if not ip or not networks:
        return False
    try:
        address = ipaddress.ip_address(ip.strip())
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:1.2.3.4 is 1.2.3.4, listed either way
    return any(address.version == net.version and address in net for net in networks)


def blacklist_hits(facts: PlacementFacts, blacklist: Blacklist) -> tuple[str, ...]:
    """The blacklist kinds this order matches, in a fixed order."""
    checks = (
        (BUYER, facts.buyer_id in blacklist.buyers),
        (DEVICE, facts.device_id is not None and facts.device_id in blacklist.devices),
        # either number: the buyer's, or the recipient's it ships to
        (PHONE, any(phone in blacklist.phones for phone in facts.phones)),
        (ADDRESS, facts.address_key is not None and facts.address_key in blacklist.addresses),
        (IP, ip_listed(facts.ip, blacklist.networks)),
    )
    return tuple(kind for kind, hit in checks if hit)
