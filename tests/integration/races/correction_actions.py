"""Racing callers that move an order's stock: an ops lead correcting an address (the stock
follows it while no one has started on the order: service/correction_plan.py) while a buyer
next to the new address places an order for the same units."""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import replace
from typing import Any

from integrations.fulfil_config import FulfilmentPolicy
from integrations.service import address_corrections, orders
from integrations.service.context import Context
from integrations.service.inputs import PlaceOrder, parse
from orderpilot import OrderPilot
from statemachine import ids
from statemachine.errors import InvalidInput
from tests.integration.integ.server import Client, running_server

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


def correct_phone(pilot: OrderPilot, order_id: str, address: dict[str, str]) -> str:
    """Ops correct the order's address (here: who receives it, at which number) through the
    Python API; "corrected", or the fields a risk rule refused it on."""
    try:
        pilot.orders.correct_address(order_id, address=address, by="ops:mei")
    except InvalidInput as refused:
        return "refused: " + ", ".join(sorted(refused.problems))
    return "corrected"


_served: list[tuple[OrderPilot, ExitStack, Client]] = []  # this worker's server, for its store


def serve_http(pilot: OrderPilot) -> str:
    """This worker serves the webhook API for the pilot's store (the regional shop) on a real
    HTTP port, started before the trials so that none of them waits for it; its base URL."""
    if _served and _served[0][0] is pilot:
        return str(_served[0][2].http.base_url)
    while _served:  # the server of a store an earlier test opened
        _, stack, _ = _served.pop()
        stack.close()
    stack = ExitStack()
    client = Client(stack.enter_context(running_server(pilot, context=regional(pilot))))
    stack.callback(client.http.close)
    _served.append((pilot, stack, client))
    return str(client.http.base_url)


def correct_over_http(pilot: OrderPilot, order_id: str, line: str,
                      event_id: str) -> dict[str, Any]:
    """Ops post the correction to this worker's server; the status, Retry-After and body."""
    serve_http(pilot)
    response = _served[0][2].post(f"/v1/ops/orders/{order_id}/address",
                                  {"event_id": event_id, "address": {"line": line},
                                   "by": "ops:mei"}, at=pilot.context.clock.now())
    return {"status": response.status_code, "retry_after": response.headers.get("retry-after"),
            "body": response.json()}


def retried(pilot: OrderPilot) -> int:
    """How many units of work this worker has re-run after a collision so far
    (service/contention.py: deadlocks, lock timeouts and stock taken meanwhile alike)."""
    from integrations.service.contention import retries

    return retries()
