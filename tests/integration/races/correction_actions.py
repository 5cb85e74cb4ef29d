"""Racing callers that move an order's stock: an ops lead correcting an address (the stock
follows it while no one has started on the order: service/correction_plan.py) while a buyer
next to the new address places an order for the same units."""

from __future__ import annotations

from dataclasses import replace

from integrations.fulfil_config import FulfilmentPolicy
from integrations.service import address_corrections, orders
from integrations.service.context import Context
from integrations.service.inputs import PlaceOrder, parse
from orderpilot import OrderPilot
from statemachine import ids

REGIONS = {"WH-SHANGHAI": "310100", "WH-SHENZHEN": "440300"}
SHANGHAI = "上海市浦东新区张江路88弄5号"
SHENZHEN = "广东省深圳市南山区科技南十二路2号"


def regional(pilot: OrderPilot) -> Context:
    """The pilot's context in a shop that knows where its warehouses are."""
    settings = pilot.context.settings.model_copy(
        update={"fulfilment": FulfilmentPolicy(warehouse_regions=REGIONS)})
    return replace(pilot.context, settings=settings)


def place_at(pilot: OrderPilot, buyer: str, sku: str, line: str, quantity: int = 2) -> str:
    """A buyer at `line` orders `quantity` of `sku`; the new order's id."""
    request = parse(PlaceOrder, {"buyer_id": buyer, "phone": "13800138000",
                                 "shipping_address": {"line": line, "recipient": "王芳"},
                                 "lines": [{"sku": sku, "quantity": quantity,
                                            "unit_price": 1999}]})
    return ids.ORDER(orders.place_order(regional(pilot), request, f"buyer:{buyer}"))


def correct_to(pilot: OrderPilot, order_id: str, line: str) -> bool:
    """Ops send the order to `line`; whether anything changed."""
    return address_corrections.correct_address(regional(pilot), ids.ORDER.parse(order_id),
                                               {"line": line}, "ops:mei").changed
