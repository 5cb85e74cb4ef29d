"""`orderpilot order refund-goodwill`: customer service pays a buyer back, tied to no case,
from the command line (the simulated provider). Bad input is one red line naming the field,
exit 2, nothing written."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from typer.testing import CliRunner

from integrations.payments.simulated import SimulatedGateway
from integrations.service.checkout import capture_order
from orderpilot import ManualClock, OrderPilot
from orderpilot.cli import app
from statemachine.risk_port import approve_everything

RUN = CliRunner()
AT = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
WHY = "物流延误三天，补偿 5 元"


@pytest.fixture
def paid(tmp_path) -> str:
    """A store with one paid order of 西湖龙井 (¥299.00)."""
    db = f"sqlite:///{tmp_path / 'shop.db'}"
    clock = ManualClock(AT)
    pilot = OrderPilot(db, clock=clock, risk_check=approve_everything,
                       gateway=SimulatedGateway(now=clock.now))
    pilot.inventory.receive(sku="TEA-LJ", warehouse="WH-HZ", quantity=5)
    order = pilot.orders.place(
        buyer_id="b-1", lines=[{"sku": "TEA-LJ", "quantity": 1, "unit_price": 29900}],
        shipping_address={"province": "浙江省", "city": "杭州市", "street": "文三路 18 号"},
        currency="CNY")
    capture_order(pilot.context, int(order.id[2:]))
    pilot.close()
    return db


def refunded(db: str) -> int:
    pilot = OrderPilot(db)
    try:
        return pilot.orders.get("o-1").refunded
    finally:
        pilot.close()


def test_customer_service_refunds_goodwill_from_the_command_line(paid):
    done = RUN.invoke(app, ["order", "refund-goodwill", "o-1", "--amount", "500", "--reason",
                            WHY, "--by", "cs:王芳", "--key", "ticket-1017", "--db", paid])
    assert done.exit_code == 0, done.output
    said = " ".join(done.output.split())
    assert "o-1 goodwill refund refund:o-1:ticket-1017 by cs:王芳: refunded ¥5.00" in said
    assert "refunded so far ¥5.00" in said
    assert refunded(paid) == 500


@pytest.mark.parametrize(("args", "said"), [
    (["--amount", "0", "--reason", WHY], "amount"),
    (["--amount", "-500", "--reason", WHY], "amount"),
    (["--amount", "500", "--reason", " "], "reason"),
    (["--amount", "50000", "--reason", WHY], "refund"),  # more than the ¥299.00 paid
])
def test_a_bad_goodwill_refund_is_one_line_exit_2_and_writes_nothing(paid, args, said):
    refused = RUN.invoke(app, ["order", "refund-goodwill", "o-1", "--by", "cs:王芳",
                               "--db", paid, *args])
    assert refused.exit_code == 2, refused.output
    assert said in refused.output
    assert refunded(paid) == 0
