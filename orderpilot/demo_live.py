"""A demo shop trading in real time on its own store, so the console fills up the way a real
one does: orders every few seconds, some held for review (they wait for you in the UI — the
demo never decides them), payments, picking, parcels that move or stall, refund requests.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta

from orderpilot.api import OrderPilot
from orderpilot.demo_store import claim_demo_store
from statemachine.errors import OrderPilotError

log = logging.getLogger("orderpilot.demo")
SKUS = {"TEA-LONGJING-250G": 12_800, "MUG-CELADON": 6_900, "SILK-SCARF": 39_900,
        "PHONE-X1-256G": 699_900, "EARBUDS-PRO": 89_900}
BIG = "PHONE-X1-256G"  # over ¥5,000: the risk rules hold it for a person
CITIES = [("浙江省", "杭州市", "西湖区", "文三路"), ("广东省", "深圳市", "南山区", "科技园路"),
          ("上海市", "上海市", "黄浦区", "南京东路"), ("四川省", "成都市", "武侯区", "人民南路")]
NAMES = ("王小明", "李娜", "张伟", "刘洋", "陈静", "杨帆", "赵磊", "黄丽")
BUYERS = 3000  # each orders about once an hour at most: velocity rules stay quiet
CARRIERS = ("sim-express", "sim-post")


def address(k: int) -> dict[str, str]:
    """Buyer k's own address: a Chinese street address with a house number."""
    province, city, district, road = CITIES[k % len(CITIES)]
    return {"recipient": NAMES[k % len(NAMES)], "province": province, "city": city,
            "district": district, "street": f"{road} {k % 400 + 1} 号 {k % 9 + 1} 单元"}


@dataclass
class Stage:
    """Where each demo order is, and since when (monotonic seconds)."""

    since: dict[str, float] = field(default_factory=dict)
    step: dict[str, str] = field(default_factory=dict)

    def move(self, order_id: str, step: str) -> None:
        self.step[order_id], self.since[order_id] = step, time.monotonic()

    def due(self, step: str, after: float) -> list[str]:
        now = time.monotonic()
        return [o for o, s in self.step.items() if s == step and now - self.since[o] >= after]


class LiveShop:
    """One order every `every` seconds; each then lives its life over the next minutes."""

    def __init__(self, pilot: OrderPilot, seed: int = 11, every: float = 3.0):
        claim_demo_store(pilot, "the demo store")
        self.pilot, self.rng, self.every = pilot, random.Random(seed), every
        self.stage, self.placed = Stage(), 0
        for sku in SKUS:
            pilot.inventory.receive(sku=sku, warehouse="WH-HZ", quantity=10_000)

    def run(self, stop: threading.Event) -> None:
        while not stop.wait(self.every):
            try:
                self.tick()
            except OrderPilotError as error:  # a demo step refused is shown, never fatal
                log.info("demo: %s", error)

    def tick(self) -> None:
        """Place one order, then move every order that has waited long enough."""
        self._place()
        for order_id in self.stage.due("awaiting_payment", 6):
            self._pay(order_id)
        for order_id in self.stage.due("paid", 8):
            self._ship(order_id)
        for order_id in self.stage.due("shipped", 10):
            self._move_parcels(order_id)
        for order_id in self.stage.due("delivered", 10):
            self._after_sales(order_id)

    def _place(self) -> None:
        self.placed += 1
        k = self.rng.randint(1, BUYERS)
        buyer = f"buyer-{k}"
        self.pilot.risk.register_buyer(buyer, signed_up_at=self.pilot.clock.now() - timedelta(
            days=30 + k % 700))
        sku = BIG if self.rng.random() < 0.2 else self.rng.choice([s for s in SKUS if s != BIG])
        order = self.pilot.orders.place(
            buyer_id=buyer, lines=[{"sku": sku, "quantity": 1, "unit_price": SKUS[sku]}],
            shipping_address=address(k), device_id=f"dev-{k}", ip=f"183.{k // 250}.{k % 250}.9",
            phone=f"+86 138 {k:04d} {8000 + k % 1000:04d}")
        self.stage.move(order.id, order.state)

    def _pay(self, order_id: str) -> None:
        if self.rng.random() < 0.1:  # never paid: the hold lapses and the stock returns
            self.stage.move(order_id, "left unpaid")
            return
        order = self.pilot.orders.get(order_id)
        if order.state != "awaiting_payment":  # decided by a reviewer meanwhile, or expired
            self.stage.move(order_id, order.state)
            return
        ref = f"{self.rng.choice(('alipay', 'wxpay'))}-{order_id}"
        self.pilot.orders.fire(order_id, "pay", actor="gateway", amount=order.total,
                               payment_ref=ref, idempotency_key=ref)
        self.stage.move(order_id, "paid")

    def _ship(self, order_id: str) -> None:
        order = self.pilot.orders.get(order_id)
        self.pilot.orders.fire(order_id, "start_picking", actor="wave-demo")
        if order.total > 100_000:
            self.pilot.orders.fire(order_id, "double_check", actor="checker-zhao")
        self.pilot.orders.fire(order_id, "pack", actor="packer-li")
        self.pilot.orders.fire(order_id, "ship", actor="packer-li", parcels=[{
            "carrier": self.rng.choice(CARRIERS), "tracking_no": f"SIM{900000 + self.placed}"}])
        self.stage.move(order_id, "shipped")

    def _move_parcels(self, order_id: str) -> None:
        for parcel in self.pilot.shipments.of_order(order_id):
            self.pilot.shipments.fire(parcel.id, "pick_up", location="杭州转运中心")
            if self.rng.random() < 0.12:  # the carrier reports an exception: the parcel stalls
                self.pilot.shipments.fire(parcel.id, "stall", reason="carrier exception: "
                                          "address query")
                self.stage.move(order_id, "stalled")
                return
            self.pilot.shipments.fire(parcel.id, "deliver", location="front door")
        self.stage.move(order_id, "delivered")

    def _after_sales(self, order_id: str) -> None:
        if self.rng.random() < 0.2:
            self.pilot.cases.open(order_id, kind="refund_only", reason="商品有划痕",
                                  lines=[{"line_no": 1, "quantity": 1}])
        self.stage.move(order_id, "done")
