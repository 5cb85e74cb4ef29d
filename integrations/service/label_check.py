"""What a label says besides the address: a flag when the address contradicts itself.

A label prints the address as the shop sent it. When its province, city or district fields
contradict each other (广东省 / 杭州市 / 西湖区) — or the regions written in its line or its
street do (geo/region_text.py) — the order was refused or held for review at
placement (geo/contact.py); a person may still approve it as it is, and an order placed before
that check was never held. The label then carries the contradiction in its remark
(`WaybillRequest.flag`), so that neither the packer nor the courier sorts the parcel by half of
it. Read from the fields at label time, not from the order's parsed address: older orders
have no record of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from integrations.geo import region_text
from statemachine.address import has_cjk
from statemachine.region_conflict import describe

FLAG = "地址省市区矛盾，请核对 / address contradicts itself, check it: "


def label_flag(address: Mapping[str, Any]) -> str | None:
    """The remark a label for `address` (a stored `shipping_address`) must print, if any."""
    named = [str(address[f]) for f in ("line", "province", "city", "district", "street")
             if address.get(f)]
    if not any(map(has_cjk, named)):  # nothing to contradict in Latin script: no table load
        return None
    found = region_text.sent_conflicts(address)
    return FLAG + describe(found) if found else None
