"""The promise follows a corrected address (`correct_address`).

Placement adds a day to the promised delivery for each full `km_per_day` the warehouses it
chose lie beyond the buyer's nearest one (`promise_extra_days`, read when the order ships).
A correction to another province moved the buyer but left that number as placed: a Shenzhen
order corrected to Shanghai, shipping 1,200 km from Shenzhen, was promised in the usual 5 days.
Now the stock plan kept (the warehouses the order's stock is held or sold in) is measured
again from the new address by placement's own code (`explain_plan`, the distances of
`buyer_distances`), and the promise follows. The stock does not move: re-planning the
warehouses of a held or paid order is done by no step, picking included (docs/risk.md says so).
"""

from __future__ import annotations

from integrations.db.stock import RELEASED
from integrations.geo.distance import buyer_distances
from integrations.service.context import Context, Tx
from statemachine.address import ParsedAddress
from statemachine.order_aggregate import Order
from statemachine.stock import Allocation, AllocationChoice, Need, explain_plan


def promise_at(ctx: Context, tx: Tx, order: Order, parsed: ParsedAddress) -> AllocationChoice:
    """The order's stock plan as placement would explain it for a buyer at `parsed`."""
    policy = ctx.settings.fulfilment
    km = buyer_distances(parsed.region_code, policy.warehouse_regions, policy.distance)
    holds = [h for h in tx.stock.holds_of([order.id], status=None) if h.status != RELEASED]
    plan = [Allocation(0, h.sku, h.warehouse, h.quantity) for h in holds]  # lines unused
    needs = [Need(ln.line_no, ln.sku, ln.quantity) for ln in order.lines]
    available = tx.stock.availability(ln.sku for ln in order.lines)
    return explain_plan(plan, needs, available, km, policy.km_per_day)
