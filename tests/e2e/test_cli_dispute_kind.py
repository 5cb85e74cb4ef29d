"""`orderpilot dispute correct-kind`: finance corrects a dispute stored as a chargeback that
Stripe's dashboard shows as an inquiry (recorded before migration 0033). A bad kind or an
empty reason is one line naming the field, exit 2, nothing written."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from integrations.ingest.money_events import apply_money_event
from integrations.payments.simulated import SimulatedGateway
from integrations.service.checkout import capture_order
from orderpilot import ManualClock, OrderPilot
from orderpilot.cli import app
from statemachine.ports import MoneyEvent
from statemachine.risk_port import approve_everything

RUN = CliRunner()
AT = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
WHY = "Stripe 显示 warning_needs_response"


@pytest.fixture
def disputed(tmp_path) -> str:
    """A store with a paid order of 西湖龙井 and a dispute on it stored as a chargeback."""
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
    apply_money_event(pilot.context, MoneyEvent(
        "simulated", "evt-dp-1", "dispute_opened", pilot.orders.get(order.id).payment_ref,
        29900, "CNY", AT, order_id=order.id, dispute_ref="sim-dp-000001", reason="fraudulent",
        due_by=AT + timedelta(days=7)))
    pilot.close()
    return db


def kinds(db: str) -> list[str]:
    listed = RUN.invoke(app, ["dispute", "list", "--db", db, "--json"])
    return [d["kind"] for d in json.loads(listed.output)]


def test_finance_corrects_a_disputes_kind_from_the_command_line(disputed):
    corrected = RUN.invoke(app, ["dispute", "correct-kind", "d-1", "--kind", "inquiry",
                                 "--by", "finance:李娜", "--reason", WHY, "--db", disputed])
    assert corrected.exit_code == 0, corrected.output
    assert "d-1 is now inquiry (opened)" in corrected.output
    assert kinds(disputed) == ["inquiry"]


@pytest.mark.parametrize(("args", "said"), [
    (["--kind", "询问", "--reason", WHY], "kind"),
    (["--kind", "inquiry", "--reason", " "], "reason"),
])
def test_a_bad_correction_is_one_line_naming_the_field_exit_2(disputed, args, said):
    refused = RUN.invoke(app, ["dispute", "correct-kind", "d-1", "--by", "finance:李娜",
                               "--db", disputed, *args])
    assert refused.exit_code == 2, refused.output
    assert said in refused.output
    assert kinds(disputed) == ["chargeback"]
